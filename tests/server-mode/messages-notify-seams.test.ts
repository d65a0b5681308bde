/**
 * The two seams of events carried in their NOTIFY (gateway/subscriptions/channel.ts, `live`), forced
 * on a PostgreSQL server rather than left to chance:
 * - a NOTIFY that arrives while the stream's read of the outbox is in flight, for an event that read
 *   then returns too: the event is pushed once;
 * - the gateway's listener connection dropped: the NOTIFYs sent while it was down are lost, and the
 *   streams read what they missed once it is back, then take events from NOTIFYs again.
 * PostgreSQL only: it holds a table lock from another session and ends a backend (PGlite has one
 * connection and no backends to end).
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { OUTBOX_CHANNEL, encodeOutboxNotification as outboxNotification } from '../../messages/notifications.js';
import type { DomainEvent } from '../../messages/events.js';
import { recordEvents } from '../../messages/outbox.js';
import { outboxEvents } from '../../subgraphs/order/tables.js';
import { merchantWithOrder } from '../helpers/factories.js';
import { ORDER_EVENTS, connectWs, paidEvent, subscribeWs, type Collector, type Received } from '../helpers/messages.js';
import { platformWithAdminSession, waitUntil } from '../helpers/platform.js';

// No re-push within a test: every message counted here is a first push.
const server = platformWithAdminSession({ MESSAGE_ACK_TIMEOUT_MS: '60000' });

const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stats = () => server.t.platform.gateway.channel!.stats;
const eventsOf = (received: Received[]) => received.map((r) => r.data!.orderEvents);

async function outboxIds(merchantId: string): Promise<string[]> {
  const { rows } = await server.admin.query<{ id: string }>('select id from "order".outbox_events where merchant_id = $1 order by position', [merchantId]);
  return rows.map((r) => r.id);
}

/**
 * Commits one more event: a stream that is caught up gets it from its NOTIFY, without reading the
 * outbox. Returns the channel's counters after it arrived.
 */
async function nextComesFromNotify(sub: Collector, event: DomainEvent, previous: ReturnType<typeof stats>) {
  const count = sub.received.length + 1;
  await server.t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, [event]));
  await sub.waitFor(count);
  await quiet(300);
  const now = stats();
  expect(sub.received).toHaveLength(count);
  expect(now.eventsNotified - previous.eventsNotified).toBe(1);
  expect(now.outboxReads).toBe(previous.outboxReads);
  return now;
}

/** A merchant with one order, and a subscriber that has received its CREATED event and is caught up. */
async function caughtUpSubscriber() {
  const { merchant, order } = await merchantWithOrder(server.t);
  const client = connectWs(server.t.url, merchant.token);
  const sub = subscribeWs(client, ORDER_EVENTS);
  await sub.waitFor(1);
  await quiet(300);
  const event = (note: string) => paidEvent(merchant.id, order, note);
  return { merchant, sub, client, event };
}

