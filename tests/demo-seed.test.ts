/**
 * The demo data set as the seed writes it (in bulk, one transaction per subgraph): every row the
 * stores would write, consistent across tables, and written once. On embedded PGlite, or on a fresh
 * database of the PostgreSQL server in DATABASE_URL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { openPglite, openPostgres, type Database } from '../core/db.js';
import { createLogger } from '../core/logger.js';
import { DEMO_HISTORY_DAYS, DEMO_REVIEW_APP_KEY, DEMO_REVIEW_NOTES } from '../demo/console.js';
import { DEMO_APP_KEY, seedDemo } from '../demo/seed.js';
import { systemClock } from '../core/clock.js';
import { prepareDatabase } from '../platform/index.js';
import { EVENT_OF_STATUS } from '../subgraphs/order/events.js';
import { createTestDatabase } from './helpers/platform.js';

let database: Database;
let server: Awaited<ReturnType<typeof createTestDatabase>>;
let dataDir: string;

beforeAll(async () => {
  server = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-seed-'));
  database = server ? await openPostgres(server.url, 4, 'demo-seed-test') : await openPglite(dataDir);
  await prepareDatabase(database);
});

afterAll(async () => {
  await database.close();
  await server?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The demo's shipments, tracking and cases (demo/seed.ts plans them from a seed of their own). */
const SHIPMENTS = 248;
const ORDERS_SHIPPED_IN_TWO = 45;
const RETURNS_ON_THEIR_WAY = 11;
const TRACKING_EVENTS = 426;
const CASES_BY_STATUS = { OPEN: 4, AWAITING_RETURN: 6, RETURN_SHIPPED: 11, REFUNDED: 10, REJECTED: 11 };
/** Status events (1107, one per history entry) and those of the shipments and cases. */
const ORDER_EVENTS = 1903;

/** The clock at seeding: the console's call history ends at its hour (demo/console.ts). */
const SEEDED_AT = Date.parse('2026-12-07T18:50:00.000Z');
const CALL_REPORT_ROWS = 3816;

const rows = async <T>(query: string) => ((await database.db.execute(sql.raw(query))) as unknown as { rows: T[] }).rows;
const count = async (table: string) => Number((await rows<{ n: string }>(`select count(*) as n from ${table}`))[0]!.n);

