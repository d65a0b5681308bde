/**
 * Message retention (MESSAGE_RETENTION_DAYS): events older than the window go from the outboxes,
 * with their records, and nothing goes silently. A stream whose unacknowledged messages were
 * deleted, open or connecting later, ends with MESSAGES_EXPIRED, and its status says so, until its
 * cursor is reset; a reset never lands in what was deleted. Streams that had acknowledged those
 * messages, and streams of apps authorized after them, go on untouched.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../core/config.js';
import { recordEvents } from '../messages/outbox.js';
import { createAccountStore } from '../subgraphs/account/store.js';
import { outboxEvents } from '../subgraphs/order/tables.js';
import { createMerchant } from './helpers/factories.js';
import { ACKNOWLEDGE, connectWs, paidEvent, subscribeWs } from './helpers/messages.js';
import { startTestPlatform, TEST_APP_KEY, waitUntil, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform({ extraEnv: { MESSAGE_RETENTION_DAYS: '30' } });
});
afterAll(async () => {
  await t?.stop();
});

const rows = <T>(result: unknown): T[] => ((result as { rows?: T[] }).rows ?? (result as T[]));
const DAY = 86_400_000;
const EVENTS = 'subscription($after: MessageCursor) { orderEvents(after: $after) { id cursor type occurredAt } }';
const STATUS = '{ messageStream { acknowledgedCursor topics { topic expired pending } } }';

/**
 * Writes events of made-up orders for a merchant, `daysAgo` old, to the order outbox: PAID ones
 * unless `type` says otherwise, on `on` (by default the file's platform).
 */
async function paid(merchantId: string, notes: string[], daysAgo: number, { on = t, type }: { on?: TestPlatform; type?: string } = {}) {
  const occurredAt = new Date(Date.now() - daysAgo * DAY);
  const events = notes.map((note) => ({ ...paidEvent(merchantId, { id: crypto.randomUUID(), number: note }, note), occurredAt, ...(type ? { type } : {}) }));
  await on.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, events));
  const ids = rows<{ id: string }>(await on.platform.database.db.execute(sql`select id from "order".outbox_events where merchant_id = ${merchantId} and payload->>'note' in ${notes} order by position`));
  return ids.map((r) => r.id);
}

/** Subscribes on `client`, receives one message (the one with `id`), acknowledges it and stops: its cursor. */
async function receiveAndAcknowledge(client: ReturnType<typeof connectWs>, query: string, id: string): Promise<string> {
  const sub = subscribeWs(client, query);
  const [got] = await sub.waitFor(1);
  expect(got!.data!.orderEvents.id).toBe(id);
  await subscribeWs(client, ACKNOWLEDGE, { upTo: got!.data!.orderEvents.cursor }).waitForEnd();
  sub.stop();
  return got!.data!.orderEvents.cursor;
}

const count = async (query: ReturnType<typeof sql>, on: TestPlatform = t) => Number(rows<{ n: number | string }>(await on.platform.database.db.execute(query))[0]!.n);

