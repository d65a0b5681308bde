/**
 * Durable marks of how far each stream was pushed, written before its messages are sent.
 *
 * A push's delivery record is written after the message is sent (records/record-queue.ts: in a
 * burst, writing records before sending cost a third more latency). So a gateway killed between a
 * send and its record leaves pushes the records do not show, and the next connection would push
 * those messages as if new (`LIVE`, attempt 1). The marks close that gap at a fraction of the cost
 * of a record: one small UPDATE of the streams' cursor rows for everything marked in one turn of
 * the event loop, issued as soon as a message is read, so that it is usually committed by the time
 * the message has been executed. A message is sent only once its mark is committed; on the next
 * connection, everything at or below the mark is a REPLAY.
 *
 * A mark may run ahead of what was sent (a batch read and then not sent, a subscription closed with
 * messages prepared): those come again marked REPLAY too, which is what REPLAY says: pushed before,
 * perhaps.
 */
import type { Logger } from '../../core/logger.js';
import type { MessageStore, PushMark } from '../store/index.js';
import type { MessageSource } from '../topics.js';

export interface PushMarks {
  /** Raises the stream's mark to `position` (if below); settles when that is committed, or rejects. */
  mark(appKey: string, merchantId: string, source: MessageSource, position: number): Promise<void>;
}

/** Marks per statement at most (a burst marks one row per woken stream). */
const MAX_MARKS_PER_WRITE = 1000;
/** SQLSTATEs of a write PostgreSQL may refuse because of another at the same moment: tried again once. */
const RETRIED = new Set(['40P01', '40001']);

export function createPushMarks(store: Pick<MessageStore, 'markPushed'>, logger: Logger): PushMarks {
  /** Marks asked for in this turn, one per stream source (the highest), and what each asker waits on. */
  let pending = new Map<string, { mark: PushMark; waiters: { resolve(): void; reject(error: unknown): void }[] }>();
  let scheduled = false;

  async function write(marks: PushMark[]) {
    try {
      await store.markPushed(marks);
    } catch (error) {
      if (!RETRIED.has((error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code ?? '')) throw error;
      await store.markPushed(marks);
    }
  }

  function flush() {
    scheduled = false;
    const due = [...pending.values()];
    pending = new Map();
    for (let i = 0; i < due.length; i += MAX_MARKS_PER_WRITE) {
      const chunk = due.slice(i, i + MAX_MARKS_PER_WRITE);
      write(chunk.map((c) => c.mark)).then(
        () => chunk.forEach((c) => c.waiters.forEach((w) => w.resolve())),
        (error: unknown) => {
          logger.error({ err: error }, 'message channel: pushed marks could not be written; those messages are not sent');
          chunk.forEach((c) => c.waiters.forEach((w) => w.reject(error)));
        },
      );
    }
  }

  return {
    mark(appKey, merchantId, source, position) {
      const key = `${appKey}|${merchantId}|${source}`;
      let entry = pending.get(key);
      if (!entry) pending.set(key, (entry = { mark: { appKey, merchantId, source, position }, waiters: [] }));
      else if (position > entry.mark.position) entry.mark.position = position;
      const waiters = entry.waiters;
      const promise = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return promise;
    },
  };
}
