/**
 * The counters behind flow control and quotas: a leaky bucket of cost points per app × merchant
 * (Shopify's model: it holds at most `bucketSize` points and fills back at `restoreRate` points a
 * second) and a count of calls per app and UTC day. In one process's memory (embedded mode), or in
 * Redis (REDIS_URL), where every gateway process shares them: admitting a call is one Lua script
 * (quota, then bucket, then both taken), atomic, so two gateways cannot both spend the last points.
 *
 * Time is the caller's clock (ms), not Redis's, so a test moves it; a gateway whose clock lags
 * another's never takes back points the bucket already restored (time in a bucket only goes forward).
 * The app-management service reads the day's count for `viewerApp.usage` from the same counters.
 */
import type { SharedStore } from './redis.js';

export interface BucketLimits {
  /** Points the bucket holds when full: the most one operation may cost. */
  bucketSize: number;
  /** Points restored per second. */
  restoreRate: number;
}

export interface AdmitRequest {
  appKey: string;
  /** The bucket's owner within the app: the merchant ('' for the app's own, app-level calls). */
  merchantId: string;
  cost: number;
  limits: BucketLimits;
  dailyQuota: number;
  now: number;
}

export type Admission =
  /** Counted against the quota and taken from the bucket; `available` is what is left. */
  | { outcome: 'admitted'; available: number; callsToday: number }
  /** The bucket holds fewer points than the cost: nothing taken or counted. */
  | { outcome: 'throttled'; available: number }
  /** The app made its daily quota of calls already: nothing taken or counted. */
  | { outcome: 'quota-exceeded'; callsToday: number };

export interface FlowCounters {
  admit(request: AdmitRequest): Promise<Admission>;
  /** Gives back points (a requested cost above the actual one); negative takes more. What is available after. */
  refund(appKey: string, merchantId: string, points: number, limits: BucketLimits, now: number): Promise<number>;
  /** Calls the app was admitted for on the UTC day of `now`. */
  callsToday(appKey: string, now: number): Promise<number>;
  close?(): Promise<void>;
}

