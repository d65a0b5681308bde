/**
 * The outbox, the channel's producer side: every state change other parties care about writes a
 * domain event row in the same transaction as the change, so an event exists exactly when its
 * change committed. Each subgraph has an outbox table of this shape in its own schema and writes it
 * only through recordEvents; the channel reads them (read-only, by position) and delivers from there.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { bigserial, index, jsonb, text, timestamp, uuid, type PgSchema } from 'drizzle-orm/pg-core';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { Executor } from '../core/db.js';
import { OUTBOX_CHANNEL, encodeOutboxNotification, type NotifiedRow } from './notifications.js';
import type { DomainEvent } from './events.js';

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
    (t) => [
      index('outbox_events_merchant_position_idx').on(t.merchantId, t.position),
      index('outbox_events_merchant_occurred_idx').on(t.merchantId, t.occurredAt),
      // The message channel's retention purge finds expired events by age, whatever their merchant.
      index('outbox_events_occurred_idx').on(t.occurredAt),
    ],
  );
}

export type OutboxTable = ReturnType<typeof outboxTable>;

/**
 * Writes events; call inside the transaction that makes the change, as its last write.
 *
 * Ordering: readers follow a merchant's events by `position`, so positions must become visible in
 * the order they were taken. A bigserial alone does not promise that (a transaction can take 7 and
 * commit after another took 8 and committed). A transaction-scoped advisory lock per schema and
 * merchant, held from the insert to the commit, does: the next writer for that merchant takes its
 * positions only after this one committed or rolled back. Other merchants do not wait.
 *
 * The NOTIFY is transactional too: it reaches listeners only if, and when, the events commit; and
 * for one merchant, in the order of its positions (PostgreSQL delivers notifications in commit order).
 */
export async function recordEvents(tx: Executor, table: OutboxTable, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  const schema = getTableConfig(table).schema ?? 'public';
  const merchants = [...new Set(events.map((e) => e.merchantId ?? ''))].sort();
  for (const merchant of merchants) {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${schema}.outbox`}), hashtext(${merchant}))`);
  }
  const written = events.map((event) => ({ ...event, id: crypto.randomUUID() }));
  const rows = await tx
    .insert(table)
    .values(
      written.map((event) => ({
        id: event.id,
        merchantId: event.merchantId,
        aggregateType: event.aggregateType,
        aggregateId: event.aggregateId,
        type: event.type,
        payload: event.payload,
        ...(event.occurredAt ? { occurredAt: event.occurredAt } : {}),
      })),
    )
    .returning({ position: table.position, id: table.id, occurredAt: table.occurredAt });
  const stored = new Map(rows.map((row) => [row.id, row]));
  const byMerchant = new Map<string, NotifiedRow[]>();
  for (const event of written) {
    const row = stored.get(event.id)!;
    const key = event.merchantId ?? '';
    let list = byMerchant.get(key);
    if (!list) byMerchant.set(key, (list = []));
    // The payload goes as the row got it (JSON.stringify); a read returns the same JSON, its keys perhaps in another order.
    list.push({ position: row.position, id: row.id, aggregateType: event.aggregateType, aggregateId: event.aggregateId, type: event.type, payload: event.payload, occurredAt: row.occurredAt });
  }
  for (const [merchant, list] of byMerchant) {
    await tx.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, ${encodeOutboxNotification(schema, merchant || null, list)})`);
  }
}
