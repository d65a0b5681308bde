/**
 * After-sales over real HTTP: cases for refunds and returns, approvals in full and in part,
 * rejections, returns with their own tracked shipment, stock given back through the product service
 * when a return is received, refunds that never exceed what was paid (in the API and in the
 * database), the timers of unanswered cases and unshipped returns, and every refusal, idempotency
 * key, merchant isolation, scope and personal-data rule.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { isCheckViolation } from '../core/db.js';
import { createLimitsStore } from '../subgraphs/app-management/limits.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { adjustableClock } from './helpers/clock.js';
import { createMerchant, createProduct, placeOrder, stockOf } from './helpers/factories.js';
import { connectWs, subscribeWs } from './helpers/messages.js';
import { ALL_SCOPES, TEST_APP_KEY, startTestPlatform, waitUntil, type TestPlatform } from './helpers/platform.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const clock = adjustableClock();
let t: TestPlatform;
let shop: { id: string; token: string };
let other: { id: string; token: string };
const SCOPES = [...ALL_SCOPES, 'aftersales:read', 'aftersales:write'];

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  const apps = createAppManagementStore(t.platform.database.db);
  const pkg = await apps.createPackage({ name: `After-sales ${crypto.randomUUID()}`, description: 'After-sales, for tests', tier: 'FREE', scopes: ['aftersales:read', 'aftersales:write'] });
  await apps.grantPackage('system:tests', { appKey: TEST_APP_KEY, packageId: pkg.id, reason: 'tests' });
  await createLimitsStore(t.platform.database.db, clock).setAppFlowLimits('system:tests', { appKey: TEST_APP_KEY, bucketSize: 1_000_000, restoreRate: 100_000, reason: 'tests' });
  shop = { id: (await createMerchant(t, 'After-sales Shop')).id, token: '' };
  other = { id: (await createMerchant(t, 'Other After-sales Shop')).id, token: '' };
  await freshTokens();
});
afterAll(() => t.stop());

async function freshTokens() {
  shop.token = await t.token({ merchantId: shop.id, scopes: SCOPES });
  other.token = await t.token({ merchantId: other.id, scopes: SCOPES });
}

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await t.platform.database.db.execute(query)) as unknown as { rows: T[] }).rows;
}

async function ok<T = Record<string, any>>(token: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const result = await t.gql<T>(token, query, variables);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!;
}

const CASE_FIELDS = `id kind status reason requested { amount currency } approved { amount } refunded { amount } rejectionReason closeReason
  lines { quantity line { id } } returnShipment { id kind status carrier trackingNumber tracking { status location } } order { id status }`;
const ORDER = `query($id: ID!) { order(id: $id) { id status paid { amount } refunded { amount } lines { id quantity shippedQuantity returnedQuantity total { amount } refunded { amount } }
  afterSaleCases { totalCount nodes { id status } } } }`;
const OPEN = `mutation($input: OpenAfterSaleInput!) { openAfterSale(input: $input) { afterSaleCase { ${CASE_FIELDS} } order { id status } } }`;
const APPROVE = `mutation($input: ApproveAfterSaleInput!) { approveAfterSale(input: $input) { afterSaleCase { ${CASE_FIELDS} } order { id status refunded { amount } } } }`;
const REJECT = `mutation($input: RejectAfterSaleInput!) { rejectAfterSale(input: $input) { afterSaleCase { ${CASE_FIELDS} } order { id status } } }`;
const SHIP_RETURN = `mutation($input: ShipAfterSaleReturnInput!) { shipAfterSaleReturn(input: $input) { afterSaleCase { ${CASE_FIELDS} } } }`;
const RECEIVE = `mutation($input: ReceiveAfterSaleReturnInput!) { receiveAfterSaleReturn(input: $input) { afterSaleCase { ${CASE_FIELDS} } order { id status refunded { amount } } } }`;
const CASE = `query($id: ID!) { afterSaleCase(id: $id) { ${CASE_FIELDS} } }`;

/**
 * An order of 2 units of A (1000 each) and 1 of B (2500): total 4500, paid; `shipped` ships it
 * all, `delivered` delivers it too.
 */
