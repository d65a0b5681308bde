/**
 * Reading a merchant's events from the topics' outboxes (read-only, by position: the outbox
 * pattern's relay). Only published event types are read; the platform's internal events stay in.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { isUuid } from '../../core/pagination.js';
import type { OutboxEvent } from '../events.js';
import { publishedTypes, type MessageSource } from '../topics.js';
import { COLUMNS, outbox, rowsOf, toEvent, type OutboxRow } from './rows.js';

export function createOutboxReads(db: Db) {
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

    /** Messages after each acknowledged position (for the stream's status). */
    async pendingCounts(merchantId: string, after: Record<string, number>): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      for (const [source, position] of Object.entries(after) as [MessageSource, number][]) {
        const result = await db.execute(sql`select count(*)::int as n from ${outbox(source)} where merchant_id = ${merchantId} and position > ${position} and type in ${publishedTypes(source)}`);
        out[source] = Number((rowsOf(result)[0] as unknown as { n: number }).n);
      }
      return out;
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

export type OutboxReads = ReturnType<typeof createOutboxReads>;
