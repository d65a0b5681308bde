/**
 * The deterministic demo data set, seeded on the first start of an empty embedded database:
 * 3 merchants, 72 products with SKUs, 40 buyers, 330 orders across every status with their history,
 * their shipments (some orders in two) with tracking, after-sales cases open and closed (refunds,
 * rejections, returns awaiting the goods or on their way back), developers and their apps (one
 * waiting for review), a catalog of permission packages, the merchants' authorizations and a week
 * of call history (demo/console.ts). Ids, names, prices and times come
 * from a fixed seed, so every fresh start produces the same data.
 * The buyers, merchants, catalog and orders are planned in memory first and written in bulk, one
 * transaction per subgraph, with the subgraph's own tables, event builders and outbox writer (row
 * by row through the stores they took 7,400 statements, most of a first start); the few other rows
 * (staff, developer, app, packages, operator) go through the stores.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { v5 as uuidv5 } from 'uuid';
import { systemClock, type Clock } from '../core/clock.js';
import type { Database, Db } from '../core/db.js';
import type { Logger } from '../core/logger.js';
import type { DomainEvent } from '../messages/events.js';
import { recordEvents } from '../messages/outbox.js';
import { createAccountStore } from '../subgraphs/account/store.js';
import { merchants, outboxEvents as accountOutbox, users, type MerchantRow, type UserRow } from '../subgraphs/account/tables.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { seedDemoAnnouncement } from '../subgraphs/app-management/developer-announcements.js';
import type { Kek } from '../core/sealing.js';
import { LIFECYCLE_EVENTS, lifecycleEvent, orderEvent, type LifecycleEventType } from '../subgraphs/order/events.js';
import { ORDER_TRANSITIONS, priceOrderLines, type NewOrderLine } from '../subgraphs/order/store.js';
import {
  afterSaleCaseLines,
  afterSaleCases,
  FIRST_ORDER_NUMBER,
  merchantOrderNumbers,
  orderLines,
  orderStatusHistory,
  orders,
  outboxEvents as orderOutbox,
  shipmentLines,
  shipments,
  trackingEvents,
  type AfterSaleCaseRow,
  type Address,
  type OrderRow,
  type OrderStatus,
  type ShipmentRow,
} from '../subgraphs/order/tables.js';
import { DEMO_REVIEW_APP_KEY, seedDemoConsole } from './console.js';
import { DEMO_BUYER_EMAIL, DEMO_GUEST_ID, DEMO_OTHER_DEVELOPER_APP_KEY, DEMO_SECOND_BUYER_EMAIL, DEMO_STOREFRONT_APP_KEY, seedDemoIdentities } from './identities.js';
import { productEvent } from '../subgraphs/product/events.js';
import type { ProductStatus } from '../subgraphs/product/store.js';
import { outboxEvents as productOutbox, products, skus, type ProductRow, type SkuRow } from '../subgraphs/product/tables.js';

export interface DemoSeed {
  appKey: string;
  merchantIds: string[];
  merchantNames: string[];
  /** The scopes the demo app's granted packages cover now: all a demo token may truthfully name. */
  scopes: string[];
  operatorEmail: string;
  /** Only on the start that seeded: the demo operator's password, shown once (kept in demo.json). */
  operatorPassword?: string;
  staffEmail: string;
  /** Only on the start that seeded, like the operator password. */
  staffPassword?: string;
  /** Only on the start that seeded: the demo app's secret (stored as a hash only). */
  appSecret?: string;
  redirectUri: string;
  /** Buyers who sign in to apps on the passport (demo/identities.ts), and their password (only on the start that seeded). */
  buyerEmails: string[];
  buyerPassword?: string;
  /** The demo's other apps (another of the demo developer, one of another developer) and their secrets (only when seeded). */
  otherApps: { key: string; secret?: string }[];
  /** The guest id the demo app gave a visitor who ordered without signing in. */
  guestId: string;
}

export const DEMO_STAFF_EMAIL = 'staff@northwind.example';
export const DEMO_REDIRECT_URI = 'http://127.0.0.1/callback';

export const DEMO_OPERATOR_EMAIL = 'operator@portico.example';

const NAMESPACE = '8f9d2c4e-5b1a-4c3e-9a7d-2f6b8e1c0d3a';
const demoId = (name: string) => uuidv5(name, NAMESPACE);
/** The demo operator's id (the same on every start): scripts and benchmarks mint its tokens with the platform's keys. */
export const DEMO_OPERATOR_ID = demoId('operator:demo');
export const DEMO_APP_KEY = 'app_demo_erp_sync';
/** Demo times are laid out before this instant so the data set is the same whatever the date. */
const EPOCH = Date.parse('2026-11-01T00:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** mulberry32: a small, well-known seeded PRNG. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
  };
}

