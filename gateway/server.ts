/**
 * The gateway: the platform's only public entry. Serves /graphql (the supergraph, planned and
 * executed by @apollo/gateway from the checked-in schema/supergraph.graphql, never introspected at run
 * time), the JWKS at /.well-known/jwks.json, and /healthz.
 */
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway } from '@apollo/gateway';
import DataLoader from 'dataloader';
import { MAX_GRANTS_PER_CHECK } from '../core/caller.js';
import type { Config, SubgraphName } from '../core/config.js';
import { createErrorFormatter } from '../core/errors.js';
import { applyScalarParsing } from '../core/scalars.js';
import { HttpError, closeServer, executeGraphQL, listen, pathOf, sendGraphQLError, sendJson } from '../core/http.js';
import { loadPlatformKeys, type PlatformKeys } from '../core/keys.js';
import type { Logger } from '../core/logger.js';
import { schemaDir } from '../core/paths.js';
import { createAccessTokenVerifier, createContextBatchSigner, createContextSigner } from '../core/tokens.js';
import { createPipeline } from './pipeline.js';
import { ContextForwardingDataSource } from './plugins/forward-context.js';
import { createSubgraphFetcher } from './plugins/subgraph-fetcher.js';
import type { AppAccess } from './plugins/app-authorization.js';
import type { AuthorizationState } from './plugins/authorization-revocation.js';
import { createInternalClient } from './internal-client.js';
import { createOperatorIntrospection } from './operator-introspection.js';
import { createOperatorSignIn } from './operator-sign-in.js';
import { PASSPORT_PATHS, createPassportProxy } from './passport-proxy.js';
import type { GatewayContext, RequestState } from './plugins/types.js';
import type { Clock } from '../core/clock.js';
import type { Database } from '../core/db.js';
import type { MessageChannel } from '../messages/channel/channel.js';
import { recordsBeforeReading, startMessageChannel, type MessageTuning, type RunningMessageChannel } from '../messages/gateway.js';
import { QUERY_LIMITS } from './plugins/query-limits.js';
import { systemClock } from '../core/clock.js';
import type { FormattedExecutionResult, GraphQLSchema } from 'graphql';

/**
 * The supergraph as @apollo/gateway loads it. The composed file links `authenticated` and
 * `requiresScopes` `for: SECURITY`, which tells a gateway to refuse the schema unless it enforces
 * them itself. @apollo/gateway does not (Apollo's Router does); here the subgraphs enforce them with
 * graphql-shield, field by field, so the gateway may take these two links as documentation only.
 */
