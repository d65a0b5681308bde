/**
 * Durable order timers (subgraphs/order/timers.ts, timer-runner.ts).
 * - The runner on its own, against a real database of the order schema (embedded PGlite, or a fresh
 *   database on the PostgreSQL server of DATABASE_URL) with handlers that write an event in the
 *   firing transaction: fired when the clock reaches them (a fake clock, advanced), cancelled,
 *   moved, never twice with two runners, and a failing handler retried with backoff.
 * - The platform's own timers over real HTTP: a delivered order completes, an unanswered case is
 *   approved, an unshipped return closes, each when the platform's clock is moved past its window.
 */
import crypto from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { openPglite, openPostgres, type Database, type Db } from '../core/db.js';
import { createLogger } from '../core/logger.js';
import { recordEvents } from '../messages/outbox.js';
import { orderTimers, outboxEvents } from '../subgraphs/order/tables.js';
import { startTimerRunner, RETRY_BASE_MS, type TimerRunner } from '../subgraphs/order/timer-runner.js';
import { cancelTimer, scheduleTimer, type FiringTimer, type OrderTimerKind, type TimerHandler, type TimerHandlers } from '../subgraphs/order/timers.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { adjustableClock, fakeClock, type FakeClock } from './helpers/clock.js';
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { ALL_SCOPES, TEST_APP_KEY, createTestDatabase, startTestPlatform, waitUntil, type TestPlatform } from './helpers/platform.js';

const HOUR = 3_600_000;
/** The waits of the runner's own tests: short, so a fake clock's advance wakes the idle runner (every 5 minutes at most) once or not at all. */
const STEP = 5 * 60_000;
const logger = createLogger('silent');