const MERCHANTS = [
  { name: 'Northwind Outfitters', email: 'ops@northwind.example', phone: '+1-415-555-0101', currency: 'USD' },
  { name: 'Lotus Home & Kitchen', email: 'service@lotushome.example', phone: '+86-21-5555-0102', currency: 'CNY' },
  { name: 'Alpine Gear Co.', email: 'hello@alpinegear.example', phone: null, currency: 'EUR' },
];
const CATEGORIES = ['Apparel', 'Shoes', 'Kitchen', 'Electronics', 'Outdoor', 'Home'];
const ADJECTIVES = ['Classic', 'Everyday', 'Premium', 'Lightweight', 'Organic', 'Travel', 'Compact', 'Heritage', 'Urban', 'Trail', 'Cozy', 'Pro'];
const NOUNS: Record<string, string[]> = {
  Apparel: ['Cotton Tee', 'Wool Sweater', 'Rain Jacket', 'Linen Shirt'],
  Shoes: ['Running Shoe', 'Canvas Sneaker', 'Hiking Boot', 'Slip-on'],
  Kitchen: ['Chef Knife', 'Cast Iron Pan', 'Tea Kettle', 'Cutting Board'],
  Electronics: ['Wireless Earbuds', 'Power Bank', 'USB-C Hub', 'Desk Lamp'],
  Outdoor: ['Daypack', 'Trekking Poles', 'Sleeping Bag', 'Water Bottle'],
  Home: ['Throw Blanket', 'Scented Candle', 'Ceramic Vase', 'Storage Basket'],
};
const COLORS = ['Black', 'White', 'Navy', 'Olive', 'Sand', 'Red'];
const SIZES = ['S', 'M', 'L', 'XL'];
const NICKNAMES = ['maple', 'river', 'kite', 'ember', 'pebble', 'sparrow', 'juniper', 'cobalt', 'willow', 'quartz'];
const HUBS = ['Memphis hub', 'Leipzig hub', 'Shanghai Pudong hub', 'Louisville hub', 'Regional sorting center'];
const CASE_REASONS = ['Arrived damaged', 'Not as described', 'Wrong size', 'Changed my mind', 'Missing parts'];
const CITIES = [
  { city: 'Seattle', region: 'WA', postalCode: '98101', country: 'US' },
  { city: 'Shanghai', region: 'SH', postalCode: '200000', country: 'CN' },
  { city: 'Munich', region: 'BY', postalCode: '80331', country: 'DE' },
  { city: 'Lyon', region: null, postalCode: '69001', country: 'FR' },
];
const CARRIERS = ['UPS', 'DHL', 'SF Express', 'FedEx'];

/** Status paths after PENDING_PAYMENT, with how many orders out of 100 end in each. */
const STATUS_PATHS: { weight: number; path: OrderStatus[] }[] = [
  { weight: 10, path: [] },
  { weight: 20, path: ['PAID'] },
  { weight: 18, path: ['PAID', 'SHIPPED'] },
  { weight: 14, path: ['PAID', 'SHIPPED', 'DELIVERED'] },
  { weight: 20, path: ['PAID', 'SHIPPED', 'DELIVERED', 'COMPLETED'] },
  { weight: 5, path: ['CANCELLED'] },
  { weight: 4, path: ['PAID', 'CANCELLED'] },
  { weight: 5, path: ['PAID', 'SHIPPED', 'REFUNDING'] },
  { weight: 4, path: ['PAID', 'SHIPPED', 'DELIVERED', 'REFUNDING', 'REFUNDED'] },
];

const PACKAGES = [
  { name: 'Order management', tier: 'FREE', scopes: ['orders:read', 'orders:write', 'merchant:read'], description: 'Read and fulfil the merchant\'s orders.' },
  { name: 'Buyer details', tier: 'PAID', scopes: ['orders:read_pii', 'users:read', 'users:write'], description: 'Buyers\' shipping contact, profile and identities (openid, unionid; binding a guest to the buyer who signed in), for fulfilment and CRM apps.' },
  { name: 'Catalog management', tier: 'FREE', scopes: ['products:read', 'products:write', 'inventory:write'], description: 'Manage products, SKUs and stock.' },
  { name: 'Order messages', tier: 'FREE', scopes: ['messages:orders', 'messages:products', 'messages:accounts'], description: 'Subscribe to order, product, stock and account events instead of polling.' },
  { name: 'Reports', tier: 'FREE', scopes: ['reports:read'], description: 'The app\'s own call reports and quotas.' },
  // A package for a merchant's own console app. The demo app holds it too, so the demo merchant's
  // token can list and revoke its authorized apps as the README's console example does.
  { name: 'Merchant console', tier: 'FREE', scopes: ['authorizations:manage'], description: 'List the apps the merchant authorized and revoke them, for the merchant\'s own console app.' },
  { name: 'After-sales', tier: 'FREE', scopes: ['aftersales:read', 'aftersales:write'], description: 'Handle the merchant\'s after-sales cases: refunds, returns and their shipments.' },
] as const;

