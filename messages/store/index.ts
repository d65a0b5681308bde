/**
 * The message channel's queries, in four parts: reading the topics' outboxes, each stream's
 * cursors, the delivery records, and retention. The channel's own tables live in the
 * app-management schema (messages/tables.ts); the outboxes are written by their subgraphs
 * (messages/outbox.ts) and only read here. Nothing here reads another table of a subgraph.
 */
import { systemClock, type Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import type { MessageCrypto } from '../crypto.js';
import { createStreamCursors, type StreamCursors } from './cursors.js';
import { createOutboxReads, type OutboxReads } from './outbox-reads.js';
import { createDeliveryRecords, type DeliveryRecords } from './records.js';
import { createRetention, type Retention } from './retention.js';

export type { OutboxEvent } from '../events.js';
export type { Positions, PushMark } from './cursors.js';
export { FLOOR_SETTLED_MS } from './cursors.js';
export type { DeliveryReason, DeliveryToRecord } from './records.js';
export { PURGE_BATCH, type PurgeResult } from './retention.js';

export type MessageStore = OutboxReads & StreamCursors & DeliveryRecords & Retention;

export function createMessageStore(db: Db, crypto: MessageCrypto, clock: Clock = systemClock): MessageStore {
  const reads = createOutboxReads(db);
  const retention = createRetention(db);
  return { ...reads, ...retention, ...createStreamCursors(db, reads, retention, clock), ...createDeliveryRecords(db, crypto, reads) };
}