test('a NOTIFY that arrives while the stream reads the outbox, for an event that read returns too, is pushed once', async () => {
  const { merchant, sub, client, event } = await caughtUpSubscriber();

  // Two events in the outbox that nobody has been told about yet (written without their NOTIFYs):
  // the first too large for a NOTIFY to carry, the second small.
  const written = [event('x'.repeat(9000)), event('small')].map((e) => ({ ...e, id: crypto.randomUUID() }));
  const rows = await server.t.platform.database.db
    .insert(outboxEvents)
    .values(written.map((e) => ({ id: e.id, merchantId: e.merchantId, aggregateType: e.aggregateType, aggregateId: e.aggregateId, type: e.type, payload: e.payload })))
    .returning({ position: outboxEvents.position, id: outboxEvents.id, occurredAt: outboxEvents.occurredAt });
  const notified = written.map((e) => ({ ...e, ...rows.find((row) => row.id === e.id)! }));
  expect(notified[0]!.position).toBeLessThan(notified[1]!.position);
  // What the writer of each would have sent: the short form ("read") for the large one, the event itself for the small one.
  const readNotice = outboxNotification('order', merchant.id, [notified[0]!]);
  const liveNotice = outboxNotification('order', merchant.id, [notified[1]!]);
  expect(readNotice.split(':')).toHaveLength(3);
  expect(liveNotice.split(':').length).toBeGreaterThan(3);

  const before = stats();
  // Reads of the outbox wait while another session holds the table.
  await server.admin.query('begin');
  await server.admin.query('lock table "order".outbox_events in access exclusive mode');
  try {
    await server.t.platform.database.db.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, ${readNotice})`);
    // The stream asked for a read, and a session waits to read the table (its query text may not
    // show yet: a statement waiting for a lock while it is parsed still shows the session's last one).
    const readWaiting = async () => {
      if (stats().outboxReads === before.outboxReads) return false;
      const { rows: waiting } = await server.admin.query(`select 1 from pg_locks where relation = '"order".outbox_events'::regclass and mode = 'AccessShareLock' and not granted`);
      return waiting.length > 0;
    };
    await waitUntil('the stream to read the outbox', readWaiting).catch(async (error: Error) => {
      const { rows: activity } = await server.admin.query(`select a.pid, a.state, a.wait_event_type, a.wait_event, left(a.query, 120) as query, (select json_agg(json_build_object('rel', l.relation::regclass::text, 'mode', l.mode, 'granted', l.granted, 'type', l.locktype)) from pg_locks l where l.pid = a.pid) as locks from pg_stat_activity a where a.datname = current_database()`);
      throw new Error(`${error.message}; the database's sessions: ${JSON.stringify(activity)}; stats ${JSON.stringify(stats())}, received ${sub.received.length}`);
    });
    // The small event's NOTIFY arrives while that read waits (the read will return that event too).
    await server.t.platform.database.db.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, ${liveNotice})`);
    await quiet(300);
    expect(await readWaiting()).toBe(true);
    expect(sub.received).toHaveLength(1);
  } finally {
    await server.admin.query('rollback');
  }

  await sub.waitFor(3);
  await quiet(300);
  const afterSeam = stats();
  expect(sub.received).toHaveLength(3);
  expect(eventsOf(sub.received).map((e) => e.id)).toEqual(await outboxIds(merchant.id));
  expect(afterSeam.eventsRead - before.eventsRead).toBe(2);
  expect(afterSeam.eventsNotified - before.eventsNotified).toBe(0);
  expect(afterSeam.outboxReads - before.outboxReads).toBe(1);

  // The read found everything: the stream is caught up, and the next event comes from its NOTIFY.
  await nextComesFromNotify(sub, event('after the seam'), afterSeam);
  const got = eventsOf(sub.received);
  expect(got.map((e) => e.id)).toEqual(await outboxIds(merchant.id));
  expect(new Set(got.map((e) => e.id)).size).toBe(4);
  expect(got.slice(1).every((e) => e.type === 'PAID' && e.reason === 'LIVE' && e.attempt === 1)).toBe(true);
  sub.stop();
  await client.dispose();
});

test('events committed while the listener connection is down are read once it is back; then NOTIFYs carry them again', async () => {
  const { merchant, sub, client, event } = await caughtUpSubscriber();
  const listeners = async () =>
    (await server.admin.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and query ilike $1`, [`listen%${OUTBOX_CHANNEL}%`])).rows;
  const [listener] = await listeners();
  expect(listener).toBeDefined();

  const before = stats();
  await server.admin.query('select pg_terminate_backend($1)', [listener!.pid]);
  await waitUntil('the listener backend to end', async () => (await listeners()).length === 0);
  // The gateway reconnects after a second: these commits' NOTIFYs reach no listener of this gateway.
  for (let i = 0; i < 3; i++) await server.t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, [event(`while down ${i}`)]));
  expect(await listeners()).toHaveLength(0);

  await sub.waitFor(4, 20_000);
  await quiet(300);
  const afterReconnect = stats();
  expect(await listeners()).toHaveLength(1);
  expect(sub.received).toHaveLength(4);
  expect(afterReconnect.eventsRead - before.eventsRead).toBe(3);
  expect(afterReconnect.eventsNotified - before.eventsNotified).toBe(0);

  // Listening again, and caught up: the next event travels in its NOTIFY, with no read.
  await nextComesFromNotify(sub, event('after the reconnect'), afterReconnect);
  const got = eventsOf(sub.received);
  expect(got.map((e) => e.id)).toEqual(await outboxIds(merchant.id));
  expect(got.slice(1).every((e) => e.type === 'PAID' && e.attempt === 1)).toBe(true);
  sub.stop();
  await client.dispose();
});
