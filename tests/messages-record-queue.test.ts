/**
 * The record queue (messages/records/): a push's delivery record waits for a pause in the channel
 * (the busy signal), at most the longest delay; an acknowledgement or listing has its stream's
 * records written at once; at the pending bound a push waits for room; one app's failure does not
 * fail another's. Unit tests on a fake clock: the writer is an in-memory RecordWriter (the
 * queue's declared interface) whose writes the test settles, so every moment is the test's to choose.
 */
import { createBusySignal } from '../messages/busy-signal.js';
import { createRecordQueue, RECORD_MAX_DELAY_MS, RECORD_QUIET_MS } from '../messages/records/record-queue.js';
import type { RecordWriter } from '../messages/records/record-writer.js';
import type { DeliveryToRecord } from '../messages/store/index.js';
import { createLogger } from '../core/logger.js';
import { fakeClock, type FakeClock } from './helpers/clock.js';

const MERCHANT_A = '00000000-0000-4000-8000-00000000000a';
const MERCHANT_B = '00000000-0000-4000-8000-00000000000b';

let position = 0;
function delivery(appKey: string, merchantId: string): DeliveryToRecord {
  position++;
  return {
    appKey,
    connectionId: 'connection-1',
    transport: 'ws',
    reason: 'LIVE',
    attempt: 1,
    pushed: { data: { position } },
    event: { source: 'order', position, id: `event-${position}`, merchantId, aggregateType: 'order', aggregateId: 'o1', type: 'order.paid', payload: {}, occurredAt: new Date(0) },
  };
}

/** A RecordWriter that keeps each batch and settles it when the test says (or at once, with `autoSettle`). */
function heldWriter(options: { autoSettle?: boolean; failApps?: string[] } = {}) {
  const batches: { deliveries: readonly DeliveryToRecord[]; settle(error?: Error): void }[] = [];
  const writer: RecordWriter = {
    write(deliveries) {
      const failing = deliveries.find((d) => options.failApps?.includes(d.appKey));
      if (failing) return Promise.reject(new Error(`no key for ${failing.appKey}`));
      return new Promise<void>((resolve, reject) => {
        batches.push({ deliveries, settle: (error) => (error ? reject(error) : resolve()) });
        if (options.autoSettle !== false) resolve();
      });
    },
    forget: () => {},
    close: async () => {},
  };
  const written = () => batches.flatMap((b) => b.deliveries.map((d) => d.event.position));
  return { writer, batches, written };
}

function queueWith(clock: FakeClock, writer: RecordWriter, options: { maxPending?: number } = {}) {
  const busy = createBusySignal(clock);
  const queue = createRecordQueue({ writer, clock, busy, logger: createLogger('silent'), ...options });
  return { queue, busy };
}

test('a record is written once the channel has been quiet for RECORD_QUIET_MS, not before', async () => {
  const clock = fakeClock();
  const { writer, written } = heldWriter();
  const { queue } = queueWith(clock, writer);
  const first = delivery('app_a', MERCHANT_A);
  const recorded = queue.record(first);
  await clock.advance(RECORD_QUIET_MS - 1);
  expect(written()).toEqual([]);
  await clock.advance(1);
  expect(written()).toEqual([first.event.position]);
  await expect(recorded).resolves.toBeUndefined();
});

test('pushes that never pause still have their records written RECORD_MAX_DELAY_MS after the first waited', async () => {
  const clock = fakeClock();
  const { writer, written } = heldWriter();
  const { queue } = queueWith(clock, writer);
  const pushes: DeliveryToRecord[] = [];
  // A push every 10 ms: never 30 ms of quiet.
  for (let at = 0; at < RECORD_MAX_DELAY_MS; at += 10) {
    const push = delivery('app_a', MERCHANT_A);
    pushes.push(push);
    void queue.record(push);
    await clock.advance(10);
    if (at + 10 < RECORD_MAX_DELAY_MS) expect(written()).toEqual([]);
  }
  expect(written()).toEqual(pushes.map((p) => p.event.position));
});

