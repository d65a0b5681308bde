/**
 * Failed authentication, limited so that guessing is slow and a flood of wrong secrets cannot
 * take the token endpoint's time from everyone else.
 *
 * - /graphql: the 401s of the pipeline (a bad or missing token, a bad signature) are counted per
 *   client address; past GRAPHQL_LIMIT in a window, that address gets HTTP 429
 *   TOO_MANY_FAILED_ATTEMPTS with Retry-After before any token or signature is looked at.
 * - /oauth/token (and introspection and revocation, which authenticate clients too): an attempt is
 *   counted before it is forwarded, per address and per (client_id, address), and given back when
 *   the client authenticated (any answer but 401 invalid_client); so parallel attempts are counted
 *   before any of them is hashed (a scrypt check in the account service). Past the limits, refused
 *   with 429 before the account service sees them.
 * - A client_id attacked from many addresses is slowed, never locked: while it has more than
 *   CLIENT_UNDER_ATTACK failures in a window, addresses that got its tokens in the last 24 hours go
 *   on as usual, and all others together get NEW_ADDRESSES_PER_SECOND hash checks a second (past
 *   them 429 with Retry-After 1): the attack costs at most that many hashes a second, and a real
 *   client on a new address gets in after a few retries.
 *
 * Windows are fixed (they start at a key's first count). Counts live in memory, or in Redis shared
 * by the gateways (one script per check); while Redis does not answer, REDIS_FAILURE_MODE decides.
 */
import type http from 'node:http';
import type { Clock } from '../core/clock.js';
import { HttpError } from '../core/http.js';
import type { SharedStore } from '../core/redis.js';
import type { GatewayPlugin } from './plugins/types.js';

/** Failed authentications of /graphql per address and window before the address is refused. */
export const GRAPHQL_LIMIT = 30;
/** Failed client authentications at the token endpoint per address and window. */
export const PER_ADDRESS_LIMIT = 20;
/** Failed client authentications per (client_id, address) and window. */
export const PER_CLIENT_ADDRESS_LIMIT = 5;
/** Failures of one client_id in a window (from any address) past which it is under attack. */
export const CLIENT_UNDER_ATTACK = 20;
export const WINDOW_MS = 60_000;
/** How long an address that got a client's tokens is known to that client. */
export const KNOWN_GOOD_MS = 24 * 3_600_000;
/** While a client is under attack: hash checks a second for addresses not known to it. */
export const NEW_ADDRESSES_PER_SECOND = 2;
const NEW_ADDRESS_WINDOW_MS = 1000;

export interface AttemptCount {
  count: number;
  /** Ms until the key's window ends. */
  resetInMs: number;
}

export interface CountChange {
  key: string;
  /** May be 0 (only read) or negative (give back). */
  delta: number;
  /** The window a first count starts. */
  windowMs: number;
}

/** Counts in fixed windows. */
export interface AttemptCounters {
  /** Applies each change and returns the counts after, in order. */
  add(changes: readonly CountChange[]): Promise<AttemptCount[]>;
}

export function createMemoryAttemptCounters(clock: Clock, maxKeys = 100_000): AttemptCounters {
  const counts = new Map<string, { count: number; resetAt: number }>();
  return {
    async add(changes) {
      const now = clock.now();
      return changes.map(({ key, delta, windowMs }) => {
        let entry = counts.get(key);
        if (!entry || entry.resetAt <= now) {
          if (!entry && counts.size >= maxKeys) {
            for (const [k, e] of counts) if (e.resetAt <= now) counts.delete(k);
            // Still full: the oldest goes (a flood of addresses must not grow memory without end).
            if (counts.size >= maxKeys) counts.delete(counts.keys().next().value!);
          }
          entry = { count: 0, resetAt: now + windowMs };
          counts.set(key, entry);
        }
        entry.count = Math.max(0, entry.count + delta);
        return { count: entry.count, resetInMs: entry.resetAt - now };
      });
    },
  };
}