test('the purge deletes events and records past the window; a stream that had not acknowledged them is told so when it connects, until it resets', async () => {
  const m = await createMerchant(t);
  const old = await paid(m.id, ['old-1', 'old-2', 'old-3'], 40);
  const [recent] = await paid(m.id, ['recent-1'], 2);

  // First connection: everything is pushed (and recorded); only the first old message is acknowledged.
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, EVENTS);
  const got = await sub.waitFor(4);
  expect(got.map((r) => r.data!.orderEvents.id)).toEqual([...old, recent]);
  const ack = subscribeWs(client, ACKNOWLEDGE, { upTo: got[0]!.data!.orderEvents.cursor });
  await ack.waitForEnd();
  expect(await count(sql`select count(*) as n from app_management.message_records where merchant_id = ${m.id}`)).toBe(4);

  const result = await t.platform.gateway.channel!.purgeExpired();
  expect(result).toMatchObject({ skipped: false });
  expect(result!.events).toBeGreaterThanOrEqual(3);
  expect(result!.records).toBeGreaterThanOrEqual(3);

  // Gone: the old events, their records and deliveries. Kept: the recent event and its record.
  expect(rows<{ id: string }>(await t.platform.database.db.execute(sql`select id from "order".outbox_events where merchant_id = ${m.id} order by position`)).map((r) => r.id)).toEqual([recent]);
  expect(rows<{ event_id: string }>(await t.platform.database.db.execute(sql`select event_id from app_management.message_records where merchant_id = ${m.id}`)).map((r) => r.event_id)).toEqual([recent]);
  expect(await count(sql`select count(*) as n from app_management.message_deliveries d join app_management.message_records r using (app_key, merchant_id, source, position) where d.merchant_id = ${m.id}`)).toBe(
    await count(sql`select count(*) as n from app_management.message_deliveries where merchant_id = ${m.id}`),
  );

  // The open subscription was pushed the deleted messages and holds them until they are
  // acknowledged (it would push them again from memory): it goes on, and a live event reaches it.
  await new Promise((r) => setTimeout(r, 300));
  const [live0] = await paid(m.id, ['live-0'], 0);
  expect((await sub.waitFor(5))[4]!.data!.orderEvents.id).toBe(live0);
  expect(sub.completed).toBe(false);
  // It leaves without acknowledging two of them: they are lost to the stream, and it is told so.
  sub.stop();
  const status = await t.gql(m.token, STATUS);
  expect(status.data!.messageStream.topics.find((x: { topic: string }) => x.topic === 'ORDERS')).toMatchObject({ expired: true, pending: 2 });
  const again = subscribeWs(client, EVENTS);
  await again.waitForEnd();
  const last = again.received.at(-1)!;
  expect(last.errors![0]!.extensions).toMatchObject({ code: 'MESSAGES_EXPIRED', topics: ['ORDERS'], retentionDays: 30 });
  expect(last.errors![0]!.message).not.toMatch(/select|stack|\.ts:/i);
  expect(again.received.filter((r) => r.data)).toEqual([]);
  // So does an `after` cursor that points into what was deleted.
  const behind = subscribeWs(client, EVENTS, { after: got[1]!.data!.orderEvents.cursor });
  await behind.waitForEnd();
  expect(behind.received.at(-1)!.errors![0]!.extensions!.code).toBe('MESSAGES_EXPIRED');

  // A reset to a time before the deleted events lands after them: the stream goes on from the oldest kept.
  const reset = await t.gql(m.token, 'mutation($at: DateTime!) { resetMessageCursor(to: { time: $at }) { topics { topic expired } } }', { at: new Date(Date.now() - 60 * DAY).toISOString() });
  expect(reset.errors).toBeUndefined();
  expect(reset.data!.resetMessageCursor.topics.find((x: { topic: string }) => x.topic === 'ORDERS').expired).toBe(false);
  const resumed = subscribeWs(client, EVENTS);
  expect((await resumed.waitFor(2)).map((r) => r.data!.orderEvents.id)).toEqual([recent, live0]);
  const [live] = await paid(m.id, ['live-1'], 0);
  expect((await resumed.waitFor(3))[2]!.data!.orderEvents.id).toBe(live);
  resumed.stop();
  await client.dispose();
});