const ORDERS_PER_MERCHANT = 110;
const PRODUCTS_PER_MERCHANT = 24;

/**
 * Seeds the demo once; on later starts returns what it seeded without writing anything. `keks`
 * seal the demo app's secret so it can sign requests with hmac-sha256 (core/app-secret-seal.ts).
 * The console's call history ends at the clock's current hour (demo/console.ts).
 */
export async function seedDemo(database: Database, logger: Logger, keks: readonly Kek[] = [], clock: Clock = systemClock): Promise<DemoSeed> {
  const apps = createAppManagementStore(database.db, keks);
  const seed: DemoSeed = {
    appKey: DEMO_APP_KEY,
    merchantIds: MERCHANTS.map((m) => demoId(`merchant:${m.name}`)),
    merchantNames: MERCHANTS.map((m) => m.name),
    scopes: [],
    operatorEmail: DEMO_OPERATOR_EMAIL,
    staffEmail: DEMO_STAFF_EMAIL,
    redirectUri: DEMO_REDIRECT_URI,
    buyerEmails: [DEMO_BUYER_EMAIL, DEMO_SECOND_BUYER_EMAIL],
    otherApps: [{ key: DEMO_STOREFRONT_APP_KEY }, { key: DEMO_OTHER_DEVELOPER_APP_KEY }, { key: DEMO_REVIEW_APP_KEY }],
    guestId: DEMO_GUEST_ID,
  };
  // Read from the grants, not assumed: an operator may have revoked a package of the demo app since.
  const seeded = await apps.appAccess(DEMO_APP_KEY);
  if (seeded) return { ...seed, scopes: seeded.grantedScopes };

  const started = Date.now();
  const accounts = createAccountStore(database.db);
  const data = planDemoData(seed.merchantIds);
  await writeDemoAccounts(database.db, data);
  // The two passwords are hashed (scrypt, on the thread pool) while the catalog and the orders are written.
  const staffPassword = crypto.randomBytes(12).toString('base64url');
  const operatorPassword = crypto.randomBytes(12).toString('base64url');
  const people = Promise.all([
    accounts.createStaff({ id: demoId('staff:demo'), merchantId: seed.merchantIds[0]!, email: DEMO_STAFF_EMAIL, name: 'Nora Northwind', password: staffPassword }),
    apps.createOperator({ id: DEMO_OPERATOR_ID, email: DEMO_OPERATOR_EMAIL, name: 'Demo Operator', password: operatorPassword }),
  ]);
  // Awaited below; a failure while the other writes run must not count as unhandled meanwhile.
  people.catch(() => {});
  await writeDemoCatalog(database.db, data);
  await writeDemoOrders(database.db, data);
  await people;
  seed.staffPassword = staffPassword;
  seed.operatorPassword = operatorPassword;

  const developer = await apps.createDeveloper({ id: demoId('developer:acme'), kind: 'COMPANY', name: 'Acme ERP Ltd.', email: 'dev@acme-erp.example', verificationStatus: 'VERIFIED' });
  const { secret: appSecret } = await apps.createApp({ id: demoId('app:demo'), key: DEMO_APP_KEY, name: 'Acme ERP Sync', developerId: developer.id, status: 'SANDBOX', redirectUris: [DEMO_REDIRECT_URI] });
  seed.appSecret = appSecret;
  const packageIds: string[] = [];
  for (const [i, pkg] of PACKAGES.entries()) {
    const created = await apps.createPackage({ id: demoId(`package:${i}`), ...pkg, scopes: [...pkg.scopes] });
    await apps.grantPackage('system:demo-seed', { appKey: DEMO_APP_KEY, packageId: created.id, reason: 'Demo app holds every package' });
    packageIds.push(created.id);
  }
  const identities = await seedDemoIdentities(database.db, apps, { demoDeveloperId: developer.id, merchantId: seed.merchantIds[0]!, redirectUri: DEMO_REDIRECT_URI, packageIds, guestAppKey: DEMO_APP_KEY });
  seed.buyerPassword = identities.buyerPassword;
  const consoleDemo = await seedDemoConsole(database.db, apps, {
    clock,
    merchantIds: seed.merchantIds,
    staffId: demoId('staff:demo'),
    packageIds,
    redirectUri: DEMO_REDIRECT_URI,
    appKeys: { erp: DEMO_APP_KEY, storefront: DEMO_STOREFRONT_APP_KEY, crm: DEMO_OTHER_DEVELOPER_APP_KEY },
  });
  const secrets: Record<string, string> = { ...identities.appSecrets, [consoleDemo.reviewApp.key]: consoleDemo.reviewApp.secret };
  seed.otherApps = seed.otherApps.map((a) => ({ key: a.key, secret: secrets[a.key]! }));
  seed.scopes = (await apps.appAccess(DEMO_APP_KEY))!.grantedScopes;
  await seedDemoAnnouncement(database.db);
  // The planner's statistics, as autovacuum would gather them some time after a bulk load: without
  // them a fresh demo (and the benchmark's copy of it) plans lookups as if every table were empty.
  await database.db.execute(sql`analyze`);

  logger.info(
    { merchants: data.merchants.length, products: data.products.length, orders: data.orders.length, buyers: data.users.length, callReportRows: consoleDemo.callRows, ms: Date.now() - started },
    'seeded the demo data set',
  );
  return seed;
}

