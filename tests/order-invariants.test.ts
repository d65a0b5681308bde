/**
 * Property: random sequences of order operations (place, pay, ship some lines, deliver, open an
 * after-sales case, approve in full or in part, reject, ship and receive a return, cancel, and let
 * time pass so the lifecycle's timers fire) on random orders, over real HTTP, keep the invariants
 * after every step:
 * - money: refunded ≤ paid for every order, refunded ≤ total for every line, the order's refund is
 *   its lines' and its cases', a case refunds at most what was approved, at most what was asked;
 * - stock: every SKU's stock (read through the product API) is what it started with less what the
 *   run's orders hold: nothing for a cancelled order; otherwise the units shipped and not returned,
 *   and those still to ship (none of a line refunded in full: they are back on sale);
 * - status: consistent with the shipments and cases (SHIPPED once everything shipped or refunded in full, DELIVERED once
 *   every shipment is, REFUNDED exactly when all that was paid is refunded, at most one open case,
 *   none on a COMPLETED order, no case left OPEN past the response window);
 * - a refused operation (CONFLICT, BAD_USER_INPUT) changes nothing, and nothing answers with a 500.
 * 25 sequences of at most 12 steps, on one platform. The seed is printed on failure; run again with
 * ORDER_INVARIANTS_SEED=<seed> to replay the same sequences.
 */
import crypto from 'node:crypto';
import fc from 'fast-check';
import { eq, sql } from 'drizzle-orm';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { apps as appsTable } from '../subgraphs/app-management/tables.js';
import { adjustableClock } from './helpers/clock.js';
import { createMerchant, createProduct, placeOrder, type CreatedProduct } from './helpers/factories.js';
import { ALL_SCOPES, TEST_APP_KEY, startTestPlatform, waitUntil, type GraphQLResponse, type TestPlatform } from './helpers/platform.js';

const HOUR = 3_600_000;
/** The lifecycle's default waits (core/config.ts), which the platform here keeps. */
const AFTER_SALE_RESPONSE_WINDOW = 48 * HOUR;
const RETURN_SHIPPING_WINDOW = 7 * 24 * HOUR;
const INITIAL_STOCK = 100;
const SKUS = 3;
const SCOPES = [...ALL_SCOPES, 'aftersales:read', 'aftersales:write'];
// A fixed seed by default, so a CI run is reproducible; ORDER_INVARIANTS_SEED=<n> explores others.
const seed = Number(process.env.ORDER_INVARIANTS_SEED ?? 20_261_207);

const clock = adjustableClock();
let t: TestPlatform;
let token: string;
let merchantId: string;
/** A token fresh on the platform's clock (one lives two hours at most: minted again after the clock moves). */
const freshToken = () => t.token({ merchantId, scopes: SCOPES, ttlSeconds: 7200 });

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  const apps = createAppManagementStore(t.platform.database.db);
  const pkg = await apps.createPackage({ name: `After-sales ${crypto.randomUUID()}`, description: 'After-sales, for tests', tier: 'FREE', scopes: ['aftersales:read', 'aftersales:write'] });
  await apps.grantPackage('system:tests', { appKey: TEST_APP_KEY, packageId: pkg.id, reason: 'tests' });
  // The test reads every order of a sequence after every step, faster than a tier's bucket refills:
  // it checks invariants, not cost points, so the app gets an operator's bigger bucket.
  await t.platform.database.db.update(appsTable).set({ bucketSizeOverride: 1_000_000, restoreRateOverride: 1_000_000 }).where(eq(appsTable.key, TEST_APP_KEY));
  merchantId = (await createMerchant(t, 'Invariant Shop')).id;
  token = await freshToken();
});
afterAll(() => t?.stop());

// ---- operations ---------------------------------------------------------------------------------

/**
 * Which of the run's orders an operation acts on: most often one the operation fits (a PAID order to
 * ship, an OPEN case to answer), so sequences get far into the lifecycle; otherwise any (modulo how
 * many there are), which is mostly refused.
 */
const slot = fc.record({ index: fc.nat({ max: 2 }), fitting: fc.nat({ max: 9 }).map((n) => n < 8) });
type Slot = { index: number; fitting: boolean };
const percent = (max: number) => fc.integer({ min: 1, max });
type Operation =
  | { type: 'place'; lines: { sku: number; quantity: number }[]; upTo: (typeof PROGRESS)[number] }
  | { type: 'pay' | 'deliver' | 'reject' | 'returnShip' | 'returnReceive' | 'cancel'; order: Slot }
  | { type: 'ship'; order: Slot; everything: boolean; line: number; quantity: number }
  | { type: 'open'; order: Slot; kind: 'REFUND_ONLY' | 'RETURN_AND_REFUND'; percent: number; someLines: boolean; line: number; quantity: number }
  | { type: 'approve'; order: Slot; percent: number | null; requireReturn: boolean }
  | { type: 'advance'; hours: number };