export function supergraphForGateway(sdl: string): string {
  const enforcedBySubgraphs = /@link\(url: "https:\/\/specs\.apollo\.dev\/(authenticated|requiresScopes)\/v[0-9.]+", for: SECURITY\)/g;
  return sdl.replace(enforcedBySubgraphs, (link) => link.replace(', for: SECURITY', ''));
}

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
  let jwks = keys.jwks;
  const verifyAccessToken = createAccessTokenVerifier({
    jwks,
    issuer: config.publicUrl,
    audience: config.apiAudience,
    reloadJwks: async () => (jwks = (await loadPlatformKeys(config.keysDir, { create: false })).jwks),
  });
  const signContext = createContextSigner(keys.context, config.contextTokenTtlSeconds);
  const fetcher = createSubgraphFetcher({ signContext, signBatch: createContextBatchSigner(keys.context) });
  const callSubgraph = createInternalClient(fetcher, signContext);
  const appManagementUrl = options.subgraphUrls['app-management'];
  // Whether merchants' authorizations still stand: asked for every request's grant (cached for
  // APP_ACCESS_CACHE_MS) and for every open subscription's, over and over; the grants asked in one
  // turn of the event loop go in one call.
  const grantChecks = new DataLoader<string, AuthorizationState>(
    async (grantIds) =>
      (
        await callSubgraph<{ authorizationStates: ({ active: boolean; authorizedAt: string } | null)[] }>(
          options.subgraphUrls.account,
          'query States($ids: [String!]!) { authorizationStates(grantIds: $ids) { active authorizedAt } }',
          { ids: grantIds },
        )
      ).authorizationStates.map((state) => (state ? { active: state.active, authorizedAt: Date.parse(state.authorizedAt) } : null)),
    { cache: false, maxBatchSize: MAX_GRANTS_PER_CHECK, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
  );
  const authorizationState = (grantId: string) => grantChecks.load(grantId);
  const authorizationActive = async (grantId: string) => (await authorizationState(grantId))?.active === true;
  const loadAppAccess = async (key: string) =>
    (await callSubgraph<{ appAccess: AppAccess | null }>(appManagementUrl, 'query Access($key: String!) { appAccess(key: $key) { status grantedScopes } }', { key })).appAccess;
  const merchantIsTest = async (merchantId: string) =>
    (await callSubgraph<{ merchantIsTest: boolean }>(options.subgraphUrls.account, 'query Test($id: String!) { merchantIsTest(merchantId: $id) }', { id: merchantId })).merchantIsTest;
  const pipeline = createPipeline({ verifyAccessToken, appAccessCacheMs: config.appAccessCacheMs, authorizationState, loadAppAccess, merchantIsTest });
  const introspect = createOperatorIntrospection({ verifyAccessToken, authorizationActive, loadAppAccess });
  const proxyPassport = createPassportProxy({ accountUrl: options.subgraphUrls.account, publicUrl: config.publicUrl, signContext });
  const operatorSignIn = createOperatorSignIn({ callSubgraph, appManagementUrl, keys, issuer: config.publicUrl, audience: config.apiAudience });

  const supergraphSdl = supergraphForGateway(fs.readFileSync(path.join(schemaDir, 'supergraph.graphql'), 'utf8'));
  /** One data source per subgraph, for the gateway's query plans and the channel's single-fetch sub-queries alike. */
  const dataSources = new Map<string, ContextForwardingDataSource>();
  const dataSourceFor = (name: string) => {
    let source = dataSources.get(name);
    if (!source) {
      const url = options.subgraphUrls[name as SubgraphName];
      if (!url) throw new Error(`No URL configured for subgraph ${name}`);
      dataSources.set(name, (source = new ContextForwardingDataSource(url, signContext, fetcher)));
    }
    return source;
  };
  // @apollo/gateway (2.10 and later) otherwise starts "data collection" of its own: an OpenTelemetry
  // exporter that probes cloud metadata endpoints (AWS, GCP, Azure, Alibaba) at start and sends
  // host metrics to usage-reporting.api.apollographql.com every hour and at shutdown. The platform
  // makes no outbound call its operator did not configure; APOLLO_TELEMETRY_DISABLED=false opts in.
  if (process.env.APOLLO_TELEMETRY_DISABLED === undefined) process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) => dataSourceFor(name),
    logger: logger.child({ service: 'gateway' }) as never,
  });
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate((update) => {
    applyScalarParsing(update.apiSchema);
    apiSchema = update.apiSchema;
  });
  const formatError = createErrorFormatter({
    development: config.development,
    onInternalError: (error) => logger.error({ err: error }, 'unexpected error'),
  });
  let messageChannel: RunningMessageChannel | undefined;
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: true,
    // Shutdown is ours (SIGTERM stops the gateway first, then subgraphs, then the database).
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: config.development,
    formatError,
    // Compact JSON: Apollo's default indents every response, which costs CPU on every page (kept for development).
    ...(config.development ? {} : { stringifyResult: (result: FormattedExecutionResult) => JSON.stringify(result) }),
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      ...(config.development ? [] : [ApolloServerPluginLandingPageDisabled()]),
      ...pipeline.flatMap((p) => p.apolloPlugins ?? []),
      recordsBeforeReading(() => messageChannel?.channel) as ApolloServerPlugin<GatewayContext>,
    ],
    validationRules: pipeline.flatMap((p) => p.validationRules ?? []),
  });
  await apollo.start();

  /** The request pipeline for a long-lived connection (and again, periodically, while it lives). */
  async function authorize(headers: http.IncomingHttpHeaders) {
    const state: RequestState = { requestId: '' };
    const req = { headers } as http.IncomingMessage;
    for (const plugin of pipeline) await plugin.onRequest?.(req, state);
    return { caller: state.caller!, requestId: state.requestId };
  }

  if (options.database) {
    messageChannel = await startMessageChannel({
      database: options.database,
      databaseUrl: config.databaseUrl,
      keks: keys.messageKeks,
      settings: config.messages,
      tuning: options.messageTuning,
      logger,
      clock: options.clock ?? systemClock,
      apollo,
      schema: () => apiSchema!,
      supergraphSdl,
      sendToSubgraph: (serviceName, request, context) => dataSourceFor(serviceName).send(request, context),
      validationRules: pipeline.flatMap((p) => p.validationRules ?? []),
      limits: QUERY_LIMITS,
      formatError,
      recheckIntervalMs: Math.max(500, Math.min(config.appAccessCacheMs, 2000)),
      authorize: (req, credentials) => authorize({ ...req.headers, authorization: credentials.authorization }),
    });
  } else {
    logger.warn('no database configured for the gateway: message subscriptions are unavailable');
  }
  /** The subgraphs' health, asked at most once a second however often /healthz is called (it is public). */
  let healthCheck: { at: number; checks: Promise<(readonly [string, string])[]> } | undefined;
  async function health(res: http.ServerResponse) {
    if (!healthCheck || Date.now() - healthCheck.at > 1000) healthCheck = { at: Date.now(), checks: checkSubgraphs() };
    const checks = await healthCheck.checks;
    const healthy = checks.every(([, status]) => status === 'ok');
    sendJson(res, healthy ? 200 : 503, { status: healthy ? 'ok' : 'degraded', subgraphs: Object.fromEntries(checks) });
  }
  function checkSubgraphs() {
    return Promise.all(
      Object.entries(options.subgraphUrls).map(async ([name, url]) => {
        try {
          const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2000) });
          return [name, response.ok ? 'ok' : `http ${response.status}`] as const;
        } catch {
          return [name, 'unreachable'] as const;
        }
      }),
    );
  }

  const transports = messageChannel?.transports;
  const server = http.createServer(async (req, res) => {
    const state: RequestState = { requestId: '' };
    try {
      const route = pathOf(req);
      if (route === '/healthz') return await health(res);
      if (route === '/.well-known/jwks.json') return sendJson(res, 200, jwks, { 'cache-control': 'public, max-age=300' });
      if (route === '/auth/operator/token') return await operatorSignIn(req, res);
      if (route === '/auth/operator/introspect') return await introspect(req, res);
      if (PASSPORT_PATHS.test(route)) return await proxyPassport(req, res);
      if (route === '/graphql/stream' || (route === '/graphql' && (req.headers.accept ?? '').includes('text/event-stream'))) {
        if (!transports) throw new HttpError(503, 'Message subscriptions are not available on this gateway', 'SERVICE_UNAVAILABLE');
        return await transports.sse(req, res);
      }
      if (route !== '/graphql') throw new HttpError(404, 'Not found: the API is at /graphql', 'NOT_FOUND');
      for (const plugin of pipeline) await plugin.onRequest?.(req, state);
      res.setHeader('x-request-id', state.requestId);
      const caller = state.caller!;
      await executeGraphQL(apollo, req, res, async () => ({ caller, requestId: state.requestId }));
    } catch (error) {
      if (error instanceof HttpError) return sendGraphQLError(res, error);
      logger.error({ err: error, requestId: state.requestId }, 'request failed');
      const message = config.development ? `Internal server error: ${(error as Error).message}` : 'Internal server error';
      if (!res.headersSent) sendGraphQLError(res, new HttpError(500, message, 'INTERNAL_SERVER_ERROR'));
      else res.destroy();
    }
  });
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
  const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}/graphql`;
  logger.info({ url }, 'gateway listening');
  return {
    url,
    port,
    ...(messageChannel ? { channel: messageChannel.channel } : {}),
    stop: async () => {
      await messageChannel?.stop();
      await closeServer(server);
      await apollo.stop();
      await fetcher.close();
    },
  };
}
