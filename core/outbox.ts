/**
 * The outbox: every state change other parties care about writes a domain event row in the same
 * transaction as the change, so an event exists exactly when its change committed. The message
 * channel delivers them from here.
 */
import crypto from 'node:crypto';
import { bigserial, index, jsonb, text, timestamp, uuid, type PgSchema } from 'drizzle-orm/pg-core';
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
    (t) => [index('outbox_events_merchant_position_idx').on(t.merchantId, t.position)],
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

/** Writes events; call inside the transaction that makes the change. */
export async function recordEvents(tx: Executor, table: OutboxTable, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.insert(table).values(
    events.map((event) => ({
      id: crypto.randomUUID(),
      merchantId: event.merchantId,
      aggregateType: event.aggregateType,
      aggregateId: event.aggregateId,
      type: event.type,
      payload: event.payload,
      ...(event.occurredAt ? { occurredAt: event.occurredAt } : {}),
    })),
  );
}