/** How far a placed order is taken at once (paid, shipped in one shipment, delivered), so sequences reach after-sales. */
const PROGRESS = ['PENDING_PAYMENT', 'PAID', 'SHIPPED', 'DELIVERED'] as const;
const placeOp = fc.record({
  type: fc.constant('place' as const),
  lines: fc.uniqueArray(fc.record({ sku: fc.nat({ max: SKUS - 1 }), quantity: fc.integer({ min: 1, max: 3 }) }), { selector: (l) => l.sku, minLength: 1, maxLength: SKUS }),
  upTo: fc.constantFrom(...PROGRESS, 'SHIPPED', 'DELIVERED', 'DELIVERED'),
});
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { arbitrary: placeOp, weight: 1 },
  { arbitrary: fc.record({ type: fc.constantFrom('pay' as const, 'deliver' as const, 'cancel' as const), order: slot }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('reject' as const), order: slot }), weight: 2 },
  // Fitting only once a return is approved (or shipped), so more of them are drawn: those that fit nothing are skipped.
  { arbitrary: fc.record({ type: fc.constantFrom('returnShip' as const, 'returnReceive' as const), order: slot }), weight: 8 },
  { arbitrary: fc.record({ type: fc.constant('ship' as const), order: slot, everything: fc.boolean(), line: fc.nat({ max: 2 }), quantity: fc.integer({ min: 1, max: 3 }) }), weight: 2 },
  // Up to 120 % of what is left to refund: some ask too much, which must be refused.
  { arbitrary: fc.record({ type: fc.constant('open' as const), order: slot, kind: fc.constantFrom('REFUND_ONLY' as const, 'RETURN_AND_REFUND' as const), percent: percent(120), someLines: fc.boolean(), line: fc.nat({ max: 2 }), quantity: fc.integer({ min: 1, max: 3 }) }), weight: 4 },
  { arbitrary: fc.record({ type: fc.constant('approve' as const), order: slot, percent: fc.option(percent(110)), requireReturn: fc.boolean() }), weight: 4 },
  { arbitrary: fc.record({ type: fc.constant('advance' as const), hours: fc.constantFrom(1, 49, 8 * 24) }), weight: 2 },
);
/** Steps a sequence runs at most. */
const MAX_STEPS = 12;
/** Orders a sequence places at most (a later place is skipped). */
const MAX_ORDERS = 3;
/**
 * A sequence starts with an order; the rest is anything. An operation meant for an order it fits
 * is skipped when no order fits it (as a model-based test's precondition), so more are generated
 * than run: at most MAX_STEPS run.
 */
const sequence = fc.tuple(placeOp, fc.array(operation, { minLength: 2 * MAX_STEPS, maxLength: 3 * MAX_STEPS })).map(([first, rest]): Operation[] => [first, ...rest]);

// ---- state, read through the API ----------------------------------------------------------------

interface CaseState {
  id: string;
  kind: string;
  status: string;
  requested: { amount: number };
  approved: { amount: number } | null;
  refunded: { amount: number };
  createdAt: string;
  updatedAt: string;
  lines: { quantity: number; line: { id: string } }[];
  returnShipment: { id: string; status: string } | null;
}
interface OrderState {
  id: string;
  status: string;
  total: { amount: number };
  paid: { amount: number };
  refunded: { amount: number };
  lines: { id: string; skuCode: string; quantity: number; shippedQuantity: number; returnedQuantity: number; total: { amount: number }; refunded: { amount: number } }[];
  shipments: { id: string; kind: string; status: string }[];
  afterSaleCases: { nodes: CaseState[] };
}
interface RunState {
  orders: OrderState[];
  stock: Record<string, number>;
}

const ORDER_FIELDS = `id status total { amount } paid { amount } refunded { amount }
  lines { id skuCode quantity shippedQuantity returnedQuantity total { amount } refunded { amount } }
  shipments { id kind status }
  afterSaleCases(first: 10) { nodes { id kind status requested { amount } approved { amount } refunded { amount } createdAt updatedAt lines { quantity line { id } } returnShipment { id status } } }`;