test('the demo seed writes merchants, buyers, the catalog and 330 orders with their lines, history, shipments, tracking and after-sales cases, an event per change, consistent across tables', async () => {
  const seed = await seedDemo(database, createLogger('silent'), [], { ...systemClock, now: () => SEEDED_AT });
  expect(seed.appKey).toBe(DEMO_APP_KEY);
  expect(seed.merchantIds).toHaveLength(3);
  expect(seed.operatorPassword).toBeTruthy();
  expect(seed.staffPassword).toBeTruthy();

  expect(await count('account.merchants where is_test')).toBe(3);
  // 40 buyers of the orders, and demo/identities.ts's two buyers who sign in and one guest.
  expect(await count('account.users')).toBe(43);
  expect(await count('account.buyer_accounts where email_verified_at is not null')).toBe(2);
  expect(await count('account.users where is_virtual')).toBe(1);
  expect(await count(`"order".orders o join account.users u on u.id = o.buyer_id where u.is_virtual`)).toBe(2);
  expect(await count('account.merchant_staff')).toBe(1);
  expect(await count(`account.outbox_events where type = 'merchant.registered'`)).toBe(3);
  expect(await count('product.products')).toBe(72);
  expect(await count('product.skus')).toBe(178);
  expect(await count(`product.outbox_events where type = 'product.created'`)).toBe(72);
  expect(await count('"order".orders')).toBe(330);
  expect(await count('"order".order_lines')).toBe(642);
  expect(await count('"order".order_status_history')).toBe(1107);
  expect(await count('"order".outbox_events')).toBe(ORDER_EVENTS);
  expect(await count('app_management.operators')).toBe(1);
  // The demo operator enrols a second factor at their first console sign-in.
  expect(await count('app_management.operators where totp_enrolled_at is null and totp_secret_sealed is null and recovery_code_hashes = \'{}\'')).toBe(1);
  expect(seed.otherApps.map((a) => a.key)).toContain(DEMO_REVIEW_APP_KEY);
  expect(seed.otherApps.every((a) => a.secret)).toBe(true);

  // Each merchant's order numbers run from SO100001 without a gap, and its counter is at the last one.
  const numbering = await rows<{ merchant_id: string; orders: string; first: string; last: string; counter: string }>(
    `select o.merchant_id, count(*) as orders, min(o.number) as first, max(o.number) as last, n.last_number as counter
     from "order".orders o join "order".merchant_order_numbers n using (merchant_id) group by o.merchant_id, n.last_number`,
  );
  expect(numbering).toHaveLength(3);
  for (const m of numbering) expect({ orders: Number(m.orders), first: m.first, last: m.last, counter: Number(m.counter) }).toEqual({ orders: 110, first: 'SO100001', last: 'SO100110', counter: 100110 });

  // An order's status is its last history entry, its status events follow its history in outbox order
  // (the events of its shipments and cases come between them), it changed last with its last event,
  // and its total is its lines'.
  const orders = await rows<{ status: string; updated_at: string; total_amount: string; statuses: string[]; last_at: string; events: string[]; lines_total: string; lines_skus_found: string; lines: string }>(
    `select o.status, o.updated_at, o.total_amount,
       (select array_agg(h.to_status order by h.id) from "order".order_status_history h where h.order_id = o.id) as statuses,
       (select max(e.occurred_at) from "order".outbox_events e where e.aggregate_id = o.id::text) as last_at,
       (select array_agg(e.type order by e.position) from "order".outbox_events e
        where e.aggregate_id = o.id::text and e.payload->>'status' is distinct from e.payload->>'previousStatus') as events,
       (select sum(l.total_amount) from "order".order_lines l where l.order_id = o.id) as lines_total,
       (select count(*) from "order".order_lines l join product.skus s on s.id = l.sku_id and s.product_id = l.product_id and s.code = l.sku_code where l.order_id = o.id) as lines_skus_found,
       (select count(*) from "order".order_lines l where l.order_id = o.id) as lines
     from "order".orders o`,
  );
  for (const order of orders) {
    expect(order.statuses[0]).toBe('PENDING_PAYMENT');
    expect(order.statuses[order.statuses.length - 1]).toBe(order.status);
    expect(new Date(order.updated_at).getTime()).toBe(new Date(order.last_at).getTime());
    expect(order.events).toEqual(order.statuses.map((status) => EVENT_OF_STATUS[status as keyof typeof EVENT_OF_STATUS]));
    expect(Number(order.lines_total)).toBe(Number(order.total_amount));
    expect(Number(order.lines_skus_found)).toBe(Number(order.lines));
  }
  // Shipments: every line of a shipped order is shipped, in one shipment or two, each tracked; a
  // delivered order's shipments are delivered. Money: refunded never exceeds paid, per line and per order.
  expect(await count('"order".shipments where kind = \'OUTBOUND\'')).toBe(SHIPMENTS);
  expect(await count('"order".shipments where kind = \'RETURN\'')).toBe(RETURNS_ON_THEIR_WAY);
  expect(await count('"order".tracking_events')).toBe(TRACKING_EVENTS);
  expect(await count(`"order".orders o where (select count(*) from "order".shipments s where s.order_id = o.id and s.kind = 'OUTBOUND') = 2`)).toBe(ORDERS_SHIPPED_IN_TWO);
  expect(await count(`"order".order_lines l join "order".orders o on o.id = l.order_id where o.status in ('SHIPPED', 'DELIVERED', 'COMPLETED') and l.shipped_quantity <> l.quantity`)).toBe(0);
  expect(await count(`"order".order_lines l where l.shipped_quantity <> (select coalesce(sum(sl.quantity), 0) from "order".shipment_lines sl where sl.order_line_id = l.id)`)).toBe(0);
  expect(await count(`"order".shipments s join "order".orders o on o.id = s.order_id where s.kind = 'OUTBOUND' and o.status in ('DELIVERED', 'COMPLETED') and s.status <> 'DELIVERED'`)).toBe(0);
  expect(await count(`"order".shipments s where not exists (select 1 from "order".tracking_events t where t.shipment_id = s.id)`)).toBe(0);
  expect(await count(`"order".orders o where o.refunded_amount <> (select sum(l.refunded_amount) from "order".order_lines l where l.order_id = o.id) or o.refunded_amount > o.paid_amount`)).toBe(0);
  // After-sales: cases open and closed, in each state, on delivered (and, closed, on completed) orders.
  const cases = Object.fromEntries((await rows<{ status: string; n: string }>(`select status, count(*) as n from "order".after_sale_cases group by status`)).map((r) => [r.status, Number(r.n)]));
  expect(cases).toEqual(CASES_BY_STATUS);
  expect(await count(`"order".after_sale_cases c join "order".orders o on o.id = c.order_id where c.status in ('OPEN', 'AWAITING_RETURN', 'RETURN_SHIPPED') and o.status <> 'DELIVERED'`)).toBe(0);
  // Every status a demo order can end in is there.
  expect(new Set(orders.map((o) => o.status))).toEqual(new Set(['PENDING_PAYMENT', 'PAID', 'SHIPPED', 'DELIVERED', 'COMPLETED', 'CANCELLED', 'REFUNDING', 'REFUNDED']));
  // A product's event names its SKUs.
  const [product] = await rows<{ sku_ids: string[]; event_sku_ids: string[] }>(
    `select (select array_agg(s.id::text order by s.position) from product.skus s where s.product_id = p.id) as sku_ids,
       (select array(select jsonb_array_elements_text(e.payload->'skuIds')) from product.outbox_events e where e.aggregate_id = p.id::text) as event_sku_ids
     from product.products p limit 1`,
  );
  expect(product!.event_sku_ids).toEqual(product!.sku_ids);
});

