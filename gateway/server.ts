/**
 * The gateway: the platform's only public entry. This file wires its routes: /graphql (the
 * supergraph, through the request pipeline, planned and executed by apollo.ts; its subscriptions
 * over WebSocket and SSE by the message channel), the passport's routes, the operator sign-in and
 * introspection, the developer portal's account endpoints (/auth/developer/*) and, in development,
 * its local mailbox (/dev/mailbox), the JWKS at /.well-known/jwks.json, and /healthz.
 */
import http from 'node:http';
import type net from 'node:net';
import type { ApolloServerPlugin } from '@apollo/server';
import { createClientAddress } from '../core/client-address.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Config, SubgraphName } from '../core/config.js';
import type { Database } from '../core/db.js';
import { HttpError, REQUEST_ID_HEADER, closeServer, executeGraphQL, listen, pathOf, sendGraphQLError, sendJson } from '../core/http.js';
import { loadPlatformKeys, type PlatformKeys } from '../core/keys.js';
import type { Logger } from '../core/logger.js';
import type { Tracing } from '../core/tracing.js';
import { createAccessTokenVerifier, createContextBatchSigner, createContextSigner } from '../core/tokens.js';
import type { MessageChannel } from '../messages/channel/channel.js';
import { recordsBeforeReading, startMessageChannel, type MessageTuning, type RunningMessageChannel } from '../messages/gateway.js';
import { startApollo } from './apollo.js';
import { createCallReportAggregator } from './call-reports.js';
import { startLiveSubscriptionReports } from './live-subscriptions.js';
import { createGatewayMetrics, createMetricsRoute } from './metrics.js';
import { createHealthCheck } from './health.js';
import { createOperatorIntrospection } from './operator-introspection.js';
import { createOperatorSignIn } from './operator-sign-in.js';
import { CONSOLE_AUTH_PREFIX, createConsoleAuthRoutes } from './console-auth/routes.js';
import { createConsoleSessions } from './console-auth/session.js';
import { DEVELOPER_AUTH_PREFIX, createDeveloperAuthRoutes } from './developer-auth/routes.js';
import { createDeveloperSessions } from './developer-auth/session.js';
import { MERCHANT_AUTH_PREFIX, createMerchantAuthRoutes } from './merchant-auth/routes.js';
import { createMerchantSessions } from './merchant-auth/session.js';
import { createSessionCaller } from './sessions/session-caller.js';
import { DEV_MAILBOX_PATH, createDevMailbox } from './dev-mailbox.js';
import { PASSPORT_PATHS, createPassportProxy } from './passport-proxy.js';
import { createPipeline } from './pipeline.js';
import { createPortal, frontEndPageAt } from './portal.js';
import { connectSharedStore } from '../core/redis.js';
import { createMemoryReplayGuard, createRedisReplayGuard } from './replay-guard.js';
import { QUERY_LIMITS } from './plugins/query-limits.js';
import { newRequestState, type GatewayContext } from './plugins/types.js';
import { loadSupergraph } from './supergraph.js';
import { readSchemaCosts } from './cost/schema-costs.js';
import { createClientAuthenticationGuard, createMemoryAttemptCounters, createRedisAttemptCounters } from './failed-authentication.js';
import { createMemoryFlowCounters, createRedisFlowCounters, type FlowCounters } from '../core/flow-counters.js';
import { createCallReportStore } from './upstream/call-report-store.js';
import { createInternalClient } from './upstream/internal-client.js';
import { createSubgraphLookups } from './upstream/lookups.js';
import { createSubgraphDataSources } from './upstream/subgraph-data-source.js';
import { createSubgraphFetcher } from './upstream/subgraph-fetcher.js';

