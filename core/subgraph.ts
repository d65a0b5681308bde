/**
 * One subgraph service: a Federation 2 schema from `schema/<name>.graphql`, served over HTTP, that
 * refuses every request without a valid gateway-signed context token (zero trust between gateway and
 * subgraphs: reaching a subgraph directly, even its `_service` or `_entities`, yields nothing).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import crypto from 'node:crypto';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { OperationTypeNode, getOperationAST, parse, type DocumentNode, type FormattedExecutionResult } from 'graphql';
import { createDirectQueryExecutor } from './direct-execution.js';
import type { Caller } from './caller.js';
import type { Database } from './db.js';
import { createErrorFormatter, forbidden } from './errors.js';
import { applyPermissions } from './permissions.js';
import { HeaderMap } from '@apollo/server';
import { RequestLookups } from './shared-lookups.js';
import { HttpError, closeServer, executeGraphQL, listen, parseJsonBody, pathOf, readBody, sendGraphQLError, sendJson } from './http.js';
import type { Logger } from './logger.js';
import type { Tracing } from './tracing.js';
import { schemaDir } from './paths.js';
import { CONTEXT_BATCH_HEADER, CONTEXT_BATCH_SIGNATURE_HEADER, CONTEXT_BATCH_VALUE, CONTEXT_TOKEN_HEADER, InvalidTokenError, MAX_CONTEXT_BATCH, callerOfClaims } from './tokens.js';

export interface SubgraphContext<Loaders> extends BaseContext {
  caller: Caller;
  loaders: Loaders;
  requestId: string;
  /**
   * The context token this request came with, for calls this subgraph makes to another on the
   * caller's behalf. Empty for an operation of a signed context batch, which runs queries only.
   */
  contextToken: string;
}

export interface SubgraphDefinition<Loaders> {
  name: string;
  /** Resolver map; checked against the SDL when the schema is built. */
  resolvers: object;
  /**
   * Per-operation DataLoaders: every entity reference and child list goes through one. Lookups of
   * merchant data may batch through `lookups`, shared by the operations of one HTTP request.
   */
  createLoaders(caller: Caller, lookups: RequestLookups): Loaders;
  /**
   * Other HTTP routes the subgraph serves (the passport's). Reached only through the gateway: the
   * request must carry a valid context token of the gateway itself, which the handler may reuse for
   * the internal calls that request needs. Returns false for a path it does not serve.
   */
  handleHttp?(req: http.IncomingMessage, res: http.ServerResponse, route: string, contextToken: string): Promise<boolean>;
  /** Background work of the service (the order timers): started once it listens, stopped before it closes. */
  background?: { start(): void; stop(): Promise<void> };
}

export interface SubgraphOptions {
  /** Field authorization from the SDL's directives; false only when benchmarking its cost. */
  fieldAuthorization: boolean;
  port: number;
  host: string;
  database: Database;
  verifyContext: (token: string) => Promise<Caller>;
  /** Checks a signed context batch against its body (see core/tokens.ts). */
  verifyContextBatch: (signature: string, body: string) => Promise<void>;
  logger: Logger;
  development: boolean;
  /** OpenTelemetry tracing (core/tracing.ts): each request a span continuing the gateway's trace. */
  tracing?: Tracing | undefined;
}

export interface RunningSubgraph {
  name: string;
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function loadSubgraphSdl(name: string): DocumentNode {
  return parse(fs.readFileSync(path.join(schemaDir, `${name}.graphql`), 'utf8'));
}

/** The merchant the caller acts for; app-level tokens (no merchant) may not touch merchant data. */
export function requireMerchant(caller: Caller): string {
  if (!caller.merchantId) throw forbidden('This operation needs a token issued for a merchant');
  return caller.merchantId;
}

export async function startSubgraph<Loaders>(definition: SubgraphDefinition<Loaders>, options: SubgraphOptions): Promise<RunningSubgraph> {
  const logger = options.logger.child({ service: definition.name });
  const sdl = loadSubgraphSdl(definition.name);
  const built = buildSubgraphSchema({ typeDefs: sdl, resolvers: definition.resolvers as GraphQLResolverMap<unknown> });
  if (!options.fieldAuthorization) logger.error('FIELD AUTHORIZATION IS OFF: every field is open to every caller (benchmark mode)');
  const schema = options.fieldAuthorization ? applyPermissions(built, sdl) : built;
  const formatError = createErrorFormatter({
    development: options.development,
    onInternalError: (error) => logger.error({ err: error }, 'unexpected error in resolver'),
  });
  const apollo = new ApolloServer<SubgraphContext<Loaders>>({
    schema,
    introspection: true,
    // Shutdown is ours (SIGTERM stops the gateway first, then subgraphs, then the database).
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: options.development,
    formatError,
    // The gateway sends the operations of one query plan step for this subgraph as one batch
    // (gateway/upstream/subgraph-fetcher.ts); they share one context, so one set of DataLoaders.
    allowBatchedHttpRequests: true,
    // Compact JSON (Apollo's default indents every response; only the gateway reads these).
    stringifyResult: (result: FormattedExecutionResult) => JSON.stringify(result),
    // No HTTP caching of merchant data, so no per-field cache-policy bookkeeping (it hooks every resolved field).
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled()],
  });
  await apollo.start();

