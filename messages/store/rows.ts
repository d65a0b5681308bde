/** How the channel's queries read the topics' outbox rows. */
import { sql } from 'drizzle-orm';
import type { OutboxEvent } from '../events.js';
import { topicOfSource, type MessageSource } from '../topics.js';

export const outbox = (source: MessageSource) => sql.raw(`"${topicOfSource(source).schema}"."outbox_events"`);

export interface OutboxRow {
  position: string | number;
  id: string;
  merchant_id: string;
  aggregate_type: string;
  aggregate_id: string;
  type: string;
  payload: Record<string, unknown> | string;
  occurred_at: Date | string;
}

export const rowsOf = (result: unknown): OutboxRow[] => ((result as { rows?: OutboxRow[] }).rows ?? (result as OutboxRow[]));

export function toEvent(source: MessageSource, row: OutboxRow): OutboxEvent {
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

export const COLUMNS = sql.raw('position, id, merchant_id, aggregate_type, aggregate_id, type, payload, occurred_at');
