/**
 * Starting the platform.
 * - `startPlatform`: everything in one process (what `npm start` runs): migrations, demo seed on
 *   first start, the four subgraphs on free loopback ports, the gateway on PORT. Embedded PGlite by
 *   default, a PostgreSQL server with DATABASE_URL. Gateway and subgraphs still talk over real HTTP.
 * - `startService`: one service per process (production), see bin/serve.ts.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SUBGRAPH_NAMES, loadConfig, type Config, type SubgraphName } from '../core/config.js';
import { openPglite, openPostgres, type Database } from '../core/db.js';
import { loadPlatformKeys, type PlatformKeys } from '../core/keys.js';
import { createLogger, type Logger } from '../core/logger.js';
import { startSubgraph, type RunningSubgraph } from '../core/subgraph.js';
import { startTracing } from '../core/tracing.js';
import { createMemoryFlowCounters, createRedisFlowCounters } from '../core/flow-counters.js';
import { connectSharedStore } from '../core/redis.js';
import { createContextBatchVerifier, createContextVerifier, mintAccessToken } from '../core/tokens.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { seedDemo, type DemoSeed } from '../demo/seed.js';
import { startGateway, type MessageTuning, type RunningGateway } from '../gateway/server.js';
import type { Clock } from '../core/clock.js';
import { defineSubgraph } from './services.js';

export interface RunningPlatform {
  config: Config;
  database: Database;
  keys: PlatformKeys;
  gateway: RunningGateway;
  subgraphs: Record<SubgraphName, RunningSubgraph>;
  /** The demo data set (when seeded), with a fresh access token. */
  demo?: DemoInfo;
  stop(): Promise<void>;
}

export interface DemoInfo {
  graphqlUrl: string;
  appKey: string;
  merchantId: string;
  merchantName: string;
  otherMerchantIds: string[];
  scope: string;
  accessToken: string;
  accessTokenExpiresAt: string;
  /** The demo operator (POST /auth/operator/token); its password is generated when the demo is seeded. */
  operator: { email: string; password: string | null };
  /** For the OAuth walkthrough (README): the app's secret, a merchant staff login, the registered redirect URI. */
  appSecret: string | null;
  staffLogin: { email: string; password: string | null };
  redirectUri: string;
  authorizeUrlExample: string;
  /** Buyers who sign in to apps (OpenID Connect, scope openid): their emails and password; the demo's other apps; the demo guest's id. */
  buyerLogin: { emails: string[]; password: string | null };
  otherApps: { key: string; secret: string | null }[];
  guestId: string;
  buyerSignInUrlExample: string;
}

export async function openDatabase(config: Config, applicationName: string): Promise<Database> {
  return config.databaseUrl ? openPostgres(config.databaseUrl, config.dbPoolSize, applicationName) : openPglite(config.dataDir);
}

/** Applies every subgraph's migrations and brings the scope catalog in step with schema/scopes.json. */
export async function prepareDatabase(database: Database, names: readonly SubgraphName[] = SUBGRAPH_NAMES): Promise<void> {
  for (const name of names) await database.migrate(name);
  if (names.includes('app-management')) await createAppManagementStore(database.db).syncScopeCatalog();
}

/**
 * For PORT=0: a free port on the interface, held by a listening server until the gateway takes
 * over its socket (the issuer and demo URLs must name the real port before the services start,
 * and no other process may take the port in between).
 */
async function reservePort(host: string): Promise<net.Server> {
  // A connection that comes before the gateway listens is closed, not left hanging.
  const reserved = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => reserved.once('error', reject).listen(0, host, resolve));
  return reserved;
}

/** What a caller of startPlatform may set besides the environment (tests). */
export interface PlatformOptions {
  /** Time for tokens, caches and the message channel (default: the system clock). */
  clock?: Clock;
  messageTuning?: MessageTuning;
}

export async function startPlatform(env: NodeJS.ProcessEnv = process.env, options: PlatformOptions = {}): Promise<RunningPlatform> {
  let config = loadConfig(env);
  let reservedPort: net.Server | undefined;
  if (config.port === 0) {
    reservedPort = await reservePort(config.host);
    config = loadConfig({ ...env, PORT: String((reservedPort.address() as net.AddressInfo).port) });
  }
  try {
    return await startServices(config, reservedPort, options);
  } catch (error) {
    // Release the port (a no-op once a gateway took the socket over and closed it when stopped).
    if (reservedPort?.listening) reservedPort.close();
    throw error;
  }
}

