/**
 * The retention purge with several gateways on one PostgreSQL server: one purges at a time. A run
 * that finds another holding the purge's advisory lock (here: a session of the test's own, as
 * another gateway would in the middle of a batch) stops at once, deletes nothing and says so; the
 * next run, once the lock is free, deletes what expired. PostgreSQL only: it holds the lock from
 * another session.
 */
import crypto from 'node:crypto';
import { recordEvents } from '../../messages/outbox.js';
import { outboxEvents } from '../../subgraphs/order/tables.js';
import { createMerchant } from '../helpers/factories.js';
import { paidEvent } from '../helpers/messages.js';
import { platformWithAdminSession } from '../helpers/platform.js';

const server = platformWithAdminSession({ MESSAGE_RETENTION_DAYS: '30' });
const DAY = 86_400_000;

test('a purge that finds another gateway purging deletes nothing and says so; the next one deletes', async () => {
  const m = await createMerchant(server.t);
  const events = ['lock-1', 'lock-2'].map((note) => ({ ...paidEvent(m.id, { id: crypto.randomUUID(), number: note }, note), occurredAt: new Date(Date.now() - 40 * DAY) }));
  await server.t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, events));
  const left = async () => Number((await server.admin.query<{ n: string }>(`select count(*) as n from "order".outbox_events where merchant_id = $1`, [m.id])).rows[0]!.n);
  expect(await left()).toBe(2);

  await server.admin.query('begin');
  try {
    await server.admin.query(`select pg_advisory_xact_lock(hashtext('portico.message_retention'))`);
    expect(await server.t.platform.gateway.channel!.purgeExpired()).toEqual({ events: 0, records: 0, skipped: true });
    expect(await left()).toBe(2);
  } finally {
    await server.admin.query('commit');
  }

  expect(await server.t.platform.gateway.channel!.purgeExpired()).toMatchObject({ events: 2, skipped: false });
  expect(await left()).toBe(0);
});