export interface GatewayOptions {
  config: Config;
  keys: PlatformKeys;
  subgraphUrls: Record<SubgraphName, string>;
  logger: Logger;
  port: number;
  host: string;
  /** A server already listening on the port (startPlatform's reservation for PORT=0): the gateway takes over its socket. */
  reservedPort?: net.Server;
  /** The message channel's database (the subgraphs' outboxes and the channel's records). Without it, subscriptions are refused. */
  database?: Database;
  /** Time for tokens, caches and the message channel (default: the system clock). */
  clock?: Clock;
  /** The message channel's tuning, for tests (its defaults are named constants of the channel). */
  messageTuning?: MessageTuning;
  /**
   * The flow-control and quota counters, when the platform shares them with app-management in one
   * process (embedded, without Redis). Default: in Redis with REDIS_URL, else this gateway's memory.
   */
  flowCounters?: FlowCounters;
  /** OpenTelemetry tracing (core/tracing.ts), when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  tracing?: Tracing | undefined;
}

export type { MessageTuning };

export interface RunningGateway {
  url: string;
  port: number;
  /** The message channel (absent without a database). */
  channel?: MessageChannel;
  stop(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, keys, logger } = options;
  const clock = options.clock ?? systemClock;
  const tracing = options.tracing;
  let jwks = keys.jwks;
  const verifyAccessToken = createAccessTokenVerifier({
    jwks,
    issuer: config.publicUrl,
    audience: config.apiAudience,
    reloadJwks: async () => (jwks = (await loadPlatformKeys(config.keysDir, { create: false })).jwks),
    clock,
  });
  const signContext = createContextSigner(keys.context, config.contextTokenTtlSeconds, clock);
  const fetcher = createSubgraphFetcher({ signContext, signBatch: createContextBatchSigner(keys.context, clock) });
  const callSubgraph = createInternalClient(fetcher, signContext);
  const lookups = createSubgraphLookups({ callSubgraph, urls: options.subgraphUrls });
  const callReports = createCallReportAggregator({ store: createCallReportStore(callSubgraph, options.subgraphUrls['app-management']), clock, logger });
  let messageChannel: RunningMessageChannel | undefined;
  const metrics = createGatewayMetrics({ openSubscriptions: () => messageChannel?.channel.size ?? 0 });
  const serveMetrics = createMetricsRoute({ token: config.metricsToken, metrics });
  // What the gateways share with REDIS_URL (one connection for every concern); in memory without it.
  const sharedStore = config.access.redisUrl ? connectSharedStore(config.access.redisUrl, config.access.redisFailureMode, logger) : undefined;
  const replayGuard = sharedStore ? createRedisReplayGuard(sharedStore) : createMemoryReplayGuard(clock);
  const flowCounters = options.flowCounters ?? (sharedStore ? createRedisFlowCounters(sharedStore) : createMemoryFlowCounters());
  const clientAddress = createClientAddress(config.access.trustedProxies);
  const failedAuthentication = {
    counters: sharedStore ? createRedisAttemptCounters(sharedStore) : createMemoryAttemptCounters(clock),
    failureMode: config.access.redisFailureMode,
    countersFailed: (error: unknown) => (sharedStore ? sharedStore.failed(error) : logger.error({ err: error }, 'failed-authentication counters failed')),
  };
  const supergraphSdl = loadSupergraph();
  const appManagementUrl = options.subgraphUrls['app-management'];
  const developerSessions = createDeveloperSessions({ callSubgraph, appManagementUrl, keys, publicUrl: config.publicUrl, clock });
  const consoleSessions = createConsoleSessions({ callSubgraph, appManagementUrl, keys, publicUrl: config.publicUrl, clock });
  const merchantSessions = createMerchantSessions({ callSubgraph, accountUrl: options.subgraphUrls.account, keys, publicUrl: config.publicUrl, clock });
  const pipeline = createPipeline({
    verifyAccessToken,
    sessionCaller: createSessionCaller([developerSessions, consoleSessions, merchantSessions]),
    replayGuard,
    appSecretKeks: keys.messageKeks,
    publicUrl: config.publicUrl,
    loadAppAccess: lookups.loadAppAccess,
    authorizationState: lookups.authorizationState,
    merchantIsTest: lookups.merchantIsTest,
    operatorActive: lookups.operatorActive,
    loadOfflineApis: lookups.loadOfflineApis,
    appAccessCacheMs: config.appAccessCacheMs,
    clientAddress,
    failedAuthentication,
    tracing: !!options.tracing,
    accessControls: config.accessControls,
    recordCall: (call) => {
      callReports.recordCall(call);
      metrics.recordCall(call);
    },
    flowControl: {
      costs: readSchemaCosts(supergraphSdl),
      counters: flowCounters,
      failureMode: config.access.redisFailureMode,
      countersFailed: (error) => (sharedStore ? sharedStore.failed(error) : logger.error({ err: error }, 'flow-control counters failed')),
    },
    clock,
  });
  const dataSourceFor = createSubgraphDataSources({ urls: options.subgraphUrls, signContext, fetcher, hooks: pipeline.subgraphRequestHooks });
  const { apollo, schema, formatError } = await startApollo({
    config,
    logger,
    supergraphSdl,
    dataSourceFor,
    pipeline,
    plugins: [recordsBeforeReading(() => messageChannel?.channel) as ApolloServerPlugin<GatewayContext>],
  });
  if (options.database) {
    messageChannel = await startMessageChannel({
      database: options.database,
      databaseUrl: config.databaseUrl,
      keks: keys.messageKeks,
      settings: config.messages,
      tuning: options.messageTuning,
      logger,
      clock,
      apollo,
      schema,
      supergraphSdl,
      sendToSubgraph: (serviceName, request, context) => dataSourceFor(serviceName).send(request, context),
      validationRules: pipeline.validationRules,
      limits: QUERY_LIMITS,
      formatError,
      // With the app's access kept half of APP_ACCESS_CACHE_MS (pipeline.ts): a change ends an open subscription within it.
      recheckIntervalMs: Math.max(500, config.appAccessCacheMs / 2),
      authorize: pipeline.authorize,
      // Fields taken offline: each pushed event is answered as a query would be.
      offlineFieldsOf: pipeline.offlineFieldsOf,
    });
  } else {
    logger.warn('no database configured for the gateway: message subscriptions are unavailable');
  }
  const liveSubscriptions = startLiveSubscriptionReports({ openSubscriptions: () => messageChannel?.channel.subscriptionCounts() ?? [], callSubgraph, appManagementUrl, clock, logger });
  const health = createHealthCheck({ subgraphUrls: options.subgraphUrls, clock });
  const introspect = createOperatorIntrospection({ verifyAccessToken, authorizationActive: lookups.authorizationActive, loadAppAccess: lookups.loadAppAccess });
  const proxyPassport = createPassportProxy({
    accountUrl: options.subgraphUrls.account,
    publicUrl: config.publicUrl,
    signContext,
    clientAuthentication: createClientAuthenticationGuard(failedAuthentication),
    clientAddress,
  });
  const developerAuth = createDeveloperAuthRoutes({ callSubgraph, appManagementUrl, sessions: developerSessions, clock });
  const merchantAuth = createMerchantAuthRoutes({ callSubgraph, accountUrl: options.subgraphUrls.account, sessions: merchantSessions, clock });
  const devMailbox = createDevMailbox({ callSubgraph, appManagementUrl, config });
  const operatorSignIn = createOperatorSignIn({ callSubgraph, appManagementUrl: options.subgraphUrls['app-management'], keys, issuer: config.publicUrl, audience: config.apiAudience, clock });
  const consoleAuth = createConsoleAuthRoutes({ callSubgraph, appManagementUrl, sessions: consoleSessions, clock, tokenSignIn: operatorSignIn });