async function order(stage: 'paid' | 'shipped' | 'delivered' = 'paid', merchant = shop) {
  const product = await createProduct(t, merchant.token, [{ amount: 1000, stock: 20 }, { amount: 2500, stock: 20 }]);
  const placed = await placeOrder(t, merchant.token, [{ skuId: product.skus[0]!.id, quantity: 2 }, { skuId: product.skus[1]!.id, quantity: 1 }]);
  if (placed.errors) throw new Error(JSON.stringify(placed.errors));
  const id = placed.data!.placeOrder.order.id;
  await ok(merchant.token, 'mutation($id: ID!) { payOrder(input: { orderId: $id }) { order { status } } }', { id });
  let shipmentId: string | undefined;
  if (stage !== 'paid') {
    const shipped = await ok(merchant.token, `mutation($input: CreateShipmentInput!) { createShipment(input: $input) { shipment { id } } }`, {
      input: { orderId: id, carrier: 'DHL', trackingNumber: 'OUT-1', idempotencyKey: crypto.randomUUID() },
    });
    shipmentId = shipped.createShipment.shipment.id;
  }
  if (stage === 'delivered') await ok(merchant.token, `mutation($input: ConfirmShipmentDeliveredInput!) { confirmShipmentDelivered(input: $input) { order { status } } }`, { input: { shipmentId } });
  const read = (await ok(merchant.token, ORDER, { id })).order;
  const lineA = read.lines.find((l: { quantity: number }) => l.quantity === 2).id as string;
  const lineB = read.lines.find((l: { quantity: number }) => l.quantity === 1).id as string;
  return { id, lineA, lineB, skuA: product.skus[0]!.id, skuB: product.skus[1]!.id };
}

const open = (token: string, input: Record<string, unknown>) => t.gql(token, OPEN, { input: { kind: 'REFUND_ONLY', reason: 'Not as described', idempotencyKey: crypto.randomUUID(), ...input } });
const approve = (token: string, input: Record<string, unknown>) => t.gql(token, APPROVE, { input: { idempotencyKey: crypto.randomUUID(), ...input } });
const typesOf = async (orderId: string) => (await rows<{ type: string }>(sql`select type from "order".outbox_events where aggregate_id = ${orderId} order by position`)).map((e) => e.type);
const caseEvents = async (orderId: string) => (await typesOf(orderId)).filter((type) => !['order.created', 'order.paid', 'order.shipment_created', 'order.shipped', 'order.shipment_updated', 'order.delivered'].includes(type));
/** Everything a refused call must leave as it was. */
const snapshot = async (orderId: string, caseId?: string) => ({
  order: (await ok(shop.token, ORDER, { id: orderId })).order,
  afterSale: caseId ? (await ok(shop.token, CASE, { id: caseId })).afterSaleCase : null,
  events: await typesOf(orderId),
  timers: await rows(sql`select kind, due_at, fired_at, cancelled_at from "order".timers where subject_id in (${orderId}::uuid, ${caseId ?? orderId}::uuid) order by kind, created_at`),
});

