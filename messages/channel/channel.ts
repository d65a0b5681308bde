/**
 * The message channel's dispatcher, one per gateway process: it opens the subscriptions' streams,
 * and tells them what the database tells it. A NOTIFY of an outbox (sent by the committing
 * transaction) wakes the streams of that merchant, which then read what is new or push what the
 * NOTIFY carried; a control message (an acknowledgement, a reset, a manual push, on any gateway)
 * reaches the streams of that app and merchant; a purge makes every stream check what it lost.
 * The parts it composes each have a file of their own in this folder; see ../README.md.
 */
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../core/db.js';
import type { Logger } from '../../core/logger.js';
import { MAX_CONTEXT_BATCH } from '../../core/tokens.js';
import type { MessageCrypto } from '../crypto.js';
import { MESSAGE_CONTROL_CHANNEL, OUTBOX_CHANNEL, decodeControlMessage, decodeOutboxNotification } from '../notifications.js';
import { createRecordQueue } from '../records/record-queue.js';
import { inThreadRecordWriter, type RecordWriter } from '../records/record-writer.js';
import type { MessageStore, PurgeResult } from '../store/index.js';
import { createBusySignal } from '../busy-signal.js';
import type { StreamSpec } from './envelope.js';
import { createPushMarks } from './push-marks.js';
import { createReadCoalescer } from './read-coalescer.js';
import { createRetentionWatch } from './retention-watch.js';
import { openStream, type ChannelStats, type ChannelStream, type MessageStream, type StreamSettings } from './stream.js';
import { createWakeTurns } from './wake-turns.js';

/** The channel, as the rest of the gateway uses it. */
export interface MessageChannel {
  /** Starts listening to the outboxes' and the control channel's NOTIFYs, and the retention timer. */
  start(): Promise<void>;
  /** Opens a subscription's stream; it reads nothing until iterated. */
  open(spec: StreamSpec): MessageStream;
  /**
   * Resolves once the records of every push this gateway made so far to the app's streams of the
   * merchant are written or failed (writing them now): an acknowledgement or records listing waits
   * for it, so that what it acknowledges or lists is there.
   */
  recordsWritten(appKey: string, merchantId: string): Promise<void>;
  /** Runs the retention purge now (it also runs on its own every purge interval); null without a retention window. */
  purgeExpired(): Promise<PurgeResult | null>;
  /** Subscriptions open on this gateway. */
  readonly size: number;
  /** Subscriptions open on this gateway per app and merchant (what the console's traffic view counts). */
  subscriptionCounts(): { appKey: string; merchantId: string; subscriptions: number }[];
  /** What this gateway's streams did since it started (a copy): outbox queries, and events pushed first from a read or from a NOTIFY. */
  readonly stats: ChannelStats;
  /** Ends every stream, stops listening, writes what records are pending. */
  stop(): Promise<void>;
}

export interface ChannelOptions {
  database: Database;
  store: MessageStore;
  crypto: MessageCrypto;
  logger: Logger;
  clock: Clock;
  /** How long a pushed message may stay unacknowledged before it is pushed again (MESSAGE_ACK_TIMEOUT_MS; doubles per re-push). */
  ackTimeoutMs: number;
  /** Pushes of one message per connection, the first included (MESSAGE_MAX_PUSH_ATTEMPTS). */
  maxPushAttempts: number;
  /** Unacknowledged messages per subscription at which pushing pauses (MESSAGE_MAX_IN_FLIGHT). */
  maxInFlight: number;
  /** Days events and their records are kept (MESSAGE_RETENTION_DAYS); 0 or absent: forever. */
  retentionDays?: number | undefined;
  /** How often the retention purge runs (MESSAGE_PURGE_INTERVAL_MS; default hourly, the first run a minute after start). */
  purgeIntervalMs?: number | undefined;
  /** Where delivery records are written (default: this thread, with `store`); the channel closes it when it stops. */
  records?: RecordWriter;
  /** Tuning for tests (the defaults are the record queue's named constants). */
  tuning?: { batchSize?: number; recordQuietMs?: number; recordMaxDelayMs?: number; maxPendingRecords?: number };
}

/** Events a stream reads per query. */
export const READ_BATCH = 200;
/** Streams woken per turn of the event loop: one context batch's worth (see wake-turns.ts). */
const WAKES_PER_TURN = MAX_CONTEXT_BATCH;