test('a stream that had acknowledged what the purge deleted, and one authorized after it, go on untouched', async () => {
  const caughtUp = await createMerchant(t);
  const oldIds = await paid(caughtUp.id, ['a-old-1', 'a-old-2'], 45);
  const client = connectWs(t.url, caughtUp.token);
  const sub = subscribeWs(client, EVENTS);
  const got = await sub.waitFor(2);
  expect(got.map((r) => r.data!.orderEvents.id)).toEqual(oldIds);
  await subscribeWs(client, ACKNOWLEDGE, { upTo: got[1]!.data!.orderEvents.cursor }).waitForEnd();

  // Another merchant authorized this app only after its old events: they were never the app's.
  const later = await createMerchant(t);
  await paid(later.id, ['b-old-1'], 50);
  const grantId = `grant_${crypto.randomUUID()}`;
  await createAccountStore(t.platform.database.db).recordAuthorization({ grantId, merchantId: later.id, appKey: TEST_APP_KEY, appName: 'Test app', scopes: ['orders:read', 'messages:orders'], authorizedBy: null });
  const laterToken = await t.token({ merchantId: later.id, grantId, scopes: ['orders:read', 'messages:orders'] });

  const result = await t.platform.gateway.channel!.purgeExpired();
  expect(result!.events).toBeGreaterThanOrEqual(3);
  expect(await count(sql`select count(*) as n from "order".outbox_events where merchant_id in (${caughtUp.id}, ${later.id})`)).toBe(0);

  // The caught-up stream stays open and receives what comes next.
  const [next] = await paid(caughtUp.id, ['a-new-1'], 0);
  expect((await sub.waitFor(3))[2]!.data!.orderEvents.id).toBe(next);
  expect(sub.completed).toBe(false);
  const status = await t.gql(caughtUp.token, STATUS);
  expect(status.data!.messageStream.topics.find((x: { topic: string }) => x.topic === 'ORDERS').expired).toBe(false);
  sub.stop();
  await client.dispose();

  // The later app's first subscription starts at its authorization: nothing of its own was deleted.
  const laterClient = connectWs(t.url, laterToken);
  const laterSub = subscribeWs(laterClient, EVENTS);
  const [fresh] = await paid(later.id, ['b-new-1'], 0);
  expect((await laterSub.waitFor(1))[0]!.data!.orderEvents.id).toBe(fresh);
  laterSub.stop();
  await laterClient.dispose();
});

test('events inside the window stay, and a run with nothing to delete deletes nothing', async () => {
  const m = await createMerchant(t);
  const kept = await paid(m.id, ['k-1', 'k-2'], 29);
  await t.platform.gateway.channel!.purgeExpired();
  const again = await t.platform.gateway.channel!.purgeExpired();
  expect(again).toEqual({ events: 0, records: 0, skipped: false });
  expect(rows<{ id: string }>(await t.platform.database.db.execute(sql`select id from "order".outbox_events where merchant_id = ${m.id} order by position`)).map((r) => r.id)).toEqual(kept);
  const status = await t.gql(m.token, STATUS);
  expect(status.data!.messageStream.topics.find((x: { topic: string }) => x.topic === 'ORDERS')).toMatchObject({ expired: false, pending: 2 });
});

test('the purge goes in batches, oldest first, and notes per merchant how far it went', async () => {
  const { createMessageStore } = await import('../messages/store/index.js');
  const { createMessageCrypto } = await import('../messages/crypto.js');
  const store = createMessageStore(t.platform.database.db, createMessageCrypto(t.platform.keys.messageKeks));
  const a = await createMerchant(t);
  const b = await createMerchant(t);
  await paid(a.id, ['p-a-1', 'p-a-2', 'p-a-3'], 70);
  await paid(b.id, ['p-b-1', 'p-b-2'], 60);
  const [keptA] = await paid(a.id, ['p-a-new'], 1);
  const before = await count(sql`select count(*) as n from "order".outbox_events where occurred_at < now() - interval '30 days'`);
  expect(before).toBe(5);

  const result = await store.purgeExpired(new Date(Date.now() - 30 * DAY), { batch: 2 });
  expect(result).toEqual({ events: 5, records: 0, skipped: false });
  expect(rows<{ id: string }>(await t.platform.database.db.execute(sql`select id from "order".outbox_events where merchant_id in (${a.id}, ${b.id})`)).map((r) => r.id)).toEqual([keptA]);
  const noted = rows<{ merchant_id: string; purged_through: string | number; last_occurred_at: Date | string }>(
    await t.platform.database.db.execute(sql`select merchant_id, purged_through, last_occurred_at from app_management.message_retention where source = 'order' and merchant_id in (${a.id}, ${b.id})`),
  );
  expect(noted).toHaveLength(2);
  for (const row of noted) expect(new Date(row.last_occurred_at).getTime()).toBeLessThan(Date.now() - 59 * DAY);
  const throughA = Number(noted.find((r) => r.merchant_id === a.id)!.purged_through);
  const positionOfKept = await count(sql`select position as n from "order".outbox_events where id = ${keptA}`);
  expect(throughA).toBeLessThan(positionOfKept);
  expect(await store.expiredSources(a.id, ['order'], { order: 0 }, null)).toEqual(['order']);
  expect(await store.expiredSources(a.id, ['order'], { order: throughA }, null)).toEqual([]);
});