describe('refunds', () => {
  test('a refund-only case approved in full refunds every line and makes the order REFUNDED, with its events in order', async () => {
    const o = await order('paid');
    const opened = await open(shop.token, { orderId: o.id, amount: 4500, evidence: 'Photo of the box' });
    expect(opened.errors).toBeUndefined();
    const afterSale = opened.data!.openAfterSale.afterSaleCase;
    expect(afterSale).toMatchObject({ kind: 'REFUND_ONLY', status: 'OPEN', requested: { amount: 4500, currency: 'USD' }, approved: null, refunded: { amount: 0 } });
    expect(afterSale.lines).toHaveLength(2);
    const approved = await approve(shop.token, { caseId: afterSale.id });
    expect(approved.errors).toBeUndefined();
    expect(approved.data!.approveAfterSale).toMatchObject({ afterSaleCase: { status: 'REFUNDED', approved: { amount: 4500 }, refunded: { amount: 4500 } }, order: { status: 'REFUNDED', refunded: { amount: 4500 } } });
    const read = (await ok(shop.token, ORDER, { id: o.id })).order;
    expect(read.lines.map((l: { total: { amount: number }; refunded: { amount: number } }) => l.refunded.amount === l.total.amount)).toEqual([true, true]);
    expect(await caseEvents(o.id)).toEqual(['order.after_sale_opened', 'order.after_sale_approved', 'order.refunded', 'order.after_sale_closed']);
    const [refunded] = await rows<{ payload: Record<string, any> }>(sql`select payload from "order".outbox_events where aggregate_id = ${o.id} and type = 'order.refunded'`);
    expect(refunded!.payload).toMatchObject({ caseId: afterSale.id, status: 'REFUNDED', amount: { amount: 4500 }, refundedTotal: { amount: 4500 } });
    // The response timer is gone with the answer.
    expect(await rows(sql`select 1 from "order".timers where subject_id = ${afterSale.id} and kind = 'APPROVE_AFTER_SALE' and fired_at is null and cancelled_at is null`)).toHaveLength(0);
  });

  test('a partial approval refunds part of a line and keeps the order as it was; the rest can be asked again, never more than paid', async () => {
    const o = await order('shipped');
    const first = (await open(shop.token, { orderId: o.id, amount: 1000, lines: [{ lineId: o.lineA, quantity: 1 }] })).data!.openAfterSale.afterSaleCase;
    const partial = await approve(shop.token, { caseId: first.id, amount: 600 });
    expect(partial.data!.approveAfterSale).toMatchObject({ afterSaleCase: { status: 'REFUNDED', approved: { amount: 600 }, refunded: { amount: 600 } }, order: { status: 'SHIPPED', refunded: { amount: 600 } } });
    // Line A has 2000 - 600 left: asking 1500 of it is too much, and nothing is opened.
    const tooMuch = await open(shop.token, { orderId: o.id, amount: 1500, lines: [{ lineId: o.lineA, quantity: 2 }] });
    expect(tooMuch.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'amount', refundable: 1400 });
    // The whole order has 3900 left.
    const overOrder = await open(shop.token, { orderId: o.id, amount: 3901 });
    expect(overOrder.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', refundable: 3900 });
    const rest = (await open(shop.token, { orderId: o.id, amount: 3900 })).data!.openAfterSale.afterSaleCase;
    const all = await approve(shop.token, { caseId: rest.id });
    expect(all.data!.approveAfterSale.order).toMatchObject({ status: 'REFUNDED', refunded: { amount: 4500 } });
    const read = (await ok(shop.token, ORDER, { id: o.id })).order;
    expect(read).toMatchObject({ paid: { amount: 4500 }, refunded: { amount: 4500 }, afterSaleCases: { totalCount: 2 } });
    // Nothing is left to ask for.
    expect((await open(shop.token, { orderId: o.id, amount: 1 })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
  });

  test('the database itself refuses a refund beyond what was paid, per line and per order', async () => {
    const o = await order('paid');
    const violated = (query: ReturnType<typeof sql>) => t.platform.database.db.execute(query).then(
      () => 'nothing',
      (error: unknown) => ['order_lines_refunded_within_total', 'orders_refunded_within_paid', 'order_lines_returned_within_shipped'].find((name) => isCheckViolation(error, name)) ?? String(error),
    );
    expect(await violated(sql`update "order".order_lines set refunded_amount = total_amount + 1 where id = ${o.lineA}`)).toBe('order_lines_refunded_within_total');
    expect(await violated(sql`update "order".orders set refunded_amount = paid_amount + 1 where id = ${o.id}`)).toBe('orders_refunded_within_paid');
    expect(await violated(sql`update "order".order_lines set returned_quantity = shipped_quantity + 1 where id = ${o.lineA}`)).toBe('order_lines_returned_within_shipped');
  });

  test('a refund that settles a line in full before it ships puts its units back on sale; a line refunded in part still ships', async () => {
    const o = await order('paid');
    const [stockA, stockB] = [await stockOf(t, shop.token, o.skuA), await stockOf(t, shop.token, o.skuB)];
    // 2000 over line A (2 × 1000) settles it; line B is not part of the case.
    const settled = (await open(shop.token, { orderId: o.id, amount: 2000, lines: [{ lineId: o.lineA, quantity: 2 }] })).data!.openAfterSale.afterSaleCase;
    expect((await approve(shop.token, { caseId: settled.id })).errors).toBeUndefined();
    expect(await stockOf(t, shop.token, o.skuA)).toBe(stockA + 2);
    expect(await stockOf(t, shop.token, o.skuB)).toBe(stockB);
    expect(await rows(sql`select 1 from "order".pending_stock_returns where case_id = ${settled.id}`)).toHaveLength(0);
    // 100 of line B's 2500: the unit still ships, nothing goes back.
    const partial = (await open(shop.token, { orderId: o.id, amount: 100, lines: [{ lineId: o.lineB, quantity: 1 }] })).data!.openAfterSale.afterSaleCase;
    expect((await approve(shop.token, { caseId: partial.id })).errors).toBeUndefined();
    expect(await stockOf(t, shop.token, o.skuB)).toBe(stockB);
    // What is left to ship is line B alone; shipping it makes the order SHIPPED.
    const shipped = await ok(shop.token, `mutation($input: CreateShipmentInput!) { createShipment(input: $input) { shipment { lines { quantity } } order { status } } }`, {
      input: { orderId: o.id, carrier: 'DHL', trackingNumber: 'OUT-2', idempotencyKey: crypto.randomUUID() },
    });
    expect(shipped.createShipment).toMatchObject({ shipment: { lines: [{ quantity: 1 }] }, order: { status: 'SHIPPED' } });
  });

  test('an order refunded in part cannot be cancelled (CONFLICT, nothing changes): the rest is settled by a case', async () => {
    const o = await order('paid');
    const afterSale = (await open(shop.token, { orderId: o.id, amount: 500 })).data!.openAfterSale.afterSaleCase;
    expect((await approve(shop.token, { caseId: afterSale.id })).errors).toBeUndefined();
    const before = await snapshot(o.id);
    const cancelled = await t.gql(shop.token, 'mutation($id: ID!) { cancelOrder(input: { orderId: $id, reason: "changed my mind" }) { order { status } } }', { id: o.id });
    expect(cancelled.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await snapshot(o.id)).toEqual(before);
  });

  test('a rejection closes the case with its reason and leaves the money as it was', async () => {
    const o = await order('delivered');
    const afterSale = (await open(shop.token, { orderId: o.id, amount: 500 })).data!.openAfterSale.afterSaleCase;
    const rejected = await t.gql(shop.token, REJECT, { input: { caseId: afterSale.id, reason: 'Used beyond the trial period' } });
    expect(rejected.data!.rejectAfterSale).toMatchObject({ afterSaleCase: { status: 'REJECTED', rejectionReason: 'Used beyond the trial period', refunded: { amount: 0 } }, order: { status: 'DELIVERED' } });
    expect((await ok(shop.token, ORDER, { id: o.id })).order.refunded.amount).toBe(0);
    expect(await caseEvents(o.id)).toEqual(['order.after_sale_opened', 'order.after_sale_rejected', 'order.after_sale_closed']);
    // With the case closed, the order waits for completion again.
    expect(await rows(sql`select 1 from "order".timers where subject_id = ${o.id} and kind = 'COMPLETE_ORDER' and fired_at is null and cancelled_at is null`)).toHaveLength(1);
  });
});

describe('returns', () => {
  test('a return: approved, shipped back with tracking, received: stock back on sale through the product service, and the refund', async () => {
    const o = await order('delivered');
    const stockBefore = await stockOf(t, shop.token, o.skuA);
    const afterSale = (await open(shop.token, { orderId: o.id, kind: 'RETURN_AND_REFUND', amount: 2000, lines: [{ lineId: o.lineA, quantity: 2 }] })).data!.openAfterSale.afterSaleCase;
    // Completion waits while the case is open.
    expect(await rows(sql`select 1 from "order".timers where subject_id = ${o.id} and kind = 'COMPLETE_ORDER' and fired_at is null and cancelled_at is null`)).toHaveLength(0);
    const approved = await approve(shop.token, { caseId: afterSale.id, amount: 1800 });
    expect(approved.data!.approveAfterSale.afterSaleCase).toMatchObject({ status: 'AWAITING_RETURN', approved: { amount: 1800 }, refunded: { amount: 0 } });

    const shipped = await t.gql(shop.token, SHIP_RETURN, { input: { caseId: afterSale.id, carrier: 'UPS', trackingNumber: 'RET-77' } });
    expect(shipped.errors).toBeUndefined();
    const returnShipment = shipped.data!.shipAfterSaleReturn.afterSaleCase.returnShipment;
    expect(returnShipment).toMatchObject({ kind: 'RETURN', status: 'IN_TRANSIT', carrier: 'UPS', trackingNumber: 'RET-77' });
    // The return is tracked like any shipment; it does not count among the order's own shipments.
    await ok(shop.token, `mutation($input: AddShipmentTrackingInput!) { addShipmentTracking(input: $input) { shipment { id } } }`, { input: { shipmentId: returnShipment.id, status: 'IN_TRANSIT', location: 'Returns depot' } });
    expect((await ok(shop.token, CASE, { id: afterSale.id })).afterSaleCase.returnShipment.tracking).toEqual([{ status: 'IN_TRANSIT', location: 'Returns depot' }]);
    expect((await ok(shop.token, `query($id: ID!) { order(id: $id) { shipments { kind } } }`, { id: o.id })).order.shipments).toEqual([{ kind: 'OUTBOUND' }]);

    const key = crypto.randomUUID();
    const received = await t.gql(shop.token, RECEIVE, { input: { caseId: afterSale.id, idempotencyKey: key } });
    expect(received.errors).toBeUndefined();
    expect(received.data!.receiveAfterSaleReturn).toMatchObject({ afterSaleCase: { status: 'REFUNDED', refunded: { amount: 1800 }, returnShipment: { status: 'DELIVERED' } }, order: { status: 'DELIVERED', refunded: { amount: 1800 } } });
    expect(await stockOf(t, shop.token, o.skuA)).toBe(stockBefore + 2);
    expect(await rows(sql`select 1 from "order".pending_stock_returns where case_id = ${afterSale.id}`)).toHaveLength(0);
    // A retry with the same key answers the case as it is and gives no stock twice.
    const again = await t.gql(shop.token, RECEIVE, { input: { caseId: afterSale.id, idempotencyKey: key } });
    expect(again.data!.receiveAfterSaleReturn.afterSaleCase.status).toBe('REFUNDED');
    expect(await stockOf(t, shop.token, o.skuA)).toBe(stockBefore + 2);
    const line = (await ok(shop.token, ORDER, { id: o.id })).order.lines.find((l: { id: string }) => l.id === o.lineA);
    expect(line).toMatchObject({ shippedQuantity: 2, returnedQuantity: 2, refunded: { amount: 1800 } });
    expect(await caseEvents(o.id)).toEqual(['order.after_sale_opened', 'order.after_sale_approved', 'order.return_shipped', 'order.return_received', 'order.refunded', 'order.after_sale_closed']);
    const [stockEvent] = await rows<{ payload: Record<string, any> }>(sql`select payload from product.outbox_events where type = 'stock.changed' and payload->>'skuId' = ${o.skuA} and payload->>'source' = 'ORDER_RETURN'`);
    expect(stockEvent!.payload).toMatchObject({ stockAfter: stockBefore + 2 });
    // Settled: completion is scheduled again.
    expect(await rows(sql`select 1 from "order".timers where subject_id = ${o.id} and kind = 'COMPLETE_ORDER' and fired_at is null and cancelled_at is null`)).toHaveLength(1);
  });

  test('the merchant may ask the goods back of a refund-only case; goods never shipped cannot be', async () => {
    const shippedOrder = await order('shipped');
    const afterSale = (await open(shop.token, { orderId: shippedOrder.id, amount: 2500, lines: [{ lineId: shippedOrder.lineB, quantity: 1 }] })).data!.openAfterSale.afterSaleCase;
    const asked = await approve(shop.token, { caseId: afterSale.id, requireReturn: true });
    expect(asked.data!.approveAfterSale.afterSaleCase).toMatchObject({ kind: 'RETURN_AND_REFUND', status: 'AWAITING_RETURN' });

    const unshipped = await order('paid');
    const refundOnly = (await open(shop.token, { orderId: unshipped.id, amount: 100 })).data!.openAfterSale.afterSaleCase;
    const before = await snapshot(unshipped.id, refundOnly.id);
    const refused = await approve(shop.token, { caseId: refundOnly.id, requireReturn: true });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
    expect(await snapshot(unshipped.id, refundOnly.id)).toEqual(before);
    // A return of goods not shipped cannot even be opened.
    expect((await open(shop.token, { orderId: unshipped.id, kind: 'RETURN_AND_REFUND', amount: 100 })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
  });
});

describe('refusals and idempotency', () => {
  test('every invalid transition is a CONFLICT that changes nothing', async () => {
    const o = await order('shipped');
    const afterSale = (await open(shop.token, { orderId: o.id, amount: 1000 })).data!.openAfterSale.afterSaleCase;
    let before = await snapshot(o.id, afterSale.id);
    // A second open case on the order.
    expect((await open(shop.token, { orderId: o.id, amount: 10 })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
    // Shipping back or receiving a return that was never asked for.
    expect((await t.gql(shop.token, SHIP_RETURN, { input: { caseId: afterSale.id, carrier: 'UPS', trackingNumber: 'X' } })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentStatus: 'OPEN' });
    expect((await t.gql(shop.token, RECEIVE, { input: { caseId: afterSale.id, idempotencyKey: crypto.randomUUID() } })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentStatus: 'OPEN' });
    // Approving more than was asked.
    expect((await approve(shop.token, { caseId: afterSale.id, amount: 1001 })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'amount' });
    // The order cannot be cancelled while it has goods out and a case open.
    expect((await t.gql(shop.token, 'mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { status } } }', { id: o.id })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
    expect(await snapshot(o.id, afterSale.id)).toEqual(before);

    await ok(shop.token, REJECT, { input: { caseId: afterSale.id, reason: 'No' } });
    before = await snapshot(o.id, afterSale.id);
    expect((await approve(shop.token, { caseId: afterSale.id })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentStatus: 'REJECTED' });
    expect((await t.gql(shop.token, REJECT, { input: { caseId: afterSale.id, reason: 'Again' } })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentStatus: 'REJECTED' });
    expect(await snapshot(o.id, afterSale.id)).toEqual(before);

    // An unpaid order has nothing to refund.
    const product = await createProduct(t, shop.token, [{ stock: 3 }]);
    const unpaid = (await placeOrder(t, shop.token, [{ skuId: product.skus[0]!.id, quantity: 1 }])).data!.placeOrder.order;
    expect((await open(shop.token, { orderId: unpaid.id, amount: 100 })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentStatus: 'PENDING_PAYMENT' });
    expect((await ok(shop.token, ORDER, { id: unpaid.id })).order.afterSaleCases.totalCount).toBe(0);
    // Bad input is BAD_USER_INPUT.
    expect((await open(shop.token, { orderId: o.id, amount: 0 })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount' });
    expect((await open(shop.token, { orderId: o.id, amount: 10, reason: '   ' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
  });

  test('opening and approving are idempotent per key, even concurrently; a key reused for something else is a CONFLICT', async () => {
    const o = await order('paid');
    const key = crypto.randomUUID();
    const input = { orderId: o.id, amount: 700, idempotencyKey: key };
    const opened = await Promise.all([open(shop.token, input), open(shop.token, input), open(shop.token, input)]);
    for (const r of opened) expect(r.errors).toBeUndefined();
    const ids = new Set(opened.map((r) => r.data!.openAfterSale.afterSaleCase.id));
    expect(ids.size).toBe(1);
    const caseId = [...ids][0]!;
    expect((await open(shop.token, { ...input, amount: 701 })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });

    const approveKey = crypto.randomUUID();
    const approvals = await Promise.all([approve(shop.token, { caseId, idempotencyKey: approveKey }), approve(shop.token, { caseId, idempotencyKey: approveKey })]);
    for (const r of approvals) expect(r.errors).toBeUndefined();
    expect((await ok(shop.token, ORDER, { id: o.id })).order.refunded.amount).toBe(700);
    expect((await caseEvents(o.id)).filter((type) => type === 'order.refunded')).toHaveLength(1);
    expect((await approve(shop.token, { caseId, idempotencyKey: approveKey, amount: 500 })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
  });
});

describe('timers', () => {
  test('an unanswered case is approved in full after 48 h; a return not shipped within 7 days closes; completion waits for the case', async () => {
    const refundOrder = await order('delivered');
    const unanswered = (await open(shop.token, { orderId: refundOrder.id, amount: 300 })).data!.openAfterSale.afterSaleCase;
    const returnOrder = await order('delivered');
    const returnCase = (await open(shop.token, { orderId: returnOrder.id, kind: 'RETURN_AND_REFUND', amount: 2500, lines: [{ lineId: returnOrder.lineB, quantity: 1 }] })).data!.openAfterSale.afterSaleCase;
    await approve(shop.token, { caseId: returnCase.id });

    await clock.advance(48 * HOUR + 60_000);
    await freshTokens();
    await waitUntil('the unanswered case is approved', async () => (await ok(shop.token, CASE, { id: unanswered.id })).afterSaleCase.status === 'REFUNDED');
    expect((await ok(shop.token, CASE, { id: unanswered.id })).afterSaleCase).toMatchObject({ approved: { amount: 300 }, refunded: { amount: 300 } });
    const [approvedEvent] = await rows<{ payload: Record<string, any> }>(sql`select payload from "order".outbox_events where aggregate_id = ${refundOrder.id} and type = 'order.after_sale_approved'`);
    expect(approvedEvent!.payload).toMatchObject({ by: 'TIMER', caseId: unanswered.id });
    // Both orders are still DELIVERED: the open return holds its order's completion.
    expect((await ok(shop.token, ORDER, { id: returnOrder.id })).order.status).toBe('DELIVERED');

    await clock.advance(5 * DAY);
    await freshTokens();
    await waitUntil('the unshipped return closes', async () => (await ok(shop.token, CASE, { id: returnCase.id })).afterSaleCase.status === 'CLOSED');
    expect((await ok(shop.token, CASE, { id: returnCase.id })).afterSaleCase).toMatchObject({ closeReason: 'RETURN_NOT_SHIPPED', refunded: { amount: 0 } });
    expect(await caseEvents(returnOrder.id)).toEqual(['order.after_sale_opened', 'order.after_sale_approved', 'order.after_sale_closed']);
    // Each order completes ORDER_COMPLETE_AFTER_DELIVERY (7 days) after its case closed: the first on day 9, the second on day 14.
    expect((await ok(shop.token, ORDER, { id: refundOrder.id })).order.status).toBe('DELIVERED');
    await clock.advance(2 * DAY);
    await freshTokens();
    await waitUntil('the first order completes', async () => (await ok(shop.token, ORDER, { id: refundOrder.id })).order.status === 'COMPLETED');
    expect((await ok(shop.token, ORDER, { id: returnOrder.id })).order.status).toBe('DELIVERED');
    await clock.advance(5 * DAY);
    await freshTokens();
    await waitUntil('the second order completes', async () => (await ok(shop.token, ORDER, { id: returnOrder.id })).order.status === 'COMPLETED');
    // A completed order takes no case.
    expect((await open(shop.token, { orderId: returnOrder.id, amount: 1 })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentStatus: 'COMPLETED' });
  });
});

describe('lists, isolation, scopes and personal data', () => {
  test('afterSaleCases pages by filter, sort and cursor, at the root and under the order; another merchant sees none', async () => {
    const o = await order('shipped');
    const c1 = (await open(shop.token, { orderId: o.id, amount: 100 })).data!.openAfterSale.afterSaleCase;
    await ok(shop.token, REJECT, { input: { caseId: c1.id, reason: 'No' } });
    const c2 = (await open(shop.token, { orderId: o.id, amount: 200 })).data!.openAfterSale.afterSaleCase;
    const since = new Date(clock.now() - 1000).toISOString();
    const open1 = await ok(shop.token, `query($f: AfterSaleCaseFilter) { afterSaleCases(filter: $f, first: 100) { totalCount nodes { id status order { id } } } }`, { f: { status: ['OPEN'] } });
    expect(open1.afterSaleCases.nodes.map((n: { id: string }) => n.id)).toContain(c2.id);
    expect(open1.afterSaleCases.nodes.every((n: { status: string }) => n.status === 'OPEN')).toBe(true);
    expect(open1.afterSaleCases.totalCount).toBe(open1.afterSaleCases.nodes.length);
    // Synced by updatedSince, oldest change first, one per page.
    const page1 = await ok(shop.token, `query($f: AfterSaleCaseFilter) { afterSaleCases(filter: $f, sort: UPDATED_AT_ASC, first: 1) { nodes { id } pageInfo { hasNextPage endCursor } } }`, { f: { updatedSince: since } });
    const page2 = await ok(shop.token, `query($f: AfterSaleCaseFilter, $after: String) { afterSaleCases(filter: $f, sort: UPDATED_AT_ASC, first: 1, after: $after) { nodes { id } pageInfo { hasNextPage } } }`, {
      f: { updatedSince: since },
      after: page1.afterSaleCases.pageInfo.endCursor,
    });
    expect([...page1.afterSaleCases.nodes, ...page2.afterSaleCases.nodes].map((n: { id: string }) => n.id)).toEqual([c1.id, c2.id]);
    expect(page1.afterSaleCases.pageInfo.hasNextPage).toBe(true);
    // Under the order: newest first, paged the same way.
    const underOrder = await ok(shop.token, `query($id: ID!) { order(id: $id) { afterSaleCases(first: 1) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } } }`, { id: o.id });
    expect(underOrder.order.afterSaleCases).toMatchObject({ totalCount: 2, nodes: [{ id: c2.id }], pageInfo: { hasNextPage: true } });
    const next = await ok(shop.token, `query($id: ID!, $after: String) { order(id: $id) { afterSaleCases(first: 1, after: $after) { nodes { id } pageInfo { hasNextPage } } } }`, { id: o.id, after: underOrder.order.afterSaleCases.pageInfo.endCursor });
    expect(next.order.afterSaleCases).toMatchObject({ nodes: [{ id: c1.id }], pageInfo: { hasNextPage: false } });

    // Another merchant's app: none of these cases, and no change to them.
    const before = await snapshot(o.id, c2.id);
    expect((await t.gql(other.token, CASE, { id: c2.id })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    const theirs = await ok(other.token, `{ afterSaleCases(first: 100) { totalCount nodes { id } } }`);
    expect(theirs.afterSaleCases.nodes.map((n: { id: string }) => n.id)).not.toContain(c2.id);
    expect((await approve(other.token, { caseId: c2.id })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect((await t.gql(other.token, REJECT, { input: { caseId: c2.id, reason: 'x' } })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect((await open(other.token, { orderId: o.id, amount: 1 })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect(await snapshot(o.id, c2.id)).toEqual(before);
  });

  test('cases need aftersales:read, changes aftersales:write; the buyer\'s evidence needs orders:read_pii as well', async () => {
    const o = await order('paid');
    const afterSale = (await open(shop.token, { orderId: o.id, amount: 100, evidence: 'Call me at +1-555-0199' })).data!.openAfterSale.afterSaleCase;
    const ordersOnly = await t.token({ merchantId: shop.id, scopes: ['orders:read', 'orders:write'] });
    expect((await t.gql(ordersOnly, CASE, { id: afterSale.id })).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect((await approve(ordersOnly, { caseId: afterSale.id })).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect((await open(ordersOnly, { orderId: o.id, amount: 5 })).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const reader = await t.token({ merchantId: shop.id, scopes: ['aftersales:read', 'orders:read'] });
    const withoutPii = await t.gql(reader, `query($id: ID!) { afterSaleCase(id: $id) { id reason evidence } }`, { id: afterSale.id });
    expect(withoutPii.data!.afterSaleCase).toEqual({ id: afterSale.id, reason: 'Not as described', evidence: null });
    expect(withoutPii.errors?.[0]).toMatchObject({ path: ['afterSaleCase', 'evidence'], extensions: { code: 'FORBIDDEN' } });
    const withPii = await t.gql(await t.token({ merchantId: shop.id, scopes: ['aftersales:read', 'orders:read', 'orders:read_pii'] }), `query($id: ID!) { afterSaleCase(id: $id) { evidence } }`, { id: afterSale.id });
    expect(withPii.data!.afterSaleCase.evidence).toBe('Call me at +1-555-0199');
    expect((await approve(reader, { caseId: afterSale.id })).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect((await ok(shop.token, CASE, { id: afterSale.id })).afterSaleCase.status).toBe('OPEN');
  });

  test('a subscriber receives a case\'s events in order and selects the case each concerns', async () => {
    const o = await order('paid');
    const client = connectWs(t.url, shop.token);
    const sub = subscribeWs(client, `subscription($types: [OrderEventType!]) { orderEvents(types: $types) { type order { id } afterSaleCase { id status refunded { amount } } } }`, {
      types: ['AFTER_SALE_OPENED', 'AFTER_SALE_APPROVED', 'REFUNDED', 'AFTER_SALE_CLOSED'],
    });
    try {
      const afterSale = (await open(shop.token, { orderId: o.id, amount: 900 })).data!.openAfterSale.afterSaleCase;
      await approve(shop.token, { caseId: afterSale.id });
      const mine = () => sub.received.filter((r) => r.data?.orderEvents?.order?.id === o.id);
      await waitUntil('four events of the case', async () => mine().length >= 4);
      expect(mine().map((r) => r.data!.orderEvents.type)).toEqual(['AFTER_SALE_OPENED', 'AFTER_SALE_APPROVED', 'REFUNDED', 'AFTER_SALE_CLOSED']);
      // Each event resolves the case as it is when pushed: by the last one, refunded and closed.
      for (const r of mine()) expect(r.data!.orderEvents.afterSaleCase.id).toBe(afterSale.id);
      expect(mine()[3]!.data!.orderEvents.afterSaleCase).toEqual({ id: afterSale.id, status: 'REFUNDED', refunded: { amount: 900 } });
    } finally {
      sub.stop();
      await client.dispose();
    }
  });
});
