/**
 * Remembers one-time values (signature nonces, DPoP proof ids) for as long as the message carrying
 * them could still be accepted, so a captured request cannot be sent again. In memory for one
 * gateway process; in Redis (`SET key 1 NX PX ttl`, one atomic command) when gateways share REDIS_URL,
 * so a replay to another gateway is caught too.
 *
 * Always fails closed: a check that cannot run (Redis down) throws ReplayCheckUnavailable and the
 * caller refuses the request, whatever REDIS_FAILURE_MODE says of counters, since letting a
 * replay through is not the same as letting an uncounted call through.
 */
import type { Clock } from '../core/clock.js';
import type { SharedStore } from '../core/redis.js';

export interface ReplayGuard {
  /**
   * true the first time `id` is offered within `ttlMs`, false for a replay. Throws
   * ReplayCheckUnavailable when it cannot tell.
   */
  firstUse(id: string, ttlMs: number): Promise<boolean>;
}

export class ReplayCheckUnavailable extends Error {}

/** Values held at most by one process; past it, new ones are refused rather than old ones forgotten (forgetting would allow their replay). */
const MAX_REMEMBERED = 1_000_000;

export function createMemoryReplayGuard(clock: Clock, maxRemembered = MAX_REMEMBERED): ReplayGuard & { readonly size: number } {
  const seen = new Map<string, number>();
  let sweptAt = clock.now();
  // Expired values go in a sweep at most once a second, on the way of a check (no timer to stop).
  const sweep = (now: number) => {
    if (now - sweptAt < 1000) return;
    sweptAt = now;
    for (const [id, expiresAt] of seen) if (expiresAt <= now) seen.delete(id);
  };
  return {
    async firstUse(id, ttlMs) {
      const now = clock.now();
      sweep(now);
      const expiresAt = seen.get(id);
      if (expiresAt !== undefined && expiresAt > now) return false;
      if (seen.size >= maxRemembered) throw new ReplayCheckUnavailable('too many one-time values to remember');
      seen.set(id, now + Math.max(1, ttlMs));
      return true;
    },
    get size() {
      return seen.size;
    },
  };
}

/** `prefix` keeps each deployment's (and each test's) values apart on one Redis. */
export function createRedisReplayGuard(store: SharedStore, prefix = 'portico:replay:'): ReplayGuard {
  return {
    async firstUse(id, ttlMs) {
      try {
        return (await store.redis.set(prefix + id, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
      } catch (error) {
        store.failed(error);
        throw new ReplayCheckUnavailable('the replay check could not reach Redis');
      }
    },
  };
}