test('a stream seen for the first time after a purge lost nothing of its own: it starts at the oldest message kept', async () => {
  const m = await createMerchant(t);
  await paid(m.id, ['n-old-1', 'n-old-2'], 35);
  const [kept] = await paid(m.id, ['n-kept-1'], 3);
  await t.platform.gateway.channel!.purgeExpired();
  const status = await t.gql(m.token, STATUS);
  expect(status.data!.messageStream.topics.find((x: { topic: string }) => x.topic === 'ORDERS')).toMatchObject({ expired: false, pending: 1 });
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, EVENTS);
  expect((await sub.waitFor(1)).map((r) => r.data!.orderEvents.id)).toEqual([kept]);
  expect(sub.completed).toBe(false);
  sub.stop();
  await client.dispose();
});

test('a subscription that acknowledges, just after the purge, messages it was pushed before it loses nothing', async () => {
  const m = await createMerchant(t);
  const [old] = await paid(m.id, ['race-old'], 40);
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, EVENTS);
  const [pushed] = await sub.waitFor(1);
  expect(pushed!.data!.orderEvents.id).toBe(old);

  // The purge deletes the message between its push and its acknowledgement.
  expect((await t.platform.gateway.channel!.purgeExpired())!.events).toBeGreaterThanOrEqual(1);
  await new Promise((r) => setTimeout(r, 300));
  expect(sub.completed).toBe(false);
  await subscribeWs(client, ACKNOWLEDGE, { upTo: pushed!.data!.orderEvents.cursor }).waitForEnd();
  const status = await t.gql(m.token, STATUS);
  expect(status.data!.messageStream.topics.find((x: { topic: string }) => x.topic === 'ORDERS')).toMatchObject({ expired: false, pending: 0 });

  // The open subscription goes on, and so does the next connection.
  const [next] = await paid(m.id, ['race-next'], 0);
  expect((await sub.waitFor(2))[1]!.data!.orderEvents.id).toBe(next);
  sub.stop();
  await client.dispose();
  const later = connectWs(t.url, m.token);
  const resumed = subscribeWs(later, EVENTS);
  const [after] = await paid(m.id, ['race-after'], 0);
  expect((await resumed.waitFor(2)).map((r) => r.data!.orderEvents.id)).toEqual([next, after]);
  resumed.stop();
  await later.dispose();
});

