/**
 * Order timers across processes on one PostgreSQL server (subgraphs/order/timer-runner.ts):
 * - an order process killed with SIGKILL in the middle of firing a backlog of due timers, then two
 *   order processes started in its place: every timer fires exactly once, with its change (the
 *   order COMPLETED, its history entry) and its event, and the kill left nothing half-done;
 * - a timer one runner holds (its transaction still open) is skipped by another runner, which fires
 *   the rest (`FOR UPDATE SKIP LOCKED`), and is fired once, by the runner that held it.
 * Orders are written straight into the order store (delivered, their completion timers due), so the
 * order service is the only process needed.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { openPostgres, type Database } from '../../core/db.js';
import { loadPlatformKeys } from '../../core/keys.js';
import { createLogger } from '../../core/logger.js';
import { recordEvents } from '../../messages/outbox.js';
import { createOrderStore } from '../../subgraphs/order/store.js';
import { orderStatusHistory, orderTimers, orders, outboxEvents } from '../../subgraphs/order/tables.js';
import { startTimerRunner, type TimerRunner } from '../../subgraphs/order/timer-runner.js';
import { scheduleTimer, type TimerHandler } from '../../subgraphs/order/timers.js';
import { fakeClock } from '../helpers/clock.js';
import { ADDRESS } from '../helpers/factories.js';
import { createTestDatabase, waitUntil } from '../helpers/platform.js';
import { freePort, runScript, waitForHttp, type Child } from '../helpers/processes.js';

/** Enough timers that firing them takes a while (each is its own transaction of several statements). */
const BACKLOG = 400;

let database: Database;
let dropDatabase: () => Promise<void>;
let databaseUrl: string;
const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-keys-'));
const children: Child[] = [];

beforeAll(async () => {
  const server = (await createTestDatabase())!;
  databaseUrl = server.url;
  dropDatabase = server.drop;
  database = await openPostgres(server.url, 4, 'timers-kill-test');
  await database.migrate('order');
  await loadPlatformKeys(keysDir, { create: true });
});
afterAll(async () => {
  for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
  await database?.close();
  await dropDatabase?.();
  fs.rmSync(keysDir, { recursive: true, force: true });
});

/** An order service of its own (bin/serve.ts order), on a port of its own. */
async function startOrderProcess(): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const child = runScript('bin/serve.ts', ['order'], { DATABASE_URL: databaseUrl, PORT: String(port), KEYS_DIR: keysDir, LOG_LEVEL: 'warn', PUBLIC_URL: 'http://127.0.0.1:9' });
  children.push(child);
  return { child, url: `http://127.0.0.1:${port}/healthz` };
}

/** `count` DELIVERED orders of one merchant, each with its completion timer already due. */
async function deliveredOrdersDue(count: number): Promise<{ merchantId: string; orderIds: string[] }> {
  const merchantId = crypto.randomUUID();
  const store = createOrderStore(database.db);
  const orderIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const order = await store.insertOrder(merchantId, {
      lines: [{ productId: crypto.randomUUID(), skuId: crypto.randomUUID(), productTitle: 'Kettle', skuCode: 'K-1', quantity: 1, unitPrice: { amount: 2500, currency: 'EUR' } }],
      shippingAddress: { line2: null, region: null, ...ADDRESS },
    });
    orderIds.push(order.id);
  }
  const dueAt = new Date(Date.now() - 60_000);
  await database.db.transaction(async (tx) => {
    await tx.update(orders).set({ status: 'DELIVERED', paidAmount: sql`${orders.totalAmount}` }).where(inArray(orders.id, orderIds));
    for (const orderId of orderIds) await scheduleTimer(tx, { kind: 'COMPLETE_ORDER', subjectId: orderId, merchantId, dueAt });
  });
  return { merchantId, orderIds };
}

/** What the firing of the merchant's completion timers left: timers fired, orders completed, history entries, completion events. */
async function firingState(merchantId: string) {
  const count = async (query: Promise<{ n: number }[]>) => (await query)[0]!.n;
  const n = sql<number>`count(*)::int`;
  return {
    fired: await count(database.db.select({ n }).from(orderTimers).where(and(eq(orderTimers.merchantId, merchantId), sql`${orderTimers.firedAt} is not null`))),
    completed: await count(database.db.select({ n }).from(orders).where(and(eq(orders.merchantId, merchantId), eq(orders.status, 'COMPLETED')))),
    history: await count(database.db.select({ n }).from(orderStatusHistory).where(and(eq(orderStatusHistory.merchantId, merchantId), eq(orderStatusHistory.toStatus, 'COMPLETED')))),
    events: await count(database.db.select({ n }).from(outboxEvents).where(and(eq(outboxEvents.merchantId, merchantId), eq(outboxEvents.type, 'order.completed')))),
  };
}

