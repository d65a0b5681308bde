/**
 * The channel's two NOTIFY channels, each encoded and decoded here and nowhere else:
 * - `portico_outbox`: a subgraph's committing transaction tells every gateway that a merchant has
 *   new events (and carries the events themselves when they fit), see outbox.ts;
 * - `portico_messages`: acknowledgements, resets, manual pushes, key rotations and purges, so that
 *   every gateway's open streams follow at once, whichever gateway or subgraph made the change.
 * PostgreSQL delivers notifications only if, and when, their transaction commits, in commit order.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../core/db.js';
import type { OutboxEvent } from './events.js';
import { topicOfSchema, type MessageSource, type TopicDefinition } from './topics.js';

export const OUTBOX_CHANNEL = 'portico_outbox';
export const MESSAGE_CONTROL_CHANNEL = 'portico_messages';

/** A notification's payload must stay under PostgreSQL's 8,000 bytes; longer event lists are left out. */
export const MAX_NOTIFY_BYTES = 7900;
/** More events of one merchant in one transaction than this are not listed (a bulk import, say). */
const MAX_NOTIFY_EVENTS = 32;

/** An outbox row as a NOTIFY lists it. */
export interface NotifiedRow {
  position: number;
  id: string;
  aggregateType: string;
  aggregateId: string;
  type: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

/**
 * The payload of the NOTIFY for one merchant's rows of one outbox, written in one transaction:
 * `<schema>:<merchant>:<last position>` and, when the whole stays within MAX_NOTIFY_BYTES, `:` and
 * the rows as a JSON array of `[position, id, aggregate_type, aggregate_id, type, payload,
 * occurred_at]`, oldest first, so that a gateway whose subscriptions are caught up pushes them
 * without reading the outbox again. Without the list (too many, too large, no merchant), it only
 * says to read. Gateways that know only the short form read its first three parts.
 */
export function encodeOutboxNotification(schema: string, merchantId: string | null, rows: readonly NotifiedRow[]): string {
  const sorted = [...rows].sort((a, b) => a.position - b.position);
  const short = `${schema}:${merchantId ?? ''}:${sorted[sorted.length - 1]!.position}`;
  if (!merchantId || sorted.length > MAX_NOTIFY_EVENTS) return short;
  const full = `${short}:${JSON.stringify(sorted.map((r) => [r.position, r.id, r.aggregateType, r.aggregateId, r.type, r.payload, r.occurredAt.toISOString()]))}`;
  return Buffer.byteLength(full) <= MAX_NOTIFY_BYTES ? full : short;
}

/** A decoded outbox notification: a merchant's events of one topic up to `position`. */
export interface OutboxNotification {
  topic: TopicDefinition;
  merchantId: string;
  position: number;
  /** The events it carries, as a read of the outbox returns them; null when it carries none or they cannot be used. */
  events(): OutboxEvent[] | null;
}

/**
 * Decodes an outbox notification, or null when it is not one this gateway can use (an unknown
 * schema, no merchant, a bad position). The events are parsed on the first call of `events()` and
 * then shared (every subscription of the merchant only reads them); `onUnusableEvents` hears why a
 * list could not be used, and the streams then read the outbox instead.
 */
export function decodeOutboxNotification(payload: string, onUnusableEvents: (why: string, error?: unknown) => void): OutboxNotification | null {
  const first = payload.indexOf(':');
  const second = first < 0 ? -1 : payload.indexOf(':', first + 1);
  if (second < 0) return null;
  const third = payload.indexOf(':', second + 1);
  const topic = topicOfSchema(payload.slice(0, first));
  const merchantId = payload.slice(first + 1, second);
  const position = Number(third < 0 ? payload.slice(second + 1) : payload.slice(second + 1, third));
  if (!topic || !merchantId || !Number.isSafeInteger(position)) return null;
  let parsed: OutboxEvent[] | null | undefined;
  return {
    topic,
    merchantId,
    position,
    events: () => (parsed ??= third < 0 ? null : decodeEvents(topic.source, merchantId, payload.slice(third + 1), onUnusableEvents)),
  };
}

function decodeEvents(source: MessageSource, merchantId: string, json: string, onUnusable: (why: string, error?: unknown) => void): OutboxEvent[] | null {
  let rows: unknown;
  try {
    rows = JSON.parse(json);
  } catch (error) {
    onUnusable('a NOTIFY carried events that could not be parsed', error);
    return null;
  }
  if (!Array.isArray(rows)) return null;
  const events: OutboxEvent[] = [];
  for (const row of rows) {
    const [position, id, aggregateType, aggregateId, type, payload, occurredAt] = (Array.isArray(row) ? row : []) as unknown[];
    const at = typeof occurredAt === 'string' ? new Date(occurredAt) : null;
    if (!Number.isSafeInteger(position) || typeof id !== 'string' || typeof aggregateType !== 'string' || typeof aggregateId !== 'string' || typeof type !== 'string' || !payload || typeof payload !== 'object' || !at || Number.isNaN(at.getTime())) {
      onUnusable('a NOTIFY carried an event of an unexpected shape');
      return null;
    }
    events.push({ source, position: position as number, id, merchantId, aggregateType, aggregateId, type, payload: payload as Record<string, unknown>, occurredAt: at });
  }
  return events;
}

/** What the control channel says. */
export type ControlMessage =
  /** A stream's cursors moved forward: its in-flight messages up to there are done. */
  | { kind: 'ack'; appKey: string; merchantId: string; positions: Record<string, number> }
  /** A stream's cursors were set (back or forward): it replays from there. */
  | { kind: 'reset'; appKey: string; merchantId: string; positions: Record<string, number> }
  /** Manual pushes were requested for a stream. */
  | { kind: 'redeliver'; appKey: string; merchantId: string }
  /** An app's record keys were rotated: cached keys are dropped. */
  | { kind: 'key_rotated'; appKey: string }
  /** The retention purge deleted events: every open stream checks what it lost. */
  | { kind: 'purged' };

/** Sends a control message in `tx`: it reaches the gateways when (and only if) `tx` commits. */
export function notifyControl(tx: Executor, message: ControlMessage) {
  // `purged` kept the appKey '*' of older gateways, which read every message's appKey.
  const wire = message.kind === 'purged' ? { ...message, appKey: '*' } : message;
  return tx.execute(sql`select pg_notify(${MESSAGE_CONTROL_CHANNEL}, ${JSON.stringify(wire)})`);
}

const CONTROL_KINDS = new Set(['ack', 'reset', 'redeliver', 'key_rotated', 'purged']);

/** Decodes a control message, or null when it is not one (another version's kind, a bad payload). */
export function decodeControlMessage(payload: string): ControlMessage | null {
  let message: unknown;
  try {
    message = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!message || typeof message !== 'object') return null;
  const m = message as Record<string, unknown>;
  if (typeof m.kind !== 'string' || !CONTROL_KINDS.has(m.kind)) return null;
  if (m.kind === 'purged') return { kind: 'purged' };
  if (typeof m.appKey !== 'string') return null;
  if (m.kind === 'key_rotated') return { kind: 'key_rotated', appKey: m.appKey };
  if (typeof m.merchantId !== 'string') return null;
  if (m.kind === 'redeliver') return { kind: 'redeliver', appKey: m.appKey, merchantId: m.merchantId };
  if (!m.positions || typeof m.positions !== 'object') return null;
  return { kind: m.kind as 'ack' | 'reset', appKey: m.appKey, merchantId: m.merchantId, positions: m.positions as Record<string, number> };
}