test('only the subscription\'s own messages count: not the types its filter leaves out, not the platform\'s internal events', async () => {
  const PAID_ONLY = 'subscription($after: MessageCursor) { orderEvents(types: [PAID], after: $after) { id cursor type } }';
  const m = await createMerchant(t);
  // A PAID-only subscriber receives and acknowledges its message; the cursor stays there.
  const [paidOld] = await paid(m.id, ['types-paid'], 45);
  const client = connectWs(t.url, m.token);
  const cursor = await receiveAndAcknowledge(client, PAID_ONLY, paidOld!);

  // After it, events it never receives: a CREATED one (left out by its filter) and an internal one.
  await paid(m.id, ['types-created'], 40, { type: 'order.created' });
  await paid(m.id, ['types-internal'], 40, { type: 'order.internal_test' });
  expect((await t.platform.gateway.channel!.purgeExpired())!.events).toBeGreaterThanOrEqual(3);
  const noted = rows<{ type: string }>(await t.platform.database.db.execute(sql`select type from app_management.message_retention where source = 'order' and merchant_id = ${m.id} order by type`));
  expect(noted.map((r) => r.type)).toEqual(['order.created', 'order.internal_test', 'order.paid']);

  // The PAID-only subscription lost nothing of its own: it goes on, live.
  const again = subscribeWs(client, PAID_ONLY);
  await new Promise((r) => setTimeout(r, 300));
  const [paidNew] = await paid(m.id, ['types-paid-new'], 0);
  expect((await again.waitFor(1))[0]!.data!.orderEvents.id).toBe(paidNew);
  expect(again.completed).toBe(false);
  again.stop();
  // A subscription of every type on the same cursor did lose the CREATED message (not the internal one): it is told.
  const every = subscribeWs(client, EVENTS, { after: cursor });
  await every.waitForEnd();
  expect(every.received.at(-1)!.errors![0]!.extensions).toMatchObject({ code: 'MESSAGES_EXPIRED', topics: ['ORDERS'] });
  await client.dispose();

  // Internal events alone never expire anyone.
  const n = await createMerchant(t);
  const [nPaid] = await paid(n.id, ['internal-paid'], 45);
  const nClient = connectWs(t.url, n.token);
  await receiveAndAcknowledge(nClient, EVENTS, nPaid!);
  await paid(n.id, ['internal-only'], 40, { type: 'order.internal_test' });
  await t.platform.gateway.channel!.purgeExpired();
  const status = await t.gql(n.token, STATUS);
  expect(status.data!.messageStream.topics.find((x: { topic: string }) => x.topic === 'ORDERS').expired).toBe(false);
  const nAgain = subscribeWs(nClient, EVENTS);
  const [nNew] = await paid(n.id, ['internal-new'], 0);
  expect((await nAgain.waitFor(1))[0]!.data!.orderEvents.id).toBe(nNew);
  nAgain.stop();
  await nClient.dispose();
});

test('the window is 30 days with a PostgreSQL server, forever embedded (the demo data set is older), and any value when set', () => {
  expect(loadConfig({ DATABASE_URL: 'postgres://db/portico' }).messages.retentionDays).toBe(30);
  expect(loadConfig({}).messages.retentionDays).toBe(0);
  expect(loadConfig({ MESSAGE_RETENTION_DAYS: '7' }).messages.retentionDays).toBe(7);
  expect(loadConfig({ DATABASE_URL: 'postgres://db/portico', MESSAGE_RETENTION_DAYS: '0' }).messages.retentionDays).toBe(0);
  expect(() => loadConfig({ MESSAGE_RETENTION_DAYS: '-1' })).toThrow(/MESSAGE_RETENTION_DAYS/);
  expect(loadConfig({}).messages.purgeIntervalMs).toBe(3_600_000);
  expect(loadConfig({ MESSAGE_PURGE_INTERVAL_MS: '60000' }).messages.purgeIntervalMs).toBe(60_000);
  expect(() => loadConfig({ MESSAGE_PURGE_INTERVAL_MS: '10' })).toThrow(/MESSAGE_PURGE_INTERVAL_MS/);
});