/** The run's orders and its SKUs' stock, in one request. */
async function readState(orderIds: string[], product: CreatedProduct): Promise<RunState> {
  const query = `{ ${orderIds.map((id, i) => `o${i}: order(id: "${id}") { ${ORDER_FIELDS} }`).join(' ')} ${product.skus.map((s, i) => `s${i}: sku(id: "${s.id}") { code stock }`).join(' ')} }`;
  const result = await t.gql<Record<string, any>>(token, query);
  if (result.errors) throw new Error(`reading the state failed: ${JSON.stringify(result.errors)}`);
  const data = result.data!;
  return {
    orders: orderIds.map((_, i) => data[`o${i}`] as OrderState),
    stock: Object.fromEntries(product.skus.map((_, i) => [data[`s${i}`].code as string, data[`s${i}`].stock as number])),
  };
}

const OPEN_CASE = ['OPEN', 'AWAITING_RETURN', 'RETURN_SHIPPED'];
const openCaseOf = (order: OrderState) => order.afterSaleCases.nodes.find((c) => OPEN_CASE.includes(c.status));

/** Every invariant of the state after a step; throws what does not hold. */
function checkInvariants(state: RunState, product: CreatedProduct) {
  const fail = (what: string, order?: OrderState): never => {
    throw new Error(`${what}${order ? `\norder: ${JSON.stringify(order)}` : ''}`);
  };
  const held: Record<string, number> = Object.fromEntries(product.skus.map((s) => [s.code, 0]));
  for (const order of state.orders) {
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    // Money.
    for (const line of order.lines) {
      if (!(line.refunded.amount >= 0 && line.refunded.amount <= line.total.amount)) fail(`line ${line.id} refunded ${line.refunded.amount} of ${line.total.amount}`, order);
      if (!(line.returnedQuantity >= 0 && line.returnedQuantity <= line.shippedQuantity && line.shippedQuantity <= line.quantity)) fail(`line ${line.id} quantities out of order`, order);
    }
    if (order.refunded.amount > order.paid.amount) fail('refunded more than paid', order);
    if (order.paid.amount !== 0 && order.paid.amount !== order.total.amount) fail('paid is neither nothing nor the total', order);
    if (order.refunded.amount !== sum(order.lines.map((l) => l.refunded.amount))) fail("the order's refund is not its lines'", order);
    if (order.refunded.amount !== sum(order.afterSaleCases.nodes.map((c) => c.refunded.amount))) fail("the order's refund is not its cases'", order);
    for (const c of order.afterSaleCases.nodes) {
      if (c.approved && c.approved.amount > c.requested.amount) fail(`case ${c.id} approved more than asked`, order);
      if (c.refunded.amount > (c.approved?.amount ?? 0)) fail(`case ${c.id} refunded more than approved`, order);
      if (c.status === 'REFUNDED' && !(c.approved && c.refunded.amount === c.approved.amount && c.refunded.amount > 0)) fail(`case ${c.id} REFUNDED without its approved amount refunded`, order);
      if (['REJECTED', 'CLOSED', 'OPEN', 'AWAITING_RETURN', 'RETURN_SHIPPED'].includes(c.status) && c.refunded.amount !== 0) fail(`case ${c.id} ${c.status} has refunded money`, order);
      // The response timer: no case stays unanswered past its window (a pass may be a moment behind).
      if (c.status === 'OPEN' && Date.parse(c.createdAt) + AFTER_SALE_RESPONSE_WINDOW < clock.now() - 60_000) fail(`case ${c.id} still OPEN past the response window`, order);
      // The return timer: an approved return is shipped within its window or the case closes (the case changes last when it is approved).
      if (c.status === 'AWAITING_RETURN' && Date.parse(c.updatedAt) + RETURN_SHIPPING_WINDOW < clock.now() - 60_000) fail(`case ${c.id} still AWAITING_RETURN past the return window`, order);
    }
    // Status.
    const open = order.afterSaleCases.nodes.filter((c) => OPEN_CASE.includes(c.status));
    if (open.length > 1) fail('more than one open case', order);
    const outbound = order.shipments.filter((s) => s.kind === 'OUTBOUND');
    // A line refunded in full is not shipped any more (nothing is owed of it).
    const toShip = (l: OrderState['lines'][number]) => (l.refunded.amount === l.total.amount ? 0 : l.quantity - l.shippedQuantity);
    const allShipped = order.lines.every((l) => toShip(l) === 0);
    const allDelivered = outbound.length > 0 && outbound.every((s) => s.status === 'DELIVERED');
    const fullyRefunded = order.paid.amount > 0 && order.refunded.amount === order.paid.amount;
    switch (order.status) {
      case 'PENDING_PAYMENT':
        if (order.paid.amount !== 0 || outbound.length || order.afterSaleCases.nodes.length) fail('an unpaid order with payment, shipments or cases', order);
        break;
      case 'PAID':
        if (order.paid.amount === 0 || allShipped || fullyRefunded) fail('PAID with nothing paid, everything shipped, or everything refunded', order);
        break;
      case 'SHIPPED':
        if (!allShipped || allDelivered || fullyRefunded) fail('SHIPPED with something unshipped, every shipment delivered, or everything refunded', order);
        break;
      case 'DELIVERED':
      case 'COMPLETED':
        if (!allShipped || !allDelivered || fullyRefunded) fail(`${order.status} without every line shipped and delivered, or with everything refunded`, order);
        if (order.status === 'COMPLETED' && open.length) fail('COMPLETED with an open case', order);
        break;
      case 'REFUNDED':
        if (!fullyRefunded || open.length) fail('REFUNDED without all that was paid refunded, or with a case open', order);
        break;
      case 'CANCELLED':
        if (outbound.length || order.refunded.amount !== 0 || open.length) fail('CANCELLED with shipments, refunds or an open case', order);
        break;
      default:
        fail(`unexpected status ${order.status}`, order);
    }
    // Stock the order holds: none once cancelled; otherwise what it shipped and did not get back,
    // and what it still has to ship. Units it will never ship (refunded before shipping) are back on sale.
    if (order.status !== 'CANCELLED') for (const line of order.lines) held[line.skuCode] = (held[line.skuCode] ?? 0) + line.shippedQuantity - line.returnedQuantity + toShip(line);
  }
  for (const sku of product.skus) {
    if (state.stock[sku.code] !== INITIAL_STOCK - held[sku.code]!) {
      throw new Error(`stock of ${sku.code} is ${state.stock[sku.code]}, expected ${INITIAL_STOCK} less ${held[sku.code]} held by the orders\n${JSON.stringify(state.orders)}`);
    }
  }
}