  /** The context of one operation: its verified caller, its own DataLoaders. */
  const contextOf = (caller: Caller, token: string, requestId: string, lookups: RequestLookups) => async (): Promise<SubgraphContext<Loaders>> => ({
    caller,
    loaders: definition.createLoaders(caller, lookups),
    requestId,
    contextToken: token,
  });

  type BatchAnswer = { status: number; body: string };
  const refuse = (status: number, code: string, message: string): BatchAnswer => ({ status, body: JSON.stringify({ errors: [{ message, extensions: { code } }] }) });

  /**
   * One item of a batch of several callers, checked: what to run, or its answer. In a signed batch
   * the item names its caller's claims (the signature covers the whole body); otherwise it carries
   * its own context token, verified here.
   */
  async function admit(item: unknown, signed: boolean): Promise<BatchAnswer | { caller: Caller; token: string; requestId: string; operation: object }> {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return refuse(400, 'BAD_REQUEST', 'A batch item is an object with its caller and operation');
    const { context: token, caller: claims, requestId, operation } = item as { context?: unknown; caller?: unknown; requestId?: unknown; operation?: unknown };
    let caller: Caller;
    try {
      if (signed) caller = callerOfClaims(claims);
      else if (typeof token === 'string') caller = await options.verifyContext(token);
      else return refuse(401, 'UNAUTHENTICATED', 'Missing context token');
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
      return signed ? refuse(400, 'BAD_REQUEST', 'A batch item names no valid caller') : refuse(401, 'UNAUTHENTICATED', error.message);
    }
    if (!operation || typeof operation !== 'object' || Array.isArray(operation)) return refuse(400, 'BAD_REQUEST', 'A batch item holds one operation');
    const id = typeof requestId === 'string' && /^[A-Za-z0-9._:-]{8,128}$/.test(requestId) ? requestId : crypto.randomUUID();
    return { caller, token: signed ? '' : (token as string), requestId: id, operation };
  }

  /** Whether an operation (one the direct path left to Apollo) is a mutation; a document that does not parse is not (Apollo refuses it). */
  function isMutation(operation: object): boolean {
    const { query, operationName } = operation as { query?: unknown; operationName?: unknown };
    if (typeof query !== 'string') return false;
    try {
      return getOperationAST(parse(query), typeof operationName === 'string' ? operationName : undefined)?.operation === OperationTypeNode.MUTATION;
    } catch {
      return false;
    }
  }

  const direct = createDirectQueryExecutor(schema, formatError, options.development);