/** The demo's rows and events, planned from the fixed seed before anything is written. */
interface DemoData {
  users: UserRow[];
  merchants: MerchantRow[];
  products: ProductRow[];
  skus: SkuRow[];
  productEvents: DomainEvent[];
  orders: OrderRow[];
  orderLines: (typeof orderLines.$inferInsert)[];
  orderHistory: (typeof orderStatusHistory.$inferInsert)[];
  orderEvents: DomainEvent[];
  /** Each order's lines, as in orderLines (their shipped, returned and refunded counts are kept up to date). */
  linesOf: Map<string, (typeof orderLines.$inferInsert)[]>;
  shipmentsOf: Map<string, ShipmentRow[]>;
  shipments: ShipmentRow[];
  shipmentLines: (typeof shipmentLines.$inferInsert)[];
  trackingEvents: (typeof trackingEvents.$inferInsert)[];
  cases: AfterSaleCaseRow[];
  caseLines: (typeof afterSaleCaseLines.$inferInsert)[];
}

/**
 * Every buyer, merchant, product, SKU and order of the demo with its history and events, as the
 * stores would write them (createProduct, insertOrder, transition), in the order they would write
 * them, so outbox positions and history ids come out as if written one by one.
 */
function planDemoData(merchantIds: readonly string[]): DemoData {
  const rng = random(20261101);
  // Shipments and after-sales draw from a generator of their own, so the catalog and the orders are as they were before them.
  const life = random(20261207);
  const data: DemoData = {
    users: [],
    merchants: [],
    products: [],
    skus: [],
    productEvents: [],
    orders: [],
    orderLines: [],
    orderHistory: [],
    orderEvents: [],
    linesOf: new Map(),
    shipmentsOf: new Map(),
    shipments: [],
    shipmentLines: [],
    trackingEvents: [],
    cases: [],
    caseLines: [],
  };
  data.users = Array.from({ length: 40 }, (_, i) => ({ id: demoId(`user:${i}`), nickname: `${NICKNAMES[i % NICKNAMES.length]}_${100 + i}`, isVirtual: false, mergedInto: null, createdAt: new Date(EPOCH - 200 * DAY + i * DAY) }));
  const totalWeight = STATUS_PATHS.reduce((a, s) => a + s.weight, 0);

  for (const [m, merchant] of MERCHANTS.entries()) {
    const merchantId = merchantIds[m]!;
    const registeredAt = new Date(EPOCH - 365 * DAY);
    // Test merchants: the demo app stays in SANDBOX, which acts for test merchants only.
    data.merchants.push({ id: merchantId, name: merchant.name, contactEmail: merchant.email, contactPhone: merchant.phone, isTest: true, createdAt: registeredAt, updatedAt: registeredAt });

    const onShelf: NewOrderLine[][] = [];
    for (let p = 0; p < PRODUCTS_PER_MERCHANT; p++) {
      const category = CATEGORIES[p % CATEGORIES.length]!;
      const title = `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS[category]!)}`;
      const status: ProductStatus = p % 8 === 6 ? 'DRAFT' : p % 8 === 7 ? 'OFF_SHELF' : 'ON_SHELF';
      const basePrice = rng.int(8, 400) * 100 - 1;
      const colors = COLORS.slice(0, rng.int(1, 3));
      const createdAt = new Date(EPOCH - 180 * DAY + p * 3 * DAY);
      const product: ProductRow = { id: demoId(`product:${m}:${p}`), merchantId, title, description: `${title} from ${merchant.name}.`, category, status, createdAt, updatedAt: createdAt };
      const productSkus: SkuRow[] = colors
        .flatMap((color, c) =>
          (category === 'Apparel' || category === 'Shoes' ? SIZES.slice(0, 2) : ['']).map((size) => ({
            code: `${merchant.name.slice(0, 2).toUpperCase()}-${String(p + 1).padStart(3, '0')}-${c + 1}${size}`,
            attributes: [{ name: 'color', value: color }, ...(size ? [{ name: 'size', value: size }] : [])],
            priceAmount: basePrice + c * 500,
            stock: rng.int(0, 400),
          })),
        )
        .map((sku, position) => ({ ...sku, id: demoId(`sku:${m}:${p}:${position}`), productId: product.id, merchantId, currency: merchant.currency, position, createdAt, updatedAt: createdAt }));
      data.products.push(product);
      data.skus.push(...productSkus);
      data.productEvents.push(productEvent('product.created', product, productSkus, createdAt));
      if (status === 'ON_SHELF') {
        onShelf.push(productSkus.map((s) => ({ productId: product.id, skuId: s.id, productTitle: product.title, skuCode: s.code, quantity: 1, unitPrice: { amount: s.priceAmount, currency: s.currency } })));
      }
    }

    for (let o = 0; o < ORDERS_PER_MERCHANT; o++) {
      let roll = rng.int(1, totalWeight);
      const { path } = STATUS_PATHS.find((s) => (roll -= s.weight) <= 0)!;
      const lines = Array.from({ length: rng.int(1, 3) }, () => ({ ...rng.pick(rng.pick(onShelf)), quantity: rng.int(1, 3) }));
      const uniqueLines = [...new Map(lines.map((l) => [l.skuId, l])).values()];
      const place = rng.pick(CITIES);
      const createdAt = new Date(EPOCH - 90 * DAY + Math.floor(((o + rng.next()) / ORDERS_PER_MERCHANT) * 88 * DAY));
      const buyer = data.users[rng.int(0, data.users.length - 1)]!;
      const shippingAddress: Address = { name: `Buyer ${buyer.nickname}`, phone: `+1-555-01${String(o % 100).padStart(2, '0')}`, line1: `${rng.int(1, 999)} Market Street`, line2: null, ...place };
      const order = planOrder(data, { id: demoId(`order:${m}:${o}`), merchantId, number: `SO${FIRST_ORDER_NUMBER + o}`, buyerId: buyer.id, lines: uniqueLines, shippingAddress, createdAt });
      let at = createdAt.getTime();
      for (const [step, status] of path.entries()) {
        at += rng.int(1, 48) * HOUR;
        planTransition(
          data,
          order,
          status,
          {
            at: new Date(at),
            ...(status === 'SHIPPED' ? { shipment: { carrier: rng.pick(CARRIERS), trackingNumber: `TRK${rng.int(100000000, 999999999)}` } } : {}),
            ...(status === 'CANCELLED' ? { reason: 'Buyer changed their mind' } : {}),
            ...(status === 'REFUNDING' ? { reason: 'Item arrived damaged' } : {}),
          },
          life,
        );
        // Some delivered orders had a case, settled before they completed.
        if (status === 'DELIVERED' && path[step + 1] === 'COMPLETED' && life.next() < 0.3) planCase(data, order, new Date(at + 10 * 60_000), life.next() < 0.5 ? 'REFUNDED' : 'REJECTED', life);
      }
      // Some delivered orders have a case now: waiting for the merchant, for the goods, or on their way back.
      if (order.status === 'DELIVERED' && life.next() < 0.5) planCase(data, order, new Date(at + 2 * HOUR), life.pick(['OPEN', 'AWAITING_RETURN', 'RETURN_SHIPPED'] as const), life);
    }
  }
  return data;
}

