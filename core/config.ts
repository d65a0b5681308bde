/**
 * The platform's configuration: read from the environment once, validated, with safe defaults.
 * Nothing else in the code reads `process.env`.
 *
 * Every option is declared once, in CONFIG_OPTIONS: its zod schema (type, bounds, static default)
 * and what a reader needs to know. The validation schema is built from that table, and
 * docs/configuration.md is generated from it (`npm run docs`, core/config-reference.ts), as
 * oidc-provider generates its configuration docs from its defaults file: one source, never stale.
 */
import path from 'node:path';
import { z } from 'zod';

export const SUBGRAPH_NAMES = ['order', 'product', 'account', 'app-management'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** Sections of the configuration reference, in the order they are listed. */
export const CONFIG_GROUPS = {
  server: 'Server',
  database: 'Database',
  tokens: 'Tokens and keys',
  subgraphs: 'Services one per process',
  access: 'Access control',
  messages: 'Message channel',
  orders: 'Order lifecycle',
  mail: 'Email',
  runtime: 'Logs, errors and the demo',
  benchmark: 'Benchmarks only',
} as const;
export type ConfigGroup = keyof typeof CONFIG_GROUPS;

/** One environment variable: how it is parsed and what it means. */
export interface ConfigOption<Schema extends z.ZodType = z.ZodType> {
  group: ConfigGroup;
  /** Parses the variable's text. Its `.default()`, bounds and enum values are the reference's default and allowed values. */
  schema: Schema;
  /** What it does and when to change it (Markdown, one paragraph). */
  description: string;
  /** The default in words, when it is not a constant of the schema (it depends on other options). */
  defaultText?: string;
  /** The allowed values in words, when the schema alone does not say them well. */
  allowedText?: string;
}

const option = <Schema extends z.ZodType>(definition: ConfigOption<Schema>): ConfigOption<Schema> => definition;

const port = z.coerce.number().int().min(0).max(65535);
/** A duration as a number and a unit: `90s`, `30m`, `48h`, `7d` (or `ms`). */
const duration = z.string().regex(/^\d{1,9}(ms|s|m|h|d)$/, 'a number and a unit: ms, s, m, h or d');
const durationText = 'a number and a unit: `ms`, `s`, `m`, `h` or `d` (`90s`, `48h`, `7d`)';
const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const durationMs = (text: string): number => {
  const [, value, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(text)!;
  return Number(value) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
};
const optionalUrl = z.string().url().optional();

/** Default ports of the subgraphs when services run one per process (`npm run serve`); mirrors core/composition.ts. */
const subgraphUrl = (name: SubgraphName, defaultPort: number) =>
  option({
    group: 'subgraphs',
    schema: optionalUrl,
    defaultText: `\`http://127.0.0.1:${defaultPort}/graphql\``,
    allowedText: 'an absolute URL',
    description:
      `Where the gateway finds the ${name} subgraph when services run one per process (\`npm run serve\`). ` +
      (name === 'product'
        ? 'The order service needs it too (it takes and gives back stock). '
        : name === 'app-management'
          ? 'The account service needs it too (the passport reads its clients, the apps). '
          : '') +
      '`npm start` ignores it: its subgraphs take free loopback ports.',
  });

/** Every option, in the order of the reference. */
export const CONFIG_OPTIONS = {
  PORT: option({
    group: 'server',
    schema: port.default(4000),
    description:
      'Public port of the gateway; with `npm start`, of everything (the subgraphs take free loopback ports). ' +
      'With `npm start`, `0` picks a free port, which the start banner, the default `PUBLIC_URL` and `demo.json` then name.',
  }),
  HOST: option({
    group: 'server',
    schema: z.string().default('127.0.0.1'),
    allowedText: 'an interface address',
    description: 'Interface to bind. The default keeps a fresh checkout unreachable from the network; set `0.0.0.0` to accept connections from it.',
  }),
  PUBLIC_URL: option({
    group: 'server',
    schema: optionalUrl,
    defaultText: '`http://HOST:PORT` (`http://127.0.0.1:PORT` when `HOST` is `0.0.0.0` or `::`)',
    allowedText: 'an absolute URL',
    description:
      'The public origin of the platform: the issuer (`iss`) of access tokens and the base of the passport\'s URLs. ' +
      'Set the same value for every service of a deployment.',
  }),
  DATA_DIR: option({
    group: 'database',
    schema: z.string().default('./data'),
    allowedText: 'a folder',
    description: 'Where the embedded database files, the signing keys (unless `KEYS_DIR` is set) and the demo\'s `demo.json` live.',
  }),
  DATABASE_URL: option({
    group: 'database',
    schema: z.string().optional(),
    defaultText: 'unset',
    allowedText: 'a PostgreSQL connection URL',
    description:
      'A PostgreSQL server. Unset, the platform runs on embedded PGlite under `DATA_DIR` (one process). ' +
      'Every service run on its own (`npm run serve`) needs it; a gateway, for the message channel.',
  }),
  DB_POOL_SIZE: option({
    group: 'database',
    schema: z.coerce.number().int().min(1).max(200).default(10),
    description:
      'Connections in a process\'s pool, with `DATABASE_URL`: one pool per service with `npm run serve`; with `npm start`, ' +
      'gateway and subgraphs share one pool of this size. Migrations and the message channel\'s `LISTEN` use connections of ' +
      'their own, and a gateway\'s delivery-record worker 4 more.',
  }),
  KEYS_DIR: option({
    group: 'tokens',
    schema: z.string().optional(),
    defaultText: '`DATA_DIR/keys`',
    allowedText: 'a folder',
    description:
      'The platform\'s keys, as files of mode 0600: access-token signing keys, the gateway\'s context-token key, the passport\'s ' +
      'cookie keys and the message channel\'s key-encryption keys. Every service of one deployment needs the same folder.',
  }),
  API_AUDIENCE: option({
    group: 'tokens',
    schema: z.string().default('urn:portico:api'),
    allowedText: 'a URI',
    description: 'The audience (`aud`) that access tokens must name: this API (RFC 9068, RFC 8707).',
  }),
  CONTEXT_TOKEN_TTL_SECONDS: option({
    group: 'tokens',
    schema: z.coerce.number().int().min(10).max(600).default(60),
    description: 'Lifetime, in seconds, of the context tokens the gateway signs to forward a verified caller to the subgraphs.',
  }),
  ORDER_URL: subgraphUrl('order', 4101),
  PRODUCT_URL: subgraphUrl('product', 4102),
  ACCOUNT_URL: subgraphUrl('account', 4103),
  APP_MANAGEMENT_URL: subgraphUrl('app-management', 4104),
  APP_ACCESS_CACHE_MS: option({
    group: 'access',
    schema: z.coerce.number().int().min(0).max(5000).default(2000),
    description:
      'How long, in ms, the gateway trusts what it knows of an app (status, granted scopes) and of a merchant\'s authorization ' +
      'before asking again: a revoked package, a suspended app or a revoked authorization bites within this time, before tokens expire.',
  }),
  TRUSTED_PROXIES: option({
    group: 'access',
    schema: z.string().default(''),
    defaultText: 'none',
    allowedText: 'comma-separated IPv4/IPv6 addresses or CIDR ranges',
    description:
      'Proxies in front of the gateway whose `X-Forwarded-For` is believed. The client address is the right-most address of that ' +
      'header not in these ranges, read only when the connection itself comes from one of them; otherwise it is the connection\'s ' +
      'peer, so a client cannot claim another address to pass an app\'s IP allow list or the per-IP limits.',
  }),
  REDIS_URL: option({
    group: 'access',
    schema: optionalUrl,
    defaultText: 'unset: counters in memory',
    allowedText: 'a `redis://` URL',
    description:
      'Where the gateways keep what they must share: flow-control buckets, daily quotas, signature nonces, DPoP proof ids and ' +
      'failed-authentication counters. Unset, each gateway counts in its own memory (right for one process, as `npm start`).',
  }),
  REDIS_FAILURE_MODE: option({
    group: 'access',
    schema: z.enum(['open', 'closed']).default('open'),
    description:
      'What the gateway does while Redis does not answer: `open` lets calls through uncounted (logging each outage once), ' +
      '`closed` refuses them with 503 `SERVICE_UNAVAILABLE`. Nonces and DPoP proof ids are always checked closed: a replay ' +
      'check that cannot run refuses the signed call.',
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: option({
    group: 'runtime',
    schema: optionalUrl,
    defaultText: 'unset: no tracing',
    allowedText: 'an OTLP/HTTP endpoint URL',
    description: 'Set, every request is traced (OpenTelemetry) across the gateway and the subgraphs and the spans are sent here over OTLP/HTTP.',
  }),
  METRICS_TOKEN: option({
    group: 'runtime',
    schema: z.string().min(32).max(512).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').optional(),
    defaultText: 'unset: no `/metrics`',
    allowedText: 'at least 32 printable ASCII characters, no spaces',
    description:
      'Set, the gateway serves Prometheus metrics at `/metrics` to a scraper that sends it as a bearer token ' +
      '(`Authorization: Bearer ...`; Prometheus\' `authorization.credentials`). Unset, `/metrics` does not exist: a gateway ' +
      'facing the internet does not publish its traffic by default. No metric names an app or a merchant ([access-layer.md](access-layer.md#metrics-and-tracing)).',
  }),
  FIELD_AUTHORIZATION: option({
    group: 'benchmark',
    schema: z.enum(['enforce', 'off']).default('enforce'),
    description:
      '`off` turns field authorization off in the subgraphs. Only for measuring what it costs (`npm run bench`, scenario c): ' +
      'refused unless `PORTICO_BENCHMARK=1` is set as well.',
  }),
  ACCESS_CONTROLS: option({
    group: 'benchmark',
    schema: z.enum(['enforce', 'off']).default('enforce'),
    description:
      '`off` leaves the access layer\'s app controls out of the gateway\'s pipeline (signature verification, IP allow list, ' +
      'cost and quota, call report). Only for measuring what they cost (`npm run bench`, scenario i): refused unless ' +
      '`PORTICO_BENCHMARK=1` is set as well.',
  }),
  PORTICO_BENCHMARK: option({
    group: 'benchmark',
    schema: z.enum(['1']).optional(),
    defaultText: 'unset',
    description: 'Allows `FIELD_AUTHORIZATION=off` and `ACCESS_CONTROLS=off`. `npm run bench` sets it for its comparison stacks.',
  }),
  MESSAGE_ACK_TIMEOUT_MS: option({
    group: 'messages',
    schema: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    description:
      'How long, in ms, a pushed message may stay unacknowledged before it is pushed again; the wait doubles with each re-push.',
  }),
  MESSAGE_MAX_PUSH_ATTEMPTS: option({
    group: 'messages',
    schema: z.coerce.number().int().min(1).max(100).default(5),
    description: 'Pushes of one message per connection, the first included; after them it waits for the subscriber\'s next connection.',
  }),
  MESSAGE_MAX_IN_FLIGHT: option({
    group: 'messages',
    schema: z.coerce.number().int().min(1).max(100_000).default(1000),
    description: 'Unacknowledged messages a subscription may have; at this many, pushing pauses until an acknowledgement.',
  }),
  MESSAGE_RETENTION_DAYS: option({
    group: 'messages',
    schema: z.coerce.number().int().min(0).max(36_500).optional(),
    defaultText: '`30` with `DATABASE_URL`, `0` embedded (the demo\'s history is older than 30 days)',
    description:
      'Days events and their delivery records are kept; older ones are purged. `0` keeps everything. A stream that had not ' +
      'acknowledged purged messages ends with `MESSAGES_EXPIRED` until its cursor is reset ([message-channel.md](message-channel.md#retention)).',
  }),
  MESSAGE_PURGE_INTERVAL_MS: option({
    group: 'messages',
    schema: z.coerce.number().int().min(100).max(604_800_000).default(3_600_000),
    description: 'How often, in ms, a gateway runs the retention purge; the first run comes at most a minute after start.',
  }),
  SMTP_URL: option({
    group: 'mail',
    schema: z.string().url().refine((url) => /^smtps?:\/\//.test(url), 'an smtp:// or smtps:// URL').optional(),
    defaultText: 'unset: the local mailbox',
    allowedText: '`smtp://user:pass@host:port` (STARTTLS when the server offers it) or `smtps://user:pass@host:port` (TLS from the start)',
    description:
      'The SMTP server that email to developers goes through (verification and password-reset links, notices). Unset, email is ' +
      'kept in the local mailbox (the database) and logged with its link, and the gateway shows it at `/dev/mailbox` when ' +
      '`NODE_ENV` is not `production` or when `HOST` and `PUBLIC_URL` are both loopback (as `npm start` runs), so a newcomer ' +
      'needs no mail server. Set it in production.',
  }),
  MAIL_FROM: option({
    group: 'mail',
    schema: z.string().min(3).default('Portico <no-reply@portico.localhost>'),
    allowedText: 'an address, optionally with a display name: `Name <address>`',
    description: 'The From of the email the platform sends: an address your SMTP server may send as.',
  }),
  ORDER_COMPLETE_AFTER_DELIVERY: option({
    group: 'orders',
    schema: duration.default('7d'),
    allowedText: durationText,
    description:
      'How long after delivery (or after its last after-sales case closed) a DELIVERED order becomes COMPLETED by itself. ' +
      'An open after-sales case holds completion until it closes.',
  }),
  AFTER_SALE_RESPONSE_WINDOW: option({
    group: 'orders',
    schema: duration.default('48h'),
    allowedText: durationText,
    description: 'How long a merchant has to answer a buyer\'s after-sales case; unanswered, the case is approved in full, as the merchant would.',
  }),
  RETURN_SHIPPING_WINDOW: option({
    group: 'orders',
    schema: duration.default('7d'),
    allowedText: durationText,
    description: 'How long a buyer has to ship an approved return back; after it, the case closes without a refund.',
  }),
  LOG_LEVEL: option({
    group: 'runtime',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    description: 'Level of the JSON logs on stdout (pino). Tokens, secrets, passwords, authorization headers and the parameters of failed SQL statements are redacted.',
  }),
  NODE_ENV: option({
    group: 'runtime',
    schema: z.string().default('production'),
    allowedText: 'any text; only `development` changes anything',
    description:
      '`development` shows original error messages and stack traces to clients; anything else hides them. `npm start`, ' +
      '`npm run serve` and `npm run operator` set `production` before libraries load when it is unset, since some read it once, at load time.',
  }),
  SEED_DEMO: option({
    group: 'runtime',
    schema: z.enum(['true', 'false']).optional(),
    defaultText: '`true` embedded, `false` with `DATABASE_URL`',
    description: 'Seed the demo data set into an empty database at start, and write `DATA_DIR/demo.json`. Only `npm start`: `npm run serve` never seeds.',
  }),
} satisfies Record<string, ConfigOption>;

type Shape<Options extends Record<string, ConfigOption>> = { [Name in keyof Options]: Options[Name]['schema'] };
const shapeOf = <Options extends Record<string, ConfigOption>>(options: Options): Shape<Options> =>
  Object.fromEntries(Object.entries(options).map(([name, definition]) => [name, definition.schema])) as Shape<Options>;

const schema = z.object(shapeOf(CONFIG_OPTIONS));

/**
 * Variables that libraries read themselves, not `loadConfig`: they are no part of `Config`, but an
 * operator may set them, so the reference lists them too.
 */
export const LIBRARY_VARIABLES: Record<string, { readBy: string; defaultText: string; description: string }> = {
  APOLLO_TELEMETRY_DISABLED: {
    readBy: '`@apollo/gateway`',
    defaultText: '`true`, set by the gateway when unset (`gateway/apollo.ts`)',
    description:
      'Unless it is `true` or `1`, @apollo/gateway starts Apollo\'s "data collection": at start it probes cloud metadata ' +
      'endpoints (AWS, GCP, Azure, Alibaba), and it sends host metrics to `usage-reporting.api.apollographql.com` every hour ' +
      'and at shutdown. The platform opens no connection beyond its own services and database (`tests/egress.test.ts`), so ' +
      'the gateway sets it to `true` when it is unset; any other value (`false`) opts in to Apollo\'s collection.',
  },
};

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
  /** False only in a benchmark's comparison stack (ACCESS_CONTROLS=off). */
  accessControls: boolean;
  appAccessCacheMs: number;
  /** The access layer's shared parts (see TRUSTED_PROXIES, REDIS_URL, REDIS_FAILURE_MODE). */
  access: { trustedProxies: string[]; redisUrl: string | undefined; redisFailureMode: 'open' | 'closed' };
  otlpEndpoint: string | undefined;
  /** The bearer token /metrics asks for; undefined: no /metrics. */
  metricsToken: string | undefined;
  messages: { ackTimeoutMs: number; maxPushAttempts: number; maxInFlight: number; retentionDays: number; purgeIntervalMs: number };
  /** The waits of the order lifecycle, in ms (ORDER_COMPLETE_AFTER_DELIVERY, AFTER_SALE_RESPONSE_WINDOW, RETURN_SHIPPING_WINDOW). */
  orderLifecycle: { completeAfterDeliveryMs: number; afterSaleResponseWindowMs: number; returnShippingWindowMs: number };
  /** Email to developers: SMTP_URL (undefined: the local mailbox) and MAIL_FROM. */
  mail: { smtpUrl: string | undefined; from: string };
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
  if (e.ACCESS_CONTROLS === 'off' && e.PORTICO_BENCHMARK !== '1') {
    throw new Error('Invalid configuration: ACCESS_CONTROLS=off is only for benchmarks (set PORTICO_BENCHMARK=1 as well)');
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
    accessControls: e.ACCESS_CONTROLS === 'enforce',
    appAccessCacheMs: e.APP_ACCESS_CACHE_MS,
    access: {
      trustedProxies: e.TRUSTED_PROXIES.split(',').map((entry) => entry.trim()).filter(Boolean),
      redisUrl: e.REDIS_URL || undefined,
      redisFailureMode: e.REDIS_FAILURE_MODE,
    },
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
    metricsToken: e.METRICS_TOKEN || undefined,
    messages: { ackTimeoutMs: e.MESSAGE_ACK_TIMEOUT_MS, maxPushAttempts: e.MESSAGE_MAX_PUSH_ATTEMPTS, maxInFlight: e.MESSAGE_MAX_IN_FLIGHT, retentionDays: e.MESSAGE_RETENTION_DAYS ?? (e.DATABASE_URL ? 30 : 0), purgeIntervalMs: e.MESSAGE_PURGE_INTERVAL_MS },
    orderLifecycle: {
      completeAfterDeliveryMs: durationMs(e.ORDER_COMPLETE_AFTER_DELIVERY),
      afterSaleResponseWindowMs: durationMs(e.AFTER_SALE_RESPONSE_WINDOW),
      returnShippingWindowMs: durationMs(e.RETURN_SHIPPING_WINDOW),
    },
    mail: { smtpUrl: e.SMTP_URL || undefined, from: e.MAIL_FROM },
  };
}
