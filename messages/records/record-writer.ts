/**
 * Where the message channel writes its delivery records (MessageStore.recordDeliveries): on the
 * gateway's own thread, or, with a PostgreSQL server, on a worker thread of its own.
 *
 * A push's record is written after the message is sent (records/record-queue.ts), and writing one is
 * CPU work: the original payload and what was pushed are sealed with the app's key, and a burst's
 * records go to PostgreSQL as JSON. On the gateway's one thread that was about a quarter of
 * its CPU in a thousand-subscriber burst, spent before the last message of the burst could leave.
 * The worker does that work on another core with its own connections; the gateway only hands it the
 * deliveries (a structured clone, a few microseconds each). The store code is the same either way.
 *
 * Embedded PGlite lives in the gateway's thread (one connection, one process), so it keeps the
 * in-thread writer.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/logger.js';
import type { Kek } from '../../core/sealing.js';
import type { MessageCrypto } from '../crypto.js';
import type { DeliveryToRecord, MessageStore } from '../store/index.js';

export interface RecordWriter {
  /** Writes the records of a batch of pushes in one statement; rejects if it could not. */
  write(deliveries: readonly DeliveryToRecord[]): Promise<void>;
  /** Drops the cached keys of an app (another process rotated them). */
  forget(appKey: string): void;
  close(): Promise<void>;
}

/** Writes records on the calling thread, with the channel's own store and keys. */
export function inThreadRecordWriter(store: MessageStore, crypto: MessageCrypto): RecordWriter {
  return {
    write: (deliveries) => store.recordDeliveries(deliveries),
    forget: (appKey) => crypto.forget(appKey),
    close: async () => {},
  };
}

/**
 * Batches of at least `threshold` pushes go to `worker`, smaller ones to `local`. The worker is for
 * the moments the gateway's thread is the bottleneck (a burst: batches of 50 and more); a few
 * records are written faster on the spot (a trickle of events, one stream catching up 16 messages
 * at a time) than through a round trip to another thread, which also costs a clone each way: in one
 * run each of the bench's backlog catch-up, records only through the worker, 2,488 events/s against
 * 2,858 on the gateway's thread.
 */
export function splitRecordWriter(local: RecordWriter, worker: RecordWriter, threshold: number): RecordWriter {
  return {
    write: (deliveries) => (deliveries.length >= threshold ? worker.write(deliveries) : local.write(deliveries)),
    forget(appKey) {
      local.forget(appKey);
      worker.forget(appKey);
    },
    close: async () => {
      await Promise.all([local.close(), worker.close()]);
    },
  };
}

export interface RecordWorkerOptions {
  databaseUrl: string;
  /** The platform's key-encryption keys (the worker unwraps the apps' keys itself). */
  keks: readonly Kek[];
  /** Connections of the worker's pool: record statements written at once. */
  connections: number;
  /** The worker's heap limit (old generation) in MB; absent or 0: Node's default. */
  maxHeapMb?: number;
  logger: Logger;
}

/** What the worker thread receives. */
export type RecordWorkerRequest =
  | { kind: 'write'; id: number; deliveries: readonly DeliveryToRecord[] }
  | { kind: 'forget'; appKey: string }
  | { kind: 'close' };
/** What it answers. */
export type RecordWorkerReply =
  | { kind: 'ready' }
  | { kind: 'written'; id: number }
  | { kind: 'failed'; id: number; error: SerializedError }
  | { kind: 'start-failed'; error: SerializedError }
  | { kind: 'closed' };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  cause?: SerializedError;
}

export function serializeError(error: unknown, depth = 0): SerializedError {
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}), ...(e.cause !== undefined && depth < 3 ? { cause: serializeError(e.cause, depth + 1) } : {}) };
}

/** The worker's error as an Error of this thread (logged through the logger, which redacts SQL parameters). */
function revive(serialized: SerializedError): Error {
  const error = new Error(serialized.message, serialized.cause ? { cause: revive(serialized.cause) } : undefined);
  error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  return error;
}

/** tsx's ESM API module, as its package exports it to `import` (this module may run where import.meta.resolve is not available: jest). */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const exported = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api'];
  if (!exported) throw new Error('tsx does not export tsx/esm/api');
  return path.join(path.dirname(manifest), exported.import.default);
}

/**
 * The worker's entry, next to this module: the built .js in production; from the TypeScript
 * sources (npm start, the tests), through tsx, which this thread's loader does not pass on to a
 * worker.
 */
function createWorker(options: RecordWorkerOptions): Worker {
  const workerData = { databaseUrl: options.databaseUrl, connections: options.connections, keks: options.keks.map((k) => ({ id: k.id, key: new Uint8Array(k.key) })) };
  const resourceLimits = options.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } } : {};
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './record-worker.ts' : './record-worker.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData, name: 'portico-records', ...resourceLimits });
  const tsx = pathToFileURL(tsxEsmApi()).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData, name: 'portico-records', ...resourceLimits });
}

/**
 * Starts the record worker and waits until it is connected to the database (it fails to start if it
 * cannot connect). A worker that dies later fails the writes in progress (their pushes are not
 * sent; the subscriptions end and their clients reconnect) and is started again for the next write.
 */
export async function startRecordWorker(options: RecordWorkerOptions): Promise<RecordWriter> {
  const { logger } = options;
  /** Writes sent to the worker, by id, until it answers. One worker runs at a time. */
  const pending = new Map<number, { resolve(): void; reject(error: unknown): void }>();
  let nextId = 1;
  let closing = false;

  async function spawn(): Promise<Worker> {
    const worker = createWorker(options);
    worker.on('message', (reply: RecordWorkerReply) => {
      if (reply.kind !== 'written' && reply.kind !== 'failed') return;
      const waiter = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.kind === 'written') waiter?.resolve();
      else waiter?.reject(revive(reply.error));
    });
    worker.on('error', (error) => logger.error({ err: error }, 'message channel: the record worker failed'));
    worker.once('exit', (code) => {
      running = undefined;
      if (closing) return;
      logger.error({ code }, 'message channel: the record worker exited; its writes in progress failed, the next write starts it again');
      const failed = new Error('The message record worker exited');
      for (const waiter of pending.values()) waiter.reject(failed);
      pending.clear();
    });
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (reply: RecordWorkerReply) => {
        if (reply.kind === 'ready') resolve();
        else if (reply.kind === 'start-failed') reject(revive(reply.error));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the message record worker exited (${code}) before it was ready`)));
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return worker;
  }

  let running: Promise<Worker> | undefined;
  const ensure = (): Promise<Worker> =>
    (running ??= spawn().catch((error: unknown) => {
      running = undefined;
      throw error;
    }));
  await ensure();

  return {
    async write(deliveries) {
      const worker = await ensure();
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        try {
          worker.postMessage({ kind: 'write', id, deliveries } satisfies RecordWorkerRequest);
        } catch (error) {
          // Something in a pushed body that cannot be cloned: the push fails like a failed write.
          pending.delete(id);
          reject(error);
        }
      });
    },
    forget(appKey) {
      void running?.then((worker) => worker.postMessage({ kind: 'forget', appKey } satisfies RecordWorkerRequest)).catch(() => {});
    },
    async close() {
      closing = true;
      const worker = await running?.catch(() => undefined);
      if (!worker) return;
      // The channel has flushed its writes: the worker closes its pool and exits.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5000);
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        worker.postMessage({ kind: 'close' } satisfies RecordWorkerRequest);
      });
    },
  };
}