/** An order in PENDING_PAYMENT with its lines, first history entry and `order.created` event, as insertOrder writes them. */
function planOrder(
  data: DemoData,
  input: { id: string; merchantId: string; number: string; buyerId: string; lines: NewOrderLine[]; shippingAddress: Address; createdAt: Date },
): OrderRow {
  const { id, merchantId, createdAt } = input;
  const currency = input.lines[0]!.unitPrice.currency;
  const priced = priceOrderLines(id, merchantId, input.lines, currency);
  const total = priced.total;
  const order: OrderRow = {
    id,
    merchantId,
    number: input.number,
    buyerId: input.buyerId,
    status: 'PENDING_PAYMENT',
    currency,
    totalAmount: total,
    paidAmount: 0,
    refundedAmount: 0,
    shippingAddress: input.shippingAddress,
    carrier: null,
    trackingNumber: null,
    shippedAt: null,
    idempotencyKey: null,
    stockReservationKey: null,
    createdAt,
    updatedAt: createdAt,
  };
  data.orders.push(order);
  data.orderLines.push(...priced.rows);
  data.linesOf.set(id, priced.rows);
  data.orderHistory.push({ orderId: id, merchantId, fromStatus: null, toStatus: 'PENDING_PAYMENT', occurredAt: createdAt });
  data.orderEvents.push(orderEvent(order, null, createdAt, priced.createdEvent));
  return order;
}