// ---- running a sequence ------------------------------------------------------------------------

const mutate = (query: string, input: Record<string, unknown>) => t.gql(token, query, { input });
const M = {
  pay: 'mutation($input: PayOrderInput!) { payOrder(input: $input) { order { id } } }',
  ship: 'mutation($input: CreateShipmentInput!) { createShipment(input: $input) { shipment { id } } }',
  deliver: 'mutation($input: ConfirmShipmentDeliveredInput!) { confirmShipmentDelivered(input: $input) { shipment { id } } }',
  open: 'mutation($input: OpenAfterSaleInput!) { openAfterSale(input: $input) { afterSaleCase { id } } }',
  approve: 'mutation($input: ApproveAfterSaleInput!) { approveAfterSale(input: $input) { afterSaleCase { id } } }',
  reject: 'mutation($input: RejectAfterSaleInput!) { rejectAfterSale(input: $input) { afterSaleCase { id } } }',
  returnShip: 'mutation($input: ShipAfterSaleReturnInput!) { shipAfterSaleReturn(input: $input) { afterSaleCase { id } } }',
  returnReceive: 'mutation($input: ReceiveAfterSaleReturnInput!) { receiveAfterSaleReturn(input: $input) { afterSaleCase { id } } }',
  cancel: 'mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { order { id } } }',
};
const key = () => crypto.randomUUID();

const unshipped = (o: OrderState) => o.lines.some((l) => l.shippedQuantity < l.quantity);
const caseIn = (statuses: string[]) => (o: OrderState) => o.afterSaleCases.nodes.some((c) => statuses.includes(c.status));
/** The orders each operation fits. */
const FITS: Record<Exclude<Operation['type'], 'place' | 'advance'>, (o: OrderState) => boolean> = {
  pay: (o) => o.status === 'PENDING_PAYMENT',
  cancel: (o) => ['PENDING_PAYMENT', 'PAID'].includes(o.status),
  ship: (o) => o.status === 'PAID' && unshipped(o),
  deliver: (o) => o.shipments.some((s) => s.kind === 'OUTBOUND' && s.status !== 'DELIVERED'),
  open: (o) => ['PAID', 'SHIPPED', 'DELIVERED'].includes(o.status) && !openCaseOf(o),
  approve: caseIn(['OPEN']),
  reject: caseIn(['OPEN']),
  returnShip: caseIn(['AWAITING_RETURN']),
  returnReceive: caseIn(['RETURN_SHIPPED']),
};
function pick(orders: OrderState[], slot: Slot, fits: (o: OrderState) => boolean): OrderState {
  const fitting = orders.filter(fits);
  const from = slot.fitting && fitting.length ? fitting : orders;
  return from[slot.index % from.length]!;
}

