/**
 * Delivery records that cannot be written, whichever thread writes them (messages/records/): a
 * burst's batch goes to the gateway's record worker, a few records are written by the gateway's own
 * thread. A message is sent as its record is written: when the record cannot be written, the
 * subscription ends with a clear error and nothing is lost (the next connection gets the message
 * again, as a REPLAY, recorded); so does a record worker that dies (here: its heap limit), and the
 * next batch starts a new one.
 * PostgreSQL only: it holds a table lock from another session and ends the writing backend.
 */
import crypto from 'node:crypto';
import { recordEvents } from '../../messages/outbox.js';
import { outboxEvents } from '../../subgraphs/order/tables.js';
import { merchantWithOrder } from '../helpers/factories.js';
import pg from 'pg';
import { ACKNOWLEDGE, ORDER_EVENTS, connectWs, paidEvent, subscribeWs, type Collector, type Received } from '../helpers/messages.js';
import { platformWithAdminSession, waitUntil } from '../helpers/platform.js';

type Server = ReturnType<typeof platformWithAdminSession>;

const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));
const eventsOf = (received: Received[]) => received.map((r) => r.data!.orderEvents);

/** A new merchant with an order, subscribed to its order events, having received the order's CREATED event. */
async function subscribedMerchant(t: Server['t']) {
  const { merchant, order } = await merchantWithOrder(t);
  const client = connectWs(t.url, merchant.token);
  const sub = subscribeWs(client, ORDER_EVENTS);
  const created = eventsOf(await sub.waitFor(1))[0];
  return { merchant, order, client, sub, created };
}

/**
 * `subscriptions` subscriptions of one merchant on one connection, each having received the order's
 * CREATED event; then the PAID event is committed while another session holds the records table, and
 * the backend whose record statement waits for it (the one named `writer`) is ended.
 */
async function recordWriteFails(server: Server, subscriptions: number, writer: string) {
  const { merchant, order } = await merchantWithOrder(server.t);
  const client = connectWs(server.t.url, merchant.token);
  const subs: Collector[] = Array.from({ length: subscriptions }, () => subscribeWs(client, ORDER_EVENTS));
  const created = eventsOf(await subs[0]!.waitFor(1))[0];
  for (const sub of subs) expect(eventsOf(await sub.waitFor(1))[0].id).toBe(created.id);
  await quiet(300);

  await server.admin.query('begin');
  await server.admin.query('lock table app_management.message_records in access exclusive mode');
  let paidId: string;
  try {
    await server.t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, [paidEvent(merchant.id, order, 'records')]));
    paidId = (await server.admin.query<{ id: string }>(`select id from "order".outbox_events where aggregate_id = $1 and type = 'order.paid'`, [order.id])).rows[0]!.id;
    const waitingWriter = async () => {
      const { rows } = await server.admin.query<{ pid: number }>(
        `select distinct a.pid from pg_stat_activity a join pg_locks l on l.pid = a.pid
         where a.datname = current_database() and a.application_name = $1 and not l.granted`,
        [writer],
      );
      return rows[0]?.pid;
    };
    let pid: number | undefined;
    await waitUntil(`a backend of ${writer} to wait for the records table`, async () => (pid = await waitingWriter()) !== undefined);
    // Its connection ends in the middle of the write: the records are not written.
    await server.admin.query('select pg_terminate_backend($1)', [pid]);
    for (const sub of subs) await sub.waitForEnd();
  } finally {
    await server.admin.query('rollback');
  }
  for (const sub of subs) {
    // Sent as its record was being written: the message came, then the end, which says why and that subscribing again brings it.
    expect(sub.received).toHaveLength(3);
    expect(eventsOf(sub.received.slice(1, 2))[0]).toMatchObject({ id: paidId!, type: 'PAID' });
    expect(sub.received[2]).toEqual({ errors: [{ message: expect.stringMatching(/could not be recorded; subscribe again: messages not acknowledged come again/), extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true } }] });
  }
  await client.dispose();

  // The next connection gets it (after the unacknowledged CREATED), as what it is: a message pushed
  // before (its push was marked before it was sent, though its record is missing), and records it.
  const again = connectWs(server.t.url, merchant.token);
  const resumed = subscribeWs(again, ORDER_EVENTS);
  const got = eventsOf(await resumed.waitFor(2));
  expect(got.map((e) => e.id)).toEqual([created.id, paidId!]);
  expect(got[1]).toMatchObject({ type: 'PAID', reason: 'REPLAY', attempt: 1 });
  resumed.stop();
  await again.dispose();
  const records = await server.t.gql<any>(merchant.token, '{ messageRecords(topics: [ORDERS]) { nodes { id deliveries { reason attempt pushed } } } }');
  expect(records.errors).toBeUndefined();
  const paidRecord = records.data.messageRecords.nodes.find((n: { id: string }) => n.id === paidId!);
  // The push whose record failed is not in it; the next one is, as the message's first.
  expect(paidRecord.deliveries.map((d: { reason: string }) => d.reason)).toEqual(['REPLAY']);
  expect(paidRecord.deliveries[0].pushed.data.orderEvents.id).toBe(paidId!);
}

