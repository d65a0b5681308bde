/**
 * One subscription's stream: an app's messages of one merchant over some topics, read from the
 * outboxes by position, so there is no seam between catching up and live. It yields envelopes in
 * order; pushed messages stay in flight until acknowledged, and are pushed again when due.
 *
 * Steps of one wake-up, each only entered when it has something to do (a burst wakes a thousand
 * streams, and each step entered costs allocations for nothing): manual pushes asked for, in-flight
 * messages due again, new events read from the outbox, new events carried by NOTIFYs.
 */
import type { Clock, ClockTimer } from '../../core/clock.js';
import { ErrorCode, PorticoError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { MessageCrypto } from '../crypto.js';
import type { OutboxEvent } from '../events.js';
import type { RecordQueue } from '../records/record-queue.js';
import type { MessageStore } from '../store/index.js';
import { publishedTypes, topicOfSource, type MessageSource, type TopicDefinition } from '../topics.js';
import type { BusySignal } from '../busy-signal.js';
import { positionKey, type Envelope, type StreamSpec } from './envelope.js';
import type { PushMarks } from './push-marks.js';
import type { ReadCoalescer } from './read-coalescer.js';
import { InFlightMessages } from './in-flight.js';
import type { Wakeable, WakeTurns } from './wake-turns.js';

/**
 * A subscription's stream, as the subscription sees it: an async iterable of envelopes in stream
 * order, and what the subscription reports back about each.
 */
export interface MessageStream extends AsyncIterable<Envelope> {
  /**
   * A message read from the stream is being prepared for its push (executed, its entity fetched):
   * the channel counts as busy meanwhile (records wait). Call what it returns once, when the message
   * is recorded, dropped or failed.
   */
  preparing(): () => void;
  /** undefined while there is room for more pending records; otherwise resolves once there is. Wait for it before sending. */
  roomForRecords(): Promise<void> | undefined;
  /** Records a push as it is sent; rejects if the record cannot be written. */
  recordPush(envelope: Envelope, pushed: unknown): Promise<void>;
  /**
   * Whether a reset happened since the message was read: its cursor may carry a position the reset
   * moved back (of its own topic or another), so it is not sent; it is pushed again instead.
   */
  isStale(envelope: Envelope): boolean;
  /** The message is being handed to the transport: its acknowledgement timeout starts now. */
  sent(envelope: Envelope): void;
  /** Ends the stream: the next read throws this error. */
  terminate(error: Error): void;
  readonly terminated: Error | undefined;
  /** The subscription is over: the stream ends. */
  close(): void;
}

/** The channel's settings a stream follows. */
export interface StreamSettings {
  /** How long a pushed message may stay unacknowledged before it is pushed again (doubling each time). */
  ackTimeoutMs: number;
  /** Pushes of one message per connection, the first included. */
  maxPushAttempts: number;
  /** Unacknowledged messages at which pushing pauses. */
  maxInFlight: number;
  /** Events read per query. */
  batchSize: number;
  /** Days messages are kept (for MESSAGES_EXPIRED); 0 or absent: forever. */
  retentionDays?: number | undefined;
}

/** What a stream needs from its channel. */
export interface StreamParts {
  store: MessageStore;
  crypto: Pick<MessageCrypto, 'sealCursor'>;
  clock: Clock;
  logger: Logger;
  settings: StreamSettings;
  reads: ReadCoalescer;
  wakeTurns: WakeTurns;
  records: RecordQueue;
  marks: PushMarks;
  busy: BusySignal;
  stats: ChannelStats;
  /** The stream began (it hears its merchant's NOTIFYs from now on) and ended. */
  opened(stream: ChannelStream): void;
  closed(stream: ChannelStream): void;
}

/** What this gateway's streams did since it started: outbox queries, and the events they pushed first from a read or from a NOTIFY. */
export interface ChannelStats {
  outboxReads: number;
  eventsRead: number;
  eventsNotified: number;
}

/** The error of a stream whose unacknowledged messages of these topics the retention purge deleted. */
export function messagesExpired(topics: readonly TopicDefinition[], retentionDays: number | undefined): PorticoError {
  const names = topics.map((t) => t.topic);
  return new PorticoError(
    ErrorCode.MESSAGES_EXPIRED,
    `Messages of ${names.join(', ')} after this stream's cursor were never acknowledged and have been deleted: they passed the retention window${retentionDays ? ` (${retentionDays} days)` : ''}. Reset the cursor (resetMessageCursor, to a time or a cursor) to go on from the oldest messages kept`,
    { topics: names, ...(retentionDays ? { retentionDays } : {}) },
  );
}

/** A stream as its channel drives it: what NOTIFYs and control messages tell it. */
export interface ChannelStream extends MessageStream, Wakeable {
  readonly spec: StreamSpec;
  /** How far it has read, per source. */
  readonly delivered: Readonly<Record<string, number>>;
  /** A NOTIFY for its merchant and source: its events (null when it carried none). */
  notified(source: MessageSource, events: readonly OutboxEvent[] | null): void;
  /** The listener reconnected: NOTIFYs may have been missed, so the stream reads again. */
  lostNotifications(): void;
  /** Cursors moved forward (an acknowledgement, on any gateway). */
  acknowledged(positions: Record<string, number>): void;
  /** Cursors were set: the stream replays from there. */
  reset(positions: Record<string, number>): void;
  /** Manual pushes were asked for. */
  redeliveriesRequested(): void;
  /** The control listener reconnected: re-reads the stored cursors. */
  resync(): Promise<void>;
  /** After a retention purge: ends with MESSAGES_EXPIRED if it lost unacknowledged messages. */
  checkExpired(): Promise<void>;
}

export function openStream(spec: StreamSpec, parts: StreamParts): ChannelStream {
  return new Stream(spec, parts);
}

class Stream implements ChannelStream {
  delivered: Record<string, number> = {};
  /** Positions at or below which an event may have been pushed before (on any connection): a REPLAY. */
  private pushedBefore: Record<string, number> = {};
  /** Per source, how far this stream's pushed mark has been raised (push-marks.ts). */
  private marked: Record<string, number> = {};
  private readonly inFlight: InFlightMessages;
  private checkRedeliveries = true;
  /**
   * Bumped by every reset: a batch read before a reset must stop (the stream re-reads from the
   * new position), and a message prepared before it is not sent.
   */
  private resets = 0;
  terminated: Error | undefined;
  private closed = false;
  private dirty = true;
  /** The last read stopped at maxInFlight: an acknowledgement must wake the stream. */
  private waitingForRoom = false;
  private wakeUp: (() => void) | undefined;
  private timer: ClockTimer | undefined;
  /**
   * Per source, the events NOTIFYed since this stream last began a read that then found everything
   * (not a full batch), in commit order; absent while that does not hold, and a NOTIFY only wakes
   * the stream to read. No gap: an event the read did not see committed after the read's snapshot
   * was taken, which is after the read was asked for, so its NOTIFY arrives after this list was
   * started; and one merchant's events commit in the order of their positions (outbox.ts), so
   * NOTIFYs bring them in that order. Read events and listed ones may overlap: what the stream has
   * read (its delivered position) is skipped.
   */
  private live = new Map<MessageSource, OutboxEvent[]>();
  /** Events were added to `live`: the stream pushes them without reading. */
  private liveReady = false;
  /** Published types this stream wants, per source (what a read of the outbox filters on). */
  private readonly wanted: Partial<Record<MessageSource, ReadonlySet<string>>> = {};
  /** Manual push requests whose message was sent, cleared together. */
  private sentManual: { source: MessageSource; position: number; requestedAt: Date }[] = [];
  private lastAckCheck = 0;

  constructor(
    readonly spec: StreamSpec,
    private readonly parts: StreamParts,
  ) {
    for (const source of spec.sources) this.wanted[source] = new Set(publishedTypes(source, spec.types[source]));
    this.inFlight = new InFlightMessages(parts.settings, parts.clock);
  }

  private get settings() {
    return this.parts.settings;
  }

  notified(source: MessageSource, events: readonly OutboxEvent[] | null) {
    const live = this.live.get(source);
    if (!live || !events || live.length + events.length > this.settings.batchSize) {
      this.live.delete(source);
      this.dirty = true;
      this.parts.wakeTurns.wake(this);
      return;
    }
    const wanted = this.wanted[source]!;
    let added = false;
    for (const event of events) {
      if (!wanted.has(event.type)) continue;
      live.push(event);
      added = true;
    }
    if (!added) return;
    this.liveReady = true;
    this.parts.wakeTurns.wake(this);
  }

  wakeTurn() {
    this.wakeUp?.();
  }

  lostNotifications() {
    this.live.clear();
    this.wake();
  }

  redeliveriesRequested() {
    this.checkRedeliveries = true;
    this.wake();
  }

  isStale(envelope: Envelope): boolean {
    return envelope.resets !== this.resets;
  }

  sent(envelope: Envelope) {
    this.inFlight.sent(envelope);
    if (!envelope.requestedAt) return;
    if (!this.sentManual.length) {
      setImmediate(() => {
        const done = this.sentManual.splice(0);
        this.parts.store.clearRedelivery(this.spec.appKey, this.spec.merchantId, done).catch((error: unknown) => {
          // The requests stay: their messages are pushed again (MANUAL) at the next check or connection.
          this.parts.logger.warn({ err: error }, 'message channel: manual push requests could not be cleared');
        });
      });
    }
    this.sentManual.push({ source: envelope.event.source, position: envelope.event.position, requestedAt: envelope.requestedAt });
  }

  private wake() {
    this.dirty = true;
    this.wakeUp?.();
  }

  terminate(error: Error) {
    this.terminated ??= error;
    this.wake();
  }

  close() {
    this.closed = true;
    this.wake();
  }

  preparing() {
    return this.parts.busy.hold();
  }

  roomForRecords() {
    return this.parts.records.room();
  }

  recordPush(envelope: Envelope, pushed: unknown): Promise<void> {
    return this.parts.records.record({
      appKey: this.spec.appKey,
      event: envelope.event,
      connectionId: this.spec.connectionId,
      transport: this.spec.transport,
      reason: envelope.reason,
      attempt: envelope.attempt,
      pushed,
    });
  }

  acknowledged(positions: Record<string, number>) {
    this.inFlight.acknowledged(positions);
    // Reading stopped at the in-flight limit: there is room again.
    if (this.waitingForRoom && this.inFlight.size < this.settings.maxInFlight) {
      this.waitingForRoom = false;
      this.wake();
    }
  }

  reset(positions: Record<string, number>) {
    let moved = false;
    for (const [source, position] of Object.entries(positions)) {
      if (!this.spec.sources.includes(source as MessageSource)) continue;
      moved = true;
      this.live.delete(source as MessageSource);
      this.pushedBefore[source] = Math.max(this.pushedBefore[source] ?? 0, this.delivered[source] ?? 0);
      this.delivered[source] = position;
      this.inFlight.reset(source, position, (positions) => this.seal(positions));
    }
    if (moved) this.resets++;
    this.wake();
  }

  /**
   * After the control listener reconnected (an acknowledgement or reset notification may have
   * been missed): drops what the stored cursors acknowledge, and replays from a stored cursor
   * that is behind what this stream has read (a missed reset, or messages still unacknowledged:
   * those are pushed again, which at-least-once allows).
   */
  async resync() {
    const acked = await this.parts.store.acknowledgedPositions(this.spec.appKey, this.spec.merchantId, this.spec.sources, null);
    this.acknowledged(acked);
    const behind: Record<string, number> = {};
    for (const source of this.spec.sources) if (acked[source] !== undefined && acked[source] < (this.delivered[source] ?? 0)) behind[source] = acked[source];
    if (Object.keys(behind).length) this.reset(behind);
    this.checkRedeliveries = true;
    this.wake();
  }

  /**
   * After a retention purge: a stream that had not yet read messages the purge deleted (of the
   * app's, of its types) ends with MESSAGES_EXPIRED, instead of going on without them. What it
   * has read it holds until acknowledged (it pushes those again from memory), so a purge of those
   * loses nothing while it is open: the subscriber that acknowledges them a moment after the
   * purge goes on; one that disconnects without acknowledging them is told on its next connection.
   */
  async checkExpired() {
    if (this.closed || this.terminated) return;
    const { store } = this.parts;
    const acked = await store.acknowledgedPositions(this.spec.appKey, this.spec.merchantId, this.spec.sources, null);
    const positions: Partial<Record<MessageSource, number>> = {};
    for (const source of this.spec.sources) positions[source] = Math.max(acked[source] ?? 0, this.delivered[source] ?? 0);
    const expired = await store.expiredSources(this.spec.merchantId, this.spec.sources, positions, this.spec.startFrom, this.spec.types);
    if (expired.length) this.terminate(messagesExpired(expired.map(topicOfSource), this.settings.retentionDays));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Envelope> {
    const { appKey, merchantId, sources } = this.spec;
    const { store, clock } = this.parts;
    this.parts.opened(this);
    try {
      const acked = await store.acknowledgedPositions(appKey, merchantId, sources, this.spec.startFrom);
      this.pushedBefore = { ...(await store.highestPushed(appKey, merchantId)), ...this.pushedBefore };
      // Marks at or below what may have been pushed need not be written again.
      for (const source of sources) this.marked[source] = this.pushedBefore[source] ?? 0;
      // An `after` cursor never reaches back before the merchant authorized the app.
      const floor: Partial<Record<MessageSource, number>> = this.spec.after ? await store.streamFloor(appKey, merchantId, sources, this.spec.startFrom) : {};
      for (const source of sources) {
        // A reset notified while these reads ran has already set its position: it wins.
        if (this.delivered[source] === undefined) this.delivered[source] = Math.max(this.spec.after?.[source] ?? acked[source], floor[source] ?? 0);
      }
      // Messages it would start after that the retention purge deleted: it says so, it does not skip them.
      const expired = await store.expiredSources(merchantId, sources, this.delivered, this.spec.startFrom, this.spec.types);
      if (expired.length) throw messagesExpired(expired.map(topicOfSource), this.settings.retentionDays);
      while (!this.closed) {
        if (this.terminated) throw this.terminated;
        // Read the outbox only when told there is something new (a NOTIFY, a reset, a full batch,
        // room freed by an acknowledgement); a timer alone only re-pushes what is due.
        const readNew = this.dirty;
        this.dirty = false;
        this.liveReady = false;
        if (this.checkRedeliveries) yield* this.manualPushes();
        if (this.inFlight.anyDue()) yield* this.duePushes();
        if (readNew) yield* this.newEvents();
        if (this.anyLive()) yield* this.liveEvents();
        if (this.dirty || this.liveReady || this.terminated) continue;
        // Stopped at the in-flight limit with nothing left to re-push: the acknowledgement that
        // frees room may have been missed, so the stored cursors are asked now and then.
        if (this.waitingForRoom && this.inFlight.nextDueIn() === Infinity) {
          const sinceCheck = clock.now() - this.lastAckCheck;
          if (sinceCheck >= this.settings.ackTimeoutMs) {
            await this.refreshAcknowledged();
            continue;
          }
          await this.sleep(this.settings.ackTimeoutMs - sinceCheck);
          continue;
        }
        await this.sleep(this.inFlight.nextDueIn());
      }
    } finally {
      this.parts.closed(this);
    }
  }

  private async sleep(ms: number) {
    if (this.dirty || this.liveReady || this.closed) return;
    const { clock } = this.parts;
    await new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      if (Number.isFinite(ms)) this.timer = clock.setTimeout(resolve, Math.max(0, ms));
    });
    this.wakeUp = undefined;
    if (this.timer) clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private seal(positions: Record<string, number>): string {
    return this.parts.crypto.sealCursor({ appKey: this.spec.appKey, merchantId: this.spec.merchantId, positions });
  }

  private positionsAfter(event: OutboxEvent): Record<string, number> {
    const positions: Record<string, number> = {};
    for (const source of this.spec.sources) positions[source] = this.delivered[source] ?? 0;
    positions[event.source] = event.position;
    return positions;
  }

  /** Drops what the stored cursors acknowledge (an acknowledgement notification may have been missed). */
  private async refreshAcknowledged() {
    this.lastAckCheck = this.parts.clock.now();
    this.acknowledged(await this.parts.store.acknowledgedPositions(this.spec.appKey, this.spec.merchantId, this.spec.sources, null));
  }

  /** Whether NOTIFYs brought events to push (liveEvents has something to do). */
  private anyLive(): boolean {
    for (const list of this.live.values()) if (list.length) return true;
    return false;
  }

  /** A push of this stream: it is in flight from now, as of the stream's current reset. */
  private track(envelope: Envelope) {
    envelope.resets = this.resets;
    this.inFlight.pushed(envelope);
  }

  /**
   * Raises the stream's pushed mark to `position` unless it is there already: the promise the
   * envelopes up to it wait on before they are sent (undefined when nothing needs writing).
   */
  private markThrough(source: MessageSource, position: number): Promise<void> | undefined {
    if (position <= (this.marked[source] ?? 0)) return undefined;
    this.marked[source] = position;
    const marked = this.parts.marks.mark(this.spec.appKey, this.spec.merchantId, source, position);
    // Whoever sends waits on it and hears a failure; an envelope dropped before (stale, closed) does not.
    marked.catch(() => {});
    return marked;
  }

  private async *manualPushes(): AsyncGenerator<Envelope> {
    if (!this.checkRedeliveries) return;
    this.checkRedeliveries = false;
    const { appKey, merchantId, sources } = this.spec;
    const { store } = this.parts;
    const pending = await store.pendingRedeliveries(appKey, merchantId, sources);
    const found = new Set<string>();
    for (const source of sources) {
      const mine = pending.filter((p) => p.source === source);
      const events = await store.eventsAt(merchantId, source, mine.map((p) => p.position));
      for (const event of events) {
        if (this.closed || this.terminated) return;
        const key = positionKey(source, event.position);
        found.add(key);
        const previous = this.inFlight.envelopeOf(source, event.position);
        const positions = previous?.positions ?? this.positionsAfter(event);
        const requestedAt = mine.find((p) => p.position === event.position)?.requestedAt;
        // Not marked: its request stays until the push is sent, so after a crash it comes again as MANUAL.
        const envelope: Envelope = { event, topic: topicOfSource(source), positions, cursor: previous?.cursor ?? this.seal(positions), attempt: 1, reason: 'MANUAL', resets: 0, ...(requestedAt ? { requestedAt } : {}) };
        this.track(envelope);
        yield envelope;
      }
    }
    // A request is cleared once its message is sent (`sent`); requests whose event this stream
    // cannot find are done now.
    const gone = pending.filter((p) => !found.has(positionKey(p.source, p.position)));
    if (gone.length) await store.clearRedelivery(appKey, merchantId, gone);
  }

  private async *duePushes(): AsyncGenerator<Envelope> {
    const due = this.inFlight.due();
    if (!due.length) return;
    // An acknowledgement NOTIFY may have been missed (a listener reconnecting): ask the database.
    await this.refreshAcknowledged();
    for (const { event } of due) {
      // As it is now: acknowledged meanwhile (gone), or re-sealed by a reset.
      const current = this.inFlight.envelopeOf(event.source, event.position);
      if (!current || this.closed || this.terminated) continue;
      const envelope: Envelope = { ...current, reason: 'REPUSH' };
      this.track(envelope);
      yield envelope;
    }
  }

  private async *newEvents(): AsyncGenerator<Envelope> {
    const { merchantId, sources } = this.spec;
    for (const source of sources) {
      const room = this.settings.maxInFlight - this.inFlight.size;
      if (room <= 0) {
        this.waitingForRoom = true;
        return;
      }
      const resets = this.resets;
      const limit = Math.min(this.settings.batchSize, room);
      // From now on NOTIFYed events are listed: if this read finds everything, they follow it with no gap.
      const live: OutboxEvent[] = [];
      this.live.set(source, live);
      const events = await this.parts.reads.read(merchantId, source, this.delivered[source] ?? 0, limit, this.spec.types[source]);
      // A full read: there may be more, now (a full batch) or once there is room (the in-flight limit).
      if (events.length === limit) {
        if (this.live.get(source) === live) this.live.delete(source);
        if (limit === room) this.waitingForRoom = true;
        else this.dirty = true;
      }
      // The whole batch is marked at once: one mark per read, not per message.
      const marked = events.length ? this.markThrough(source, events[events.length - 1]!.position) : undefined;
      for (const event of events) {
        if (this.closed || this.terminated) return;
        // A reset while this batch was read or pushed moved the stream: read again from there.
        if (this.resets !== resets) {
          this.dirty = true;
          return;
        }
        if (event.position <= (this.delivered[source] ?? 0)) continue;
        this.parts.stats.eventsRead++;
        yield this.envelopeOf(source, event, marked);
      }
    }
  }

  /** The next event of the stream, read or NOTIFYed: its envelope, the stream's position moved past it. */
  private envelopeOf(source: MessageSource, event: OutboxEvent, marked: Promise<void> | undefined): Envelope {
    const positions = this.positionsAfter(event);
    const envelope: Envelope = {
      event,
      topic: topicOfSource(source),
      positions,
      cursor: this.seal(positions),
      attempt: 1,
      resets: 0,
      reason: event.position <= (this.pushedBefore[source] ?? 0) ? 'REPLAY' : 'LIVE',
      ...(marked ? { marked } : {}),
    };
    this.delivered[source] = event.position;
    this.track(envelope);
    return envelope;
  }

  /** Pushes the events NOTIFYs brought while the stream is caught up (see `live`), without reading. */
  private async *liveEvents(): AsyncGenerator<Envelope> {
    const resets = this.resets;
    for (const source of this.spec.sources) {
      const live = this.live.get(source);
      while (live?.length) {
        if (this.closed || this.terminated) return;
        // A reset, or a NOTIFY that said to read instead, replaced the list: the next read goes on from there.
        if (this.resets !== resets || this.live.get(source) !== live) {
          this.dirty = true;
          return;
        }
        if (this.inFlight.size >= this.settings.maxInFlight) {
          this.waitingForRoom = true;
          return;
        }
        const event = live.shift()!;
        if (event.position <= (this.delivered[source] ?? 0)) continue;
        this.parts.stats.eventsNotified++;
        yield this.envelopeOf(source, event, this.markThrough(source, event.position));
      }
    }
  }
}