/** KEYS: the counters; ARGV: delta and window (ms) of each key in turn. Returns count, ms left, for each key. */
const ADD_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local delta = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local count
  if delta ~= 0 then
    count = redis.call('INCRBY', key, delta)
    if count < 0 then
      redis.call('SET', key, 0, 'KEEPTTL')
      count = 0
    end
  else
    count = tonumber(redis.call('GET', key) or '0')
  end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 and count > 0 then
    redis.call('PEXPIRE', key, window)
    ttl = window
  end
  out[#out + 1] = count
  out[#out + 1] = math.max(ttl, 0)
end
return out
`;

/** Counts in Redis (the window runs on Redis's time). Keys of one check may sit on different Cluster nodes: one script per key then would be needed; a single Redis is assumed. */
export function createRedisAttemptCounters(store: SharedStore, keyPrefix = 'portico:failed-auth:'): AttemptCounters {
  const redis = store.redis;
  if (!('porticoAttempts' in redis)) redis.defineCommand('porticoAttempts', { lua: ADD_SCRIPT });
  return {
    async add(changes) {
      const run = (redis as unknown as { porticoAttempts(n: number, ...a: (string | number)[]): Promise<number[]> }).porticoAttempts;
      const flat = await run.call(redis, changes.length, ...changes.map((c) => keyPrefix + c.key), ...changes.flatMap((c) => [c.delta, c.windowMs]));
      return changes.map((_, i) => ({ count: Number(flat[2 * i]), resetInMs: Number(flat[2 * i + 1]) }));
    },
  };
}

export interface FailedAuthenticationOptions {
  counters: AttemptCounters;
  failureMode: 'open' | 'closed';
  countersFailed(error: unknown): void;
}

function tooMany(resetInMs: number, what: string): HttpError {
  const retryAfter = Math.max(1, Math.ceil(resetInMs / 1000));
  return new HttpError(429, `Too many failed authentications ${what}: try again in ${retryAfter} s`, 'TOO_MANY_FAILED_ATTEMPTS', { 'retry-after': String(retryAfter) });
}

async function guarded<T>(options: FailedAuthenticationOptions, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    options.countersFailed(error);
    if (options.failureMode === 'open') return undefined;
    throw new HttpError(503, 'Authentication limits are unavailable just now: try again shortly', 'SERVICE_UNAVAILABLE', { 'retry-after': '1' });
  }
}

/**
 * The /graphql stage, right after the request id (which notes the address): refuses an address
 * past its failures, and counts each 401 the later stages (authenticate, verify-signature) answer.
 */
export function useFailedAuthentication(options: FailedAuthenticationOptions): GatewayPlugin {
  const keyOf = (address: string) => `graphql:${address}`;
  return {
    name: 'failed-authentication',
    async onRequest(_req, state) {
      const [current] = (await guarded(options, () => options.counters.add([{ key: keyOf(state.clientAddress), delta: 0, windowMs: WINDOW_MS }]))) ?? [];
      if (current && current.count >= GRAPHQL_LIMIT) throw tooMany(current.resetInMs, 'from this address');
    },
    onRefusal(state, error) {
      if (error.status !== 401 || !state.clientAddress) return;
      options.counters.add([{ key: keyOf(state.clientAddress), delta: 1, windowMs: WINDOW_MS }]).catch((e: unknown) => options.countersFailed(e));
    },
  };
}

/** The client_id a token-endpoint request authenticates as: HTTP Basic (client_secret_basic) or the form's (client_secret_post). */
export function clientIdOf(req: http.IncomingMessage, body: string): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string' && /^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      try {
        return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      } catch {
        return decoded.slice(0, colon);
      }
    }
  }
  if (String(req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
    return new URLSearchParams(body).get('client_id') ?? undefined;
  }
  return undefined;
}

/** What the passport proxy asks before forwarding a client-authenticating request, and tells after. */
export interface ClientAuthenticationGuard {
  /** Counts the attempt (before it is forwarded); throws the 429 that refuses it. Returns what to call with the outcome. */
  attempt(address: string, clientId: string | undefined): Promise<(authenticated: boolean) => void>;
}

export function createClientAuthenticationGuard(options: FailedAuthenticationOptions): ClientAuthenticationGuard {
  const { counters } = options;
  return {
    async attempt(address, clientId) {
      const failures: CountChange[] = [
        { key: `token:ip:${address}`, delta: 1, windowMs: WINDOW_MS },
        ...(clientId
          ? [
              { key: `token:client-ip:${clientId}:${address}`, delta: 1, windowMs: WINDOW_MS },
              { key: `token:client:${clientId}`, delta: 1, windowMs: WINDOW_MS },
            ]
          : []),
      ];
      // Read alongside: whether this address got this client's tokens lately.
      const reads: CountChange[] = clientId ? [{ key: `token:good:${clientId}:${address}`, delta: 0, windowMs: KNOWN_GOOD_MS }] : [];
      const counts = await guarded(options, () => counters.add([...failures, ...reads]));
      if (!counts) return () => {};
      const giveBack = (changes: CountChange[]) => counters.add(changes).catch((e: unknown) => options.countersFailed(e));
      const [byAddress, byClientAddress, byClient, knownGood] = counts;
      if (byAddress!.count > PER_ADDRESS_LIMIT) throw tooMany(byAddress!.resetInMs, 'from this address');
      if (clientId && byClientAddress!.count > PER_CLIENT_ADDRESS_LIMIT) throw tooMany(byClientAddress!.resetInMs, `for client ${clientId} from this address`);
      // A client under attack from many addresses: addresses that got its tokens lately go on as usual;
      // others share NEW_ADDRESSES_PER_SECOND hash checks a second (429, Retry-After 1, past them).
      if (clientId && byClient!.count > CLIENT_UNDER_ATTACK && knownGood!.count === 0) {
        const [taken] = await counters.add([{ key: `token:new-address:${clientId}`, delta: 1, windowMs: NEW_ADDRESS_WINDOW_MS }]);
        if (taken!.count > NEW_ADDRESSES_PER_SECOND) throw tooMany(Math.max(taken!.resetInMs, 1000), `for client ${clientId}: it is under attack, addresses new to it are slowed`);
      }
      return (authenticated) => {
        if (!authenticated) return;
        // Not a failure after all; and this address is now known to hold the secret.
        void giveBack([...failures.map((f) => ({ ...f, delta: -1 })), ...(clientId ? [{ key: `token:good:${clientId}:${address}`, delta: 1, windowMs: KNOWN_GOOD_MS }] : [])]);
      };
    },
  };
}