async function startServices(config: Config, reservedPort: net.Server | undefined, options: PlatformOptions): Promise<RunningPlatform> {
  const logger = createLogger(config.logLevel);
  fs.mkdirSync(config.dataDir, { recursive: true });
  const keys = await loadPlatformKeys(config.keysDir, { create: true });
  const database = await openDatabase(config, 'portico');
  const started: { stop(): Promise<void> }[] = [];
  try {
    // First, so that it stops last: the spans of every service's last requests are sent.
    const tracing = await startTracing({ endpoint: config.otlpEndpoint, serviceName: 'portico' });
    if (tracing) started.push({ stop: () => tracing.shutdown() });
    await prepareDatabase(database);
    const seed = config.seedDemo ? await seedDemo(database, logger, keys.messageKeks, options.clock) : undefined;

    const urls: Partial<Record<SubgraphName, string>> = {};
    const verifyContext = createContextVerifier(keys.context.publicKey, options.clock);
    const verifyContextBatch = createContextBatchVerifier(keys.context.publicKey, options.clock);
    const subgraphs = {} as Record<SubgraphName, RunningSubgraph>;
    // The gateway's call counters, which app-management reads for viewerApp.usage: one object in
    // memory shared by both, or Redis (app-management reading on a connection of its own).
    const counterStore = config.access.redisUrl ? connectSharedStore(config.access.redisUrl, config.access.redisFailureMode, logger) : undefined;
    if (counterStore) started.push({ stop: () => counterStore.close() });
    const memoryCounters = counterStore ? undefined : createMemoryFlowCounters();
    const flowCounters = memoryCounters ?? createRedisFlowCounters(counterStore!);
    for (const name of SUBGRAPH_NAMES) {
      const definition = defineSubgraph(name, { database, logger, keys, config, subgraphUrl: (other) => urls[other]!, flowCounters, ...(options.clock ? { clock: options.clock } : {}) });
      const running = await startSubgraph(definition, { port: 0, host: '127.0.0.1', database, verifyContext, verifyContextBatch, logger, development: config.development, fieldAuthorization: config.fieldAuthorization, tracing });
      urls[name] = running.url;
      subgraphs[name] = running;
      started.push(running);
    }
    const gateway = await startGateway({ config, keys, logger, database, subgraphUrls: urls as Record<SubgraphName, string>, port: config.port, host: config.host, tracing, ...(reservedPort ? { reservedPort } : {}), ...(memoryCounters ? { flowCounters: memoryCounters } : {}), ...options });
    started.push(gateway);
    const demo = seed ? await writeDemoFile(config, keys, seed) : undefined;
    let stopping: Promise<void> | undefined;
    return {
      config,
      database,
      keys,
      gateway,
      subgraphs,
      ...(demo ? { demo } : {}),
      stop: () =>
        (stopping ??= (async () => {
          for (const service of started.reverse()) await service.stop();
          await database.close();
        })()),
    };
  } catch (error) {
    for (const service of started.reverse()) await service.stop().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}

/** Writes DATA_DIR/demo.json with what a newcomer needs for a first call, and a fresh access token. */
async function writeDemoFile(config: Config, keys: PlatformKeys, seed: DemoSeed): Promise<DemoInfo> {
  const ttlSeconds = 7200;
  const scope = seed.scopes.join(' ');
  const accessToken = await mintAccessToken(keys, {
    issuer: config.publicUrl,
    audience: config.apiAudience,
    appKey: seed.appKey,
    merchantId: seed.merchantIds[0]!,
    scope,
    ttlSeconds,
  });
  const file = path.join(config.dataDir, 'demo.json');
  // The operator password exists only once, when seeded: carry it over from the previous demo.json.
  const previous = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DemoInfo>) : {};
  const demo: DemoInfo = {
    graphqlUrl: `${config.publicUrl}/graphql`,
    appKey: seed.appKey,
    merchantId: seed.merchantIds[0]!,
    merchantName: seed.merchantNames[0]!,
    otherMerchantIds: seed.merchantIds.slice(1),
    scope,
    accessToken,
    accessTokenExpiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString(),
    operator: { email: seed.operatorEmail, password: seed.operatorPassword ?? previous.operator?.password ?? null },
    appSecret: seed.appSecret ?? previous.appSecret ?? null,
    staffLogin: { email: seed.staffEmail, password: seed.staffPassword ?? previous.staffLogin?.password ?? null },
    redirectUri: seed.redirectUri,
    authorizeUrlExample:
      `${config.publicUrl}/oauth/authorize?response_type=code&client_id=${seed.appKey}&redirect_uri=${encodeURIComponent('http://127.0.0.1:8976/callback')}` +
      `&scope=${encodeURIComponent('orders:read products:read merchant:read')}&code_challenge=<S256 challenge>&code_challenge_method=S256&state=<random>`,
    buyerLogin: { emails: seed.buyerEmails, password: seed.buyerPassword ?? previous.buyerLogin?.password ?? null },
    otherApps: seed.otherApps.map((app) => ({ key: app.key, secret: app.secret ?? previous.otherApps?.find((p) => p.key === app.key)?.secret ?? null })),
    guestId: seed.guestId,
    buyerSignInUrlExample:
      `${config.publicUrl}/oauth/authorize?response_type=code&client_id=${seed.appKey}&redirect_uri=${encodeURIComponent('http://127.0.0.1:8976/callback')}` +
      `&scope=${encodeURIComponent('openid profile')}&nonce=<random>&code_challenge=<S256 challenge>&code_challenge_method=S256&state=<random>`,
  };
  fs.writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  return demo;
}

export { createLogger, type Logger };