test("the console's demo: an app waiting for review with notes and a package request, a developer to verify, authorizations, and a week of call history before the seeding hour", async () => {
  const [review] = await rows<{ status: string; notes: string; app_status: string }>(
    `select r.status, r.notes, a.status as app_status from app_management.app_reviews r join app_management.apps a on a.id = r.app_id where a.key = '${DEMO_REVIEW_APP_KEY}'`,
  );
  expect(review).toEqual({ status: 'PENDING', notes: DEMO_REVIEW_NOTES, app_status: 'SANDBOX' });
  expect(await count(`app_management.package_requests r join app_management.apps a on a.id = r.app_id where a.key = '${DEMO_REVIEW_APP_KEY}' and r.status = 'PENDING' and r.message <> ''`)).toBe(1);
  expect(await count(`app_management.developers where verification_status = 'PENDING'`)).toBe(1);
  expect(await count('account.merchant_authorizations where revoked_at is null')).toBe(6);

  // Hourly rows over the 7 days before the seeding hour, each one's histogram holding its calls.
  expect(await count('app_management.call_reports')).toBe(CALL_REPORT_ROWS);
  const [span] = await rows<{ first: string; last: string; apps: string; merchants: string }>(
    `select min(minute) as first, max(minute) as last, count(distinct app_id) as apps, count(distinct merchant_id) as merchants from app_management.call_reports`,
  );
  const seededHour = SEEDED_AT - (SEEDED_AT % 3_600_000);
  expect(new Date(span!.first).getTime()).toBe(seededHour - DEMO_HISTORY_DAYS * 24 * 3_600_000);
  expect(new Date(span!.last).getTime()).toBe(seededHour - 3_600_000);
  expect({ apps: Number(span!.apps), merchants: Number(span!.merchants) }).toEqual({ apps: 4, merchants: 3 });
  expect(await count(`app_management.call_reports where extract(minute from minute) <> 0 or calls <> (select sum(b) from unnest(latency_buckets) b) or actual_cost > requested_cost`)).toBe(0);
  const outcomes = Object.fromEntries((await rows<{ outcome: string; calls: string }>(`select outcome, sum(calls) as calls from app_management.call_reports group by outcome`)).map((r) => [r.outcome, Number(r.calls)]));
  expect(Object.keys(outcomes)).toEqual(expect.arrayContaining(['OK', 'THROTTLED', 'QUOTA_EXCEEDED', 'BAD_USER_INPUT', 'NOT_FOUND', 'INTERNAL_SERVER_ERROR']));
  const errors = Object.entries(outcomes).reduce((sum, [outcome, calls]) => sum + (outcome === 'OK' ? 0 : calls), 0);
  expect(errors / (errors + outcomes.OK!)).toBeGreaterThan(0.01);
  expect(errors / (errors + outcomes.OK!)).toBeLessThan(0.1);
  // Refusals are counted as the gateway counts them: no operation, no cost.
  expect(await count(`app_management.call_reports where outcome in ('THROTTLED', 'QUOTA_EXCEEDED') and (operation_name <> '' or requested_cost <> 0)`)).toBe(0);
});

test('a second seed writes nothing and answers with the demo app and the scopes its packages grant', async () => {
  const before = database.statements.count;
  const again = await seedDemo(database, createLogger('silent'));
  expect(again.operatorPassword).toBeUndefined();
  expect(again.scopes).toEqual(expect.arrayContaining(['orders:read', 'orders:write', 'products:read', 'messages:orders', 'aftersales:read', 'aftersales:write']));
  expect(await count('"order".orders')).toBe(330);
  expect(await count('"order".outbox_events')).toBe(ORDER_EVENTS);
  // Only reads: the check whether it was seeded, and the count above.
  expect(database.statements.count - before).toBeLessThanOrEqual(4);
});
