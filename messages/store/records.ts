/**
 * Each app's records of the messages it was pushed: the original payload once per message, and
 * every push (time, connection, reason, attempt, what was pushed), encrypted with the app's key;
 * and the manual pushes it asked for.
 */
import { and, asc, desc, eq, getTableColumns, inArray, isNotNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Db } from '../../core/db.js';
import { isUuid } from '../../core/pagination.js';
import { open as openSealed, seal as cryptoSeal } from '../../core/sealing.js';
import { recordAad, type MessageCrypto } from '../crypto.js';
import { notifyControl } from '../notifications.js';
import type { OutboxEvent } from '../events.js';
import { messageCursors, messageDeliveries, messageRecords } from '../tables.js';
import { SOURCES, type MessageSource } from '../topics.js';
import { payloadForApp } from '../user-merged.js';
import type { OutboxReads } from './outbox-reads.js';
import { rowsOf } from './rows.js';

/** Why a message was pushed: new to the stream, again (unacknowledged), asked for, or after a reset or reconnection. */
export type DeliveryReason = 'LIVE' | 'REPUSH' | 'MANUAL' | 'REPLAY';

export interface DeliveryToRecord {
  appKey: string;
  event: OutboxEvent;
  connectionId: string;
  transport: 'ws' | 'sse';
  reason: DeliveryReason;
  attempt: number;
  pushed: unknown;
}

/**
 * The statement that writes a batch of pushes (see recordDeliveries): the pushes go as one JSON
 * parameter. A push that may write its message's record (`f`) does, with the push in it, unless the
 * record exists; every other push is a row of message_deliveries.
 */
const RECORD_PUSHES = new PgDialect().sqlToQuery(sql`
  with pushes as (
    select * from jsonb_to_recordset(${sql.placeholder('pushes')}::jsonb)
      as x(a text, m uuid, s text, p bigint, f boolean, e uuid, t text, o timestamptz, v int, b text, c text, tr text, r text, n int, pb text)
  ), records as (
    insert into ${messageRecords} (app_key, merchant_id, source, position, event_id, type, occurred_at, key_version, payload, connection_id, transport, reason, attempt, pushed)
    select a, m, s, p, e, t, o, v, b, c, tr, r, n, pb from pushes where f
    on conflict do nothing
    returning app_key, merchant_id, source, position
  )
  insert into ${messageDeliveries} (app_key, merchant_id, source, position, connection_id, transport, reason, attempt, key_version, pushed)
  select a, m, s, p, c, tr, r, n, v, pb from pushes x
  where not (x.f and exists (select 1 from records w where w.app_key = x.a and w.merchant_id = x.m and w.source = x.s and w.position = x.p))`);

