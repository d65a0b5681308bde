/**
 * The gateways' shared counters (flow-control buckets, quotas, nonces, failed authentications) live
 * in Redis when REDIS_URL is set. One connection per gateway process, shared by every concern.
 *
 * Commands fail fast while Redis is away (no offline queue, one retry) so a request never waits on
 * a reconnect: each concern then applies REDIS_FAILURE_MODE (or, for replay checks, refuses). An
 * outage is logged once when it starts and once when it ends, not per request.
 */
import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

export type { Redis };

export interface SharedStore {
  redis: Redis;
  /** What to do with a call when Redis does not answer (REDIS_FAILURE_MODE). */
  failureMode: 'open' | 'closed';
  /** Notes a failed command (logged once per outage). */
  failed(error: unknown): void;
  close(): Promise<void>;
}

export function connectSharedStore(url: string, failureMode: 'open' | 'closed', logger: Logger): SharedStore {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 500,
    // Reconnects keep trying, at most every 2 s.
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    lazyConnect: false,
  });
  let down = false;
  redis.on('error', (error) => {
    if (down) return;
    down = true;
    logger.error({ err: error, failureMode }, `Redis is unreachable: shared counters unavailable, calls are ${failureMode === 'open' ? 'let through uncounted' : 'refused'} until it is back`);
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info('Redis is back: shared counters in use again');
  });
  return {
    redis,
    failureMode,
    failed(error) {
      if (down) return;
      down = true;
      logger.error({ err: error, failureMode }, `Redis did not answer: calls are ${failureMode === 'open' ? 'let through uncounted' : 'refused'} while it does not`);
    },
    async close() {
      redis.disconnect();
    },
  };
}
