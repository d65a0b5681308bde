/**
 * Production: one service per process. `node dist/bin/serve.js <gateway|order|product|account|app-management>`
 * with DATABASE_URL (subgraphs), PORT, HOST, KEYS_DIR, and for the gateway the four *_URL variables.
 * Each subgraph applies its own migrations at start (serialized across replicas).
 */
import './production-default.js';
import { SUBGRAPH_NAMES, loadConfig, type SubgraphName } from '../core/config.js';
import { loadPlatformKeys } from '../core/keys.js';
import { createRedisFlowCounters } from '../core/flow-counters.js';
import { createLogger } from '../core/logger.js';
import { connectSharedStore } from '../core/redis.js';
import { startSubgraph } from '../core/subgraph.js';
import { startTracing, type Tracing } from '../core/tracing.js';
import { createContextBatchVerifier, createContextVerifier } from '../core/tokens.js';
import { DEFAULT_SUBGRAPH_PORTS } from '../core/composition.js';
import { startGateway } from '../gateway/server.js';
import { openDatabase, prepareDatabase } from '../platform/index.js';
import { defineSubgraph } from '../platform/services.js';

const service = process.argv[2];
const config = loadConfig();
const logger = createLogger(config.logLevel);
const subgraphUrl = (name: SubgraphName) => config.subgraphUrls[name] ?? `http://127.0.0.1:${DEFAULT_SUBGRAPH_PORTS[name]}/graphql`;

async function main(): Promise<{ stop(): Promise<void> }> {
  const tracing = await startTracing({ endpoint: config.otlpEndpoint, serviceName: `portico-${service}` });
  const running = await startOne(tracing);
  return {
    stop: async () => {
      await running.stop();
      await tracing?.shutdown();
    },
  };
}

async function startOne(tracing: Tracing | undefined): Promise<{ stop(): Promise<void> }> {
  if (service === 'gateway') {
    const keys = await loadPlatformKeys(config.keysDir, { create: false });
    const urls = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, subgraphUrl(name)])) as Record<SubgraphName, string>;
    // The message channel reads the outboxes and keeps its records in the database.
    const database = config.databaseUrl ? await openDatabase(config, 'portico-gateway') : undefined;
    const gateway = await startGateway({ config, keys, logger, subgraphUrls: urls, port: config.port, host: config.host, tracing, ...(database ? { database } : {}) });
    return {
      stop: async () => {
        await gateway.stop();
        await database?.close();
      },
    };
  }
  if (!SUBGRAPH_NAMES.includes(service as SubgraphName)) {
    throw new Error(`usage: serve <gateway|${SUBGRAPH_NAMES.join('|')}>`);
  }
  const name = service as SubgraphName;
  if (!config.databaseUrl) throw new Error('A subgraph on its own needs DATABASE_URL (embedded PGlite serves one process: use npm start)');
  const keys = await loadPlatformKeys(config.keysDir, { create: false });
  const database = await openDatabase(config, `portico-${name}`);
  await prepareDatabase(database, [name]);
  // app-management reads the gateways' call counters (viewerApp.usage) where they are shared: in Redis.
  const counterStore = name === 'app-management' && config.access.redisUrl ? connectSharedStore(config.access.redisUrl, config.access.redisFailureMode, logger) : undefined;
  const flowCounters = counterStore ? createRedisFlowCounters(counterStore) : undefined;
  const running = await startSubgraph(defineSubgraph(name, { database, logger, keys, config, subgraphUrl, ...(flowCounters ? { flowCounters } : {}) }), {
    port: config.port,
    host: config.host,
    database,
    verifyContext: createContextVerifier(keys.context.publicKey),
    verifyContextBatch: createContextBatchVerifier(keys.context.publicKey),
    logger,
    development: config.development,
    fieldAuthorization: config.fieldAuthorization,
    tracing,
  });
  return {
    stop: async () => {
      await running.stop();
      await counterStore?.close();
      await database.close();
    },
  };
}

const running = await main().catch((error: unknown) => {
  logger.fatal({ err: error }, `${service ?? 'service'} could not start`);
  process.exit(1);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