type Random = ReturnType<typeof random>;
const MINUTE = 60_000;

/** A shipment or after-sales event of a planned order, as shipments.ts and after-sales.ts write them; the order changed with it. */
function planLifecycleEvent(data: DemoData, order: OrderRow, type: LifecycleEventType, at: Date, extra: Record<string, unknown>, previousStatus = order.status) {
  order.updatedAt = at;
  data.orderEvents.push(lifecycleEvent(type, order, previousStatus, at, extra));
}

/** An outbound shipment of some units of a planned order's lines (all it has left when `units` is absent), with its first tracking update. */
function planShipment(data: DemoData, order: OrderRow, at: Date, parcel: { carrier: string; trackingNumber: string }, units?: Map<string, number>) {
  const lines = data.linesOf.get(order.id)!;
  const shipping = lines.map((line) => ({ line, quantity: units?.get(line.id) ?? line.quantity - (line.shippedQuantity ?? 0) })).filter((s) => s.quantity > 0);
  const shipment: ShipmentRow = { id: demoId(`shipment:${order.id}:${data.shipmentsOf.get(order.id)?.length ?? 0}`), merchantId: order.merchantId, orderId: order.id, kind: 'OUTBOUND', caseId: null, ...parcel, status: 'IN_TRANSIT', idempotencyKey: null, shippedAt: at, deliveredAt: null, updatedAt: at };
  data.shipments.push(shipment);
  data.shipmentsOf.set(order.id, [...(data.shipmentsOf.get(order.id) ?? []), shipment]);
  for (const { line, quantity } of shipping) {
    data.shipmentLines.push({ shipmentId: shipment.id, orderLineId: line.id, merchantId: order.merchantId, quantity });
    line.shippedQuantity = (line.shippedQuantity ?? 0) + quantity;
  }
  planLifecycleEvent(data, order, LIFECYCLE_EVENTS.SHIPMENT_CREATED, at, { shipmentId: shipment.id, ...parcel, lines: shipping.map(({ line, quantity }) => ({ lineId: line.id, lineNo: line.lineNo, quantity })) });
  return shipment;
}

/** A tracking update of a planned shipment (DELIVERED delivers it). */
function planTracking(data: DemoData, order: OrderRow, shipment: ShipmentRow, status: 'IN_TRANSIT' | 'DELIVERED', at: Date, location: string) {
  data.trackingEvents.push({ shipmentId: shipment.id, merchantId: order.merchantId, status, location, description: null, occurredAt: at });
  shipment.updatedAt = at;
  if (status === 'DELIVERED') Object.assign(shipment, { status: 'DELIVERED', deliveredAt: at });
  planLifecycleEvent(data, order, LIFECYCLE_EVENTS.SHIPMENT_UPDATED, at, {
    shipmentId: shipment.id,
    ...(shipment.caseId ? { caseId: shipment.caseId } : {}),
    kind: shipment.kind,
    shipmentStatus: shipment.status,
    tracking: { status, location, description: null, occurredAt: at.toISOString() },
  });
}

/**
 * A status change of a planned order (the order row is updated in place), with its history entry and
 * event, as the stores write them: SHIPPED with its shipments (some orders in two) and their
 * tracking, DELIVERED once each shipment is, money paid and refunded.
 */
