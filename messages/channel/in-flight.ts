/**
 * A stream's messages in flight: pushed on this connection and not yet acknowledged. Each is due to
 * be pushed again once its acknowledgement timeout has passed, counted from its send and doubling
 * with each push, up to the attempts allowed per connection; after that it waits for the next
 * connection (which reads it again, after the stored cursor).
 */
import type { Clock } from '../../core/clock.js';
import { positionKey, type Envelope } from './envelope.js';

export interface InFlightSettings {
  /** How long a pushed message may stay unacknowledged before it is pushed again (doubling each time). */
  ackTimeoutMs: number;
  /** Pushes of one message per connection, the first included. */
  maxPushAttempts: number;
}

interface Entry {
  envelope: Envelope;
  attempts: number;
  dueAt: number;
}

export class InFlightMessages {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly settings: InFlightSettings,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The envelope last pushed of a message, if it is in flight. */
  envelopeOf(source: string, position: number): Envelope | undefined {
    return this.entries.get(positionKey(source, position))?.envelope;
  }

  /** A push of the envelope's message: counts its attempt (setting `envelope.attempt`) and starts its timeout. */
  pushed(envelope: Envelope): void {
    const key = positionKey(envelope.event.source, envelope.event.position);
    const attempts = (this.entries.get(key)?.attempts ?? 0) + 1;
    envelope.attempt = attempts;
    this.entries.set(key, { envelope, attempts, dueAt: this.clock.now() + this.timeoutOf(attempts) });
  }

  /**
   * The push is being handed to the transport: its timeout counts from now, not from the read (a
   * message may wait behind slower ones before it is sent). A push superseded meanwhile is ignored.
   */
  sent(envelope: Envelope): void {
    const entry = this.entries.get(positionKey(envelope.event.source, envelope.event.position));
    if (entry && entry.attempts === envelope.attempt) entry.dueAt = this.clock.now() + this.timeoutOf(entry.attempts);
  }

  /** Drops the messages the cursors acknowledge (per source, up to and including the position). */
  acknowledged(positions: Record<string, number>): void {
    for (const [key, entry] of this.entries) {
      const acked = positions[entry.envelope.event.source];
      if (acked !== undefined && entry.envelope.event.position <= acked) this.entries.delete(key);
    }
  }

  /**
   * A reset of `source` to `position`: its messages are dropped (the stream replays them), and a
   * message of another source whose cursor carries `source` past `position` gets its cursor moved
   * back (`reseal`) and is due again now: acknowledging it must not acknowledge what the reset
   * replays, and it may not have been sent (messages prepared before a reset are not).
   */
  reset(source: string, position: number, reseal: (positions: Record<string, number>) => string): void {
    for (const [key, entry] of this.entries) {
      if (entry.envelope.event.source === source) {
        this.entries.delete(key);
        continue;
      }
      if ((entry.envelope.positions[source] ?? 0) > position) {
        const clamped = { ...entry.envelope.positions, [source]: position };
        entry.envelope = { ...entry.envelope, positions: clamped, cursor: reseal(clamped) };
        entry.dueAt = this.clock.now();
      }
    }
  }

  /** Whether a message is due to be pushed again now. */
  anyDue(): boolean {
    const now = this.clock.now();
    for (const entry of this.entries.values()) if (this.mayPush(entry) && entry.dueAt <= now) return true;
    return false;
  }

  /** The messages due to be pushed again now, by source and position. */
  due(): Envelope[] {
    const now = this.clock.now();
    const due = [...this.entries.values()].filter((e) => this.mayPush(e) && e.dueAt <= now).map((e) => e.envelope);
    return due.sort((a, b) => a.event.source.localeCompare(b.event.source) || a.event.position - b.event.position);
  }

  /** Milliseconds until the next message is due (Infinity when none may be pushed again). */
  nextDueIn(): number {
    let next = Infinity;
    for (const entry of this.entries.values()) if (this.mayPush(entry)) next = Math.min(next, entry.dueAt);
    return next === Infinity ? Infinity : next - this.clock.now();
  }

  private mayPush(entry: Entry): boolean {
    return entry.attempts < this.settings.maxPushAttempts;
  }

  private timeoutOf(attempts: number): number {
    return this.settings.ackTimeoutMs * 2 ** (attempts - 1);
  }
}