test('an order process killed with SIGKILL while firing due timers loses none and fires none twice: the processes started after it fire the rest, each once, with its change and event', async () => {
  const { merchantId, orderIds } = await deliveredOrdersDue(BACKLOG);

  // The timers fell due while no order process ran; the first one starts on the backlog.
  const first = await startOrderProcess();
  await waitUntil(
    'the first order process to fire some timers',
    async () => {
      if (first.child.process.exitCode !== null) throw new Error(`the order process exited:\n${first.child.output()}`);
      return (await firingState(merchantId)).fired >= 20;
    },
    60_000,
  );
  first.child.process.kill('SIGKILL');
  await first.child.exited;

  // Killed in the middle: some fired, not all; each fired one with its whole change, nothing else changed.
  const atKill = await firingState(merchantId);
  expect(atKill.fired).toBeGreaterThanOrEqual(20);
  expect(atKill.fired).toBeLessThan(BACKLOG);
  expect(atKill).toEqual({ fired: atKill.fired, completed: atKill.fired, history: atKill.fired, events: atKill.fired });

  // Two order processes in its place share the rest.
  const replacements = [await startOrderProcess(), await startOrderProcess()];
  for (const replacement of replacements) await waitForHttp(replacement.url, replacement.child);
  await waitUntil('the replacements to fire every timer', async () => (await firingState(merchantId)).fired === BACKLOG, 60_000);
  // Nothing more comes after they are done.
  for (const replacement of replacements) {
    replacement.child.process.kill('SIGTERM');
    await replacement.child.exited;
  }
  expect(await firingState(merchantId)).toEqual({ fired: BACKLOG, completed: BACKLOG, history: BACKLOG, events: BACKLOG });

  // Exactly one of each per order, not only in total.
  const eventsPerOrder = await database.db
    .select({ orderId: outboxEvents.aggregateId, n: sql<number>`count(*)::int` })
    .from(outboxEvents)
    .where(and(eq(outboxEvents.merchantId, merchantId), eq(outboxEvents.type, 'order.completed')))
    .groupBy(outboxEvents.aggregateId);
  expect(eventsPerOrder.map((e) => e.orderId).sort()).toEqual([...orderIds].sort());
  expect(eventsPerOrder.every((e) => e.n === 1)).toBe(true);
  const timers = await database.db.select().from(orderTimers).where(eq(orderTimers.merchantId, merchantId));
  expect(timers).toHaveLength(BACKLOG);
  expect(timers.every((t) => t.firedAt && !t.cancelledAt && t.attempts === 0)).toBe(true);
});

test('a timer one runner holds is skipped by another runner, which fires the rest; the holder fires it, once', async () => {
  const second = await openPostgres(databaseUrl, 2, 'timers-kill-test-second');
  const runners: TimerRunner[] = [];
  try {
    const clock = fakeClock(Date.now());
    const merchantId = crypto.randomUUID();
    const [held, ...rest] = Array.from({ length: 4 }, () => crypto.randomUUID());
    const dueAt = new Date(clock.now() - 1000);
    await database.db.transaction(async (tx) => {
      // The held one is due first, so the holder takes it first.
      await scheduleTimer(tx, { kind: 'APPROVE_AFTER_SALE', subjectId: held!, merchantId, dueAt: new Date(dueAt.getTime() - 1000) });
      for (const subjectId of rest) await scheduleTimer(tx, { kind: 'APPROVE_AFTER_SALE', subjectId, merchantId, dueAt });
    });
    const firing: TimerHandler = async (tx, timer) => {
      await recordEvents(tx, outboxEvents, [{ merchantId: timer.merchantId, aggregateType: 'timer-test', aggregateId: timer.subjectId, type: 'fired', payload: {} }]);
    };
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const isHolding = new Promise<void>((resolve) => (holding = resolve));
    const logger = createLogger('silent');
    const holder = startTimerRunner({
      db: database.db,
      clock,
      logger,
      handlers: {
        APPROVE_AFTER_SALE: async (tx, timer) => {
          if (timer.subjectId === held) {
            holding();
            await released;
          }
          await firing(tx, timer);
        },
      },
    });
    runners.push(holder);
    await isHolding;

    const other = startTimerRunner({ db: second.db, clock, logger, handlers: { APPROVE_AFTER_SALE: firing } });
    runners.push(other);
    await other.runDue();
    const firedSubjects = async () =>
      (await database.db.select({ subjectId: outboxEvents.aggregateId }).from(outboxEvents).where(eq(outboxEvents.merchantId, merchantId))).map((e) => e.subjectId).sort();
    expect(await firedSubjects()).toEqual([...rest].sort());

    release();
    await holder.runDue();
    expect(await firedSubjects()).toEqual([held!, ...rest].sort());
    const timers = await database.db.select().from(orderTimers).where(eq(orderTimers.merchantId, merchantId));
    expect(timers.every((t) => t.firedAt && t.attempts === 0)).toBe(true);
  } finally {
    for (const runner of runners) await runner.stop();
    await second.close();
  }
});
