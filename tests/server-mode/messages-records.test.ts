/**
 * A message is sent only once its delivery record is committed, whichever thread writes the record
 * (core/messages/record-writer.ts): a burst's batch goes to the gateway's record worker, a few
 * records are written by the gateway's own thread. A record that cannot be written keeps its message
 * from being sent, the subscription ends with a clear error, and nothing is lost; so does a record
 * worker that dies (here: its heap limit), and the next batch starts a new one.
 * PostgreSQL only: it holds a table lock from another session and ends the writing backend.
 */
import { recordEvents } from '../../core/outbox.js';
import { outboxEvents } from '../../subgraphs/order/tables.js';
import { merchantWithOrder } from '../helpers/factories.js';
import { ORDER_EVENTS, connectWs, paidEvent, subscribeWs, type Collector, type Received } from '../helpers/messages.js';
import { platformWithAdminSession, waitUntil } from '../helpers/platform.js';

type Server = ReturnType<typeof platformWithAdminSession>;

const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));
const eventsOf = (received: Received[]) => received.map((r) => r.data!.orderEvents);

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
    // Its connection ends in the middle of the write: the records are not written, so the message is not sent.
    await server.admin.query('select pg_terminate_backend($1)', [pid]);
    for (const sub of subs) await sub.waitForEnd();
  } finally {
    await server.admin.query('rollback');
  }
  for (const sub of subs) {
    // Each subscription's last message says why, and that subscribing again brings it.
    expect(sub.received).toHaveLength(2);
    expect(sub.received[1]).toEqual({ errors: [{ message: expect.stringMatching(/could not be recorded, so it was not sent; subscribe again/), extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true } }] });
  }
  await client.dispose();

  // The next connection gets it (after the unacknowledged CREATED), and its push is recorded.
  const again = connectWs(server.t.url, merchant.token);
  const resumed = subscribeWs(again, ORDER_EVENTS);
  const got = eventsOf(await resumed.waitFor(2));
  expect(got.map((e) => e.id)).toEqual([created.id, paidId!]);
  expect(got[1]).toMatchObject({ type: 'PAID', reason: 'LIVE', attempt: 1 });
  resumed.stop();
  await again.dispose();
  const records = await server.t.gql<any>(merchant.token, '{ messageRecords(topics: [ORDERS]) { nodes { id deliveries { reason attempt pushed } } } }');
  expect(records.errors).toBeUndefined();
  const paidRecord = records.data.messageRecords.nodes.find((n: { id: string }) => n.id === paidId!);
  expect(paidRecord.deliveries.map((d: { reason: string }) => d.reason)).toEqual(['LIVE']);
  expect(paidRecord.deliveries[0].pushed.data.orderEvents.id).toBe(paidId!);
}

describe('records of the gateway\'s own thread (a batch smaller than MESSAGE_RECORD_WORKER_BATCH, 32 by default)', () => {
  const server = platformWithAdminSession({ MESSAGE_ACK_TIMEOUT_MS: '60000' });
  test('a push whose record cannot be written is not sent: the subscription ends with SERVICE_UNAVAILABLE (retryable), and the next connection gets the message, recorded', async () => {
    // One push: its record is written by the gateway's own thread (the test platform's pool is "portico").
    await recordWriteFails(server, 1, 'portico');
  });
});

describe('records of the record worker', () => {
  // Every batch goes to the worker: how many pushes of one moment become one batch depends on
  // timing (a burst's are 50 and more; here they may come in several ticks).
  const server = platformWithAdminSession({ MESSAGE_ACK_TIMEOUT_MS: '60000', MESSAGE_RECORD_WORKER_BATCH: '1' });
  test('the same when the record worker writes them: pushes of several subscriptions, none of them sent; the next connection gets the message, recorded', async () => {
    await recordWriteFails(server, 8, 'portico-gateway-records');
  });
});

describe('a record worker that dies', () => {
  // Every batch goes to the worker, whose heap is bounded at 64 MB: the record of an event with 40 MB
  // of payload (sealed, as JSON, then base64) is more than it can hold, and the worker is ended.
  const server = platformWithAdminSession({ MESSAGE_ACK_TIMEOUT_MS: '60000', MESSAGE_RECORD_WORKER_BATCH: '1', MESSAGE_RECORD_WORKER_MAX_HEAP_MB: '64' });
  const workerBackends = async () =>
    (
      await server.admin.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and application_name = 'portico-gateway-records' order by pid`)
    ).rows.map((r) => r.pid);

  test('fails only the pushes it was writing (not sent, the subscriptions end with SERVICE_UNAVAILABLE), the gateway goes on, and the next write starts a new worker', async () => {
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
      expect(sub.received).toHaveLength(2);
      expect(sub.received[1]).toEqual({ errors: [{ message: expect.stringMatching(/could not be recorded, so it was not sent; subscribe again/), extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true } }] });
    }
    await client.dispose();
    // The worker's connections ended with it.
    await waitUntil("the dead worker's connections to end", async () => (await workerBackends()).every((pid) => !before.includes(pid)));
    // Its message was not recorded (nor sent): it stays unacknowledged in the merchant's stream.
    const records = await server.t.gql<any>(merchant.token, '{ messageRecords(topics: [ORDERS]) { nodes { id type } } }');
    expect(records.errors).toBeUndefined();
    expect(records.data.messageRecords.nodes.map((n: { type: string }) => n.type)).toEqual(['order.created']);

    // The gateway still serves; another merchant's push starts a new worker, which records it.
    const other = await merchantWithOrder(server.t);
    const otherClient = connectWs(server.t.url, other.merchant.token);
    const otherSub = subscribeWs(otherClient, ORDER_EVENTS);
    const otherCreated = eventsOf(await otherSub.waitFor(1))[0];
    const after = await workerBackends();
    expect(after.length).toBeGreaterThan(0);
    expect(after.some((pid) => before.includes(pid))).toBe(false);
    otherSub.stop();
    await otherClient.dispose();
    const otherRecords = await server.t.gql<any>(other.merchant.token, '{ messageRecords(topics: [ORDERS]) { nodes { id deliveries { reason pushed } } } }');
    expect(otherRecords.errors).toBeUndefined();
    expect(otherRecords.data.messageRecords.nodes.find((n: { id: string }) => n.id === otherCreated.id).deliveries).toEqual([{ reason: 'LIVE', pushed: expect.objectContaining({ data: expect.anything() }) }]);
  });
});