export function createDeliveryRecords(db: Db, crypto: MessageCrypto, reads: OutboxReads) {
  // Prepared (parsed and planned once per connection): a burst writes it some twenty times, and
  // planning the statement each time cost PostgreSQL about a fifth of the write.
  const recordPushes = db._.session.prepareQuery(RECORD_PUSHES, undefined, 'message_record_pushes', false);
  return {
    /**
     * Marks events for a manual push to the app's next (or current) subscription. Events never pushed
     * get their record now (marked too: a message an acknowledgement covered without pushing it, one
     * a `types` filter left out, is pushed all the same). Returns the events found; ids that are not
     * this app's events of this merchant, and events at or below the stream's floor (not the app's),
     * are left out.
     */
    async requestRedelivery(appKey: string, merchantId: string, sources: readonly MessageSource[], ids: readonly string[], floor: Partial<Record<MessageSource, number>> = {}): Promise<OutboxEvent[]> {
      const events = (await reads.eventsById(merchantId, sources, ids)).filter((e) => e.position > (floor[e.source] ?? 0));
      if (!events.length) return [];
      await db.transaction(async (tx) => {
        const key = await crypto.currentKey(tx, appKey);
        await tx
          .insert(messageRecords)
          .values(events.map((e) => ({ ...recordValues(appKey, e, key), redeliverRequestedAt: sql`now()` })))
          .onConflictDoUpdate({
            target: [messageRecords.appKey, messageRecords.merchantId, messageRecords.source, messageRecords.position],
            set: { redeliverRequestedAt: sql`now()` },
          });
        await notifyControl(tx, { kind: 'redeliver', appKey, merchantId });
      });
      return events;
    },

    async pendingRedeliveries(appKey: string, merchantId: string, sources: readonly MessageSource[]): Promise<{ source: MessageSource; position: number; requestedAt: Date }[]> {
      const rows = await db
        .select({ source: messageRecords.source, position: messageRecords.position, requestedAt: messageRecords.redeliverRequestedAt })
        .from(messageRecords)
        .where(and(eq(messageRecords.appKey, appKey), eq(messageRecords.merchantId, merchantId), inArray(messageRecords.source, [...sources]), isNotNull(messageRecords.redeliverRequestedAt)))
        .orderBy(asc(messageRecords.source), asc(messageRecords.position))
        .limit(1000);
      return rows as { source: MessageSource; position: number; requestedAt: Date }[];
    },

    async clearRedelivery(appKey: string, merchantId: string, done: { source: MessageSource; position: number; requestedAt: Date }[]): Promise<void> {
      if (!done.length) return;
      const conditions: SQL[] = done.map((d) => and(eq(messageRecords.source, d.source), eq(messageRecords.position, d.position), lte(messageRecords.redeliverRequestedAt, d.requestedAt))!);
      await db
        .update(messageRecords)
        .set({ redeliverRequestedAt: null })
        .where(and(eq(messageRecords.appKey, appKey), eq(messageRecords.merchantId, merchantId), or(...conditions)));
    },

    /**
     * Writes a batch of pushes in one statement (atomic on its own, one round trip). A push of a
     * message the app has no record of yet writes the record with the push in it (one row); any
     * other push (a re-push, a second connection's push of the same message, the first push of a
     * record a manual-push request wrote) is a row of message_deliveries. The rows go as one JSON
     * parameter, so the statement's text is the same whatever the batch size (a burst writes about
     * a thousand).
     */
    async recordDeliveries(deliveries: readonly DeliveryToRecord[]): Promise<void> {
      if (!deliveries.length) return;
      const keys = new Map<string, { version: number; key: Buffer }>();
      for (const d of deliveries) if (!keys.has(d.appKey)) keys.set(d.appKey, await crypto.currentKey(db, d.appKey));
      const rows: { id: string; row: ReturnType<typeof pushRow> }[] = [];
      const seen = new Set<string>();
      for (const d of deliveries) {
        const id = `${d.appKey}|${d.event.merchantId}|${d.event.source}|${d.event.position}`;
        // Only a message's first push in the batch may write its record.
        const first = !seen.has(id);
        seen.add(id);
        rows.push({ id, row: pushRow(d, keys.get(d.appKey)!, first) });
      }
      // Batches are written concurrently (several connections, several gateways): inserting the
      // records in one order (their key; a function scan returns its rows in order) keeps two
      // batches that share a record from deadlocking.
      rows.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
      await recordPushes.execute({ pushes: JSON.stringify(rows.map((r) => r.row)) });
    },

    /** An app's records for a merchant, newest first, with their delivery attempts, decrypted. */
    async listRecords(appKey: string, merchantId: string, options: { sources: readonly MessageSource[]; first: number; before?: { source: string; position: number; firstPushedAt: Date } | null; unacknowledgedOnly?: boolean }) {
      const conditions = [eq(messageRecords.appKey, appKey), eq(messageRecords.merchantId, merchantId), inArray(messageRecords.source, [...options.sources])];
      // A record is acknowledged when an acknowledgement marked it, or when the cursor covers it (at
      // the latest when the cursor last moved): a push is sent as its record is written, and the
      // subscriber may acknowledge it through another gateway before the record is there to be marked.
      // (The record's columns named with their table: in a select list Drizzle writes columns bare,
      // which inside the subquery would name the cursor's own.)
      const record = (column: string) => sql`${messageRecords}.${sql.identifier(column)}`;
      const acknowledgedAt = sql<Date | null>`coalesce(${record('acknowledged_at')}, (select k.updated_at from ${messageCursors} k where k.app_key = ${record('app_key')} and k.merchant_id = ${record('merchant_id')} and k.source = ${record('source')} and k.acked_position >= ${record('position')}))`.mapWith(messageRecords.acknowledgedAt);
      if (options.unacknowledgedOnly) conditions.push(sql`${acknowledgedAt} is null`);
      if (options.before) {
        conditions.push(
          or(
            lt(messageRecords.firstPushedAt, options.before.firstPushedAt),
            and(eq(messageRecords.firstPushedAt, options.before.firstPushedAt), sql`(${messageRecords.source}, ${messageRecords.position}) < (${options.before.source}, ${options.before.position})`),
          )!,
        );
      }
      const rows = await db
        .select({ ...getTableColumns(messageRecords), acknowledgedAt })
        .from(messageRecords)
        .where(and(...conditions))
        .orderBy(desc(messageRecords.firstPushedAt), desc(messageRecords.source), desc(messageRecords.position))
        .limit(options.first + 1);
      const page = rows.slice(0, options.first);
      const deliveries = page.length
        ? await db
            .select()
            .from(messageDeliveries)
            .where(
              and(
                eq(messageDeliveries.appKey, appKey),
                eq(messageDeliveries.merchantId, merchantId),
                or(...page.map((r) => and(eq(messageDeliveries.source, r.source), eq(messageDeliveries.position, r.position))!)),
              ),
            )
            .orderBy(asc(messageDeliveries.pushedAt), asc(messageDeliveries.id))
        : [];
      const decrypt = async (version: number, sealed: string, aad: string) => JSON.parse(openSealed(await crypto.keyVersion(db, appKey, version), sealed, aad).toString('utf8')) as unknown;
      const items = [];
      for (const r of page) {
        const { connectionId, transport, reason, attempt, pushed, ...record } = r;
        // The push that wrote the record (if one did) came first; the others are in message_deliveries.
        const own = deliveries.filter((d) => d.source === r.source && d.position === r.position);
        const all =
          pushed !== null && connectionId !== null && transport !== null && reason !== null && attempt !== null
            ? [{ connectionId, transport, reason, attempt, keyVersion: r.keyVersion, pushed, pushedAt: r.firstPushedAt }, ...own]
            : own;
        items.push({
          ...record,
          payload: await decrypt(r.keyVersion, r.payload, recordAad(appKey, merchantId, r.source, r.position, 'payload')),
          deliveries: await Promise.all(
            all.map(async (d) => ({
              connectionId: d.connectionId,
              transport: d.transport,
              reason: d.reason,
              attempt: d.attempt,
              pushedAt: d.pushedAt,
              keyVersion: d.keyVersion,
              pushed: await decrypt(d.keyVersion, d.pushed, recordAad(appKey, merchantId, r.source, r.position, 'pushed')),
            })),
          ),
        });
      }
      return { items, hasMore: rows.length > options.first };
    },

    /**
     * The highest position this app may have been pushed per source (what is a replay): the
     * highest of its records and of its streams' pushed marks (a push is marked before it is sent,
     * recorded after). Every subscription asks when it opens: one max per source, each a step down
     * the records' primary key, not a scan of the stream's records (a max grouped by source read all
     * of them: 62 ms for 300,000 records, against 0.2 ms so).
     */
    async highestPushed(appKey: string, merchantId: string): Promise<Record<string, number>> {
      if (!isUuid(merchantId)) return {};
      const sources = sql.join(
        SOURCES.map((source) => sql`(${source})`),
        sql`, `,
      );
      const result = await db.execute(sql`
        select s.source, greatest(
          (select max(r.position) from ${messageRecords} r where r.app_key = ${appKey} and r.merchant_id = ${merchantId} and r.source = s.source),
          (select c.pushed_position from ${messageCursors} c where c.app_key = ${appKey} and c.merchant_id = ${merchantId} and c.source = s.source)
        ) as position
        from (values ${sources}) as s(source)`);
      const rows = rowsOf(result) as unknown as { source: string; position: string | number | null }[];
      return Object.fromEntries(rows.filter((r) => r.position !== null).map((r) => [r.source, Number(r.position)]));
    },
  };
}