describe("records of the gateway's own thread (a batch smaller than RECORD_WORKER_BATCH)", () => {
  const own = platformWithAdminSession({ MESSAGE_ACK_TIMEOUT_MS: '60000' });
  test("the message is sent, its record fails, the subscription ends with SERVICE_UNAVAILABLE (retryable), and the next connection gets the message again, as a REPLAY, recorded", async () => {
    // One push: its record is written by the gateway's own thread (the test platform's pool is "portico").
    await recordWriteFails(own, 1, 'portico');
  });
});

describe('records of the record worker', () => {
  // Every batch goes to the worker: how many pushes of one moment become one batch depends on
  // timing (a burst's are 50 and more; here they may come in several ticks).
  const worker = platformWithAdminSession({ MESSAGE_ACK_TIMEOUT_MS: '60000' }, { messageTuning: { recordWorkerBatch: 1 } });
  test('the same for pushes of several subscriptions written by the record worker', async () => {
    await recordWriteFails(worker, 8, 'portico-gateway-records');
  });
});

describe('a record worker that dies', () => {
  // Every batch goes to the worker, whose heap is bounded at 64 MB: the record of an event with 40 MB
  // of payload (sealed, as JSON, then base64) is more than it can hold, and the worker is ended.
  const server = platformWithAdminSession({ MESSAGE_ACK_TIMEOUT_MS: '60000' }, { messageTuning: { recordWorkerBatch: 1, recordWorkerMaxHeapMb: 64 } });
  const workerBackends = async () =>
    (
      await server.admin.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and application_name = 'portico-gateway-records' order by pid`)
    ).rows.map((r) => r.pid);

  test('fails only the pushes it was writing (the subscriptions end with SERVICE_UNAVAILABLE), the gateway goes on, and the next write starts a new worker', async () => {
    const { merchant, order } = await merchantWithOrder(server.t);
    const client = connectWs(server.t.url, merchant.token);
    const subs: Collector[] = Array.from({ length: 2 }, () => subscribeWs(client, ORDER_EVENTS));
    const created = eventsOf(await subs[0]!.waitFor(1))[0];
    for (const sub of subs) expect(eventsOf(await sub.waitFor(1))[0].id).toBe(created.id);
    const before = await workerBackends();
    expect(before.length).toBeGreaterThan(0);

    await server.t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, [paidEvent(merchant.id, order, 'x'.repeat(40_000_000))]));
    for (const sub of subs) await sub.waitForEnd(30_000);
    for (const sub of subs) {
      // Sent as its record was being written: the message, then the end.
      expect(sub.received).toHaveLength(3);
      expect(eventsOf(sub.received.slice(1, 2))[0]).toMatchObject({ type: 'PAID' });
      expect(sub.received[2]).toEqual({ errors: [{ message: expect.stringMatching(/could not be recorded; subscribe again: messages not acknowledged come again/), extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true } }] });
    }
    await client.dispose();
    // The worker's connections ended with it.
    await waitUntil("the dead worker's connections to end", async () => (await workerBackends()).every((pid) => !before.includes(pid)));
    // Its message was not recorded: it stays unacknowledged in the merchant's stream.
    const records = await server.t.gql<any>(merchant.token, '{ messageRecords(topics: [ORDERS]) { nodes { id type } } }');
    expect(records.errors).toBeUndefined();
    expect(records.data.messageRecords.nodes.map((n: { type: string }) => n.type)).toEqual(['order.created']);

    // The gateway still serves; another merchant's push starts a new worker, which records it.
    const other = await subscribedMerchant(server.t);
    const otherCreated = other.created;
    other.sub.stop();
    await other.client.dispose();
    // The listing has the stream's pending record written first (by a new worker: the record is
    // written once the pushing pauses, so the worker is not there as soon as the push arrives).
    const otherRecords = await server.t.gql<any>(other.merchant.token, '{ messageRecords(topics: [ORDERS]) { nodes { id deliveries { reason pushed } } } }');
    expect(otherRecords.errors).toBeUndefined();
    expect(otherRecords.data.messageRecords.nodes.find((n: { id: string }) => n.id === otherCreated.id).deliveries).toEqual([{ reason: 'LIVE', pushed: expect.objectContaining({ data: expect.anything() }) }]);
    const after = await workerBackends();
    expect(after.length).toBeGreaterThan(0);
    expect(after.some((pid) => before.includes(pid))).toBe(false);
  });
});

/**
 * A merchant's subscription has received the order's CREATED event (recorded); the PAID event is
 * then committed while the admin session holds an uncommitted record row at its position, so the
 * gateway's write of PAID's record waits for that session: PAID is sent, its record is not written.
 */
async function paidSentRecordHeld(server: Server) {
  const { t, admin } = server;
  const { merchant, order, client, sub, created } = await subscribedMerchant(t);
  await t.platform.gateway.channel!.recordsWritten('app_test', merchant.id);
  // Nothing else writes order events now: the next event takes the sequence's next value.
  const { rows } = await admin.query<{ position: string }>(`select nextval(pg_get_serial_sequence('"order".outbox_events', 'position')) + 1 as position`);
  const position = Number(rows[0]!.position);
  await admin.query('begin');
  await admin.query(
    `insert into app_management.message_records (app_key, merchant_id, source, position, event_id, type, occurred_at, key_version, payload)
     values ('app_test', $1, 'order', $2, gen_random_uuid(), 'order.paid', now(), 1, 'held')`,
    [merchant.id, position],
  );
  await t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, [paidEvent(merchant.id, order, 'held record')]));
  const paid = eventsOf(await sub.waitFor(2))[1];
  expect(paid).toMatchObject({ type: 'PAID' });
  const paidPosition = Number((await admin.query<{ position: string }>(`select position from "order".outbox_events where id = $1`, [paid.id])).rows[0]!.position);
  expect(paidPosition).toBe(position);
  // Sent, and its record (written once the pushing pauses, RECORD_QUIET_MS) waits for the admin session.
  await waitUntil("PAID's record write to wait for the admin session", async () => (await pendingWriters(server)).length > 0);
  return { merchant, client, sub, created, paid, position };
}
/** Backends of the gateway waiting on a lock (its record write). */
async function pendingWriters(server: Server) {
  const { rows } = await server.admin.query<{ pid: number }>(
    `select distinct a.pid from pg_stat_activity a join pg_locks l on l.pid = a.pid
     where a.datname = current_database() and a.application_name in ('portico', 'portico-gateway-records') and not l.granted`,
  );
  return rows;
}


describe('acknowledgements and records written after the message is sent', () => {
  const server = platformWithAdminSession({ MESSAGE_ACK_TIMEOUT_MS: '60000' });

  test('an acknowledgement through the gateway waits for the records of the pushes it acknowledges, then marks them', async () => {
    const { t, admin } = server;
    let held: Awaited<ReturnType<typeof paidSentRecordHeld>>;
    try {
      await waitUntil('nothing pending', async () => (await pendingWriters(server)).length === 0);
      held = await paidSentRecordHeld(server);
      let settled = false;
      const ack = t.gql<any>(held.merchant.token, ACKNOWLEDGE, { upTo: held.paid.cursor }).finally(() => (settled = true));
      await quiet(600);
      // Not acknowledged while PAID's record is unwritten (without the wait, this took a few ms).
      expect(settled).toBe(false);
      const cursor = await admin.query(`select 1 from app_management.message_cursors where app_key = 'app_test' and merchant_id = $1 and acked_position >= $2`, [held.merchant.id, held.position]);
      expect(cursor.rowCount).toBe(0);
      await admin.query('rollback');
      const done = await ack;
      expect(done.errors).toBeUndefined();
    } finally {
      await admin.query('rollback');
    }
    const { rows } = await admin.query<{ type: string; acknowledged_at: Date | null; pushed: string | null }>(
      `select type, acknowledged_at, pushed from app_management.message_records where app_key = 'app_test' and merchant_id = $1 order by position`,
      [held!.merchant.id],
    );
    expect(rows.map((r) => [r.type, r.acknowledged_at !== null, r.pushed !== null])).toEqual([
      ['order.created', true, true],
      ['order.paid', true, true],
    ]);
    held!.sub.stop();
    await held!.client.dispose();
  });

  test('a record written after the cursor passed its message (acknowledged through another gateway first) is listed acknowledged, and not among the unacknowledged', async () => {
    const { t, admin } = server;
    const other = new pg.Client({ connectionString: t.env.DATABASE_URL });
    await other.connect();
    try {
      let held: Awaited<ReturnType<typeof paidSentRecordHeld>>;
      try {
        held = await paidSentRecordHeld(server);
        // What another gateway's acknowledgement commits meanwhile: the cursor moves; there is no record yet to mark.
        await other.query(
          `insert into app_management.message_cursors (app_key, merchant_id, source, acked_position) values ('app_test', $1, 'order', $2)
           on conflict (app_key, merchant_id, source) do update set acked_position = excluded.acked_position, updated_at = now()`,
          [held.merchant.id, held.position],
        );
        await admin.query('rollback');
        await t.platform.gateway.channel!.recordsWritten('app_test', held.merchant.id);
      } finally {
        await admin.query('rollback');
      }
      // Neither record was marked (CREATED was never acknowledged by the app's own mutation, PAID came after the cursor)...
      const { rows } = await other.query<{ type: string; acknowledged_at: Date | null }>(
        `select type, acknowledged_at from app_management.message_records where app_key = 'app_test' and merchant_id = $1 order by position`,
        [held!.merchant.id],
      );
      expect(rows.map((r) => [r.type, r.acknowledged_at !== null])).toEqual([
        ['order.created', false],
        ['order.paid', false],
      ]);
      // ...but the cursor covers both: both are listed acknowledged.
      const listed = await t.gql<any>(held!.merchant.token, '{ messageRecords(topics: [ORDERS]) { nodes { id acknowledgedAt deliveries { acknowledged } } } }');
      expect(listed.errors).toBeUndefined();
      expect(listed.data.messageRecords.nodes.map((n: any) => [n.id, n.acknowledgedAt !== null, n.deliveries.map((d: any) => d.acknowledged)])).toEqual([
        [held!.paid.id, true, [true]],
        [held!.created.id, true, [true]],
      ]);
      const unacknowledged = await t.gql<any>(held!.merchant.token, '{ messageRecords(topics: [ORDERS], unacknowledgedOnly: true) { nodes { id } } }');
      expect(unacknowledged.errors).toBeUndefined();
      expect(unacknowledged.data.messageRecords.nodes).toEqual([]);
      held!.sub.stop();
      await held!.client.dispose();
    } finally {
      await other.end();
    }
  });
});

describe('records pending at the bound (MAX_PENDING_RECORDS)', () => {
  const server = platformWithAdminSession({ MESSAGE_ACK_TIMEOUT_MS: '60000' }, { messageTuning: { maxPendingRecords: 1 } });
  test('a push waits for room before it is sent: with one record pending (held), the next message comes only once it is written', async () => {
    const { t, admin } = server;
    let held: Awaited<ReturnType<typeof paidSentRecordHeld>>;
    let next: string;
    try {
      held = await paidSentRecordHeld(server);
      await t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, [paidEvent(held.merchant.id, { id: crypto.randomUUID(), number: 'N-next' }, 'after the held one')]));
      next = (await admin.query<{ id: string }>(`select id from "order".outbox_events where merchant_id = $1 and payload->>'note' = 'after the held one'`, [held.merchant.id])).rows[0]!.id;
      await quiet(600);
      // Not sent: PAID's record is still pending, and one is the limit.
      expect(held.sub.received).toHaveLength(2);
      await admin.query('rollback');
      const third = eventsOf(await held.sub.waitFor(3))[2];
      expect(third.id).toBe(next);
    } finally {
      await admin.query('rollback');
    }
    await t.platform.gateway.channel!.recordsWritten('app_test', held!.merchant.id);
    const records = await t.gql<any>(held!.merchant.token, '{ messageRecords(topics: [ORDERS]) { nodes { id deliveries { reason } } } }');
    expect(records.errors).toBeUndefined();
    expect(records.data.messageRecords.nodes.map((n: any) => n.id)).toEqual([next!, held!.paid.id, held!.created.id]);
    held!.sub.stop();
    await held!.client.dispose();
  });
});

/** The app's records of the merchant, as stored. */
async function storedRecords(server: Server, merchantId: string) {
  const { rows } = await server.admin.query<{ type: string; acknowledged: boolean }>(
    `select type, acknowledged_at is not null as acknowledged from app_management.message_records where app_key = 'app_test' and merchant_id = $1 order by position`,
    [merchantId],
  );
  return rows;
}

describe('records are written once the pushing pauses (RECORD_QUIET_MS)', () => {
  const server = platformWithAdminSession({ MESSAGE_ACK_TIMEOUT_MS: '60000' }, { messageTuning: { recordQuietMs: 5000, recordMaxDelayMs: 60000 } });
  test('a record waits for a pause in pushing; an acknowledgement through the gateway writes the records at once', async () => {
    const { t } = server;
    const { merchant, order, client, sub, created } = await subscribedMerchant(t);
    const sentAt = Date.now();
    await quiet(1000);
    // Sent a second ago; its record waits for five quiet seconds.
    expect(await storedRecords(server, merchant.id)).toEqual([]);
    await waitUntil("CREATED's record after the pause", async () => (await storedRecords(server, merchant.id)).length === 1);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(4900);

    // Another merchant's push of the same moment: its record is not the acknowledgement's.
    const other = await subscribedMerchant(t);
    await t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, [paidEvent(merchant.id, order, 'quiet')]));
    const paid = eventsOf(await sub.waitFor(2))[1];
    expect(await storedRecords(server, merchant.id)).toEqual([{ type: 'order.created', acknowledged: false }]);
    const ackStarted = Date.now();
    const ack = await t.gql<any>(merchant.token, ACKNOWLEDGE, { upTo: paid.cursor });
    expect(ack.errors).toBeUndefined();
    // It did not wait for the pause: it had the pending record written, then marked both.
    expect(Date.now() - ackStarted).toBeLessThan(2500);
    expect(await storedRecords(server, merchant.id)).toEqual([
      { type: 'order.created', acknowledged: true },
      { type: 'order.paid', acknowledged: true },
    ]);
    expect(created.id).not.toBe(paid.id);
    // Only its own stream's records were written at once; the other merchant's still waits for the pause.
    expect(await storedRecords(server, other.merchant.id)).toEqual([]);
    await waitUntil("the other merchant's record after the pause", async () => (await storedRecords(server, other.merchant.id)).length === 1);
    other.sub.stop();
    await other.client.dispose();
    sub.stop();
    await client.dispose();
  });
});

describe('a record waits at most RECORD_MAX_DELAY_MS for the pause', () => {
  const server = platformWithAdminSession({ MESSAGE_ACK_TIMEOUT_MS: '60000' }, { messageTuning: { recordQuietMs: 10000, recordMaxDelayMs: 1500 } });
  test('pushes that go on without a pause still have their records written after the longest delay', async () => {
    const { t } = server;
    const { merchant, order, client, sub } = await subscribedMerchant(t);
    const firstSentAt = Date.now();
    // A push every 300 ms: never ten quiet seconds.
    const pushing = (async () => {
      for (let i = 0; i < 10; i++) {
        await quiet(300);
        await t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, [paidEvent(merchant.id, order, `steady ${i}`)]));
      }
    })();
    await waitUntil('records written while the pushes go on', async () => (await storedRecords(server, merchant.id)).length > 0);
    const writtenAfter = Date.now() - firstSentAt;
    expect(writtenAfter).toBeGreaterThanOrEqual(1400);
    expect(writtenAfter).toBeLessThan(3000);
    await pushing;
    await sub.waitFor(11);
    await waitUntil('every record written', async () => (await storedRecords(server, merchant.id)).length === 11);
    sub.stop();
    await client.dispose();
  });
});

describe('a pause is a pause of the whole channel: records wait while another message is being prepared', () => {
  const server = platformWithAdminSession({ MESSAGE_ACK_TIMEOUT_MS: '60000' }, { messageTuning: { recordQuietMs: 300, recordMaxDelayMs: 4000 } });
  // Its event's own fields only: pushed without an entity sub-query.
  const EVENT_FIELDS = 'subscription Events { orderEvents { id cursor type } }';
  test("a push's record waits while another subscription's message waits for its order (the orders table locked), at most RECORD_MAX_DELAY_MS", async () => {
    const { t, admin } = server;
    const entity = await subscribedMerchant(t);
    const { merchant, order } = await merchantWithOrder(t);
    const client = connectWs(t.url, merchant.token);
    const sub = subscribeWs(client, EVENT_FIELDS);
    await sub.waitFor(1);
    await waitUntil('both CREATED records after the pause', async () => (await storedRecords(server, entity.merchant.id)).length === 1 && (await storedRecords(server, merchant.id)).length === 1);

    await admin.query('begin');
    try {
      // The order subgraph cannot read orders: the first merchant's PAID waits for its `order` while it is prepared.
      await admin.query('lock table "order".orders in access exclusive mode');
      await t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, [paidEvent(entity.merchant.id, entity.order, 'held')]));
      await waitUntil("the order subgraph's read of the order to wait for the lock", async () => {
        const { rows } = await admin.query(`select 1 from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 'orders' and not l.granted`);
        return rows.length > 0;
      });
      await t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, [paidEvent(merchant.id, order, 'pushed')]));
      expect(eventsOf(await sub.waitFor(2))[1]).toMatchObject({ type: 'PAID' });
      const pushedAt = Date.now();
      // Far more than 300 quiet ms since that push, but a message is still being prepared: no record yet.
      await quiet(1500);
      expect(await storedRecords(server, merchant.id)).toEqual([{ type: 'order.created', acknowledged: false }]);
      expect(entity.sub.received).toHaveLength(1);
      // It waits at most the longest delay, though the other message is still held.
      await waitUntil("the pushed PAID's record", async () => (await storedRecords(server, merchant.id)).length === 2);
      const writtenAfter = Date.now() - pushedAt;
      expect(writtenAfter).toBeGreaterThanOrEqual(3000);
      expect(writtenAfter).toBeLessThan(6000);
      expect(entity.sub.received).toHaveLength(1);
    } finally {
      await admin.query('rollback');
    }
    // Released: the held message comes, with its order, and its record follows after the pause.
    expect(eventsOf(await entity.sub.waitFor(2))[1]).toMatchObject({ type: 'PAID', order: { id: entity.order.id, status: expect.any(String) } });
    await waitUntil("the held PAID's record", async () => (await storedRecords(server, entity.merchant.id)).length === 2);
    for (const { sub: s, client: c } of [entity, { sub, client }]) {
      s.stop();
      await c.dispose();
    }
  });
});
