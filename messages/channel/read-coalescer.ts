/**
 * Outbox reads, coalesced: every stream that reads in the same turn of the event loop (a burst's
 * NOTIFYs arrive together and wake many) reads through one query per source and type filter, and
 * streams of one merchant at the same position (several apps, several connections) share one read.
 */
import type { OutboxEvent } from '../events.js';
import type { MessageStore } from '../store/index.js';
import type { MessageSource } from '../topics.js';

export interface ReadCoalescer {
  /** The merchant's published events of `source` after `after` (of `types`, or all), oldest first, at most `limit`. */
  read(merchantId: string, source: MessageSource, after: number, limit: number, types: readonly string[] | undefined): Promise<OutboxEvent[]>;
}

/**
 * Small enough that a burst's first streams are executed, and their sub-queries sent, while the
 * later reads are still on their way (each read's result is executed as it arrives).
 */
export const MAX_READS_PER_QUERY = 100;

interface ReadGroup {
  source: MessageSource;
  types: readonly string[] | undefined;
  reads: Map<string, { merchantId: string; after: number; limit: number; waiters: { resolve(events: OutboxEvent[]): void; reject(error: unknown): void }[] }>;
}

/** `onQuery` hears of every query sent (the channel counts them for operators and tests). */
export function createReadCoalescer(store: Pick<MessageStore, 'eventsAfterMany'>, onQuery: () => void = () => {}): ReadCoalescer {
  let groups = new Map<string, ReadGroup>();
  let scheduled = false;
  function runReads() {
    scheduled = false;
    const due = groups;
    groups = new Map();
    for (const group of due.values()) {
      const reads = [...group.reads.values()];
      for (let i = 0; i < reads.length; i += MAX_READS_PER_QUERY) {
        const chunk = reads.slice(i, i + MAX_READS_PER_QUERY);
        onQuery();
        store.eventsAfterMany(group.source, group.types, chunk).then(
          (results) => chunk.forEach((read, j) => read.waiters.forEach((w) => w.resolve(results[j]!))),
          (error: unknown) => chunk.forEach((read) => read.waiters.forEach((w) => w.reject(error))),
        );
      }
    }
  }
  return {
    read(merchantId, source, after, limit, types) {
      const groupKey = `${source}|${types ? JSON.stringify(types) : '*'}`;
      let group = groups.get(groupKey);
      if (!group) groups.set(groupKey, (group = { source, types, reads: new Map() }));
      const readKey = `${merchantId}|${after}|${limit}`;
      let read = group.reads.get(readKey);
      if (!read) group.reads.set(readKey, (read = { merchantId, after, limit, waiters: [] }));
      const waiters = read.waiters;
      const promise = new Promise<OutboxEvent[]>((resolve, reject) => waiters.push({ resolve, reject }));
      if (!scheduled) {
        scheduled = true;
        setImmediate(runReads);
      }
      return promise;
    },
  };
}