export type DeliveryRecords = ReturnType<typeof createDeliveryRecords>;

function recordValues(appKey: string, event: OutboxEvent, key: { version: number; key: Buffer }) {
  return {
    appKey,
    merchantId: event.merchantId,
    source: event.source,
    position: event.position,
    eventId: event.id,
    type: event.type,
    occurredAt: event.occurredAt,
    keyVersion: key.version,
    // An app's record of a merge holds its own identifiers only (user-merged.ts).
    payload: cryptoSeal(key.key, JSON.stringify(payloadForApp(event.type, event.payload, appKey)), recordAad(appKey, event.merchantId, event.source, event.position, 'payload')),
  };
}

/**
 * A push as recordDeliveries writes it (short keys: a burst sends a thousand of them as JSON). `f`:
 * the message's first push in the batch, which writes its record (with the original payload `b`) if
 * there is none yet; the record's fields go only with it.
 */
function pushRow(d: DeliveryToRecord, key: { version: number; key: Buffer }, first: boolean) {
  const { appKey, event } = d;
  const pushed = cryptoSeal(key.key, JSON.stringify(d.pushed), recordAad(appKey, event.merchantId, event.source, event.position, 'pushed'));
  const push = { a: appKey, m: event.merchantId, s: event.source, p: event.position, f: first, v: key.version, c: d.connectionId, tr: d.transport, r: d.reason, n: d.attempt, pb: pushed };
  if (!first) return push;
  const r = recordValues(appKey, event, key);
  return { ...push, e: r.eventId, t: r.type, o: r.occurredAt.toISOString(), b: r.payload };
}
