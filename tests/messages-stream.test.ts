/**
 * One subscription's stream (messages/channel/stream.ts), on its own: its parts are the channel's
 * real ones (store, keys, read coalescer, wake turns, push marks, record queue) over an in-memory
 * PGlite database with the order outbox and the channel's tables, and time is a fake clock. The
 * test plays the subscription: it takes envelopes, sends them (once their push is marked) and
 * records them, and it moves time instead of sleeping.
 */
import crypto from 'node:crypto';
import { createLogger } from '../core/logger.js';
import { openPglite, type Database } from '../core/db.js';
import { createBusySignal } from '../messages/busy-signal.js';
import { createPushMarks } from '../messages/channel/push-marks.js';
import { createReadCoalescer } from '../messages/channel/read-coalescer.js';
import { openStream, type ChannelStats, type ChannelStream, type StreamSettings } from '../messages/channel/stream.js';
import type { Envelope } from '../messages/channel/envelope.js';
import { createWakeTurns } from '../messages/channel/wake-turns.js';
import { createMessageCrypto } from '../messages/crypto.js';
import type { OutboxEvent } from '../messages/events.js';
import { recordEvents } from '../messages/outbox.js';
import { createRecordQueue } from '../messages/records/record-queue.js';
import { inThreadRecordWriter } from '../messages/records/record-writer.js';
import { createMessageStore } from '../messages/store/index.js';
import { outboxEvents } from '../subgraphs/order/tables.js';
import { fakeClock, type FakeClock } from './helpers/clock.js';

const SETTINGS: StreamSettings = { ackTimeoutMs: 1000, maxPushAttempts: 3, maxInFlight: 4, batchSize: 200 };
const logger = createLogger('silent');
let database: Database;

beforeAll(async () => {
  database = await openPglite(null);
  await database.migrate('order');
  await database.migrate('app-management');
});
afterAll(async () => {
  await database.close();
});

/** A fresh merchant (so every test has a stream of its own) and a stream of app_a's over its order events. */
function setUp(clock: FakeClock, settings: Partial<StreamSettings> = {}) {
  const merchantId = crypto.randomUUID();
  const keys = createMessageCrypto([{ id: 'kek-1', key: crypto.randomBytes(32) }], clock);
  const store = createMessageStore(database.db, keys, clock);
  const busy = createBusySignal(clock);
  const stats: ChannelStats = { outboxReads: 0, eventsRead: 0, eventsNotified: 0 };
  const records = createRecordQueue({ writer: inThreadRecordWriter(store, keys), clock, busy, logger });
  const stream: ChannelStream = openStream(
    { appKey: 'app_a', merchantId, sources: ['order'], types: {}, startFrom: null, connectionId: crypto.randomUUID(), transport: 'ws' },
    {
      store,
      crypto: keys,
      clock,
      logger,
      settings: { ...SETTINGS, ...settings },
      reads: createReadCoalescer(store, () => stats.outboxReads++),
      wakeTurns: createWakeTurns({ perTurn: 50, busy }),
      records,
      marks: createPushMarks(store, logger),
      busy,
      stats,
      opened: () => {},
      closed: () => {},
    },
  );
  const messages = stream[Symbol.asyncIterator]();
  /** The next envelope, sent as the subscription sends it: once marked, then recorded. */
  async function next(): Promise<Envelope> {
    const { value, done } = await messages.next();
    if (done) throw new Error('the stream ended');
    await value.marked;
    stream.sent(value);
    void stream.recordPush(value, { data: { id: value.event.id } });
    return value;
  }
  const paid = (n: number) =>
    database.db.transaction((tx) =>
      recordEvents(
        tx,
        outboxEvents,
        Array.from({ length: n }, (_, i) => ({ merchantId, aggregateType: 'order', aggregateId: `o${i}`, type: 'order.paid', payload: { orderId: `o${i}` } })),
      ),
    );
  return { merchantId, stream, messages, next, paid, stats, store, records };
}

/** Whether a promise is still pending after what is due now has run (the stream asleep has nothing to await). */
async function stillPending(promise: Promise<unknown>, clock: FakeClock) {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await clock.runDue();
  return !settled;
}

