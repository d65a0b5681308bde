/**
 * The read coalescer (messages/channel/read-coalescer.ts): reads asked in one turn of the event
 * loop go to the outbox as one query per source and type filter (at most MAX_READS_PER_QUERY reads
 * each), and reads of one merchant at one position share one read; each asker gets its own
 * merchant's events. Over the real store on an in-memory PGlite database with the order outbox.
 * It keeps no time of its own (a turn of the event loop is ordering, not time), so no clock here.
 */
import crypto from 'node:crypto';
import { openPglite, type Database } from '../core/db.js';
import { createReadCoalescer, MAX_READS_PER_QUERY } from '../messages/channel/read-coalescer.js';
import { createMessageCrypto } from '../messages/crypto.js';
import { recordEvents } from '../messages/outbox.js';
import { createMessageStore, type MessageStore } from '../messages/store/index.js';
import { outboxEvents } from '../subgraphs/order/tables.js';

let database: Database;
let store: MessageStore;

beforeAll(async () => {
  database = await openPglite(null);
  await database.migrate('order');
  await database.migrate('app-management');
  store = createMessageStore(database.db, createMessageCrypto([{ id: 'kek-1', key: crypto.randomBytes(32) }]));
});
afterAll(async () => {
  await database.close();
});

/** A new merchant with events of these types (oldest first); returns the merchant and the events' ids. */
async function merchantWith(types: string[]) {
  const merchantId = crypto.randomUUID();
  await database.db.transaction((tx) =>
    recordEvents(tx, outboxEvents, types.map((type, i) => ({ merchantId, aggregateType: 'order', aggregateId: `o${i}`, type, payload: {} }))),
  );
  const [events] = await store.eventsAfterMany('order', undefined, [{ merchantId, after: 0, limit: 100 }]);
  return { merchantId, events: events! };
}

test("reads of one turn go as one query per type filter, each asker gets its own merchant's events, and one merchant's reads at one position are one read", async () => {
  const a = await merchantWith(['order.created', 'order.paid', 'order.shipped']);
  const b = await merchantWith(['order.created', 'order.paid']);
  let queries = 0;
  const reads = createReadCoalescer(store, () => queries++);

  const [allOfA, allOfB, restOfA, againAllOfA, paidOfB] = await Promise.all([
    reads.read(a.merchantId, 'order', 0, 10, undefined),
    reads.read(b.merchantId, 'order', 0, 10, undefined),
    reads.read(a.merchantId, 'order', a.events[0]!.position, 10, undefined),
    reads.read(a.merchantId, 'order', 0, 10, undefined),
    reads.read(b.merchantId, 'order', 0, 10, ['order.paid']),
  ]);
  // Two queries: every read without a type filter in one, the filtered one in another.
  expect(queries).toBe(2);
  expect(allOfA.map((e) => e.id)).toEqual(a.events.map((e) => e.id));
  expect(allOfB.map((e) => e.id)).toEqual(b.events.map((e) => e.id));
  expect(restOfA.map((e) => e.id)).toEqual(a.events.slice(1).map((e) => e.id));
  expect(paidOfB.map((e) => e.type)).toEqual(['order.paid']);
  // The same read of the same turn: one result, shared.
  expect(againAllOfA).toBe(allOfA);
  expect(new Set([...allOfA, ...allOfB].map((e) => e.merchantId))).toEqual(new Set([a.merchantId, b.merchantId]));

  // The next turn is a new query, which sees what committed since.
  await database.db.transaction((tx) => recordEvents(tx, outboxEvents, [{ merchantId: a.merchantId, aggregateType: 'order', aggregateId: 'o9', type: 'order.cancelled', payload: {} }]));
  const later = await reads.read(a.merchantId, 'order', a.events.at(-1)!.position, 10, undefined);
  expect(queries).toBe(3);
  expect(later.map((e) => e.type)).toEqual(['order.cancelled']);
});

test(`more than ${MAX_READS_PER_QUERY} reads in one turn go in queries of at most ${MAX_READS_PER_QUERY}, and a limit is each read's own`, async () => {
  const merchant = await merchantWith(['order.created', 'order.paid']);
  let queries = 0;
  const reads = createReadCoalescer(store, () => queries++);
  // Distinct reads of one merchant (another limit each), so none are shared.
  const results = await Promise.all(Array.from({ length: MAX_READS_PER_QUERY + 1 }, (_, i) => reads.read(merchant.merchantId, 'order', 0, i + 1, undefined)));
  expect(queries).toBe(2);
  expect(results[0]!.map((e) => e.id)).toEqual([merchant.events[0]!.id]);
  expect(results[MAX_READS_PER_QUERY]!.map((e) => e.id)).toEqual(merchant.events.map((e) => e.id));
});

test('a read that fails fails every read of its query, and the next turn reads again', async () => {
  const merchant = await merchantWith(['order.created']);
  let failing = true;
  const reads = createReadCoalescer({
    eventsAfterMany: (source, types, requests) => (failing ? Promise.reject(new Error('connection lost')) : store.eventsAfterMany(source, types, requests)),
  });
  const both = [reads.read(merchant.merchantId, 'order', 0, 10, undefined), reads.read(merchant.merchantId, 'order', 0, 5, undefined)];
  for (const read of both) await expect(read).rejects.toThrow('connection lost');
  failing = false;
  expect((await reads.read(merchant.merchantId, 'order', 0, 10, undefined)).map((e) => e.id)).toEqual(merchant.events.map((e) => e.id));
});