test('the gateway purges on its own, every MESSAGE_PURGE_INTERVAL_MS, and tells an open stream that lost messages', async () => {
  // One message in flight at most: the old event below waits, unread, until the first is acknowledged.
  const own = await startTestPlatform({ extraEnv: { MESSAGE_RETENTION_DAYS: '30', MESSAGE_PURGE_INTERVAL_MS: '300', MESSAGE_MAX_IN_FLIGHT: '1' } });
  try {
    const m = await createMerchant(own);
    const client = connectWs(own.url, m.token);
    const sub = subscribeWs(client, EVENTS);
    // The stream is open (a stream seen for the first time after a purge lost nothing of its own).
    const [recent] = await paid(m.id, ['timer-recent'], 1, { on: own });
    expect((await sub.waitFor(1))[0]!.data!.orderEvents.id).toBe(recent);
    const [old] = await paid(m.id, ['timer-old-1'], 40, { on: own });
    // Not read yet by the open subscription: the purge the timer runs deletes it, and the
    // subscription ends, saying why, instead of going on without it.
    await sub.waitForEnd(10_000);
    expect(sub.received.at(-1)!.errors![0]!.extensions).toMatchObject({ code: 'MESSAGES_EXPIRED', topics: ['ORDERS'] });
    expect(sub.received.slice(0, -1).map((r) => r.data!.orderEvents.id)).toEqual([recent]);
    expect(await count(sql`select count(*) as n from "order".outbox_events where id = ${old}`, own)).toBe(0);
    const left = async () => rows<{ id: string }>(await own.platform.database.db.execute(sql`select id from "order".outbox_events where merchant_id = ${m.id}`)).map((r) => r.id);
    expect(await left()).toEqual([recent]);

    // It keeps running: an old event written later goes too, the recent one stays.
    await paid(m.id, ['timer-old-2'], 50, { on: own });
    await waitUntil('the next timed purge', async () => (await left()).length === 1);
    expect(await left()).toEqual([recent]);
    await client.dispose();
  } finally {
    await own.stop();
  }
});

test('purges running at once (two gateways) delete every expired event exactly once, and none fails', async () => {
  const { createMessageStore } = await import('../messages/store/index.js');
  const { createMessageCrypto } = await import('../messages/crypto.js');
  const gateways = [0, 1].map(() => createMessageStore(t.platform.database.db, createMessageCrypto(t.platform.keys.messageKeks)));
  const merchants = await Promise.all([0, 1, 2].map(() => createMerchant(t)));
  for (const [i, m] of merchants.entries()) await paid(m.id, Array.from({ length: 6 }, (_, k) => `both-${i}-${k}`), 35 + i);
  const expired = await count(sql`select count(*) as n from "order".outbox_events where occurred_at < now() - interval '30 days'`);
  expect(expired).toBeGreaterThanOrEqual(18);
  const lastOf = new Map(
    rows<{ merchant_id: string; last: string | number }>(
      await t.platform.database.db.execute(sql`select merchant_id, max(position) as last from "order".outbox_events where merchant_id in ${merchants.map((m) => m.id)} group by merchant_id`),
    ).map((r) => [r.merchant_id, Number(r.last)]),
  );

  // One row per transaction, so that the two runs' batches interleave (on a PostgreSQL server; PGlite has one connection).
  const cutoff = new Date(Date.now() - 30 * DAY);
  const results = await Promise.all(gateways.map((store) => store.purgeExpired(cutoff, { batch: 1 })));
  expect(results.reduce((n, r) => n + r.events, 0)).toBe(expired);
  expect(results.some((r) => !r.skipped)).toBe(true);
  expect(await count(sql`select count(*) as n from "order".outbox_events where occurred_at < now() - interval '30 days'`)).toBe(0);
  const noted = rows<{ merchant_id: string; purged_through: string | number }>(
    await t.platform.database.db.execute(sql`select merchant_id, purged_through from app_management.message_retention where source = 'order' and merchant_id in ${merchants.map((m) => m.id)}`),
  );
  // How far the purge went, per merchant: its last deleted event, whichever run deleted it.
  expect(Object.fromEntries(noted.map((r) => [r.merchant_id, Number(r.purged_through)]))).toEqual(Object.fromEntries(lastOf));
});