test("a stream reads the merchant's events in order, each LIVE; one not acknowledged comes again after the timeout, then after twice it, at most maxPushAttempts times in all", async () => {
  const clock = fakeClock();
  const s = setUp(clock);
  await s.paid(2);
  const first = await s.next();
  const second = await s.next();
  expect([first.reason, second.reason, first.attempt, second.attempt]).toEqual(['LIVE', 'LIVE', 1, 1]);
  expect(second.event.position).toBeGreaterThan(first.event.position);
  s.stream.acknowledged({ order: first.event.position });

  const again = s.next();
  await clock.advance(SETTINGS.ackTimeoutMs - 1);
  expect(await stillPending(again, clock)).toBe(true);
  await clock.advance(1);
  expect(await again).toMatchObject({ reason: 'REPUSH', attempt: 2, event: { id: second.event.id } });

  // The next timeout doubles.
  const third = s.next();
  await clock.advance(2 * SETTINGS.ackTimeoutMs - 1);
  expect(await stillPending(third, clock)).toBe(true);
  await clock.advance(1);
  expect(await third).toMatchObject({ reason: 'REPUSH', attempt: 3, event: { id: second.event.id } });

  // Three attempts on this connection: no more, however long it waits.
  const fourth = s.next();
  await clock.advance(60 * SETTINGS.ackTimeoutMs);
  expect(await stillPending(fourth, clock)).toBe(true);
  s.stream.close();
  await expect(fourth).rejects.toThrow('the stream ended');
});

test('at maxInFlight unacknowledged messages the stream stops reading; an acknowledgement makes room and it goes on', async () => {
  const clock = fakeClock();
  const s = setUp(clock, { ackTimeoutMs: 3_600_000 });
  await s.paid(6);
  const first = [];
  for (let i = 0; i < SETTINGS.maxInFlight; i++) first.push(await s.next());
  const waiting = s.next();
  expect(await stillPending(waiting, clock)).toBe(true);
  s.stream.acknowledged({ order: first[1]!.event.position });
  const fifth = await waiting;
  expect(fifth.event.position).toBeGreaterThan(first[3]!.event.position);
  expect((await s.next()).reason).toBe('LIVE');
  s.stream.close();
});

test('a reset replays from its position, and what was pushed before comes as REPLAY', async () => {
  const clock = fakeClock();
  const s = setUp(clock, { ackTimeoutMs: 3_600_000 });
  await s.paid(3);
  const pushed = [await s.next(), await s.next(), await s.next()];
  await s.records.written('app_a', s.merchantId);
  s.stream.reset({ order: pushed[0]!.event.position });
  const replayed = [await s.next(), await s.next()];
  expect(replayed.map((e) => [e.event.id, e.reason])).toEqual([
    [pushed[1]!.event.id, 'REPLAY'],
    [pushed[2]!.event.id, 'REPLAY'],
  ]);
  s.stream.close();
});

test('events a NOTIFY carries are pushed without reading the outbox once the stream has caught up', async () => {
  const clock = fakeClock();
  const s = setUp(clock, { ackTimeoutMs: 3_600_000 });
  await s.paid(1);
  const first = await s.next();
  const readsAfterCatchingUp = s.stats.outboxReads;
  const waiting = s.next();
  expect(await stillPending(waiting, clock)).toBe(true);
  // Committed while the stream sleeps; its NOTIFY carries it (as the channel decodes it).
  await s.paid(1);
  const [[event]] = (await s.store.eventsAfterMany('order', undefined, [{ merchantId: s.merchantId, after: first.event.position, limit: 1 }])) as [OutboxEvent[]];
  s.stream.notified('order', [event!]);
  expect((await waiting).event.id).toBe(event!.id);
  expect(s.stats).toMatchObject({ outboxReads: readsAfterCatchingUp, eventsNotified: 1 });
  // A NOTIFY without its events makes it read.
  await s.paid(1);
  const readNext = s.next();
  s.stream.notified('order', null);
  expect((await readNext).reason).toBe('LIVE');
  expect(s.stats.outboxReads).toBe(readsAfterCatchingUp + 1);
  s.stream.close();
});
