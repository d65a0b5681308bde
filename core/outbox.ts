/**
 * The outbox: every state change other parties care about writes a domain event row in the same
 * transaction as the change, so an event exists exactly when its change committed. The message
 * channel delivers them from here.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { bigserial, index, jsonb, text, timestamp, uuid, type PgSchema } from 'drizzle-orm/pg-core';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { Executor } from './db.js';

export function outboxTable(schema: PgSchema<string>) {
  return schema.table(
    'outbox_events',
    {
      /** Commit order within this subgraph. */
      position: bigserial('position', { mode: 'number' }).primaryKey(),
      /** Stable id for de-duplication by consumers. */
      id: uuid('id').notNull().unique(),
      merchantId: uuid('merchant_id'),
      aggregateType: text('aggregate_type').notNull(),
      aggregateId: text('aggregate_id').notNull(),
      type: text('type').notNull(),
      payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
      occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    },
    (t) => [index('outbox_events_merchant_position_idx').on(t.merchantId, t.position), index('outbox_events_merchant_occurred_idx').on(t.merchantId, t.occurredAt)],
  );
}

export type OutboxTable = ReturnType<typeof outboxTable>;

export interface DomainEvent {
  merchantId: string | null;
  aggregateType: string;
  aggregateId: string;
  type: string;
  payload: Record<string, unknown>;
  occurredAt?: Date;
}

/** The channel gateways LISTEN on: one notification per committed outbox write, `<schema>:<merchant>:<position>`. */
export const OUTBOX_CHANNEL = 'portico_outbox';

/**
 * Writes events; call inside the transaction that makes the change, as its last write.
 *
 * Ordering: readers follow a merchant's events by `position`, so positions must become visible in
 * the order they were taken. A bigserial alone does not promise that (a transaction can take 7 and
 * commit after another took 8 and committed). A transaction-scoped advisory lock per schema and
 * merchant, held from the insert to the commit, does: the next writer for that merchant takes its
 * positions only after this one committed or rolled back. Other merchants do not wait.
 *
 * The NOTIFY is transactional too: it reaches listeners only if, and when, the events commit.
 */
export async function recordEvents(tx: Executor, table: OutboxTable, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  const schema = getTableConfig(table).schema ?? 'public';
  const merchants = [...new Set(events.map((e) => e.merchantId ?? ''))].sort();
  for (const merchant of merchants) {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${schema}.outbox`}), hashtext(${merchant}))`);
  }
  const rows = await tx.insert(table).values(
    events.map((event) => ({
      id: crypto.randomUUID(),
      merchantId: event.merchantId,
      aggregateType: event.aggregateType,
      aggregateId: event.aggregateId,
      type: event.type,
      payload: event.payload,
      ...(event.occurredAt ? { occurredAt: event.occurredAt } : {}),
    })),
  ).returning({ position: table.position, merchantId: table.merchantId });
  const last = new Map<string, number>();
  for (const row of rows) last.set(row.merchantId ?? '', Math.max(last.get(row.merchantId ?? '') ?? 0, row.position));
  for (const [merchant, position] of last) {
    await tx.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, ${`${schema}:${merchant}:${position}`})`);
  }
}
