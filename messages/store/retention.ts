/**
 * The retention purge's queries: deleting events older than the window from the topics' outboxes
 * (and their records), noting per merchant and type how far it went, and telling a stream whether
 * messages it never acknowledged were deleted.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../core/db.js';
import { isUuid } from '../../core/pagination.js';
import { notifyControl } from '../notifications.js';
import { messageDeliveries, messageRecords, messageRetention } from '../tables.js';
import { publishedTypes, SOURCES, type MessageSource } from '../topics.js';
import { outbox, rowsOf } from './rows.js';

/** Rows the retention purge deletes per statement (one short transaction each). */
export const PURGE_BATCH = 5000;

/** What one run of the retention purge deleted; `skipped` when another gateway was purging. */
export interface PurgeResult {
  events: number;
  records: number;
  skipped: boolean;
}

export function createRetention(db: Db) {
  const retention = {
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
            if (deleted) await notifyControl(tx, { kind: 'purged' });
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
      for (const row of await retention.purgedByType(merchantId, sources)) {
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
      const purged = await retention.purgedByType(merchantId, sources);
      return sources.filter((source) => {
        const received = new Set(publishedTypes(source, types[source]));
        return purged.some(
          (p) => p.source === source && (p.type === '' || received.has(p.type)) && (positions[source] ?? 0) < p.position && (!authorizedAt || p.lastOccurredAt >= authorizedAt),
        );
      });
    },
  };
  return retention;
}

export type Retention = ReturnType<typeof createRetention>;
