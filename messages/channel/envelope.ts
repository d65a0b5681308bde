/** What a stream hands its subscription: one message on its way, and what the stream is of. */
import type { OutboxEvent } from '../events.js';
import type { DeliveryReason } from '../store/index.js';
import type { MessageSource, TopicDefinition } from '../topics.js';

export type { DeliveryReason };

/** One message on its way to one subscription. */
export interface Envelope {
  event: OutboxEvent;
  topic: TopicDefinition;
  /** The stream's position after this message, sealed (what the subscriber acknowledges up to). */
  cursor: string;
  /** Pushes of this message on this connection, this one included. */
  attempt: number;
  reason: DeliveryReason;
  /** The positions sealed in `cursor`: this event's, and how far the stream's other topics had come. */
  positions: Record<string, number>;
  /** How many resets the stream had when this was read (a message read before a reset is not sent after it). */
  resets: number;
  /** A manual push: when it was requested (the request is cleared once the push is sent). */
  requestedAt?: Date;
  /**
   * Settles once the stream's pushed mark covers this message (see push-marks.ts): it is sent only
   * then, so that after a crash it comes again as a REPLAY. Absent: already covered.
   */
  marked?: Promise<void>;
}

/** What a subscription asks for: an app's stream of one merchant, over some topics. */
export interface StreamSpec {
  appKey: string;
  merchantId: string;
  sources: readonly MessageSource[];
  /** Outbox types wanted per source; absent means every published type. */
  types: Partial<Record<MessageSource, readonly string[]>>;
  /** Where to start (an `after` cursor); absent: after the acknowledged position. */
  after?: Partial<Record<MessageSource, number>>;
  /** Where a stream seen for the first time starts (the merchant's authorization of the app). */
  startFrom: Date | null;
  connectionId: string;
  transport: 'ws' | 'sse';
}

/** A message of a source, as the stream's maps key it. */
export const positionKey = (source: string, position: number) => `${source}:${position}`;