/** Runs one operation against the state before it; the answers of its calls (none for `advance`). */
async function perform(op: Operation, state: RunState, orderIds: string[], product: CreatedProduct): Promise<GraphQLResponse[]> {
  if (op.type === 'place') {
    const placed = await placeOrder(t, token, op.lines.map((l) => ({ skuId: product.skus[l.sku]!.id, quantity: l.quantity })));
    if (placed.errors) return [placed];
    const orderId = placed.data!.placeOrder.order.id;
    orderIds.push(orderId);
    const answers: GraphQLResponse[] = [placed];
    const progress = PROGRESS.indexOf(op.upTo);
    if (progress >= 1) answers.push(await mutate(M.pay, { orderId }));
    if (progress >= 2) answers.push(await mutate(M.ship, { orderId, carrier: 'DHL', trackingNumber: `T${key().slice(0, 8)}`, idempotencyKey: key() }));
    if (progress >= 3) answers.push(await mutate(M.deliver, { shipmentId: (answers[2]!.data as { createShipment: { shipment: { id: string } } }).createShipment.shipment.id }));
    // Each step of taking it there is valid: none may be refused.
    for (const answer of answers) if (answer.errors) throw new Error(`placing and taking an order to ${op.upTo} failed: ${JSON.stringify(answer.errors)}`);
    return answers;
  }
  if (op.type === 'advance') {
    await clock.advance(op.hours * HOUR);
    token = await freshToken();
    await timersSettled();
    return [];
  }
  const order = pick(state.orders, op.order, FITS[op.type]);
  const openCase = openCaseOf(order);
  // An operation on a case with none open goes to the latest case (which refuses it).
  const someCase = openCase ?? order.afterSaleCases.nodes[0];
  const line = order.lines[op.type === 'ship' || op.type === 'open' ? op.line % order.lines.length : 0]!;
  switch (op.type) {
    case 'pay':
      return [await mutate(M.pay, { orderId: order.id })];
    case 'cancel':
      return [await mutate(M.cancel, { orderId: order.id, reason: 'changed my mind' })];
    case 'ship': {
      const lines = op.everything ? undefined : [{ lineId: line.id, quantity: Math.max(1, Math.min(op.quantity, line.quantity - line.shippedQuantity)) }];
      return [await mutate(M.ship, { orderId: order.id, carrier: 'DHL', trackingNumber: `T${key().slice(0, 8)}`, idempotencyKey: key(), ...(lines ? { lines } : {}) })];
    }
    case 'deliver': {
      const inTransit = order.shipments.filter((s) => s.kind === 'OUTBOUND' && s.status !== 'DELIVERED');
      const answers: GraphQLResponse[] = [];
      for (const shipment of inTransit.length ? inTransit : order.shipments.slice(0, 1)) answers.push(await mutate(M.deliver, { shipmentId: shipment.id }));
      return answers;
    }
    case 'open': {
      const chosen = op.someLines ? [line] : order.lines;
      const left = chosen.reduce((a, l) => a + l.total.amount - l.refunded.amount, 0);
      const amount = Math.max(1, Math.ceil((left * op.percent) / 100));
      const lines = op.someLines ? [{ lineId: line.id, quantity: Math.max(1, Math.min(op.quantity, op.kind === 'RETURN_AND_REFUND' ? line.shippedQuantity - line.returnedQuantity : line.quantity)) }] : undefined;
      return [await mutate(M.open, { orderId: order.id, kind: op.kind, reason: 'not as described', evidence: 'photo of the damage', amount, idempotencyKey: key(), ...(lines ? { lines } : {}) })];
    }
    case 'approve': {
      if (!someCase) return [await mutate(M.approve, { caseId: crypto.randomUUID(), idempotencyKey: key() })];
      const amount = op.percent === null ? undefined : Math.max(1, Math.ceil((someCase.requested.amount * op.percent) / 100));
      return [await mutate(M.approve, { caseId: someCase.id, idempotencyKey: key(), requireReturn: op.requireReturn, ...(amount !== undefined ? { amount } : {}) })];
    }
    case 'reject':
      return [await mutate(M.reject, { caseId: someCase?.id ?? crypto.randomUUID(), reason: 'used goods' })];
    case 'returnShip':
      return [await mutate(M.returnShip, { caseId: someCase?.id ?? crypto.randomUUID(), carrier: 'UPS', trackingNumber: `R${key().slice(0, 8)}` })];
    case 'returnReceive':
      return [await mutate(M.returnReceive, { caseId: someCase?.id ?? crypto.randomUUID(), idempotencyKey: key() })];
  }
}