  /** One operation of a batch of several callers, run exactly as if it had come alone with its own token. */
  async function runWithOwnContext(admitted: { caller: Caller; token: string; requestId: string; operation: object }, lookups: RequestLookups): Promise<BatchAnswer> {
    const context = contextOf(admitted.caller, admitted.token, admitted.requestId, lookups);
    // The usual case (a valid query that executes) skips Apollo's request pipeline; anything else
    // (a mutation, a persisted query, a document that does not parse or validate, variables that
    // do not coerce) takes Apollo's own path, so its answer is Apollo's.
    const answered = await direct(admitted.operation, context);
    if (answered) return { status: 200, body: answered };
    // A signed batch carries no caller's token to forward: it reads, it never writes.
    if (!admitted.token && isMutation(admitted.operation)) return refuse(400, 'BAD_REQUEST', 'A batch of several callers runs queries only');
    const headers = new HeaderMap([['content-type', 'application/json']]);
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search: '', body: admitted.operation },
      context,
    });
    let body = '';
    if (response.body.kind === 'complete') body = response.body.string;
    else for await (const chunk of response.body.asyncIterator) body += chunk;
    return { status: response.status ?? 200, body: body || 'null' };
  }

  /**
   * Operations of several callers in one request (the gateway resolving many subscribers' events at
   * once): the gateway's signature covers the whole body, which names each operation's caller (or,
   * the older format, each operation carries its own context token, verified here). Each runs with
   * its own context and DataLoaders, as if it had come alone. Only the HTTP request, and the SQL of
   * lookups keyed by (merchant, id), are shared (core/shared-lookups.ts).
   */
  async function runContextBatch(req: http.IncomingMessage, res: http.ServerResponse) {
    const raw = await readBody(req);
    const signature = req.headers[CONTEXT_BATCH_SIGNATURE_HEADER];
    const signed = signature !== undefined;
    if (signed) {
      if (typeof signature !== 'string') throw new HttpError(401, 'Missing or invalid batch signature', 'UNAUTHENTICATED');
      await options.verifyContextBatch(signature, raw).catch((error: unknown) => {
        if (error instanceof InvalidTokenError) throw new HttpError(401, error.message, 'UNAUTHENTICATED');
        throw error;
      });
    }
    const items = parseJsonBody(raw);
    if (!Array.isArray(items) || !items.length || items.length > MAX_CONTEXT_BATCH) throw new HttpError(400, `A batch holds 1 to ${MAX_CONTEXT_BATCH} operations`);
    // Every token is verified first (a verification may wait for the thread pool), so that the
    // operations then start together and their lookups meet in one batch.
    const admitted = await Promise.all(items.map((item) => admit(item, signed)));
    const lookups = new RequestLookups('several');
    const answers = await Promise.all(admitted.map((a) => ('caller' in a ? runWithOwnContext(a, lookups) : a)));
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(`[${answers.map((a) => `{"status":${a.status},"body":${a.body}}`).join(',')}]`);
  }

  /**
   * A request of one caller (one operation, or the operations of one query plan step as a batch,
   * run with one context): plain queries skip Apollo's request pipeline, as in a context batch, and
   * are answered as Apollo answers them (200, compact JSON). Anything else (another method or media
   * type, a mutation, an operation the direct path leaves to Apollo, and a whole batch if any of its
   * operations is one) goes through Apollo, with the body already read.
   */
  async function runOwn(req: http.IncomingMessage, res: http.ServerResponse, context: () => Promise<SubgraphContext<Loaders>>) {
    if (req.method !== 'POST' || !plainJsonExchange(req.headers)) return executeGraphQL(apollo, req, res, context);
    const body = parseJsonBody(await readBody(req));
    // One context for every operation of the request, whichever path answers it (Apollo's too).
    let created: Promise<SubgraphContext<Loaders>> | undefined;
    const shared = () => (created ??= context());
    const operations = Array.isArray(body) ? body : [body];
    if (operations.length && operations.every((op) => op !== null && typeof op === 'object' && !Array.isArray(op))) {
      const answers = await Promise.all(operations.map((op) => direct(op as object, shared)));
      if (answers.every((answer): answer is string => answer !== null)) {
        const payload = Array.isArray(body) ? `[${answers.join(',')}]` : answers[0]!;
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
        res.end(payload);
        return;
      }
    }
    return executeGraphQL(apollo, req, res, shared, { body });
  }

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const requestId = (req.headers['x-request-id'] as string | undefined) ?? crypto.randomUUID();
    try {
      const route = pathOf(req);
      if (route === '/healthz') {
        await options.database.ping();
        return sendJson(res, 200, { status: 'ok', service: definition.name });
      }
      if (req.headers[CONTEXT_BATCH_HEADER] === CONTEXT_BATCH_VALUE && req.method === 'POST' && (route === '/graphql' || route === '/')) {
        return await runContextBatch(req, res);
      }
      const token = req.headers[CONTEXT_TOKEN_HEADER];
      if (typeof token !== 'string') throw new HttpError(401, 'Missing context token', 'UNAUTHENTICATED');
      const caller = await options.verifyContext(token).catch((error: unknown) => {
        if (error instanceof InvalidTokenError) throw new HttpError(401, error.message, 'UNAUTHENTICATED');
        throw error;
      });
      if (route !== '/graphql' && route !== '/') {
        if (definition.handleHttp && caller.kind === 'system' && (await definition.handleHttp(req, res, route, token))) return;
        throw new HttpError(404, 'Not found', 'NOT_FOUND');
      }
      await runOwn(req, res, contextOf(caller, token, requestId, new RequestLookups('one')));
    } catch (error) {
      if (error instanceof HttpError) return sendGraphQLError(res, error);
      logger.error({ err: error, requestId }, 'request failed');
      if (!res.headersSent) sendGraphQLError(res, new HttpError(500, 'Internal server error', 'INTERNAL_SERVER_ERROR'));
      else res.destroy();
    }
  };
  const server = http.createServer(options.tracing ? options.tracing.traceRequests(definition.name, handle, { continueTrace: true }) : handle);
  server.keepAliveTimeout = 65_000;
  const port = await listen(server, options.port, options.host);
  const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}/graphql`;
  logger.info({ url }, 'subgraph listening');
  definition.background?.start();
  return {
    name: definition.name,
    url,
    port,
    stop: async () => {
      await definition.background?.stop();
      await closeServer(server);
      await apollo.stop();
    },
  };
}

/**
 * A JSON request that asks for a JSON answer (or names no media type, as the gateway's requests):
 * what Apollo answers with `application/json` and the direct path may answer too.
 */
function plainJsonExchange(headers: http.IncomingHttpHeaders): boolean {
  const type = headers['content-type']?.toLowerCase();
  if (!type || !(type === 'application/json' || type.startsWith('application/json;'))) return false;
  const accept = headers.accept;
  return accept === undefined || accept === '*/*' || accept === 'application/json';
}