function planTransition(data: DemoData, order: OrderRow, to: OrderStatus, options: { at: Date; reason?: string; shipment?: { carrier: string; trackingNumber: string } }, life: Random) {
  const previous = order.status;
  if (!ORDER_TRANSITIONS[previous].includes(to)) throw new Error(`Demo order ${order.number} cannot go from ${previous} to ${to}`);
  const lines = data.linesOf.get(order.id)!;
  const extra: Record<string, unknown> = { ...(options.reason ? { reason: options.reason } : {}) };
  if (to === 'PAID') order.paidAmount = order.totalAmount;
  if (to === 'SHIPPED' && options.shipment) {
    // Some orders of several lines ship in two: the first line half an hour ahead.
    if (lines.length > 1 && life.next() < 0.35) {
      const first = planShipment(data, order, new Date(options.at.getTime() - 30 * MINUTE), { carrier: life.pick(CARRIERS), trackingNumber: `TRK${life.int(100000000, 999999999)}` }, new Map([[lines[0]!.id, lines[0]!.quantity]]));
      planTracking(data, order, first, 'IN_TRANSIT', new Date(options.at.getTime() - 20 * MINUTE), life.pick(HUBS));
    }
    const last = planShipment(data, order, options.at, options.shipment);
    Object.assign(order, { carrier: options.shipment.carrier, trackingNumber: options.shipment.trackingNumber, shippedAt: options.at });
    Object.assign(extra, { shipmentId: last.id, shipment: options.shipment });
  }
  if (to === 'DELIVERED') {
    const sent = data.shipmentsOf.get(order.id)!;
    sent.forEach((shipment, i) => planTracking(data, order, shipment, 'DELIVERED', new Date(options.at.getTime() - (sent.length - i) * MINUTE), 'Front door'));
    extra.shipmentId = sent[sent.length - 1]!.id;
  }
  if (to === 'REFUNDED') {
    order.refundedAmount = order.paidAmount;
    for (const line of lines) line.refundedAmount = line.totalAmount;
  }
  order.status = to;
  order.updatedAt = options.at;
  data.orderHistory.push({ orderId: order.id, merchantId: order.merchantId, fromStatus: previous, toStatus: to, reason: options.reason ?? null, occurredAt: options.at });
  data.orderEvents.push(orderEvent(order, previous, options.at, extra));
  // The first shipment's carrier scan, once the order's status says it left.
  if (to === 'SHIPPED') planTracking(data, order, data.shipmentsOf.get(order.id)!.at(-1)!, 'IN_TRANSIT', new Date(options.at.getTime() + 20 * MINUTE), life.pick(HUBS));
}

/**
 * An after-sales case of a delivered demo order on its first line, as after-sales.ts writes it, up
 * to `outcome`: OPEN (waiting for the merchant), AWAITING_RETURN (approved, the goods asked back),
 * RETURN_SHIPPED (on their way back, tracked), REFUNDED (half of the line refunded) or REJECTED.
 * The demo plans no timers: its cases and delivered orders stay as seeded.
 */