/** The UTC day of a time, as YYYY-MM-DD: a quota's period. */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** When the UTC day of `now` ends: the quota resets then. */
export function nextUtcMidnight(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

/** A bucket's level at `now`, restored since `at` (never above the size; time never runs back). */
function restored(level: number, at: number, limits: BucketLimits, now: number): number {
  return Math.min(limits.bucketSize, level + (Math.max(0, now - at) * limits.restoreRate) / 1000);
}

/** Buckets untouched this long are full again (or near enough) and may be forgotten. */
const MEMORY_SWEEP_AT = 50_000;

export function createMemoryFlowCounters(): FlowCounters {
  const buckets = new Map<string, { level: number; at: number }>();
  const calls = new Map<string, number>();
  let day = '';
  const bucketOf = (appKey: string, merchantId: string, limits: BucketLimits, now: number) => {
    const key = `${appKey}\u0000${merchantId}`;
    let bucket = buckets.get(key);
    if (!bucket) {
      if (buckets.size >= MEMORY_SWEEP_AT) sweep(now, limits);
      bucket = { level: limits.bucketSize, at: now };
      buckets.set(key, bucket);
    }
    bucket.level = restored(bucket.level, bucket.at, limits, now);
    bucket.at = Math.max(bucket.at, now);
    return bucket;
  };
  // Bounded memory: buckets that a minute has refilled (at any tier's rate) hold no information.
  const sweep = (now: number, limits: BucketLimits) => {
    for (const [key, bucket] of buckets) if (restored(bucket.level, bucket.at, limits, now) >= limits.bucketSize || now - bucket.at > 60_000) buckets.delete(key);
  };
  const callsKey = (appKey: string, now: number) => {
    const today = utcDay(now);
    // A new day: yesterday's counts are of no use any more.
    if (today !== day) {
      if (today > day) calls.clear();
      day = today > day ? today : day;
    }
    return `${appKey}\u0000${today}`;
  };
  return {
    async admit({ appKey, merchantId, cost, limits, dailyQuota, now }) {
      const key = callsKey(appKey, now);
      const count = calls.get(key) ?? 0;
      if (count >= dailyQuota) return { outcome: 'quota-exceeded', callsToday: count };
      const bucket = bucketOf(appKey, merchantId, limits, now);
      if (cost > bucket.level) return { outcome: 'throttled', available: bucket.level };
      bucket.level -= cost;
      calls.set(key, count + 1);
      return { outcome: 'admitted', available: bucket.level, callsToday: count + 1 };
    },
    async refund(appKey, merchantId, points, limits, now) {
      const bucket = bucketOf(appKey, merchantId, limits, now);
      bucket.level = Math.max(0, Math.min(limits.bucketSize, bucket.level + points));
      return bucket.level;
    },
    async callsToday(appKey, now) {
      return calls.get(`${appKey}\u0000${utcDay(now)}`) ?? 0;
    },
  };
}

/**
 * KEYS[1]: the bucket (a hash: level, at), KEYS[2]: the day's call count.
 * ARGV: bucket size, restore rate, now (ms), cost, daily quota (-1: refund `cost` points instead of admitting).
 * Returns {outcome, level, calls}: outcome 1 admitted, 0 throttled, -1 quota exceeded, 2 refunded.
 * Levels are fractional (restored per ms), so they travel as strings.
 */
const ADMIT_SCRIPT = `
local size = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local quota = tonumber(ARGV[5])
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(state[1])
local at = tonumber(state[2])
if level == nil or at == nil then
  level = size
  at = now
end
if now > at then
  level = math.min(size, level + (now - at) * rate / 1000)
  at = now
end
level = math.min(size, level)
local ttl = math.ceil(size / rate * 1000) + 60000
if quota < 0 then
  level = math.max(0, math.min(size, level + cost))
  redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(at))
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {2, tostring(level), '0'}
end
local calls = tonumber(redis.call('GET', KEYS[2]) or '0')
if calls >= quota then
  return {-1, tostring(level), tostring(calls)}
end
if cost > level then
  redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(at))
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {0, tostring(level), tostring(calls)}
end
level = level - cost
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], ttl)
calls = redis.call('INCR', KEYS[2])
if calls == 1 then
  redis.call('PEXPIRE', KEYS[2], 2 * 86400000)
end
return {1, tostring(level), tostring(calls)}
`;

/** The keys of one app share a hash tag, so a Redis Cluster keeps them on one node (the script touches two). */
const bucketKey = (prefix: string, appKey: string, merchantId: string) => `${prefix}flow:{${appKey}}:${merchantId}`;
const callsKey = (prefix: string, appKey: string, now: number) => `${prefix}calls:{${appKey}}:${utcDay(now)}`;

/**
 * Counters in Redis. Every command fails fast while Redis is away (core/redis.ts); the error reaches
 * the caller, which applies REDIS_FAILURE_MODE.
 */
export function createRedisFlowCounters(store: SharedStore, options: { keyPrefix?: string } = {}): FlowCounters {
  const prefix = options.keyPrefix ?? 'portico:';
  const redis = store.redis;
  if (!('porticoAdmit' in redis)) redis.defineCommand('porticoAdmit', { numberOfKeys: 2, lua: ADMIT_SCRIPT });
  const run = (keys: [string, string], args: (string | number)[]) =>
    (redis as unknown as { porticoAdmit(...a: (string | number)[]): Promise<[number, string, string]> }).porticoAdmit(...keys, ...args);
  return {
    async admit({ appKey, merchantId, cost, limits, dailyQuota, now }) {
      const [outcome, level, calls] = await run([bucketKey(prefix, appKey, merchantId), callsKey(prefix, appKey, now)], [limits.bucketSize, limits.restoreRate, now, cost, Math.max(0, dailyQuota)]);
      if (outcome === 1) return { outcome: 'admitted', available: Number(level), callsToday: Number(calls) };
      if (outcome === 0) return { outcome: 'throttled', available: Number(level) };
      return { outcome: 'quota-exceeded', callsToday: Number(calls) };
    },
    async refund(appKey, merchantId, points, limits, now) {
      const [, level] = await run([bucketKey(prefix, appKey, merchantId), callsKey(prefix, appKey, now)], [limits.bucketSize, limits.restoreRate, now, points, -1]);
      return Number(level);
    },
    async callsToday(appKey, now) {
      return Number((await redis.get(callsKey(prefix, appKey, now))) ?? 0);
    },
  };
}