/** Once the clock moved: every timer due by now has fired (a failing one fails the run with its error). */
async function timersSettled() {
  const due = async () =>
    (
      (await t.platform.database.db.execute(
        sql`select id, kind, attempts, last_error from "order".timers where fired_at is null and cancelled_at is null and due_at <= ${new Date(clock.now()).toISOString()}::timestamptz`,
      )) as unknown as { rows: { kind: string; attempts: number; last_error: string | null }[] }
    ).rows;
  await waitUntil('the due timers to fire', async () => {
    const rows = await due();
    const failed = rows.find((r) => r.attempts > 0);
    if (failed) throw new Error(`a ${failed.kind} timer failed: ${failed.last_error}`);
    return rows.length === 0;
  });
  // Stock a fired timer's refund owes goes back on sale after its commit (order/service.ts afterFired).
  await waitUntil('the stock the timers owe to be given back', async () => {
    const owed = (await t.platform.database.db.execute(sql`select count(*)::int as n from "order".pending_stock_returns`)) as unknown as { rows: { n: number }[] };
    return owed.rows[0]!.n === 0;
  });
}

/** Timers fired so far (a timer firing between two reads of a refused step is not the step's doing). */
async function firedTimers(): Promise<number> {
  const result = (await t.platform.database.db.execute(sql`select count(*)::int as n from "order".timers where fired_at is not null`)) as unknown as { rows: { n: number }[] };
  return result.rows[0]!.n;
}

/** Codes of a refusal: the caller's mistake, never the server's. */
const REFUSALS = ['CONFLICT', 'BAD_USER_INPUT', 'NOT_FOUND'];

async function runSequence(ops: Operation[]) {
  const product = await createProduct(
    t,
    token,
    Array.from({ length: SKUS }, (_, i) => ({ code: `INV-${key().slice(0, 8)}-${i}`, amount: [1000, 2550, 999][i]!, stock: INITIAL_STOCK })),
  );
  const orderIds: string[] = [];
  let state = await readState(orderIds, product);
  const steps: string[] = [];
  for (const op of ops) {
    if (steps.length === MAX_STEPS) break;
    if (op.type === 'place' ? orderIds.length === MAX_ORDERS : op.type !== 'advance' && op.order.fitting && !state.orders.some(FITS[op.type])) continue;
    steps.push(JSON.stringify(op));
    const firedBefore = await firedTimers();
    const answers = await perform(op, state, orderIds, product);
    const after = await readState(orderIds, product);
    for (const answer of answers) {
      for (const error of answer.errors ?? []) {
        if (!REFUSALS.includes(error.extensions?.code)) throw new Error(`step ${steps.length} (${steps.at(-1)}) answered ${answer.status} ${JSON.stringify(answer.errors)}\nsteps:\n${steps.join('\n')}`);
      }
    }
    const refused = answers.length > 0 && answers.every((a) => a.errors?.length);
    if (refused && op.type !== 'place' && (await firedTimers()) === firedBefore) {
      try {
        expect(after).toEqual(state);
      } catch (error) {
        throw new Error(`step ${steps.length} (${steps.at(-1)}) was refused (${JSON.stringify(answers.map((a) => a.errors))}) but changed the state\nsteps:\n${steps.join('\n')}\n${(error as Error).message}`);
      }
    }
    try {
      checkInvariants(after, product);
    } catch (error) {
      throw new Error(`after step ${steps.length}: ${(error as Error).message}\nsteps:\n${steps.join('\n')}`);
    }
    state = after;
  }
}

test('random sequences of order, shipment, after-sales and clock operations keep money, stock and status consistent', async () => {
  try {
    await fc.assert(
      fc.asyncProperty(sequence, async (ops) => {
        await runSequence(ops);
      }),
      { seed, numRuns: 25, endOnFailure: true, includeErrorInReport: true },
    );
  } catch (error) {
    throw new Error(`ORDER_INVARIANTS_SEED=${seed} replays these sequences.\n${(error as Error).message}`);
  }
}, 600_000);