test('while the channel is busy (a message being prepared, streams waiting for their turn) records wait, however long since the last push', async () => {
  const clock = fakeClock();
  const { writer, written } = heldWriter();
  const { queue, busy } = queueWith(clock, writer);
  const release = busy.hold();
  void queue.record(delivery('app_a', MERCHANT_A));
  await clock.advance(200);
  expect(written()).toEqual([]);
  release();
  // The next check (the quiet timer re-arms every RECORD_QUIET_MS) finds the channel quiet since the push.
  await clock.advance(RECORD_QUIET_MS);
  expect(written()).toHaveLength(1);

  // Held for good: the longest delay still bounds the wait.
  busy.hold();
  void queue.record(delivery('app_a', MERCHANT_A));
  await clock.advance(RECORD_MAX_DELAY_MS - 1);
  expect(written()).toHaveLength(1);
  await clock.advance(1);
  expect(written()).toHaveLength(2);
});

test("an acknowledgement's wait (written) writes its own stream's records at once, and only those", async () => {
  const clock = fakeClock();
  const { writer, written } = heldWriter();
  const { queue } = queueWith(clock, writer);
  const mine = [delivery('app_a', MERCHANT_A), delivery('app_a', MERCHANT_A)];
  const otherMerchant = delivery('app_a', MERCHANT_B);
  const otherApp = delivery('app_b', MERCHANT_A);
  for (const d of [mine[0]!, otherMerchant, mine[1]!, otherApp]) void queue.record(d);
  await queue.written('app_a', MERCHANT_A);
  expect(written().sort()).toEqual(mine.map((d) => d.event.position).sort());
  // The others wait for the pause as before.
  await clock.advance(RECORD_QUIET_MS);
  expect(written().sort()).toEqual([...mine, otherMerchant, otherApp].map((d) => d.event.position).sort());
  // Nothing pending: it returns at once.
  await expect(queue.written('app_a', MERCHANT_A)).resolves.toBeUndefined();
});

test('at the pending bound a push must wait for room; asking for room writes what is queued at once, and room comes when a record settles', async () => {
  const clock = fakeClock();
  const { writer, batches } = heldWriter({ autoSettle: false });
  const { queue } = queueWith(clock, writer, { maxPending: 2 });
  void queue.record(delivery('app_a', MERCHANT_A));
  expect(queue.room()).toBeUndefined();
  void queue.record(delivery('app_a', MERCHANT_A));
  const room = queue.room();
  expect(room).toBeInstanceOf(Promise);
  // Not at the pause: at once (same clock time).
  expect(batches).toHaveLength(1);
  let roomy = false;
  void room!.then(() => (roomy = true));
  await clock.runDue();
  expect(roomy).toBe(false);
  batches[0]!.settle();
  await clock.runDue();
  expect(roomy).toBe(true);
  expect(queue.room()).toBeUndefined();
});

test("a record that cannot be written rejects its push; another app's records of the same batch are written", async () => {
  const clock = fakeClock();
  const { writer, written } = heldWriter({ failApps: ['app_bad'] });
  const { queue } = queueWith(clock, writer);
  const good = delivery('app_good', MERCHANT_A);
  const bad = delivery('app_bad', MERCHANT_A);
  const goodRecorded = queue.record(good);
  const badRecorded = queue.record(bad);
  badRecorded.catch(() => {});
  await clock.advance(RECORD_QUIET_MS);
  await expect(goodRecorded).resolves.toBeUndefined();
  await expect(badRecorded).rejects.toThrow('no key for app_bad');
  expect(written()).toEqual([good.event.position]);
});

test('closing writes what is pending without waiting for a pause, and resolves once it is written', async () => {
  const clock = fakeClock();
  const { writer, written } = heldWriter();
  const { queue } = queueWith(clock, writer);
  const pending = [delivery('app_a', MERCHANT_A), delivery('app_a', MERCHANT_B)];
  for (const d of pending) void queue.record(d);
  await queue.close();
  expect(written().sort()).toEqual(pending.map((d) => d.event.position).sort());
});
