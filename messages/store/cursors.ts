/**
 * Each app's stream of a merchant: per source, the acknowledged position (its cursor), the floor it
 * never goes below (the merchant's authorization of the app) and how far it has been pushed.
 */
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Db } from '../../core/db.js';
import type { Clock } from '../../core/clock.js';
import { notifyControl } from '../notifications.js';
import { messageCursors, messageRecords } from '../tables.js';
import type { MessageSource } from '../topics.js';
import type { OutboxReads } from './outbox-reads.js';
import type { Retention } from './retention.js';

export type Positions = Partial<Record<MessageSource, number>>;

/**
 * How old an authorization must be before its stream floor is kept (streamFloor): events are
 * stamped when their transaction begins, so one begun just before the authorization may commit
 * after it. Ten minutes is far beyond any transaction of the subgraphs.
 */
export const FLOOR_SETTLED_MS = 10 * 60_000;

/** A stream's source pushed up to a position (markPushed). */
export interface PushMark {
  appKey: string;
  merchantId: string;
  source: MessageSource;
  position: number;
}

/**
 * The statement that raises many streams' pushed marks at once (the marks as one JSON parameter, in
 * the order of their key, so that two such statements over the same rows lock them in one order).
 *
 * It commits without waiting for its WAL to reach the disk (synchronous_commit off for this
 * statement's own transaction, set inside it since the pool's connections are shared). Sends wait
 * for their mark, so in a burst a flush per mark statement was on every push's path, and the pushes
 * held meanwhile were what the gateway's GC then had to promote. What it gives up is narrow: the
 * mark guards against the gateway dying, which it still does (the commit is in PostgreSQL, whatever
 * the gateway does next); only a crash of PostgreSQL itself within a few hundred milliseconds can
 * lose it, and then the messages concerned come again labelled LIVE instead of REPLAY. No message,
 * cursor or record depends on it.
 */
const MARK_PUSHED = new PgDialect().sqlToQuery(sql`
  update ${messageCursors} c set pushed_position = greatest(coalesce(c.pushed_position, 0), v.p)
  from jsonb_to_recordset(${sql.placeholder('marks')}::jsonb) as v(a text, m uuid, s text, p bigint),
       (select set_config('synchronous_commit', 'off', true)) as commit_without_flush
  where c.app_key = v.a and c.merchant_id = v.m and c.source = v.s and (c.pushed_position is null or c.pushed_position < v.p)`);

export function createStreamCursors(db: Db, reads: OutboxReads, retention: Pick<Retention, 'purgedThrough'>, clock: Clock) {
  const markPushedStatement = db._.session.prepareQuery(MARK_PUSHED, undefined, 'message_mark_pushed', false);
  return {
    /**
     * Notes how far streams have been pushed, before the messages are sent. A push's delivery
     * record is written after it is sent, so after a gateway is killed the records may not show
     * everything it sent; the marks do: a message at or below its stream's mark comes again as a
     * REPLAY. The cursor rows exist (a stream's first subscription creates them).
     */
    async markPushed(marks: readonly PushMark[]): Promise<void> {
      if (!marks.length) return;
      const rows = marks.map((m) => ({ a: m.appKey, m: m.merchantId, s: m.source, p: m.position }));
      rows.sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : x.m < y.m ? -1 : x.m > y.m ? 1 : x.s < y.s ? -1 : x.s > y.s ? 1 : 0));
      await markPushedStatement.execute({ marks: JSON.stringify(rows) });
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
      const settled = clock.now() - authorizedAt.getTime() >= FLOOR_SETTLED_MS;
      for (const source of sources) {
        const row = stored.find((r) => r.source === source);
        if (row && row.floorPosition !== null && row.floorFor?.getTime() === authorizedAt.getTime()) {
          floor[source] = row.floorPosition;
          continue;
        }
        floor[source] = await reads.positionBefore(merchantId, source, authorizedAt);
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
      const purged = missing.length ? await retention.purgedThrough(merchantId, missing) : {};
      for (const source of missing) {
        const start = Math.max(startFrom ? await reads.positionBefore(merchantId, source, startFrom) : 0, purged[source]?.position ?? 0);
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

    /** Cursor rows of a stream (for its status). */
    async cursorRows(appKey: string, merchantId: string) {
      return db.select().from(messageCursors).where(and(eq(messageCursors.appKey, appKey), eq(messageCursors.merchantId, merchantId)));
    },
  };
}

export type StreamCursors = ReturnType<typeof createStreamCursors>;
