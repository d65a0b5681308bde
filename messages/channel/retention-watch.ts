/**
 * The gateway's side of retention (MESSAGE_RETENTION_DAYS): it runs the purge every interval (one
 * gateway at a time does the work, store/retention.ts), and after every purge batch, on whichever
 * gateway, checks its open streams: one that lost unacknowledged messages ends with MESSAGES_EXPIRED
 * instead of going on without them (ChannelStream.checkExpired).
 */
import type { Clock, ClockTimer } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { MessageStore, PurgeResult } from '../store/index.js';
import type { ChannelStream } from './stream.js';

export interface RetentionWatch {
  start(): void;
  /** Runs the purge now; null without a retention window. */
  purgeNow(): Promise<PurgeResult | null>;
  /** A purge batch was committed (a control message): every open stream checks what it lost. */
  purged(): void;
  /** Stops the timer; waits for a purge in progress (it stops after its current batch). */
  stop(): Promise<void>;
}

export interface RetentionWatchOptions {
  store: Pick<MessageStore, 'purgeExpired'>;
  clock: Clock;
  logger: Logger;
  /** Days events are kept; 0 or absent: forever (nothing is purged). */
  retentionDays?: number | undefined;
  /** How often the purge runs; the first run after at most a minute. */
  purgeIntervalMs?: number | undefined;
  /** The streams open now. */
  openStreams(): ChannelStream[];
}

/** Streams checked at once after a purge (two small queries each). */
const CHECKS_AT_ONCE = 4;

export function createRetentionWatch(options: RetentionWatchOptions): RetentionWatch {
  const { store, clock, logger } = options;
  const days = options.retentionDays ?? 0;
  const interval = options.purgeIntervalMs ?? 3_600_000;
  let timer: ClockTimer | undefined;
  let stopping = false;
  let purging: Promise<PurgeResult | null> | undefined;

  async function purgeNow(): Promise<PurgeResult | null> {
    if (days <= 0) return null;
    const cutoff = new Date(clock.now() - days * 86_400_000);
    const result = await store.purgeExpired(cutoff, { stopped: () => stopping });
    if (result.events || result.records) logger.info({ cutoff, events: result.events, records: result.records }, 'message channel: retention purge deleted expired messages');
    return result;
  }
  function purgeSoon(delayMs: number) {
    timer = clock.setTimeout(() => {
      purging = purgeNow()
        .catch((error: unknown) => {
          logger.error({ err: error }, 'message channel: the retention purge failed; it runs again at its next interval');
          return null;
        })
        .finally(() => {
          purging = undefined;
          if (timer) purgeSoon(interval);
        });
    }, delayMs);
    timer.unref();
  }

  // A purge NOTIFYs once per batch: notifications that come during a check make one more check after it.
  let checking: Promise<void> | undefined;
  let checkAgain = false;
  function purged() {
    if (checking) {
      checkAgain = true;
      return;
    }
    checking = checkEveryStream().finally(() => {
      checking = undefined;
      if (checkAgain) {
        checkAgain = false;
        purged();
      }
    });
  }
  async function checkEveryStream() {
    const all = options.openStreams();
    const next = () => all.pop();
    const worker = async () => {
      for (let stream = next(); stream; stream = next()) {
        await stream.checkExpired().catch((error: unknown) => logger.warn({ err: error }, 'message channel: a stream could not check what the retention purge deleted'));
      }
    };
    await Promise.all(Array.from({ length: CHECKS_AT_ONCE }, worker));
  }

  return {
    start() {
      if (days > 0) purgeSoon(Math.min(60_000, interval));
    },
    purgeNow,
    purged,
    async stop() {
      stopping = true;
      clock.clearTimeout(timer);
      timer = undefined;
      await purging;
    },
  };
}
