/**
 * The message channel's queries: reading a merchant's events from the subgraphs' outboxes (the
 * channel's relay reads them directly, as the outbox pattern intends: same database, read-only),
 * and keeping each app's cursors, records and delivery attempts.
 */
import { and, asc, desc, eq, getTableColumns, inArray, isNotNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Db, Executor } from '../db.js';
import { isUuid } from '../pagination.js';
import { open as openSealed, recordAad, seal as cryptoSeal, type MessageCrypto } from './crypto.js';
import { messageCursors, messageDeliveries, messageRecords, messageRetention } from './tables.js';
import { publishedTypes, SOURCES, topicOfSource, type MessageSource } from './topics.js';

export interface OutboxEvent {
  source: MessageSource;
  position: number;
  id: string;
  merchantId: string;
  aggregateType: string;
  aggregateId: string;
  type: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

export type Positions = Partial<Record<MessageSource, number>>;

export interface DeliveryToRecord {
  appKey: string;
  event: OutboxEvent;
  connectionId: string;
  transport: 'ws' | 'sse';
  reason: 'LIVE' | 'REPUSH' | 'MANUAL' | 'REPLAY';
  attempt: number;
  pushed: unknown;
}

/** Acknowledgements, resets and manual pushes, NOTIFYed so that every gateway's live subscriptions follow at once. */
export const MESSAGE_CONTROL_CHANNEL = 'portico_messages';

export interface ControlMessage {
  /** `purged`: the retention purge deleted events (appKey `*`); every gateway checks its open streams. */
  kind: 'ack' | 'reset' | 'redeliver' | 'key_rotated' | 'purged';
  appKey: string;
  merchantId?: string;
  positions?: Record<string, number>;
}

export const notifyControl = (tx: Executor, message: ControlMessage) => tx.execute(sql`select pg_notify(${MESSAGE_CONTROL_CHANNEL}, ${JSON.stringify(message)})`);

const outbox = (source: MessageSource) => sql.raw(`"${topicOfSource(source).schema}"."outbox_events"`);

interface OutboxRow {
  position: string | number;
  id: string;
  merchant_id: string;
  aggregate_type: string;
  aggregate_id: string;
  type: string;
  payload: Record<string, unknown> | string;
  occurred_at: Date | string;
}

const rowsOf = (result: unknown): OutboxRow[] => ((result as { rows?: OutboxRow[] }).rows ?? (result as OutboxRow[]));

function toEvent(source: MessageSource, row: OutboxRow): OutboxEvent {
  return {
    source,
    position: Number(row.position),
    id: row.id,
    merchantId: row.merchant_id,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    type: row.type,
    payload: typeof row.payload === 'string' ? (JSON.parse(row.payload) as Record<string, unknown>) : row.payload,
    occurredAt: row.occurred_at instanceof Date ? row.occurred_at : new Date(row.occurred_at),
  };
}

const COLUMNS = sql.raw('position, id, merchant_id, aggregate_type, aggregate_id, type, payload, occurred_at');

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

/**
 * How old an authorization must be before its stream floor is kept (streamFloor): events are
 * stamped when their transaction begins, so one begun just before the authorization may commit
 * after it. Ten minutes is far beyond any transaction of the subgraphs.
 */
export const FLOOR_SETTLED_MS = 10 * 60_000;

/** Rows the retention purge deletes per statement (one short transaction each). */
export const PURGE_BATCH = 5000;

/** What one run of the retention purge deleted; `skipped` when another gateway was purging. */
export interface PurgeResult {
  events: number;
  records: number;
  skipped: boolean;
}

export function createMessageStore(db: Db, crypto: MessageCrypto) {
  // Prepared (parsed and planned once per connection): a burst writes it some twenty times, and
  // planning the statement each time cost PostgreSQL about a fifth of the write.
  const recordPushes = db._.session.prepareQuery(RECORD_PUSHES, undefined, 'message_record_pushes', false);
  return {
    /**
     * Published events of one source after a position, oldest first, for many streams (merchant,
     * position, limit) in one query: the channel reads for every subscription woken in the same
     * moment at once. Results are in the order of the requests.
     */
    async eventsAfterMany(source: MessageSource, types: readonly string[] | null | undefined, requests: readonly { merchantId: string; after: number; limit: number }[]): Promise<OutboxEvent[][]> {
      const wanted = publishedTypes(source, types);
      const results: OutboxEvent[][] = requests.map(() => []);
      const valid = requests.map((r, i) => ({ m: r.merchantId, a: r.after, l: r.limit, i })).filter((r) => isUuid(r.m) && r.l > 0);
      if (!wanted.length || !valid.length) return results;
      const result = await db.execute(
        sql`select r.i, e.* from jsonb_to_recordset(${JSON.stringify(valid)}::jsonb) as r(m uuid, a bigint, l int, i int)
            cross join lateral (select ${COLUMNS} from ${outbox(source)} where merchant_id = r.m and position > r.a and type in ${wanted} order by position limit r.l) e`,
      );
      for (const row of rowsOf(result) as (OutboxRow & { i: number })[]) results[Number(row.i)]!.push(toEvent(source, row));
      for (const list of results) list.sort((x, y) => x.position - y.position);
      return results;
    },

    /** Events by position (for re-push and manual push). */
    async eventsAt(merchantId: string, source: MessageSource, positions: readonly number[]): Promise<OutboxEvent[]> {
      if (!positions.length) return [];
      const result = await db.execute(sql`select ${COLUMNS} from ${outbox(source)} where merchant_id = ${merchantId} and position in ${positions} order by position`);
      return rowsOf(result).map((r) => toEvent(source, r));
    },

    /** Events by id, across the given sources, of one merchant. */
    async eventsById(merchantId: string, sources: readonly MessageSource[], ids: readonly string[]): Promise<OutboxEvent[]> {
      const uuids = ids.filter(isUuid);
      if (!uuids.length) return [];
      const found: OutboxEvent[] = [];
      for (const source of sources) {
        const result = await db.execute(sql`select ${COLUMNS} from ${outbox(source)} where merchant_id = ${merchantId} and id in ${uuids} and type in ${publishedTypes(source)}`);
        found.push(...rowsOf(result).map((r) => toEvent(source, r)));
      }
      return found;
    },

    /** The position of the last event before a time (0 when none): where a stream starts to replay from that time. */
    async positionBefore(merchantId: string, source: MessageSource, time: Date): Promise<number> {
      const result = await db.execute(sql`select coalesce(max(position), 0) as position from ${outbox(source)} where merchant_id = ${merchantId} and occurred_at < ${time.toISOString()}`);
      return Number((rowsOf(result)[0] as unknown as { position: string | number }).position);
    },

    /**
     * The positions an app's stream of a merchant never goes below: the last event before the
     * merchant authorized the app (the passport grant's `authorized_at`). Events before it are not
     * the app's, whatever cursor or time it asks for. Without an authorization time (tokens minted
     * by operators for the local instance), 0.
     *
     * Finding it reads the merchant's events on one side of that time (positionBefore: 264 ms of
     * PostgreSQL for a merchant with 900,000 events since), and every subscription that starts
     * `after` a cursor needs it (an ERP resuming from its own cursor, each time it reconnects). So
     * once the authorization is FLOOR_SETTLED_MS old (no transaction begun before it can still
     * commit an event), the floor is kept in the stream's cursor rows, with the authorization time
     * it is of: a new authorization (the merchant authorized the app again) finds its own.
     */
    async streamFloor(appKey: string, merchantId: string, sources: readonly MessageSource[], authorizedAt: Date | null): Promise<Record<MessageSource, number>> {
      const floor = {} as Record<MessageSource, number>;
      if (!authorizedAt) {
        for (const source of sources) floor[source] = 0;
        return floor;
      }
      const stored = await db
        .select({ source: messageCursors.source, floorPosition: messageCursors.floorPosition, floorFor: messageCursors.floorFor })
        .from(messageCursors)
        .where(and(eq(messageCursors.appKey, appKey), eq(messageCursors.merchantId, merchantId), inArray(messageCursors.source, [...sources])));
      const settled = Date.now() - authorizedAt.getTime() >= FLOOR_SETTLED_MS;
      for (const source of sources) {
        const row = stored.find((r) => r.source === source);
        if (row && row.floorPosition !== null && row.floorFor?.getTime() === authorizedAt.getTime()) {
          floor[source] = row.floorPosition;
          continue;
        }
        floor[source] = await this.positionBefore(merchantId, source, authorizedAt);
        // Kept on the stream's cursor row once it exists (the stream's first subscription creates it).
        if (row && settled) {
          await db
            .update(messageCursors)
            .set({ floorPosition: floor[source], floorFor: authorizedAt })
            .where(and(eq(messageCursors.appKey, appKey), eq(messageCursors.merchantId, merchantId), eq(messageCursors.source, source)));
        }
      }
      return floor;
    },

    /**
     * Where an app's stream of a merchant stands. A stream seen for the first time starts at the
     * merchant's authorization of the app (events before it are not the app's), or at the start when
     * that is unknown, and never before what the retention purge deleted; the start is stored so that
     * it stays put.
     */
    async acknowledgedPositions(appKey: string, merchantId: string, sources: readonly MessageSource[], startFrom: Date | null): Promise<Record<MessageSource, number>> {
      const rows = await db
        .select({ source: messageCursors.source, position: messageCursors.ackedPosition })
        .from(messageCursors)
        .where(and(eq(messageCursors.appKey, appKey), eq(messageCursors.merchantId, merchantId), inArray(messageCursors.source, [...sources])));
      const positions = Object.fromEntries(rows.map((r) => [r.source, r.position])) as Record<MessageSource, number>;
      const missing = sources.filter((source) => positions[source] === undefined);
      // A new stream has acknowledged nothing, so it lost nothing to the retention purge: it starts at the oldest message kept.
      const purged = missing.length ? await this.purgedThrough(merchantId, missing) : {};
      for (const source of missing) {
        const start = Math.max(startFrom ? await this.positionBefore(merchantId, source, startFrom) : 0, purged[source]?.position ?? 0);
        const [stored] = await db
          .insert(messageCursors)
          .values({ appKey, merchantId, source, ackedPosition: start })
          .onConflictDoUpdate({ target: [messageCursors.appKey, messageCursors.merchantId, messageCursors.source], set: { appKey } })
          .returning({ position: messageCursors.ackedPosition });
        positions[source] = stored!.position;
      }
      return positions;
    },

    /** Moves cursors forward (never back) and marks the records up to them acknowledged. Returns the cursors after. */
    async acknowledge(appKey: string, merchantId: string, upTo: Positions): Promise<Record<string, number>> {
      return db.transaction(async (tx) => {
        const after: Record<string, number> = {};
        for (const [source, position] of Object.entries(upTo) as [MessageSource, number][]) {
          // Records up to the cursor before this acknowledgement are acknowledged already: only the
          // range since then is marked, so an acknowledgement costs what it covers, not the history.
          await tx
            .update(messageRecords)
            .set({ acknowledgedAt: sql`now()` })
            .where(
              and(
                eq(messageRecords.appKey, appKey),
                eq(messageRecords.merchantId, merchantId),
                eq(messageRecords.source, source),
                lte(messageRecords.position, position),
                sql`${messageRecords.position} > coalesce((select ${messageCursors.ackedPosition} from ${messageCursors} where ${messageCursors.appKey} = ${appKey} and ${messageCursors.merchantId} = ${merchantId} and ${messageCursors.source} = ${source}), 0)`,
                sql`${messageRecords.acknowledgedAt} is null`,
              ),
            );
          const [row] = await tx
            .insert(messageCursors)
            .values({ appKey, merchantId, source, ackedPosition: position })
            .onConflictDoUpdate({
              target: [messageCursors.appKey, messageCursors.merchantId, messageCursors.source],
              set: { ackedPosition: sql`greatest(${messageCursors.ackedPosition}, excluded.acked_position)`, updatedAt: sql`now()` },
            })
            .returning({ position: messageCursors.ackedPosition });
          after[source] = row!.position;
        }
        await notifyControl(tx, { kind: 'ack', appKey, merchantId, positions: after });
        return after;
      });
    },

    /** Sets cursors (forward or back): the stream replays from there. */
    async resetCursors(appKey: string, merchantId: string, to: Record<string, number>): Promise<void> {
      await db.transaction(async (tx) => {
        for (const [source, position] of Object.entries(to)) {
          await tx
            .insert(messageCursors)
            .values({ appKey, merchantId, source, ackedPosition: position })
            .onConflictDoUpdate({ target: [messageCursors.appKey, messageCursors.merchantId, messageCursors.source], set: { ackedPosition: position, updatedAt: sql`now()` } });
        }
        await notifyControl(tx, { kind: 'reset', appKey, merchantId, positions: to });
      });
    },

    /**
     * Marks events for a manual push to the app's next (or current) subscription. Events never pushed
     * get their record now (marked too: a message an acknowledgement covered without pushing it, one
     * a `types` filter left out, is pushed all the same). Returns the events found; ids that are not
     * this app's events of this merchant, and events at or below the stream's floor (not the app's),
     * are left out.
     */
    async requestRedelivery(appKey: string, merchantId: string, sources: readonly MessageSource[], ids: readonly string[], floor: Partial<Record<MessageSource, number>> = {}): Promise<OutboxEvent[]> {
      const events = (await this.eventsById(merchantId, sources, ids)).filter((e) => e.position > (floor[e.source] ?? 0));
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

    /**
     * The retention purge: deletes the topics' outbox events that occurred before `cutoff`, and the
     * records (with their deliveries) of such events, oldest first, `batch` rows per transaction.
     * Each outbox batch notes per merchant how far it went (message_retention), in the same
     * transaction as the delete, and NOTIFYs `purged` at its commit (every gateway's open streams
     * then check what they lost). Both find their rows by an index on the age of the event.
     * One gateway purges at a time: each batch takes a transaction-level advisory lock, and a run
     * that finds it taken stops (the other gateway is purging). `stopped` ends a run between batches
     * (the gateway is shutting down).
     */
    async purgeExpired(cutoff: Date, options: { batch?: number; stopped?: () => boolean } = {}): Promise<PurgeResult> {
      const batch = options.batch ?? PURGE_BATCH;
      const stopped = options.stopped ?? (() => false);
      const result: PurgeResult = { events: 0, records: 0, skipped: false };
      const locked = async <T>(work: (tx: Executor) => Promise<T>): Promise<T | null> =>
        db.transaction(async (tx) => {
          const [lock] = rowsOf(await tx.execute(sql`select pg_try_advisory_xact_lock(hashtext('portico.message_retention')) as got`)) as unknown as { got: boolean }[];
          return lock?.got ? work(tx) : null;
        });
      const at = cutoff.toISOString();
      for (const source of SOURCES) {
        for (;;) {
          const n = await locked(async (tx) => {
            const rows = rowsOf(
              await tx.execute(sql`
                with doomed as (select position from ${outbox(source)} where occurred_at < ${at}::timestamptz order by occurred_at limit ${batch}),
                gone as (
                  delete from ${outbox(source)} e using doomed d where e.position = d.position
                  returning e.merchant_id, e.type, e.position, e.occurred_at
                ),
                noted as (
                  insert into ${messageRetention} (source, merchant_id, type, purged_through, last_occurred_at, purged_at)
                  select ${source}, merchant_id, type, max(position), max(occurred_at), now() from gone where merchant_id is not null group by merchant_id, type
                  on conflict (source, merchant_id, type) do update set
                    purged_through = greatest(${messageRetention.purgedThrough}, excluded.purged_through),
                    last_occurred_at = greatest(${messageRetention.lastOccurredAt}, excluded.last_occurred_at),
                    purged_at = excluded.purged_at
                )
                select count(*)::int as n from gone`),
            ) as unknown as { n: number }[];
            const deleted = Number(rows[0]?.n ?? 0);
            // Told at the commit of each batch, so that streams reading those events learn it at once.
            if (deleted) await notifyControl(tx, { kind: 'purged', appKey: '*' });
            return deleted;
          });
          if (n === null) return { ...result, skipped: true };
          result.events += n;
          if (stopped()) return result;
          if (n < batch) break;
        }
      }
      for (;;) {
        const n = await locked(async (tx) => {
          const rows = rowsOf(
            await tx.execute(sql`
              with doomed as (
                select app_key, merchant_id, source, position from ${messageRecords} where occurred_at < ${at}::timestamptz limit ${batch}
              ),
              deliveries as (
                delete from ${messageDeliveries} d using doomed x
                where d.app_key = x.app_key and d.merchant_id = x.merchant_id and d.source = x.source and d.position = x.position
              ),
              gone as (
                delete from ${messageRecords} r using doomed x
                where r.app_key = x.app_key and r.merchant_id = x.merchant_id and r.source = x.source and r.position = x.position
                returning 1
              )
              select count(*)::int as n from gone`),
          ) as unknown as { n: number }[];
          return Number(rows[0]?.n ?? 0);
        });
        if (n === null) return { ...result, skipped: true };
        result.records += n;
        if (n < batch || stopped()) break;
      }
      return result;
    },

    /** How far the retention purge went in a merchant's events, per source, of any type (absent: nothing purged). */
    async purgedThrough(merchantId: string, sources: readonly MessageSource[]): Promise<Partial<Record<MessageSource, { position: number; lastOccurredAt: Date }>>> {
      const purged: Partial<Record<MessageSource, { position: number; lastOccurredAt: Date }>> = {};
      for (const row of await this.purgedByType(merchantId, sources)) {
        const known = purged[row.source];
        purged[row.source] = {
          position: Math.max(known?.position ?? 0, row.position),
          lastOccurredAt: known && known.lastOccurredAt > row.lastOccurredAt ? known.lastOccurredAt : row.lastOccurredAt,
        };
      }
      return purged;
    },

    /** How far the retention purge went in a merchant's events, per source and event type ('': any type). */
    async purgedByType(merchantId: string, sources: readonly MessageSource[]): Promise<{ source: MessageSource; type: string; position: number; lastOccurredAt: Date }[]> {
      if (!isUuid(merchantId)) return [];
      const rows = await db
        .select()
        .from(messageRetention)
        .where(and(eq(messageRetention.merchantId, merchantId), inArray(messageRetention.source, [...sources])));
      return rows.map((r) => ({ source: r.source as MessageSource, type: r.type, position: r.purgedThrough, lastOccurredAt: r.lastOccurredAt }));
    },

    /**
     * The sources of a stream at `positions` whose messages after those positions were deleted by
     * the retention purge: the purge went past the position in events of a type the stream receives
     * (its `types` filter, or every published type: the platform's internal events are no one's
     * messages), and the events it deleted there may be the app's (some occurred once the merchant
     * had authorized it; with no authorization time, any). Those messages were never acknowledged,
     * and the stream cannot bring them any more.
     */
    async expiredSources(
      merchantId: string,
      sources: readonly MessageSource[],
      positions: Partial<Record<MessageSource, number>>,
      authorizedAt: Date | null,
      types: Partial<Record<MessageSource, readonly string[]>> = {},
    ): Promise<MessageSource[]> {
      const purged = await this.purgedByType(merchantId, sources);
      return sources.filter((source) => {
        const received = new Set(publishedTypes(source, types[source]));
        return purged.some(
          (p) => p.source === source && (p.type === '' || received.has(p.type)) && (positions[source] ?? 0) < p.position && (!authorizedAt || p.lastOccurredAt >= authorizedAt),
        );
      });
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

    /** When the merchant gave the authorization behind a passport grant (a stream starts there). */
    async authorizedAt(grantId: string): Promise<Date | null> {
      const result = await db.execute(sql`select authorized_at from account.merchant_authorizations where grant_id = ${grantId}`);
      const row = rowsOf(result)[0] as unknown as { authorized_at: Date | string } | undefined;
      return row ? new Date(row.authorized_at) : null;
    },

    /** Cursor rows of a stream (for its status). */
    async cursorRows(appKey: string, merchantId: string) {
      return db.select().from(messageCursors).where(and(eq(messageCursors.appKey, appKey), eq(messageCursors.merchantId, merchantId)));
    },

    /** Messages after each acknowledged position (for the stream's status). */
    async pendingCounts(merchantId: string, after: Record<string, number>): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      for (const [source, position] of Object.entries(after) as [MessageSource, number][]) {
        const result = await db.execute(sql`select count(*)::int as n from ${outbox(source)} where merchant_id = ${merchantId} and position > ${position} and type in ${publishedTypes(source)}`);
        out[source] = Number((rowsOf(result)[0] as unknown as { n: number }).n);
      }
      return out;
    },

    /**
     * The highest position this app was ever pushed per source (what is a replay). Every
     * subscription asks when it opens: one max per source, each a step down the records' primary
     * key, not a scan of the stream's records (a max grouped by source read all of them: 62 ms for
     * 300,000 records, against 0.2 ms so).
     */
    async highestPushed(appKey: string, merchantId: string): Promise<Record<string, number>> {
      if (!isUuid(merchantId)) return {};
      const sources = sql.join(
        SOURCES.map((source) => sql`(${source})`),
        sql`, `,
      );
      const result = await db.execute(sql`
        select s.source, (select max(r.position) from ${messageRecords} r where r.app_key = ${appKey} and r.merchant_id = ${merchantId} and r.source = s.source) as position
        from (values ${sources}) as s(source)`);
      const rows = rowsOf(result) as unknown as { source: string; position: string | number | null }[];
      return Object.fromEntries(rows.filter((r) => r.position !== null).map((r) => [r.source, Number(r.position)]));
    },

    /** The newest position of each source for a merchant (for the stream's status). */
    async latestPositions(merchantId: string, sources: readonly MessageSource[]): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      for (const source of sources) {
        const result = await db.execute(sql`select coalesce(max(position), 0) as position from ${outbox(source)} where merchant_id = ${merchantId} and type in ${publishedTypes(source)}`);
        out[source] = Number((rowsOf(result)[0] as unknown as { position: string | number }).position);
      }
      return out;
    },
  };
}

export type MessageStore = ReturnType<typeof createMessageStore>;


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
    payload: cryptoSeal(key.key, JSON.stringify(event.payload), recordAad(appKey, event.merchantId, event.source, event.position, 'payload')),
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