describe('the timer runner', () => {
  let database: Database;
  let second: Database | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  const runners: TimerRunner[] = [];

  beforeAll(async () => {
    const server = await createTestDatabase();
    if (server) {
      database = await openPostgres(server.url, 4, 'timers-test');
      // A second pool, as a second order process would have.
      second = await openPostgres(server.url, 4, 'timers-test-second');
      dropDatabase = server.drop;
    } else {
      database = await openPglite(null);
    }
    await database.migrate('order');
  });
  afterEach(async () => {
    for (const runner of runners.splice(0)) await runner.stop();
  });
  afterAll(async () => {
    await second?.close();
    await database?.close();
    await dropDatabase?.();
  });

  /** A handler that records the firing as an event, in the firing transaction: the timer's "change". */
  const recordFiring =
    (kind: OrderTimerKind): TimerHandler =>
    async (tx, timer) => {
      await recordEvents(tx, outboxEvents, [{ merchantId: timer.merchantId, aggregateType: 'timer-test', aggregateId: timer.subjectId, type: `fired.${kind}`, payload: { dueAt: timer.dueAt.toISOString() } }]);
    };
  const allKinds: TimerHandlers = { COMPLETE_ORDER: recordFiring('COMPLETE_ORDER'), APPROVE_AFTER_SALE: recordFiring('APPROVE_AFTER_SALE'), CLOSE_UNSHIPPED_RETURN: recordFiring('CLOSE_UNSHIPPED_RETURN') };

  function runner(clock: FakeClock, handlers: TimerHandlers = allKinds, db: Db = database.db): TimerRunner {
    const started = startTimerRunner({ db, clock, logger, handlers });
    runners.push(started);
    return started;
  }
  const schedule = (timer: { kind: OrderTimerKind; subjectId: string; merchantId: string; dueAt: Date }) => database.db.transaction((tx) => scheduleTimer(tx, timer));
  const firings = async (subjectId: string) =>
    (await database.db.select().from(outboxEvents).where(eq(outboxEvents.aggregateId, subjectId))).map((e) => ({ type: e.type, payload: e.payload }));
  const timersOf = (subjectId: string) => database.db.select().from(orderTimers).where(eq(orderTimers.subjectId, subjectId));
  const ids = () => ({ subjectId: crypto.randomUUID(), merchantId: crypto.randomUUID() });

  test('a timer fires once the clock reaches its due time, not before, with its change in the same transaction', async () => {
    const clock = fakeClock();
    const { subjectId, merchantId } = ids();
    const dueAt = new Date(clock.now() + STEP);
    await schedule({ kind: 'APPROVE_AFTER_SALE', subjectId, merchantId, dueAt });
    const timers = runner(clock);
    await timers.runDue();
    await clock.advance(STEP - 1000);
    await timers.runDue();
    expect(await firings(subjectId)).toEqual([]);

    // The runner's own wake-up on the clock fires it: nobody calls runDue.
    await clock.advance(1000);
    await waitUntil('the timer to fire', async () => (await firings(subjectId)).length > 0);
    expect(await firings(subjectId)).toEqual([{ type: 'fired.APPROVE_AFTER_SALE', payload: { dueAt: dueAt.toISOString() } }]);
    const [timer] = await timersOf(subjectId);
    expect(timer).toMatchObject({ kind: 'APPROVE_AFTER_SALE', merchantId, dueAt, firedAt: new Date(clock.now()), cancelledAt: null, attempts: 0, lastError: null });
    // Fired is fired: later passes leave it alone.
    await clock.advance(STEP);
    await timers.runDue();
    expect(await firings(subjectId)).toHaveLength(1);
  });

  test('a cancelled timer never fires; a timer scheduled in a transaction that rolls back does not exist', async () => {
    const clock = fakeClock();
    const cancelled = ids();
    await schedule({ kind: 'COMPLETE_ORDER', ...cancelled, dueAt: new Date(clock.now() + STEP) });
    await database.db.transaction((tx) => cancelTimer(tx, { kind: 'COMPLETE_ORDER', subjectId: cancelled.subjectId }));
    const rolledBack = ids();
    await expect(
      database.db.transaction(async (tx) => {
        await scheduleTimer(tx, { kind: 'COMPLETE_ORDER', ...rolledBack, dueAt: new Date(clock.now() + STEP) });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    // Cancelling what is not pending (another kind, or nothing) changes nothing.
    await database.db.transaction((tx) => cancelTimer(tx, { kind: 'APPROVE_AFTER_SALE', subjectId: cancelled.subjectId }));

    const timers = runner(clock);
    await clock.advance(2 * STEP);
    await timers.runDue();
    expect(await firings(cancelled.subjectId)).toEqual([]);
    const [timer] = await timersOf(cancelled.subjectId);
    expect(timer).toMatchObject({ firedAt: null, cancelledAt: expect.any(Date) });
    expect(await timersOf(rolledBack.subjectId)).toEqual([]);

    // Once cancelled, the subject may wait again: a new timer of the kind, which fires.
    await schedule({ kind: 'COMPLETE_ORDER', ...cancelled, dueAt: new Date(clock.now() + STEP) });
    await clock.advance(STEP);
    await timers.runDue();
    expect(await firings(cancelled.subjectId)).toHaveLength(1);
    expect(await timersOf(cancelled.subjectId)).toHaveLength(2);
  });

  test('scheduling again moves the one pending timer of the kind, later or sooner; other kinds of the subject are their own timers', async () => {
    const clock = fakeClock();
    const { subjectId, merchantId } = ids();
    const timers = runner(clock);
    await schedule({ kind: 'CLOSE_UNSHIPPED_RETURN', subjectId, merchantId, dueAt: new Date(clock.now() + STEP) });
    await schedule({ kind: 'CLOSE_UNSHIPPED_RETURN', subjectId, merchantId, dueAt: new Date(clock.now() + 3 * STEP) });
    await schedule({ kind: 'APPROVE_AFTER_SALE', subjectId, merchantId, dueAt: new Date(clock.now() + 5 * STEP) });
    expect((await timersOf(subjectId)).map((t) => t.kind).sort()).toEqual(['APPROVE_AFTER_SALE', 'CLOSE_UNSHIPPED_RETURN']);

    await clock.advance(2 * STEP);
    await timers.runDue();
    expect(await firings(subjectId)).toEqual([]);
    await clock.advance(STEP);
    await timers.runDue();
    expect((await firings(subjectId)).map((f) => f.type)).toEqual(['fired.CLOSE_UNSHIPPED_RETURN']);

    // Moved sooner: fires at the new time, once.
    await schedule({ kind: 'APPROVE_AFTER_SALE', subjectId, merchantId, dueAt: new Date(clock.now() + STEP) });
    await clock.advance(STEP);
    await timers.runDue();
    expect((await firings(subjectId)).map((f) => f.type)).toEqual(['fired.CLOSE_UNSHIPPED_RETURN', 'fired.APPROVE_AFTER_SALE']);
    await clock.advance(4 * STEP);
    await timers.runDue();
    expect((await firings(subjectId)).map((f) => f.type)).toEqual(['fired.CLOSE_UNSHIPPED_RETURN', 'fired.APPROVE_AFTER_SALE']);
  });

  test("a handler's change may cancel or start a wait of its own kind: the firing timer is fired (not cancelled), the new one waits", async () => {
    const clock = fakeClock();
    const { subjectId, merchantId } = ids();
    await schedule({ kind: 'COMPLETE_ORDER', subjectId, merchantId, dueAt: new Date(clock.now() + STEP) });
    const timers = runner(clock, {
      COMPLETE_ORDER: async (tx, timer) => {
        await cancelTimer(tx, { kind: 'COMPLETE_ORDER', subjectId: timer.subjectId });
        await scheduleTimer(tx, { kind: 'COMPLETE_ORDER', subjectId: timer.subjectId, merchantId: timer.merchantId, dueAt: new Date(clock.now() + 2 * STEP) });
      },
    });
    await clock.advance(STEP);
    await timers.runDue();
    const rows = (await timersOf(subjectId)).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
    expect(rows).toEqual([
      expect.objectContaining({ dueAt: new Date(clock.now()), firedAt: new Date(clock.now()), cancelledAt: null }),
      expect.objectContaining({ dueAt: new Date(clock.now() + 2 * STEP), firedAt: null, cancelledAt: null }),
    ]);
  });

  test('two runners passing at once fire each due timer exactly once', async () => {
    const clock = fakeClock();
    const merchantId = crypto.randomUUID();
    const subjects = Array.from({ length: 120 }, () => crypto.randomUUID());
    for (const subjectId of subjects) await schedule({ kind: 'COMPLETE_ORDER', subjectId, merchantId, dueAt: new Date(clock.now() + STEP) });
    // Each its own database connections where there is a server (a second order process).
    const first = runner(clock);
    const other = runner(clock, allKinds, (second ?? database).db);
    await clock.advance(STEP);
    // Both woke as the clock passed the due time; and both are asked again at once.
    await Promise.all([first.runDue(), other.runDue(), first.runDue(), other.runDue()]);
    const events = await database.db
      .select({ subjectId: outboxEvents.aggregateId, count: sql<number>`count(*)::int` })
      .from(outboxEvents)
      .where(and(eq(outboxEvents.merchantId, merchantId)))
      .groupBy(outboxEvents.aggregateId);
    expect(events).toHaveLength(subjects.length);
    expect(events.every((e) => e.count === 1)).toBe(true);
    const pending = await database.db.select({ n: sql<number>`count(*)::int` }).from(orderTimers).where(and(eq(orderTimers.merchantId, merchantId), sql`${orderTimers.firedAt} is null`));
    expect(pending[0]!.n).toBe(0);
  });

  test('a failing handler changes nothing, records its error and attempts, and is retried with backoff, across a restart, until it succeeds', async () => {
    const clock = fakeClock();
    const { subjectId, merchantId } = ids();
    const dueAt = new Date(clock.now() + STEP);
    await schedule({ kind: 'APPROVE_AFTER_SALE', subjectId, merchantId, dueAt });
    let failing = true;
    const handlers: TimerHandlers = {
      APPROVE_AFTER_SALE: async (tx, timer: FiringTimer) => {
        // Writes its change, then fails: the change goes with the failure.
        await recordFiring('APPROVE_AFTER_SALE')(tx, timer);
        if (failing) throw new Error('the product service is unavailable');
      },
    };
    const first = runner(clock, handlers);
    await clock.advance(STEP);
    await first.runDue();
    expect(await firings(subjectId)).toEqual([]);
    expect((await timersOf(subjectId))[0]).toMatchObject({ firedAt: null, attempts: 1, lastError: 'Error: the product service is unavailable' });

    // Not again at once, nor before the backoff's first step.
    await first.runDue();
    await clock.advance(RETRY_BASE_MS - 1000);
    await first.runDue();
    expect((await timersOf(subjectId))[0]!.attempts).toBe(1);
    await clock.advance(1000);
    await first.runDue();
    expect((await timersOf(subjectId))[0]!.attempts).toBe(2);

    // The process restarts: the backoff is in the table (the second step is twice the first).
    await first.stop();
    const restarted = runner(clock, handlers);
    await restarted.runDue();
    await clock.advance(2 * RETRY_BASE_MS - 1000);
    await restarted.runDue();
    expect((await timersOf(subjectId))[0]!.attempts).toBe(2);

    failing = false;
    await clock.advance(1000);
    await restarted.runDue();
    expect(await firings(subjectId)).toHaveLength(1);
    expect((await timersOf(subjectId))[0]).toMatchObject({ firedAt: new Date(clock.now()), attempts: 2, lastError: 'Error: the product service is unavailable' });
  });

  test('a failure is recorded without the query parameters a database error carries; a kind without a handler is left to a process that has one', async () => {
    const clock = fakeClock();
    const broken = ids();
    const unknown = ids();
    await schedule({ kind: 'COMPLETE_ORDER', ...broken, dueAt: new Date(clock.now() + STEP) });
    await schedule({ kind: 'CLOSE_UNSHIPPED_RETURN', ...unknown, dueAt: new Date(clock.now() + STEP) });
    const timers = runner(clock, {
      COMPLETE_ORDER: async (tx) => {
        await tx.execute(sql`select 1 / ${0}::int as secret_parameter`);
      },
    });
    await clock.advance(STEP);
    await timers.runDue();
    const [failed] = await timersOf(broken.subjectId);
    expect(failed!.attempts).toBe(1);
    expect(failed!.lastError).toMatch(/division by zero/);
    expect(failed!.lastError).not.toMatch(/params|secret_parameter/);
    expect((await timersOf(unknown.subjectId))[0]).toMatchObject({ firedAt: null, attempts: 0 });
  });
});

describe("the platform's lifecycle timers, over HTTP", () => {
  const DAY = 24 * HOUR;
  const clock = adjustableClock();
  let t: TestPlatform;
  let merchantId: string;
  const SCOPES = [...ALL_SCOPES, 'aftersales:read', 'aftersales:write'];
  /** On the platform's clock, minted again after it moved (a token lives two hours at most). */
  const token = () => t.token({ merchantId, scopes: SCOPES });

  beforeAll(async () => {
    // Windows other than the defaults: the settings reach the timers.
    t = await startTestPlatform({ clock, extraEnv: { AFTER_SALE_RESPONSE_WINDOW: '24h', RETURN_SHIPPING_WINDOW: '3d' } });
    const apps = createAppManagementStore(t.platform.database.db);
    const pkg = await apps.createPackage({ name: `After-sales ${crypto.randomUUID()}`, description: 'After-sales, for tests', tier: 'FREE', scopes: ['aftersales:read', 'aftersales:write'] });
    await apps.grantPackage('system:tests', { appKey: TEST_APP_KEY, packageId: pkg.id, reason: 'tests' });
    merchantId = (await createMerchant(t, 'Timer Shop')).id;
  });
  afterAll(() => t?.stop());

  async function ok<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const result = await t.gql<T>(await token(), query, variables);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data!;
  }
  const CASE = 'id status approved { amount } requested { amount } refunded { amount } closeReason';
  const caseOf = async (id: string) => (await ok<{ afterSaleCase: Record<string, any> }>(`query($id: ID!) { afterSaleCase(id: $id) { ${CASE} } }`, { id })).afterSaleCase;

  /** A DELIVERED order (one line, 2 units at 1,500) with a case the buyer opened on it. */
  async function deliveredWithCase(kind: 'REFUND_ONLY' | 'RETURN_AND_REFUND') {
    const product = await createProduct(t, await token(), [{ amount: 1500, stock: 10 }]);
    const placed = await placeOrder(t, await token(), [{ skuId: product.skus[0]!.id, quantity: 2 }]);
    if (placed.errors) throw new Error(JSON.stringify(placed.errors));
    const orderId = placed.data!.placeOrder.order.id;
    await ok('mutation($id: ID!) { payOrder(input: { orderId: $id }) { order { id } } }', { id: orderId });
    const shipped = await ok<{ createShipment: { shipment: { id: string } } }>('mutation($input: CreateShipmentInput!) { createShipment(input: $input) { shipment { id } } }', {
      input: { orderId, carrier: 'DHL', trackingNumber: 'JD0001', idempotencyKey: crypto.randomUUID() },
    });
    await ok('mutation($id: ID!) { confirmShipmentDelivered(input: { shipmentId: $id }) { order { status } } }', { id: shipped.createShipment.shipment.id });
    const opened = await ok<{ openAfterSale: { afterSaleCase: { id: string } } }>(`mutation($input: OpenAfterSaleInput!) { openAfterSale(input: $input) { afterSaleCase { id } } }`, {
      input: { orderId, kind, reason: 'arrived broken', amount: 3000, idempotencyKey: crypto.randomUUID() },
    });
    return { orderId, caseId: opened.openAfterSale.afterSaleCase.id };
  }
  const timerRows = (subjectId: string, kind: OrderTimerKind) => t.platform.database.db.select().from(orderTimers).where(and(eq(orderTimers.subjectId, subjectId), eq(orderTimers.kind, kind)));
  const eventTypes = async (orderId: string) =>
    (await t.platform.database.db.select({ type: outboxEvents.type }).from(outboxEvents).where(eq(outboxEvents.aggregateId, orderId)).orderBy(outboxEvents.position)).map((e) => e.type);

  test('a case the merchant leaves unanswered for AFTER_SALE_RESPONSE_WINDOW is approved in full and refunded; one answered in time is not', async () => {
    const unanswered = await deliveredWithCase('REFUND_ONLY');
    const answered = await deliveredWithCase('REFUND_ONLY');
    await ok('mutation($input: RejectAfterSaleInput!) { rejectAfterSale(input: $input) { afterSaleCase { status } } }', { input: { caseId: answered.caseId, reason: 'the photo shows another item' } });
    expect(await timerRows(answered.caseId, 'APPROVE_AFTER_SALE')).toEqual([expect.objectContaining({ firedAt: null, cancelledAt: expect.any(Date) })]);
    const [pending] = await timerRows(unanswered.caseId, 'APPROVE_AFTER_SALE');
    expect(pending).toMatchObject({ firedAt: null, cancelledAt: null, merchantId });

    await clock.advance(pending!.dueAt.getTime() - clock.now() - 60_000);
    expect((await caseOf(unanswered.caseId)).status).toBe('OPEN');
    await clock.advance(2 * 60_000);
    await waitUntil('the unanswered case to be approved', async () => (await caseOf(unanswered.caseId)).status !== 'OPEN');
    expect(await caseOf(unanswered.caseId)).toMatchObject({ status: 'REFUNDED', requested: { amount: 3000 }, approved: { amount: 3000 }, refunded: { amount: 3000 } });
    const [fired] = await timerRows(unanswered.caseId, 'APPROVE_AFTER_SALE');
    expect(fired).toMatchObject({ firedAt: expect.any(Date), cancelledAt: null, attempts: 0, lastError: null });
    expect((await eventTypes(unanswered.orderId)).filter((type) => type === 'order.after_sale_approved')).toHaveLength(1);
    expect(await eventTypes(unanswered.orderId)).toContain('order.refunded');
    // The answered one stays as the merchant left it.
    expect(await caseOf(answered.caseId)).toMatchObject({ status: 'REJECTED', approved: null, refunded: { amount: 0 } });
    expect(await eventTypes(answered.orderId)).not.toContain('order.after_sale_approved');
  });

  test('a return the buyer does not ship within RETURN_SHIPPING_WINDOW closes its case without a refund; one shipped in time waits for the merchant', async () => {
    const approve = (caseId: string) => ok('mutation($input: ApproveAfterSaleInput!) { approveAfterSale(input: $input) { afterSaleCase { status } } }', { input: { caseId, idempotencyKey: crypto.randomUUID() } });
    const unshipped = await deliveredWithCase('RETURN_AND_REFUND');
    const shipped = await deliveredWithCase('RETURN_AND_REFUND');
    await approve(unshipped.caseId);
    await approve(shipped.caseId);
    expect((await caseOf(unshipped.caseId)).status).toBe('AWAITING_RETURN');
    // Answered: the approval timers are cancelled, the return timers started.
    expect(await timerRows(unshipped.caseId, 'APPROVE_AFTER_SALE')).toEqual([expect.objectContaining({ firedAt: null, cancelledAt: expect.any(Date) })]);
    await ok('mutation($input: ShipAfterSaleReturnInput!) { shipAfterSaleReturn(input: $input) { afterSaleCase { status } } }', { input: { caseId: shipped.caseId, carrier: 'UPS', trackingNumber: 'RET-1' } });
    const [pending] = await timerRows(unshipped.caseId, 'CLOSE_UNSHIPPED_RETURN');
    expect(pending!.dueAt.getTime()).toBeGreaterThan(clock.now() + 3 * DAY - 60_000);
    expect(pending!.dueAt.getTime()).toBeLessThanOrEqual(clock.now() + 3 * DAY);

    await clock.advance(3 * DAY + 60_000);
    await waitUntil('the unshipped return to close', async () => (await caseOf(unshipped.caseId)).status !== 'AWAITING_RETURN');
    expect(await caseOf(unshipped.caseId)).toMatchObject({ status: 'CLOSED', closeReason: 'RETURN_NOT_SHIPPED', refunded: { amount: 0 } });
    expect((await eventTypes(unshipped.orderId)).filter((type) => type === 'order.after_sale_closed')).toHaveLength(1);
    expect((await timerRows(unshipped.caseId, 'CLOSE_UNSHIPPED_RETURN'))[0]).toMatchObject({ firedAt: expect.any(Date), attempts: 0 });
    expect((await caseOf(shipped.caseId)).status).toBe('RETURN_SHIPPED');
    expect(await timerRows(shipped.caseId, 'CLOSE_UNSHIPPED_RETURN')).toEqual([expect.objectContaining({ firedAt: null, cancelledAt: expect.any(Date) })]);
  });
});