export function createMessageChannel(options: ChannelOptions): MessageChannel {
  const { store, crypto, logger, clock } = options;
  const tuning = options.tuning ?? {};
  const writer = options.records ?? inThreadRecordWriter(store, crypto);
  const stats: ChannelStats = { outboxReads: 0, eventsRead: 0, eventsNotified: 0 };
  const byMerchant = new Map<string, Set<ChannelStream>>();
  const busy = createBusySignal(clock);
  const wakeTurns = createWakeTurns({ perTurn: WAKES_PER_TURN, busy });
  const records = createRecordQueue({
    writer,
    clock,
    busy,
    logger,
    ...(tuning.recordQuietMs !== undefined ? { quietMs: tuning.recordQuietMs } : {}),
    ...(tuning.recordMaxDelayMs !== undefined ? { maxDelayMs: tuning.recordMaxDelayMs } : {}),
    ...(tuning.maxPendingRecords !== undefined ? { maxPending: tuning.maxPendingRecords } : {}),
  });
  const reads = createReadCoalescer(store, () => stats.outboxReads++);
  const marks = createPushMarks(store, logger);
  const openStreams = () => [...byMerchant.values()].flatMap((set) => [...set]);
  const retention = createRetentionWatch({ store, clock, logger, retentionDays: options.retentionDays, purgeIntervalMs: options.purgeIntervalMs, openStreams });
  const settings: StreamSettings = {
    ackTimeoutMs: options.ackTimeoutMs,
    maxPushAttempts: options.maxPushAttempts,
    maxInFlight: options.maxInFlight,
    batchSize: tuning.batchSize ?? READ_BATCH,
    retentionDays: options.retentionDays,
  };
  const unlisteners: (() => Promise<void>)[] = [];

  function opened(stream: ChannelStream) {
    let set = byMerchant.get(stream.spec.merchantId);
    if (!set) byMerchant.set(stream.spec.merchantId, (set = new Set()));
    set.add(stream);
  }
  function closed(stream: ChannelStream) {
    wakeTurns.forget(stream);
    const set = byMerchant.get(stream.spec.merchantId);
    set?.delete(stream);
    if (set && !set.size) byMerchant.delete(stream.spec.merchantId);
  }

  function onOutbox(payload: string) {
    const notification = decodeOutboxNotification(payload, (why, error) => logger.warn({ err: error }, `message channel: ${why}; reading the outbox instead`));
    if (!notification) return;
    const { topic, merchantId, position } = notification;
    for (const stream of byMerchant.get(merchantId) ?? []) {
      if (!stream.spec.sources.includes(topic.source) || (stream.delivered[topic.source] ?? 0) >= position) continue;
      stream.notified(topic.source, notification.events());
    }
  }

  function onControl(payload: string) {
    const message = decodeControlMessage(payload);
    if (!message) return;
    if (message.kind === 'key_rotated') {
      writer.forget(message.appKey);
      return crypto.forget(message.appKey);
    }
    if (message.kind === 'purged') return retention.purged();
    for (const stream of byMerchant.get(message.merchantId) ?? []) {
      if (stream.spec.appKey !== message.appKey) continue;
      if (message.kind === 'ack') stream.acknowledged(message.positions);
      else if (message.kind === 'reset') stream.reset(message.positions);
      else stream.redeliveriesRequested();
    }
  }

  /** After (re)connecting the outbox listener, notifications may have been missed: everyone reads again. */
  function outboxListenerReady() {
    for (const stream of openStreams()) stream.lostNotifications();
  }
  /** After (re)connecting the control listener: acknowledgements or resets may have been missed. */
  function controlListenerReady() {
    for (const stream of openStreams()) stream.resync().catch((error: unknown) => logger.warn({ err: error }, 'message channel: a stream could not re-read its cursors; it does at its next re-push'));
  }

  return {
    async start() {
      retention.start();
      unlisteners.push(await options.database.listen(OUTBOX_CHANNEL, onOutbox, outboxListenerReady));
      unlisteners.push(await options.database.listen(MESSAGE_CONTROL_CHANNEL, onControl, controlListenerReady));
    },
    open: (spec) => openStream(spec, { store, crypto, clock, logger, settings, reads, wakeTurns, records, marks, busy, stats, opened, closed }),
    recordsWritten: (appKey, merchantId) => records.written(appKey, merchantId),
    purgeExpired: () => retention.purgeNow(),
    get size() {
      let n = 0;
      for (const set of byMerchant.values()) n += set.size;
      return n;
    },
    subscriptionCounts() {
      const counts = new Map<string, { appKey: string; merchantId: string; subscriptions: number }>();
      for (const [merchantId, set] of byMerchant) {
        for (const stream of set) {
          const key = `${stream.spec.appKey}\u0000${merchantId}`;
          const count = counts.get(key);
          if (count) count.subscriptions++;
          else counts.set(key, { appKey: stream.spec.appKey, merchantId, subscriptions: 1 });
        }
      }
      return [...counts.values()];
    },
    get stats() {
      return { ...stats };
    },
    async stop() {
      await retention.stop();
      for (const stream of openStreams()) stream.close();
      for (const unlisten of unlisteners.splice(0)) await unlisten().catch(() => {});
      await records.close();
      await writer.close();
    },
  };
}
