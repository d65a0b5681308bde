/**
 * The channel's two views of a domain event: as a subgraph writes it into its outbox (in the
 * transaction of the change, outbox.ts), and as the channel reads it back from a topic's outbox
 * (by position, store/outbox-reads.ts, or carried by a NOTIFY, notifications.ts).
 */
import type { MessageSource } from './topics.js';

/** An event as the channel reads it from a topic's outbox. */
export interface OutboxEvent {
  source: MessageSource;
  /** Commit order within the source: a stream's cursor counts in it. */
  position: number;
  id: string;
  merchantId: string;
  aggregateType: string;
  aggregateId: string;
  type: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

/** An event as a subgraph writes it. */
export interface DomainEvent {
  merchantId: string | null;
  aggregateType: string;
  aggregateId: string;
  type: string;
  payload: Record<string, unknown>;
  occurredAt?: Date;
}