function planCase(data: DemoData, order: OrderRow, at: Date, outcome: 'OPEN' | 'AWAITING_RETURN' | 'RETURN_SHIPPED' | 'REFUNDED' | 'REJECTED', life: Random) {
  const line = data.linesOf.get(order.id)![0]!;
  const ret = outcome === 'AWAITING_RETURN' || outcome === 'RETURN_SHIPPED';
  const requested = ret ? line.totalAmount : Math.max(1, Math.floor(line.totalAmount / 2));
  const afterSale: AfterSaleCaseRow = {
    id: demoId(`case:${order.id}:${data.cases.filter((c) => c.orderId === order.id).length}`),
    merchantId: order.merchantId,
    orderId: order.id,
    kind: ret ? 'RETURN_AND_REFUND' : 'REFUND_ONLY',
    status: 'OPEN',
    reason: life.pick(CASE_REASONS),
    evidence: 'Photos sent with the request',
    currency: order.currency,
    requestedAmount: requested,
    approvedAmount: null,
    refundedAmount: 0,
    rejectionReason: null,
    closeReason: null,
    openKey: `demo-case-${order.number}-${data.cases.length}`,
    approveKey: null,
    receiveKey: null,
    createdAt: at,
    updatedAt: at,
    closedAt: null,
  };
  data.cases.push(afterSale);
  data.caseLines.push({ caseId: afterSale.id, orderLineId: line.id, merchantId: order.merchantId, quantity: line.quantity });
  const event = (type: LifecycleEventType, when: Date, extra: Record<string, unknown> = {}) =>
    planLifecycleEvent(data, order, type, when, { caseId: afterSale.id, caseStatus: afterSale.status, kind: afterSale.kind, ...extra });
  event(LIFECYCLE_EVENTS.AFTER_SALE_OPENED, at, { reason: afterSale.reason, requestedAmount: { amount: requested, currency: order.currency }, lines: [{ lineId: line.id, lineNo: line.lineNo, quantity: line.quantity }] });
  if (outcome === 'OPEN') return;
  const answered = new Date(at.getTime() + 5 * MINUTE);
  Object.assign(afterSale, { updatedAt: answered });
  if (outcome === 'REJECTED') {
    Object.assign(afterSale, { status: 'REJECTED', rejectionReason: 'Outside the return policy', closedAt: answered });
    event(LIFECYCLE_EVENTS.AFTER_SALE_REJECTED, answered, { reason: afterSale.rejectionReason });
    event(LIFECYCLE_EVENTS.AFTER_SALE_CLOSED, answered, { outcome: 'REJECTED' });
    return;
  }
  afterSale.approvedAmount = requested;
  if (outcome === 'REFUNDED') {
    Object.assign(afterSale, { status: 'REFUNDED', refundedAmount: requested, closedAt: answered });
    line.refundedAmount = (line.refundedAmount ?? 0) + requested;
    order.refundedAmount += requested;
    event(LIFECYCLE_EVENTS.AFTER_SALE_APPROVED, answered, { approvedAmount: { amount: requested, currency: order.currency }, returnRequired: false, by: 'MERCHANT' });
    event(LIFECYCLE_EVENTS.REFUNDED, answered, { amount: { amount: requested, currency: order.currency }, refundedTotal: { amount: order.refundedAmount, currency: order.currency }, lines: [{ lineId: line.id, lineNo: line.lineNo, amount: { amount: requested, currency: order.currency } }] });
    event(LIFECYCLE_EVENTS.AFTER_SALE_CLOSED, answered, { outcome: 'REFUNDED' });
    return;
  }
  afterSale.status = 'AWAITING_RETURN';
  event(LIFECYCLE_EVENTS.AFTER_SALE_APPROVED, answered, { approvedAmount: { amount: requested, currency: order.currency }, returnRequired: true, by: 'MERCHANT' });
  if (outcome === 'AWAITING_RETURN') return;
  const sentBack = new Date(at.getTime() + 3 * HOUR);
  const parcel: ShipmentRow = { id: demoId(`return:${afterSale.id}`), merchantId: order.merchantId, orderId: order.id, kind: 'RETURN', caseId: afterSale.id, carrier: life.pick(CARRIERS), trackingNumber: `RTN${life.int(100000000, 999999999)}`, status: 'IN_TRANSIT', idempotencyKey: null, shippedAt: sentBack, deliveredAt: null, updatedAt: sentBack };
  data.shipments.push(parcel);
  Object.assign(afterSale, { status: 'RETURN_SHIPPED', updatedAt: sentBack });
  event(LIFECYCLE_EVENTS.RETURN_SHIPPED, sentBack, { shipmentId: parcel.id, carrier: parcel.carrier, trackingNumber: parcel.trackingNumber });
  planTracking(data, order, parcel, 'IN_TRANSIT', new Date(sentBack.getTime() + 30 * MINUTE), life.pick(HUBS));
}

/** Buyers, merchants and their `merchant.registered` events: one transaction of the account schema. */
async function writeDemoAccounts(db: Db, data: DemoData) {
  await db.transaction(async (tx) => {
    await tx.insert(users).values(data.users);
    await tx.insert(merchants).values(data.merchants);
    await recordEvents(
      tx,
      accountOutbox,
      data.merchants.map((merchant) => ({ merchantId: merchant.id, aggregateType: 'merchant', aggregateId: merchant.id, type: 'merchant.registered', occurredAt: merchant.createdAt, payload: { merchantId: merchant.id, name: merchant.name } })),
    );
  });
}

/** Products, SKUs and their `product.created` events: one transaction of the product schema. */
async function writeDemoCatalog(db: Db, data: DemoData) {
  await db.transaction(async (tx) => {
    await tx.insert(products).values(data.products);
    await tx.insert(skus).values(data.skus);
    await recordEvents(tx, productOutbox, data.productEvents);
  });
}

/** Orders with their lines, history, events and each merchant's last order number: one transaction of the order schema. */
async function writeDemoOrders(db: Db, data: DemoData) {
  const lastNumbers = new Map<string, number>();
  for (const order of data.orders) lastNumbers.set(order.merchantId, Math.max(lastNumbers.get(order.merchantId) ?? 0, Number(order.number.slice(2))));
  await db.transaction(async (tx) => {
    await tx.insert(merchantOrderNumbers).values([...lastNumbers].map(([merchantId, lastNumber]) => ({ merchantId, lastNumber })));
    await tx.insert(orders).values(data.orders);
    await tx.insert(orderLines).values(data.orderLines);
    await tx.insert(orderStatusHistory).values(data.orderHistory);
    await tx.insert(shipments).values(data.shipments);
    await tx.insert(shipmentLines).values(data.shipmentLines);
    await tx.insert(trackingEvents).values(data.trackingEvents);
    await tx.insert(afterSaleCases).values(data.cases);
    await tx.insert(afterSaleCaseLines).values(data.caseLines);
    await recordEvents(tx, orderOutbox, data.orderEvents);
  });
}
