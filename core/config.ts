/**
 * The platform's configuration: read from the environment once, validated, with safe defaults.
 * Nothing else in the code reads `process.env`; every option is documented here and in the README.
 */
import path from 'node:path';
import { z } from 'zod';

export const SUBGRAPH_NAMES = ['order', 'product', 'account', 'app-management'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z.string().url().optional();

const schema = z.object({
  /** `development` shows stack traces and internal messages in GraphQL errors; anything else hides them. */
  NODE_ENV: z.string().default('production'),
  /** Public port of the gateway (and, in embedded mode, of everything). Default 4000. */
  PORT: port.default(4000),
  /** Interface to bind. Default 127.0.0.1 so a fresh checkout is never reachable from the network. */
  HOST: z.string().default('127.0.0.1'),
  /** Where embedded data lives: PGlite files, signing keys, demo.json. Default ./data. */
  DATA_DIR: z.string().default('./data'),
  /** Signing keys folder. Default DATA_DIR/keys. In production every service mounts the same folder. */
  KEYS_DIR: z.string().optional(),
  /** PostgreSQL server. When unset, the platform runs on embedded PGlite under DATA_DIR. */
  DATABASE_URL: z.string().optional(),
  /** Connections per service in its pool (server mode only). Default 10. */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Public origin of the platform, used as token issuer. Default http://HOST:PORT. */
  PUBLIC_URL: optionalUrl,
  /** Audience of access tokens: names this API (RFC 9068 / RFC 8707). */
  API_AUDIENCE: z.string().default('urn:portico:api'),
  /** Lifetime of the context token the gateway signs for subgraphs, in seconds. Default 60. */
  CONTEXT_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).max(600).default(60),
  /** Subgraph URLs for a gateway running on its own (production). Embedded mode picks free ports. */
  ORDER_URL: optionalUrl,
  PRODUCT_URL: optionalUrl,
  ACCOUNT_URL: optionalUrl,
  APP_MANAGEMENT_URL: optionalUrl,
  /** pino level: fatal, error, warn, info, debug, trace, silent. Default info. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * `off` skips field authorization in subgraphs. Only for measuring its cost (npm run bench), and
   * refused unless PORTICO_BENCHMARK=1 is set too. Default `enforce`.
   */
  FIELD_AUTHORIZATION: z.enum(['enforce', 'off']).default('enforce'),
  PORTICO_BENCHMARK: z.enum(['1']).optional(),
  /** How long the gateway trusts an app's status and granted scopes before asking again, in ms. Default 2000. */
  APP_ACCESS_CACHE_MS: z.coerce.number().int().min(0).max(5000).default(2000),
  /** Message channel: how long a pushed message may stay unacknowledged before it is pushed again, in ms. Doubles with each re-push. Default 30000. */
  MESSAGE_ACK_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** Message channel: pushes of one message per connection (the first included) before it waits for the next connection. Default 5. */
  MESSAGE_MAX_PUSH_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /** Message channel: unacknowledged messages a subscription may have before pushing pauses until an acknowledgement. Default 1000. */
  MESSAGE_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** Message channel: days events (and their records) are kept; older ones are purged hourly. 0 keeps them forever. Default 30 with DATABASE_URL, 0 embedded (the demo's history is older). */
  MESSAGE_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).optional(),
  /** Message channel: how often the retention purge runs, in ms (the first run after at most a minute). Default 3600000 (hourly). */
  MESSAGE_PURGE_INTERVAL_MS: z.coerce.number().int().min(100).max(604_800_000).default(3_600_000),
  /** Seed the demo data set on first start of an empty database. Default true in embedded mode, false with DATABASE_URL. */
  SEED_DEMO: z.enum(['true', 'false']).optional(),
});

export interface Config {
  nodeEnv: string;
  development: boolean;
  port: number;
  host: string;
  dataDir: string;
  keysDir: string;
  databaseUrl: string | undefined;
  dbPoolSize: number;
  publicUrl: string;
  apiAudience: string;
  contextTokenTtlSeconds: number;
  subgraphUrls: Partial<Record<SubgraphName, string>>;
  logLevel: string;
  seedDemo: boolean;
  fieldAuthorization: boolean;
  appAccessCacheMs: number;
  messages: { ackTimeoutMs: number; maxPushAttempts: number; maxInFlight: number; retentionDays: number; purgeIntervalMs: number };
}

/** Parses an environment (default: this process's) into a Config, or throws listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  if (e.FIELD_AUTHORIZATION === 'off' && e.PORTICO_BENCHMARK !== '1') {
    throw new Error('Invalid configuration: FIELD_AUTHORIZATION=off is only for benchmarks (set PORTICO_BENCHMARK=1 as well)');
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const host = e.HOST;
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    nodeEnv: e.NODE_ENV,
    development: e.NODE_ENV === 'development',
    port: e.PORT,
    host,
    dataDir,
    keysDir: path.resolve(e.KEYS_DIR ?? path.join(dataDir, 'keys')),
    databaseUrl: e.DATABASE_URL || undefined,
    dbPoolSize: e.DB_POOL_SIZE,
    publicUrl: (e.PUBLIC_URL ?? `http://${publicHost}:${e.PORT}`).replace(/\/$/, ''),
    apiAudience: e.API_AUDIENCE,
    contextTokenTtlSeconds: e.CONTEXT_TOKEN_TTL_SECONDS,
    subgraphUrls: {
      order: e.ORDER_URL,
      product: e.PRODUCT_URL,
      account: e.ACCOUNT_URL,
      'app-management': e.APP_MANAGEMENT_URL,
    },
    logLevel: e.LOG_LEVEL,
    seedDemo: e.SEED_DEMO ? e.SEED_DEMO === 'true' : !e.DATABASE_URL,
    fieldAuthorization: e.FIELD_AUTHORIZATION === 'enforce',
    appAccessCacheMs: e.APP_ACCESS_CACHE_MS,
    messages: { ackTimeoutMs: e.MESSAGE_ACK_TIMEOUT_MS, maxPushAttempts: e.MESSAGE_MAX_PUSH_ATTEMPTS, maxInFlight: e.MESSAGE_MAX_IN_FLIGHT, retentionDays: e.MESSAGE_RETENTION_DAYS ?? (e.DATABASE_URL ? 30 : 0), purgeIntervalMs: e.MESSAGE_PURGE_INTERVAL_MS },
  };
}
