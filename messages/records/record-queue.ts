/**
 * The gateway's queue of delivery records. A push's record is handed over as the message is sent,
 * and the send does not wait for it; the records wait for a pause in the channel (quiet-period.ts)
 * and then go in batches of up to MAX_RECORDS_PER_WRITE, up to MAX_RECORD_WRITES batches at once (each
 * on its own connection), so that a batch does not wait behind the write of the one before. What a
 * client reads about its records must be there when it asks: an acknowledgement or a records listing
 * through this gateway has its stream's pending records written at once (`written`).
 *
 * A record that cannot be written rejects its push's promise (the subscription then ends, and the
 * message, still unacknowledged, comes again on the next connection). One app's failure (its key
 * cannot be loaded, say) does not fail the other apps' records of the same moment.
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { BusySignal } from '../busy-signal.js';
import type { DeliveryToRecord } from '../store/index.js';
import { createPendingBound } from './pending-bound.js';
import { createQuietPeriod } from './quiet-period.js';
import type { RecordWriter } from './record-writer.js';

export interface RecordQueue {
  /** Queues a push's record: resolves once it is written, rejects if it could not be. */
  record(delivery: DeliveryToRecord): Promise<void>;
  /** undefined while there is room for more pending records; otherwise resolves once there is (a push waits for it before it is sent). */
  room(): Promise<void> | undefined;
  /** Writes the pending records of the app's stream of the merchant now, and resolves once every record of its pushes so far is written or failed. */
  written(appKey: string, merchantId: string): Promise<void>;
  /** Writes everything pending now; resolves once all of it is written or failed. */
  flush(): Promise<void>;
  /** Flushes, and stops waiting for pauses. */
  close(): Promise<void>;
}

export interface RecordQueueOptions {
  writer: RecordWriter;
  clock: Clock;
  busy: BusySignal;
  logger: Logger;
  /** Pause the channel must make before records are written; 0: at the next turn. Default RECORD_QUIET_MS. */
  quietMs?: number;
  /** The longest a record waits for that pause. Default RECORD_MAX_DELAY_MS. */
  maxDelayMs?: number;
  /** Records not yet written at which a push waits for room. Default MAX_PENDING_RECORDS. */
  maxPending?: number;
}

/** A pause of 30 ms: longer than the gaps between a burst's context batches, short enough that records follow a burst closely. */
export const RECORD_QUIET_MS = 30;
/** Pushes that never pause still have their records written within half a second. */
export const RECORD_MAX_DELAY_MS = 500;
/** Records pending (handed over, not yet written) at which a push waits: bounds the memory a slow database can take. */
export const MAX_PENDING_RECORDS = 5000;
/** Record batches written at once (each on its own connection). */
export const MAX_RECORD_WRITES = 4;
/** Records per statement. */
export const MAX_RECORDS_PER_WRITE = 1000;

/** An app's stream of a merchant: what an acknowledgement or listing waits for the records of. */
const streamKey = (appKey: string, merchantId: string) => `${appKey}|${merchantId}`;

interface Queued {
  delivery: DeliveryToRecord;
  stream: string;
  done(error?: unknown): void;
}

export function createRecordQueue(options: RecordQueueOptions): RecordQueue {
  const { writer, logger, busy } = options;
  const bound = createPendingBound(options.maxPending ?? MAX_PENDING_RECORDS);
  const queued: Queued[] = [];
  let writing = 0;
  /** Set while what is queued is being written (until the queue is empty); otherwise records wait for a pause. */
  let draining = false;
  const idle: (() => void)[] = [];
  /** Per stream, the records of its pushes not yet written or failed. */
  const pendingByStream = new Map<string, Set<Promise<void>>>();
  const quiet = createQuietPeriod({
    clock: options.clock,
    busy,
    quietMs: options.quietMs ?? RECORD_QUIET_MS,
    maxDelayMs: options.maxDelayMs ?? RECORD_MAX_DELAY_MS,
    anythingWaiting: () => queued.length > 0,
    onQuiet: pump,
  });

  async function writeBatch(batch: Queued[]) {
    try {
      await writer.write(batch.map((b) => b.delivery));
      for (const b of batch) b.done();
    } catch (error) {
      const byApp = new Map<string, Queued[]>();
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
          await writer.write(own.map((b) => b.delivery));
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
  function write(batch: Queued[]) {
    writing++;
    void writeBatch(batch).finally(() => {
      writing--;
      drain();
      if (!queued.length && !writing) for (const resolve of idle.splice(0)) resolve();
    });
  }
  /** Writes one stream's queued records now; the others still wait for the pause. */
  function writeStreamNow(stream: string) {
    if (draining) return drain();
    const now: Queued[] = [];
    let kept = 0;
    for (const q of queued) {
      if (q.stream === stream) now.push(q);
      else queued[kept++] = q;
    }
    queued.length = kept;
    for (let i = 0; i < now.length; i += MAX_RECORDS_PER_WRITE) write(now.slice(i, i + MAX_RECORDS_PER_WRITE));
  }
  function flush(): Promise<void> {
    pump();
    if (!queued.length && !writing) return Promise.resolve();
    return new Promise<void>((resolve) => idle.push(resolve));
  }

  return {
    record(delivery) {
      const stream = streamKey(delivery.appKey, delivery.event.merchantId);
      bound.added();
      const written = new Promise<void>((resolve, reject) => {
        queued.push({
          delivery,
          stream,
          done: (error) => {
            bound.settled();
            if (error) reject(error);
            else resolve();
          },
        });
      });
      busy.pushed();
      quiet.waiting();
      const own = pendingByStream.get(stream) ?? new Set<Promise<void>>();
      pendingByStream.set(stream, own);
      const settled: Promise<void> = written.then(forget, forget);
      own.add(settled);
      function forget() {
        own.delete(settled);
        if (!own.size && pendingByStream.get(stream) === own) pendingByStream.delete(stream);
      }
      return written;
    },
    room() {
      const room = bound.room();
      // Waiting for room: what is queued is written now, not at the pause.
      if (room) pump();
      return room;
    },
    async written(appKey, merchantId) {
      const stream = streamKey(appKey, merchantId);
      const own = pendingByStream.get(stream);
      if (!own?.size) return;
      writeStreamNow(stream);
      await Promise.all([...own]);
    },
    flush,
    async close() {
      quiet.cancel();
      await flush();
    },
  };
}