  const servePortal = createPortal();

  const transports = messageChannel?.transports;
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const state = newRequestState();
    try {
      const route = pathOf(req);
      if (route === '/healthz') return await health(res);
      if (route === '/metrics' && (await serveMetrics(req, res))) return;
      if (route === '/.well-known/jwks.json') return sendJson(res, 200, jwks, { 'cache-control': 'public, max-age=300' });
      if (route === '/auth/operator/introspect') return await introspect(req, res);
      if (route.startsWith(CONSOLE_AUTH_PREFIX)) return await consoleAuth(req, res, route);
      if (route.startsWith(DEVELOPER_AUTH_PREFIX)) return await developerAuth(req, res, route);
      if (route.startsWith(MERCHANT_AUTH_PREFIX)) return await merchantAuth(req, res, route);
      if (route === DEV_MAILBOX_PATH) return await devMailbox(req, res);
      if (PASSPORT_PATHS.test(route)) return await proxyPassport(req, res);
      if (frontEndPageAt(route)) return servePortal(req, res);
      if (route === '/graphql/stream' || (route === '/graphql' && (req.headers.accept ?? '').includes('text/event-stream'))) {
        if (!transports) throw new HttpError(503, 'Message subscriptions are not available on this gateway', 'SERVICE_UNAVAILABLE');
        return await transports.sse(req, res);
      }
      if (route !== '/graphql') throw new HttpError(404, 'Not found: the API is at /graphql', 'NOT_FOUND');
      await pipeline.run(req, state);
      res.setHeader(REQUEST_ID_HEADER, state.requestId);
      const caller = state.caller!;
      await executeGraphQL(apollo, req, res, async () => ({ caller, requestId: state.requestId, receivedAt: state.receivedAt, ...(tracing ? { traceparent: tracing.currentTraceparent() } : {}) }));
    } catch (error) {
      if (error instanceof HttpError) {
        // Counted (a known app's refusals are in its call report) only when the pipeline ran.
        if (state.requestId) pipeline.refused(state, error);
        return sendGraphQLError(res, error);
      }
      logger.error({ err: error, requestId: state.requestId }, 'request failed');
      const message = config.development ? `Internal server error: ${(error as Error).message}` : 'Internal server error';
      if (!res.headersSent) sendGraphQLError(res, new HttpError(500, message, 'INTERNAL_SERVER_ERROR'));
      else res.destroy();
    }
  };
  const server = http.createServer(options.tracing ? options.tracing.traceRequests('gateway', handle, { continueTrace: false }) : handle);
  server.keepAliveTimeout = 65_000;
  // A client gets this long to send its headers, and its whole request: a slow one cannot hold a
  // connection for Node's default five minutes.
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.on('upgrade', (req, socket, head) => {
    if (pathOf(req) !== '/graphql' || !transports) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
      return;
    }
    transports.upgrade(req, socket, head);
  });
  const port = await listen(server, options.port, options.host, options.reservedPort);
  // A wildcard address is reached on loopback; an IPv6 literal goes in brackets.
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}/graphql`;
  logger.info({ url }, 'gateway listening');
  return {
    url,
    port,
    ...(messageChannel ? { channel: messageChannel.channel } : {}),
    stop: async () => {
      // The console stops counting this gateway's subscriptions as it goes away (before the internal client closes).
      await liveSubscriptions.stop();
      await messageChannel?.stop();
      await closeServer(server);
      await apollo.stop();
      // What was counted until the last answer, before the internal client closes.
      await callReports.stop();
      await fetcher.close();
      await sharedStore?.close();
    },
  };
}
