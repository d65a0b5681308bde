/**
 * The message channel's dispatcher, one per gateway process.
 *
 * Each subscription reads its app's stream of one merchant from the outboxes by position, so there
 * is no seam between catching up and live: a NOTIFY (sent by the committing transaction) wakes the
 * subscriptions of that merchant, which then read what is new. A NOTIFY also carries the events
 * themselves when they fit (core/outbox.ts): a subscription that is caught up pushes those without
 * reading the outbox (see Subscriber.live for why that leaves no gap). Pushed messages stay in the
 * subscription's in-flight set until acknowledged (acknowledgeMessages, on any gateway: the
 * acknowledgement is NOTIFYed too); unacknowledged ones are pushed again after MESSAGE_ACK_TIMEOUT_MS,
 * doubling each time, up to MESSAGE_MAX_PUSH_ATTEMPTS per connection, after which they wait for the
 * next connection (which starts from the acknowledged cursor). Pushing pauses while
 * MESSAGE_MAX_IN_FLIGHT messages are unacknowledged.
 */
import type { Database } from '../../core/db.js';
import { ErrorCode, PorticoError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { OUTBOX_CHANNEL } from '../../core/outbox.js';
import { MAX_CONTEXT_BATCH } from '../../core/tokens.js';
import type { MessageCrypto } from '../../core/messages/crypto.js';
import { inThreadRecordWriter, type RecordWriter } from '../../core/messages/record-writer.js';
import { MESSAGE_CONTROL_CHANNEL, type ControlMessage, type DeliveryToRecord, type MessageStore, type OutboxEvent, type PurgeResult } from '../../core/messages/store.js';
import { publishedTypes, topicOfSchema, topicOfSource, type MessageSource, type TopicDefinition } from '../../core/messages/topics.js';

export type DeliveryReason = DeliveryToRecord['reason'];

/** One message on its way to one subscription. */
export interface Envelope {
  event: OutboxEvent;
  topic: TopicDefinition;
  cursor: string;
  attempt: number;
  reason: DeliveryReason;
  /** The positions sealed in `cursor`: this event's, and how far the stream's other topics had come. */
  positions: Record<string, number>;
  /** How many resets the stream had when this was read (a message read before a reset is not sent after it). */
  resets: number;
  /** A manual push: when it was requested (the request is cleared once the push is sent). */
  requestedAt?: Date;
}

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

export interface ChannelOptions {
  database: Database;
  store: MessageStore;
  crypto: MessageCrypto;
  logger: Logger;
  ackTimeoutMs: number;
  maxPushAttempts: number;
  maxInFlight: number;
  /** Events read per query. */
  batchSize?: number;
  /** Where delivery records are written (default: this thread, with `store`); the channel closes it when it stops. */
  records?: RecordWriter;
  /** Days events and their records are kept (MESSAGE_RETENTION_DAYS); 0 or absent: forever. */
  retentionDays?: number;
  /** How often the retention purge runs (default hourly; the first run a minute after start). */
  purgeIntervalMs?: number;
  /**
   * A push is sent only once its record is committed (MESSAGE_RECORD_TIMING=before-send); by
   * default its record is written as it is sent (see MessageStream.recordPush).
   */
  recordBeforeSend?: boolean;
  /** Records not yet written at which a push waits before it is sent (MESSAGE_RECORD_MAX_PENDING; with-send only). */
  maxPendingRecords?: number;
  /**
   * With-send: records are written once pushing has paused this many ms, with no message being
   * prepared (MESSAGE_RECORD_QUIET_MS),
   * or recordMaxDelayMs after the first of them was queued (MESSAGE_RECORD_MAX_DELAY_MS); 0: at
   * the next turn of the event loop.
   */
  recordQuietMs?: number;
  recordMaxDelayMs?: number;
}

export const DEFAULT_MAX_PENDING_RECORDS = 5000;
export const DEFAULT_RECORD_QUIET_MS = 30;
export const DEFAULT_RECORD_MAX_DELAY_MS = 500;

/** The error of a stream whose unacknowledged messages of these topics the retention purge deleted. */
export function messagesExpired(topics: readonly TopicDefinition[], retentionDays: number | undefined): PorticoError {
  const names = topics.map((t) => t.topic);
  return new PorticoError(
    ErrorCode.MESSAGES_EXPIRED,
    `Messages of ${names.join(', ')} after this stream's cursor were never acknowledged and have been deleted: they passed the retention window${retentionDays ? ` (${retentionDays} days)` : ''}. Reset the cursor (resetMessageCursor, to a time or a cursor) to go on from the oldest messages kept`,
    { topics: names, ...(retentionDays ? { retentionDays } : {}) },
  );
}

interface InFlight {
  envelope: Envelope;
  attempts: number;
  dueAt: number;
}

/** A subscription's stream: an async iterable of envelopes, plus what its executor reports back. */
export interface MessageStream extends AsyncIterable<Envelope> {
  /**
   * Records a push; rejects if the record cannot be written. With recordBeforeSend the message is
   * sent once this resolves; otherwise it is sent meanwhile, and an acknowledgement through this
   * gateway waits for it (recordsWritten).
   */
  recordPush(envelope: Envelope, pushed: unknown): Promise<void>;
  /** With-send: undefined while there is room for more pending records; otherwise resolves when there is. */
  roomForRecords(): Promise<void> | undefined;
  /**
   * A message read from the stream is being prepared for its push (executed, its entity fetched):
   * with-send, records are not written while any message of this gateway is (see schedule).
   * Returns what to call, once, when it is recorded, dropped or failed.
   */
  preparing(): () => void;
  /**
   * Whether a reset happened since the message was read: its cursor may carry a position the
   * reset moved back (of its own topic or another), so it is not sent; it is pushed again instead.
   */
  isStale(envelope: Envelope): boolean;
  /** The message is being handed to the transport: its acknowledgement timeout starts now. */
  sent(envelope: Envelope): void;
  /** Ends the stream: the next read returns this error, then the stream is done. */
  terminate(error: Error): void;
  readonly terminated: Error | undefined;
}

const positionKey = (source: string, position: number) => `${source}:${position}`;
/** An app's stream of a merchant, as the pending records are tracked. */
const streamKey = (appKey: string, merchantId: string) => `${appKey}|${merchantId}`;

/** Record batches written at once (each on its own connection), and records per statement. */
export const MAX_RECORD_WRITES = 4;
const MAX_RECORDS_PER_WRITE = 1000;

export function createMessageChannel(options: ChannelOptions) {
  const { store, crypto, logger } = options;
  const records = options.records ?? inThreadRecordWriter(store, crypto);
  const batchSize = options.batchSize ?? 200;
  const byMerchant = new Map<string, Set<Subscriber>>();
  /** What this gateway's streams did since it started (for tests and operators): outbox queries, and the events they pushed first from a read or from a NOTIFY. */
  const stats = { outboxReads: 0, eventsRead: 0, eventsNotified: 0 };
  const unlisteners: (() => Promise<void>)[] = [];

  /**
   * Writes delivery records in batches: what was queued until they are written (in one tick with
   * before-send; until the pushing pauses with-send, see schedule) goes in statements of up to
   * MAX_RECORDS_PER_WRITE. Up to
   * MAX_RECORD_WRITES batches are written at once, on separate connections: a burst's deliveries
   * become ready a context batch at a time, and with MESSAGE_RECORD_TIMING=before-send each waits
   * for its record before it is sent, so a batch must not wait behind the write of the one before
   * (one at a time, the last batch of a thousand-subscriber burst waited about 50 ms for a
   * 500-record write begun before it was ready).
   */
  const queued: { delivery: DeliveryToRecord; key: string; done: (error?: unknown) => void }[] = [];
  let writing = 0;
  /** Set while what is queued is being written (pump, until the queue is empty); with-send, records otherwise wait for a pause (schedule). */
  let draining = false;
  let scheduled = false;
  const idle: (() => void)[] = [];
  async function writeRecords(batch: typeof queued) {
    try {
      await records.write(batch.map((b) => b.delivery));
      for (const b of batch) b.done();
    } catch (error) {
      // One app's failure (its key cannot be loaded, say) must not fail the other apps' pushes
      // of the same moment: write each app's records on its own.
      const byApp = new Map<string, typeof batch>();
      for (const b of batch) {
        const own = byApp.get(b.delivery.appKey);
        if (own) own.push(b);
        else byApp.set(b.delivery.appKey, [b]);
      }
      if (byApp.size === 1) {
        logger.error({ err: error, appKey: batch[0]!.delivery.appKey }, 'message channel: delivery records could not be written');
        for (const b of batch) b.done(error);
        return;
      }
      for (const [appKey, own] of byApp) {
        try {
          await records.write(own.map((b) => b.delivery));
          for (const b of own) b.done();
        } catch (appError) {
          logger.error({ err: appError, appKey }, 'message channel: delivery records could not be written');
          for (const b of own) b.done(appError);
        }
      }
    }
  }
  function pump() {
    draining = true;
    drain();
  }
  function drain() {
    while (draining && queued.length && writing < MAX_RECORD_WRITES) write(queued.splice(0, MAX_RECORDS_PER_WRITE));
    if (!queued.length) draining = false;
  }
  function write(batch: typeof queued) {
    writing++;
    void writeRecords(batch).finally(() => {
      writing--;
      drain();
      if (!queued.length && !writing) for (const resolve of idle.splice(0)) resolve();
    });
  }
  /** Writes the queued records of one app's stream of a merchant now (an acknowledgement waits for them); the others still wait for the pause. */
  function writeNow(key: string) {
    if (draining) return drain();
    const now: typeof queued = [];
    let kept = 0;
    for (const q of queued) {
      if (q.key === key) now.push(q);
      else queued[kept++] = q;
    }
    queued.length = kept;
    for (let i = 0; i < now.length; i += MAX_RECORDS_PER_WRITE) write(now.slice(i, i + MAX_RECORDS_PER_WRITE));
  }
  /** Resolves once every queued record is written (or failed). */
  function flush(): Promise<void> {
    pump();
    if (!queued.length && !writing) return Promise.resolve();
    return new Promise<void>((resolve) => idle.push(resolve));
  }
  /**
   * With-send, records are written when the pushing pauses: a burst's records, written while it
   * was being pushed, took CPU from it (on the gateway's thread handing them over, and the record
   * worker's sealing and statements and PostgreSQL's inserts on the other core, which the subgraph
   * answering the sub-queries needs). They wait until no push was recorded for recordQuietMs, and
   * at most recordMaxDelayMs; an acknowledgement or records listing (recordsWritten) has the records of
   * its stream written at once, and a push waiting for room and the channel's stop all of them. One timer, re-armed only when it fires.
   *
   * A pause is a pause of the whole channel, not only of the recorded pushes: while a message is
   * being prepared (its entity sub-query on its way, say) or woken streams wait for their turn, the
   * burst is still on, however long since the last push. A burst's pushes come a context batch at a
   * time, and the gap while a batch's sub-queries are answered reached 30-40 ms in the slow bursts of
   * the bench; records written in it took the CPU the rest of the burst waited for.
   */
  const recordQuietMs = options.recordBeforeSend ? 0 : (options.recordQuietMs ?? DEFAULT_RECORD_QUIET_MS);
  const recordMaxDelayMs = options.recordMaxDelayMs ?? DEFAULT_RECORD_MAX_DELAY_MS;
  let quietTimer: NodeJS.Timeout | undefined;
  let lastQueuedAt = 0;
  let firstQueuedAt = 0;
  /** Messages being prepared for their push, on every stream (MessageStream.preparing). */
  let preparing = 0;
  function whenQuiet() {
    quietTimer = undefined;
    if (!queued.length) return;
    const now = performance.now();
    const quietSince = preparing > 0 || toWake.size > 0 ? now : lastQueuedAt;
    const wait = Math.min(quietSince + recordQuietMs - now, firstQueuedAt + recordMaxDelayMs - now);
    if (wait > 0) quietTimer = setTimeout(whenQuiet, wait);
    else pump();
  }
  function schedule() {
    if (recordQuietMs > 0) {
      lastQueuedAt = performance.now();
      if (quietTimer) return;
      firstQueuedAt = lastQueuedAt;
      quietTimer = setTimeout(whenQuiet, Math.min(recordQuietMs, recordMaxDelayMs));
      return;
    }
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      pump();
    });
  }
  /** Per app and merchant (`appKey|merchantId`), the records of pushes not yet written or failed (on streams open or closed since). */
  const pendingRecords = new Map<string, Set<Promise<void>>>();
  /**
   * Records handed over and not yet written or failed, and the pushes waiting for room: sending
   * does not wait for its record (with-send), so a database slower than the pushes would let the
   * records pile up in memory; at maxPendingRecords, a push waits until one is written (or failed).
   */
  const maxPendingRecords = options.maxPendingRecords ?? DEFAULT_MAX_PENDING_RECORDS;
  let pendingCount = 0;
  const roomWaiters: (() => void)[] = [];
  function recordDelivery(delivery: DeliveryToRecord, key: string): Promise<void> {
    pendingCount++;
    return new Promise<void>((resolve, reject) => {
      queued.push({
        delivery,
        key,
        done: (error) => {
          pendingCount--;
          // Every waiting push goes on (each may not record: it may have been closed meanwhile);
          // together they exceed the bound by at most the pushes being prepared at once.
          if (pendingCount < maxPendingRecords) for (const go of roomWaiters.splice(0)) go();
          if (error) reject(error);
          else resolve();
        },
      });
      schedule();
    });
  }
  function roomForRecords(): Promise<void> | undefined {
    if (pendingCount < maxPendingRecords) return undefined;
    pump();
    return new Promise<void>((resolve) => roomWaiters.push(resolve));
  }

  /**
   * Streams woken by NOTIFYs go on in turns of WAKES_PER_TURN, one turn of the event loop each, not
   * all in the turn that read the NOTIFYs. A burst's NOTIFYs arrive together, and each woken stream
   * executes its message up to its entity sub-query; the sub-queries of a turn leave for the subgraph
   * at the end of that turn, because undici writes a request on a reused keep-alive connection only
   * after a turn of the event loop (it first checks the idle socket; GHSA-35p6-xmwp-9g52). Woken all
   * at once, a thousand streams executed before the first sub-query left, and the subgraph started
   * only then; in turns, it works on the first ones while the gateway executes the rest.
   */
  const WAKES_PER_TURN = MAX_CONTEXT_BATCH;
  const toWake = new Set<Subscriber>();
  let turnScheduled = false;
  function wakeInTurn(subscriber: Subscriber) {
    toWake.add(subscriber);
    if (turnScheduled) return;
    turnScheduled = true;
    setImmediate(nextTurn);
  }
  function nextTurn() {
    turnScheduled = false;
    let n = 0;
    for (const subscriber of toWake) {
      if (n++ === WAKES_PER_TURN) break;
      toWake.delete(subscriber);
      subscriber.wakeTurn();
    }
    if (toWake.size) {
      turnScheduled = true;
      setImmediate(nextTurn);
    }
  }

  /**
   * Outbox reads, coalesced: every subscription woken in the same moment (a burst's NOTIFYs arrive
   * together) reads through one query per source and type filter, and subscriptions of one merchant
   * at the same position (several apps, several connections) share one read.
   */
  interface ReadGroup {
    source: MessageSource;
    types: readonly string[] | undefined;
    reads: Map<string, { merchantId: string; after: number; limit: number; waiters: { resolve(events: OutboxEvent[]): void; reject(error: unknown): void }[] }>;
  }
  let readGroups = new Map<string, ReadGroup>();
  let readScheduled = false;
  // Small enough that a burst's first subscriptions are executed, and their sub-queries sent, while
  // the later reads are still on their way (each read's result is executed as it arrives).
  const MAX_READS_PER_QUERY = 100;
  function readEvents(merchantId: string, source: MessageSource, after: number, limit: number, types: readonly string[] | undefined): Promise<OutboxEvent[]> {
    const groupKey = `${source}|${types ? JSON.stringify(types) : '*'}`;
    let group = readGroups.get(groupKey);
    if (!group) readGroups.set(groupKey, (group = { source, types, reads: new Map() }));
    const readKey = `${merchantId}|${after}|${limit}`;
    let read = group.reads.get(readKey);
    if (!read) group.reads.set(readKey, (read = { merchantId, after, limit, waiters: [] }));
    const waiters = read.waiters;
    const promise = new Promise<OutboxEvent[]>((resolve, reject) => waiters.push({ resolve, reject }));
    if (!readScheduled) {
      readScheduled = true;
      setImmediate(runReads);
    }
    return promise;
  }
  function runReads() {
    readScheduled = false;
    const groups = readGroups;
    readGroups = new Map();
    for (const group of groups.values()) {
      const reads = [...group.reads.values()];
      for (let i = 0; i < reads.length; i += MAX_READS_PER_QUERY) {
        const chunk = reads.slice(i, i + MAX_READS_PER_QUERY);
        stats.outboxReads++;
        store.eventsAfterMany(group.source, group.types, chunk).then(
          (results) => chunk.forEach((read, j) => read.waiters.forEach((w) => w.resolve(results[j]!))),
          (error: unknown) => chunk.forEach((read) => read.waiters.forEach((w) => w.reject(error))),
        );
      }
    }
  }

  class Subscriber implements MessageStream {
    delivered: Record<string, number> = {};
    /** Positions at or below which an event was pushed before (on any connection): a REPLAY. */
    pushedBefore: Record<string, number> = {};
    inFlight = new Map<string, InFlight>();
    checkRedeliveries = true;
    /**
     * Bumped by every reset: a batch read before a reset must stop (the stream re-reads from the
     * new position), and a message prepared before it is not sent.
     */
    private resets = 0;
    terminated: Error | undefined;
    private closed = false;
    private dirty = true;
    /** The last read stopped at MESSAGE_MAX_IN_FLIGHT: an acknowledgement must wake the stream. */
    private waitingForRoom = false;
    private wakeUp: (() => void) | undefined;
    private timer: NodeJS.Timeout | undefined;
    /**
     * Per source, the events NOTIFYed since this stream last began a read that then found everything
     * (not a full batch), in commit order; absent while that does not hold, and a NOTIFY only wakes
     * the stream to read. No gap: an event the read did not see committed after the read's snapshot
     * was taken, which is after the read was asked for, so its NOTIFY arrives after this list was
     * started; and one merchant's events commit in the order of their positions (core/outbox.ts), so
     * NOTIFYs bring them in that order. Read events and listed ones may overlap: what the stream has
     * read (its delivered position) is skipped.
     */
    private live = new Map<MessageSource, OutboxEvent[]>();
    /** Events were added to `live`: the stream pushes them without reading. */
    private liveReady = false;
    /** Published types this stream wants, per source (what a read of the outbox filters on). */
    private readonly wanted: Partial<Record<MessageSource, ReadonlySet<string>>> = {};

    constructor(readonly spec: StreamSpec) {
      for (const source of spec.sources) this.wanted[source] = new Set(publishedTypes(source, spec.types[source]));
    }

    /**
     * A NOTIFY for this stream's merchant and source: its events (null when it carried none) are
     * pushed from `live` if the stream is caught up; otherwise it reads.
     */
    notified(source: MessageSource, events: readonly OutboxEvent[] | null) {
      const live = this.live.get(source);
      if (!live || !events || live.length + events.length > batchSize) {
        this.live.delete(source);
        this.dirty = true;
        wakeInTurn(this);
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
      wakeInTurn(this);
    }

    /** Its turn came (see wakeInTurn): a stream asleep goes on now. */
    wakeTurn() {
      this.wakeUp?.();
    }

    /** The listener reconnected: NOTIFYs may have been missed, so the stream reads again. */
    lostNotifications() {
      this.live.clear();
      this.wake();
    }

    isStale(envelope: Envelope): boolean {
      return envelope.resets !== this.resets;
    }

    /** Manual push requests whose message was sent, cleared together. */
    private sentManual: { source: MessageSource; position: number; requestedAt: Date }[] = [];
    sent(envelope: Envelope) {
      // The acknowledgement timeout counts from the send, not from the read (a message may wait in
      // the look-ahead behind slower ones).
      const entry = this.inFlight.get(positionKey(envelope.event.source, envelope.event.position));
      if (entry && entry.attempts === envelope.attempt) entry.dueAt = Date.now() + options.ackTimeoutMs * 2 ** (entry.attempts - 1);
      if (!envelope.requestedAt) return;
      if (!this.sentManual.length) {
        setImmediate(() => {
          const done = this.sentManual.splice(0);
          store.clearRedelivery(this.spec.appKey, this.spec.merchantId, done).catch((error: unknown) => {
            // The requests stay: their messages are pushed again (MANUAL) at the next check or connection.
            logger.warn({ err: error }, 'message channel: manual push requests could not be cleared');
          });
        });
      }
      this.sentManual.push({ source: envelope.event.source, position: envelope.event.position, requestedAt: envelope.requestedAt });
    }

    wake() {
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

    private async sleep(ms: number) {
      if (this.dirty || this.liveReady || this.closed) return;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        if (Number.isFinite(ms)) this.timer = setTimeout(resolve, Math.max(0, ms));
      });
      this.wakeUp = undefined;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
    }

    private seal(positions: Record<string, number>): string {
      return crypto.sealCursor({ appKey: this.spec.appKey, merchantId: this.spec.merchantId, positions });
    }

    private positionsAfter(event: OutboxEvent): Record<string, number> {
      const positions: Record<string, number> = {};
      for (const source of this.spec.sources) positions[source] = this.delivered[source] ?? 0;
      positions[event.source] = event.position;
      return positions;
    }

    acknowledged(positions: Record<string, number>) {
      for (const [key, entry] of this.inFlight) {
        const acked = positions[entry.envelope.event.source];
        if (acked !== undefined && entry.envelope.event.position <= acked) this.inFlight.delete(key);
      }
      // Reading stopped at the in-flight limit: there is room again.
      if (this.waitingForRoom && this.inFlight.size < options.maxInFlight) {
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
        for (const [key, entry] of this.inFlight) {
          if (entry.envelope.event.source === source) {
            this.inFlight.delete(key);
            continue;
          }
          // A message of another topic carries this topic's position in its cursor: acknowledging
          // it must not acknowledge what the reset is about to replay. Its cursor is sealed again
          // with the position moved back, and it is pushed again now with that cursor (it may not
          // have been sent: messages prepared before the reset are not).
          if ((entry.envelope.positions[source] ?? 0) > position) {
            const clamped = { ...entry.envelope.positions, [source]: position };
            entry.envelope = { ...entry.envelope, positions: clamped, cursor: this.seal(clamped) };
            entry.dueAt = Date.now();
          }
        }
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
      const acked = await store.acknowledgedPositions(this.spec.appKey, this.spec.merchantId, this.spec.sources, null);
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
      const acked = await store.acknowledgedPositions(this.spec.appKey, this.spec.merchantId, this.spec.sources, null);
      const positions: Partial<Record<MessageSource, number>> = {};
      for (const source of this.spec.sources) positions[source] = Math.max(acked[source] ?? 0, this.delivered[source] ?? 0);
      const expired = await store.expiredSources(this.spec.merchantId, this.spec.sources, positions, this.spec.startFrom, this.spec.types);
      if (expired.length) this.terminate(messagesExpired(expired.map(topicOfSource), options.retentionDays));
    }

    /** Drops what the stored cursors acknowledge (an acknowledgement notification may have been missed). */
    private async refreshAcknowledged() {
      this.lastAckCheck = Date.now();
      this.acknowledged(await store.acknowledgedPositions(this.spec.appKey, this.spec.merchantId, this.spec.sources, null));
    }
    private lastAckCheck = 0;

    roomForRecords() {
      return roomForRecords();
    }

    preparing() {
      preparing++;
      return () => void preparing--;
    }

    recordPush(envelope: Envelope, pushed: unknown): Promise<void> {
      const key = streamKey(this.spec.appKey, this.spec.merchantId);
      const written = recordDelivery(
        {
          appKey: this.spec.appKey,
          event: envelope.event,
          connectionId: this.spec.connectionId,
          transport: this.spec.transport,
          reason: envelope.reason,
          attempt: envelope.attempt,
          pushed,
        },
        key,
      );
      const own = pendingRecords.get(key) ?? new Set<Promise<void>>();
      pendingRecords.set(key, own);
      const settled: Promise<void> = written.then(forget, forget);
      own.add(settled);
      function forget() {
        own.delete(settled);
        if (!own.size && pendingRecords.get(key) === own) pendingRecords.delete(key);
      }
      return written;
    }

    async *[Symbol.asyncIterator](): AsyncGenerator<Envelope> {
      const { appKey, merchantId, sources } = this.spec;
      register(this);
      try {
        const acked = await store.acknowledgedPositions(appKey, merchantId, sources, this.spec.startFrom);
        this.pushedBefore = { ...(await store.highestPushed(appKey, merchantId)), ...this.pushedBefore };
        // An `after` cursor never reaches back before the merchant authorized the app.
        const floor: Partial<Record<MessageSource, number>> = this.spec.after ? await store.streamFloor(appKey, merchantId, sources, this.spec.startFrom) : {};
        for (const source of sources) {
          // A reset notified while these reads ran has already set its position: it wins.
          if (this.delivered[source] === undefined) this.delivered[source] = Math.max(this.spec.after?.[source] ?? acked[source], floor[source] ?? 0);
        }
        // Messages it would start after that the retention purge deleted: it says so, it does not skip them.
        const expired = await store.expiredSources(merchantId, sources, this.delivered, this.spec.startFrom, this.spec.types);
        if (expired.length) throw messagesExpired(expired.map(topicOfSource), options.retentionDays);
        while (!this.closed) {
          if (this.terminated) throw this.terminated;
          // Read the outbox only when told there is something new (a NOTIFY, a reset, a full batch,
          // room freed by an acknowledgement); a timer alone only re-pushes what is due.
          const readNew = this.dirty;
          this.dirty = false;
          this.liveReady = false;
          // Each step is an async generator: only entered when it has something to do (a burst wakes a
          // thousand streams, and each step entered costs allocations for nothing).
          if (this.checkRedeliveries) yield* this.manualPushes();
          if (this.anyDue(Date.now())) yield* this.duePushes();
          if (readNew) yield* this.newEvents();
          if (this.anyLive()) yield* this.liveEvents();
          if (this.dirty || this.liveReady || this.terminated) continue;
          // Stopped at the in-flight limit with nothing left to re-push: the acknowledgement that
          // frees room may have been missed, so the stored cursors are asked now and then.
          if (this.waitingForRoom && this.nextDueIn() === Infinity) {
            const sinceCheck = Date.now() - this.lastAckCheck;
            if (sinceCheck >= options.ackTimeoutMs) {
              await this.refreshAcknowledged();
              continue;
            }
            await this.sleep(options.ackTimeoutMs - sinceCheck);
            continue;
          }
          await this.sleep(this.nextDueIn());
        }
      } finally {
        unregister(this);
      }
    }

    /** Whether an in-flight message is due to be pushed again (duePushes has something to do). */
    private anyDue(now: number): boolean {
      for (const entry of this.inFlight.values()) if (entry.dueAt <= now && entry.attempts < options.maxPushAttempts) return true;
      return false;
    }

    /** Whether NOTIFYs brought events to push (liveEvents has something to do). */
    private anyLive(): boolean {
      for (const list of this.live.values()) if (list.length) return true;
      return false;
    }

    private nextDueIn(): number {
      let next = Infinity;
      for (const entry of this.inFlight.values()) if (entry.attempts < options.maxPushAttempts) next = Math.min(next, entry.dueAt);
      return next === Infinity ? Infinity : next - Date.now();
    }

    private track(envelope: Envelope) {
      const key = positionKey(envelope.event.source, envelope.event.position);
      const previous = this.inFlight.get(key);
      const attempts = (previous?.attempts ?? 0) + 1;
      envelope.attempt = attempts;
      envelope.resets = this.resets;
      this.inFlight.set(key, { envelope, attempts, dueAt: Date.now() + options.ackTimeoutMs * 2 ** (attempts - 1) });
    }

    private async *manualPushes(): AsyncGenerator<Envelope> {
      if (!this.checkRedeliveries) return;
      this.checkRedeliveries = false;
      const { appKey, merchantId, sources } = this.spec;
      const pending = await store.pendingRedeliveries(appKey, merchantId, sources);
      const found = new Set<string>();
      for (const source of sources) {
        const mine = pending.filter((p) => p.source === source);
        const events = await store.eventsAt(merchantId, source, mine.map((p) => p.position));
        for (const event of events) {
          if (this.closed || this.terminated) return;
          const key = positionKey(source, event.position);
          found.add(key);
          const previous = this.inFlight.get(key)?.envelope;
          const positions = previous?.positions ?? this.positionsAfter(event);
          const requestedAt = mine.find((p) => p.position === event.position)?.requestedAt;
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
      const now = Date.now();
      const due = [...this.inFlight.values()].filter((e) => e.dueAt <= now && e.attempts < options.maxPushAttempts);
      if (!due.length) return;
      // An acknowledgement NOTIFY may have been missed (a listener reconnecting): ask the database.
      await this.refreshAcknowledged();
      due.sort((a, b) => a.envelope.event.source.localeCompare(b.envelope.event.source) || a.envelope.event.position - b.envelope.event.position);
      for (const entry of due) {
        const key = positionKey(entry.envelope.event.source, entry.envelope.event.position);
        if (!this.inFlight.has(key) || this.closed || this.terminated) continue;
        const envelope: Envelope = { ...entry.envelope, reason: 'REPUSH' };
        this.track(envelope);
        yield envelope;
      }
    }

    private async *newEvents(): AsyncGenerator<Envelope> {
      const { merchantId, sources } = this.spec;
      for (const source of sources) {
        const room = options.maxInFlight - this.inFlight.size;
        if (room <= 0) {
          this.waitingForRoom = true;
          return;
        }
        const resets = this.resets;
        const limit = Math.min(batchSize, room);
        // From now on NOTIFYed events are listed: if this read finds everything, they follow it with no gap.
        const live: OutboxEvent[] = [];
        this.live.set(source, live);
        const events = await readEvents(merchantId, source, this.delivered[source] ?? 0, limit, this.spec.types[source]);
        // A full read: there may be more, now (a full batch) or once there is room (the in-flight limit).
        if (events.length === limit) {
          if (this.live.get(source) === live) this.live.delete(source);
          if (limit === room) this.waitingForRoom = true;
          else this.dirty = true;
        }
        for (const event of events) {
          if (this.closed || this.terminated) return;
          // A reset while this batch was read or pushed moved the stream: read again from there.
          if (this.resets !== resets) {
            this.dirty = true;
            return;
          }
          if (event.position <= (this.delivered[source] ?? 0)) continue;
          stats.eventsRead++;
          yield this.envelopeOf(source, event);
        }
      }
    }

    /** The next event of the stream, read or NOTIFYed: its envelope, the stream's position moved past it. */
    private envelopeOf(source: MessageSource, event: OutboxEvent): Envelope {
      const positions = this.positionsAfter(event);
      const envelope: Envelope = {
        event,
        topic: topicOfSource(source),
        positions,
        cursor: this.seal(positions),
        attempt: 1,
        resets: 0,
        reason: event.position <= (this.pushedBefore[source] ?? 0) ? 'REPLAY' : 'LIVE',
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
          if (this.inFlight.size >= options.maxInFlight) {
            this.waitingForRoom = true;
            return;
          }
          const event = live.shift()!;
          if (event.position <= (this.delivered[source] ?? 0)) continue;
          stats.eventsNotified++;
          yield this.envelopeOf(source, event);
        }
      }
    }
  }

  function register(subscriber: Subscriber) {
    let set = byMerchant.get(subscriber.spec.merchantId);
    if (!set) byMerchant.set(subscriber.spec.merchantId, (set = new Set()));
    set.add(subscriber);
  }

  function unregister(subscriber: Subscriber) {
    toWake.delete(subscriber);
    const set = byMerchant.get(subscriber.spec.merchantId);
    set?.delete(subscriber);
    if (set && !set.size) byMerchant.delete(subscriber.spec.merchantId);
  }

  /** `<schema>:<merchant>:<last position>`, then `:<events>` when they fit (core/outbox.ts). */
  function onOutbox(payload: string) {
    const first = payload.indexOf(':');
    const second = first < 0 ? -1 : payload.indexOf(':', first + 1);
    if (second < 0) return;
    const third = payload.indexOf(':', second + 1);
    const topic = topicOfSchema(payload.slice(0, first));
    const merchantId = payload.slice(first + 1, second);
    const position = Number(third < 0 ? payload.slice(second + 1) : payload.slice(second + 1, third));
    const subscribers = byMerchant.get(merchantId);
    if (!topic || !subscribers || !Number.isSafeInteger(position)) return;
    let events: OutboxEvent[] | null | undefined;
    for (const subscriber of subscribers) {
      if (!subscriber.spec.sources.includes(topic.source) || (subscriber.delivered[topic.source] ?? 0) >= position) continue;
      // Parsed once for every subscription of the merchant (they only read the events).
      if (events === undefined) events = third < 0 ? null : notifiedEvents(topic.source, merchantId, payload.slice(third + 1));
      subscriber.notified(topic.source, events);
    }
  }

  /** The events a NOTIFY carries, as a read of the outbox returns them; null if they cannot be used. */
  function notifiedEvents(source: MessageSource, merchantId: string, json: string): OutboxEvent[] | null {
    try {
      const rows = JSON.parse(json) as unknown;
      if (!Array.isArray(rows)) return null;
      const events: OutboxEvent[] = [];
      for (const row of rows) {
        const [position, id, aggregateType, aggregateId, type, payload, occurredAt] = (Array.isArray(row) ? row : []) as unknown[];
        const at = typeof occurredAt === 'string' ? new Date(occurredAt) : null;
        if (!Number.isSafeInteger(position) || typeof id !== 'string' || typeof aggregateType !== 'string' || typeof aggregateId !== 'string' || typeof type !== 'string' || !payload || typeof payload !== 'object' || !at || Number.isNaN(at.getTime())) {
          logger.warn('message channel: a NOTIFY carried an event of an unexpected shape; reading the outbox instead');
          return null;
        }
        events.push({ source, position: position as number, id, merchantId, aggregateType, aggregateId, type, payload: payload as Record<string, unknown>, occurredAt: at });
      }
      return events;
    } catch (error) {
      logger.warn({ err: error }, 'message channel: a NOTIFY carried events that could not be parsed; reading them instead');
      return null;
    }
  }

  function onControl(payload: string) {
    let message: ControlMessage;
    try {
      message = JSON.parse(payload) as ControlMessage;
    } catch {
      return;
    }
    if (message.kind === 'key_rotated') {
      records.forget(message.appKey);
      return crypto.forget(message.appKey);
    }
    if (message.kind === 'purged') {
      checkAllExpired();
      return;
    }
    if (!message.merchantId) return;
    for (const subscriber of byMerchant.get(message.merchantId) ?? []) {
      if (subscriber.spec.appKey !== message.appKey) continue;
      if (message.kind === 'ack' && message.positions) subscriber.acknowledged(message.positions);
      if (message.kind === 'reset' && message.positions) subscriber.reset(message.positions);
      if (message.kind === 'redeliver') {
        subscriber.checkRedeliveries = true;
        subscriber.wake();
      }
    }
  }

  /**
   * After a purge: every open stream checks what it lost, a few at a time (two small queries each).
   * A purge NOTIFYs once per batch: notifications that come during a check make one more check after it.
   */
  let checking: Promise<void> | undefined;
  let checkAgain = false;
  function checkAllExpired() {
    if (checking) {
      checkAgain = true;
      return;
    }
    checking = checkEveryStream().finally(() => {
      checking = undefined;
      if (checkAgain) {
        checkAgain = false;
        checkAllExpired();
      }
    });
  }
  async function checkEveryStream() {
    const all = [...byMerchant.values()].flatMap((set) => [...set]);
    const next = () => all.pop();
    const worker = async () => {
      for (let subscriber = next(); subscriber; subscriber = next()) {
        await subscriber.checkExpired().catch((error: unknown) => logger.warn({ err: error }, 'message channel: a stream could not check what the retention purge deleted'));
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  }

  /** After (re)connecting the listener, notifications may have been missed: everyone reads again. */
  function wakeAll() {
    for (const set of byMerchant.values()) for (const subscriber of set) subscriber.lostNotifications();
  }

  /**
   * The retention purge (MESSAGE_RETENTION_DAYS): events older than the window go from the outboxes,
   * with their records. One gateway at a time does it (store.purgeExpired); each batch of events it
   * deletes is NOTIFYed, and every gateway's open streams check whether they lost unacknowledged messages.
   */
  let purgeTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  let purging: Promise<PurgeResult | null> | undefined;
  async function purgeExpired(now = new Date()): Promise<PurgeResult | null> {
    const days = options.retentionDays ?? 0;
    if (days <= 0) return null;
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    const result = await store.purgeExpired(cutoff, { stopped: () => stopping });
    if (result.events || result.records) logger.info({ cutoff, events: result.events, records: result.records }, 'message channel: retention purge deleted expired messages');
    return result;
  }
  function purgeSoon(delayMs: number) {
    purgeTimer = setTimeout(() => {
      purging = purgeExpired()
        .catch((error: unknown) => {
          logger.error({ err: error }, 'message channel: the retention purge failed; it runs again at its next interval');
          return null;
        })
        .finally(() => {
          purging = undefined;
          if (purgeTimer) purgeSoon(options.purgeIntervalMs ?? 3_600_000);
        });
    }, delayMs);
    purgeTimer.unref();
  }

  return {
    /** Runs the retention purge now (it also runs on its own every purgeIntervalMs); null without a retention window. */
    purgeExpired,

    async start() {
      if ((options.retentionDays ?? 0) > 0) purgeSoon(Math.min(60_000, options.purgeIntervalMs ?? 60_000));
      unlisteners.push(await options.database.listen(OUTBOX_CHANNEL, onOutbox, wakeAll));
      unlisteners.push(
        await options.database.listen(MESSAGE_CONTROL_CHANNEL, onControl, () => {
          for (const set of byMerchant.values()) {
            for (const subscriber of set) subscriber.resync().catch((error: unknown) => logger.warn({ err: error }, 'message channel: a stream could not re-read its cursors; it does at its next re-push'));
          }
        }),
      );
    },

    open(spec: StreamSpec): MessageStream & { close(): void } {
      return new Subscriber(spec);
    },

    /** Outbox queries, and events pushed first from a read or from a NOTIFY, since start (a copy). */
    get stats() {
      return { ...stats };
    },

    /** Whether a push waits for its record before it is sent (MESSAGE_RECORD_TIMING=before-send). */
    recordBeforeSend: options.recordBeforeSend ?? false,

    /**
     * Resolves once the records of every push this gateway made so far to the app's streams of the
     * merchant are written or failed: an acknowledgement waits for it, so that the records of what it
     * acknowledges exist when it marks them.
     */
    async recordsWritten(appKey: string, merchantId: string): Promise<void> {
      const key = streamKey(appKey, merchantId);
      const own = pendingRecords.get(key);
      if (!own?.size) return;
      writeNow(key);
      await Promise.all([...own]);
    },

    /** Subscriptions open on this gateway (for /healthz and tests). */
    get size() {
      let n = 0;
      for (const set of byMerchant.values()) n += set.size;
      return n;
    },

    async stop() {
      stopping = true;
      clearTimeout(purgeTimer);
      purgeTimer = undefined;
      await purging; // it stops after its current batch
      for (const set of byMerchant.values()) for (const subscriber of set) subscriber.close();
      for (const unlisten of unlisteners.splice(0)) await unlisten().catch(() => {});
      clearTimeout(quietTimer);
      quietTimer = undefined;
      await flush();
      await records.close();
    },
  };
}

export type MessageChannel = ReturnType<typeof createMessageChannel>;
