/**
 * A message is sent only once its delivery record is committed, whichever thread writes the record
 * (core/messages/record-writer.ts): a burst's batch goes to the gateway's record worker, a few
 * records are written by the gateway's own thread. A record that cannot be written keeps its message
 * from being sent, the subscription ends with a clear error, and nothing is lost.
 * PostgreSQL only: it holds a table lock from another session and ends the writing backend.
 */
import pg from 'pg';
import { recordEvents } from '../../core/outbox.js';
import { outboxEvents } from '../../subgraphs/order/tables.js';
import { createMerchant, createProduct, placeOrder } from '../helpers/factories.js';
import { ORDER_EVENTS, connectWs, paidEvent, subscribeWs, type Collector, type Received } from '../helpers/messages.js';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';

let t: TestPlatform;
let admin: pg.Client;
beforeAll(async () => {
  t = await startTestPlatform({ extraEnv: { MESSAGE_ACK_TIMEOUT_MS: '60000' } });
  admin = new pg.Client({ connectionString: t.env.DATABASE_URL });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  await t?.stop();
});

const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));
const eventsOf = (received: Received[]) => received.map((r) => r.data!.orderEvents);

/**
 * `subscriptions` subscriptions of one merchant on one connection, each having received the order's
 * CREATED event; then the PAID event is committed while another session holds the records table, and
 * the backend whose record statement waits for it (the one named `writer`) is ended.
 */
async function recordWriteFails(subscriptions: number, writer: string) {
  const merchant = await createMerchant(t);
  const product = await createProduct(t, merchant.token, [{ stock: 10 }]);
  const placed = await placeOrder(t, merchant.token, [{ skuId: product.skus[0]!.id, quantity: 1 }]);
  if (placed.errors) throw new Error(JSON.stringify(placed.errors));
  const order = placed.data!.placeOrder.order as { id: string; number: string };
  const client = connectWs(t.url, merchant.token);
  const subs: Collector[] = Array.from({ length: subscriptions }, () => subscribeWs(client, ORDER_EVENTS));
  const created = eventsOf(await subs[0]!.waitFor(1))[0];
  for (const sub of subs) expect(eventsOf(await sub.waitFor(1))[0].id).toBe(created.id);
  await quiet(300);

  await admin.query('begin');
  await admin.query('lock table app_management.message_records in access exclusive mode');
  let paidId: string;
  try {
    await t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, [paidEvent(merchant.id, order, 'records')]));
    paidId = (await admin.query<{ id: string }>(`select id from "order".outbox_events where aggregate_id = $1 and type = 'order.paid'`, [order.id])).rows[0]!.id;
    const waitingWriter = async () => {
      const { rows } = await admin.query<{ pid: number }>(
        `select distinct a.pid from pg_stat_activity a join pg_locks l on l.pid = a.pid
         where a.datname = current_database() and a.application_name = $1 and not l.granted`,
        [writer],
      );
      return rows[0]?.pid;
    };
    const deadline = Date.now() + 10_000;
    let pid: number | undefined;
    while (!(pid = await waitingWriter())) {
      if (Date.now() > deadline) throw new Error(`no backend of ${writer} waited for the records table`);
      await quiet(20);
    }
    // Its connection ends in the middle of the write: the records are not written, so the message is not sent.
    await admin.query('select pg_terminate_backend($1)', [pid]);
    for (const sub of subs) await sub.waitForEnd();
  } finally {
    await admin.query('rollback');
  }
  for (const sub of subs) {
    // Each subscription's last message says why, and that subscribing again brings it.
    expect(sub.received).toHaveLength(2);
    expect(sub.received[1]).toEqual({ errors: [{ message: expect.stringMatching(/could not be recorded, so it was not sent; subscribe again/), extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true } }] });
  }
  await client.dispose();

  // The next connection gets it (after the unacknowledged CREATED), and its push is recorded.
  const again = connectWs(t.url, merchant.token);
  const resumed = subscribeWs(again, ORDER_EVENTS);
  const got = eventsOf(await resumed.waitFor(2));
  expect(got.map((e) => e.id)).toEqual([created.id, paidId!]);
  expect(got[1]).toMatchObject({ type: 'PAID', reason: 'LIVE', attempt: 1 });
  resumed.stop();
  await again.dispose();
  const records = await t.gql<any>(merchant.token, '{ messageRecords(topics: [ORDERS]) { nodes { id deliveries { reason attempt pushed } } } }');
  expect(records.errors).toBeUndefined();
  const paidRecord = records.data.messageRecords.nodes.find((n: { id: string }) => n.id === paidId!);
  expect(paidRecord.deliveries.map((d: { reason: string }) => d.reason)).toEqual(['LIVE']);
  expect(paidRecord.deliveries[0].pushed.data.orderEvents.id).toBe(paidId!);
}

test('a push whose record cannot be written is not sent: the subscription ends with SERVICE_UNAVAILABLE (retryable), and the next connection gets the message, recorded', async () => {
  // One push: its record is written by the gateway's own thread (the test platform's pool is "portico").
  await recordWriteFails(1, 'portico');
});

test('the same when the record worker writes them: forty pushes of one moment, none of them sent; the next connection gets the message, recorded', async () => {
  await recordWriteFails(40, 'portico-gateway-records');
});
