/**
 * The two transports of the message channel, both on the gateway's public port:
 * - WebSocket at /graphql, protocol `graphql-transport-ws` (graphql-ws). The access token goes in the
 *   connection parameters (`{ "authorization": "Bearer <token>" }`) or the upgrade request's
 *   Authorization header. A refused connection closes with 4401 (token) or 4403 (app not allowed).
 * - Server-Sent Events at /graphql/stream (graphql-sse, distinct connections mode), or /graphql with
 *   `Accept: text/event-stream`. The token goes in the Authorization header.
 * Both run the gateway's request pipeline on the connection's own HTTP request (the upgrade, the
 * event stream's request), when it opens and at every re-check while it lives.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { createHandler as createSseHandler } from 'graphql-sse';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Caller } from '../../core/caller.js';
import { HttpError, readRequestBody, sendGraphQLError } from '../../core/http.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Connection, OperationOutcome, OperationRequest, SubscriptionExecutor } from './executor.js';

export interface TransportOptions {
  executor: SubscriptionExecutor;
  /**
   * Runs the gateway's request pipeline on the connection's request (the WebSocket upgrade, the
   * SSE request), with the credential a WebSocket client sent in its connection parameters, which
   * stands before the request's Authorization header: the caller, or an HttpError.
   */
  authorize(request: http.IncomingMessage, credentials: { authorization?: string | undefined }): Promise<{ caller: Caller; requestId: string }>;
  logger: Logger;
  clock: Clock;
}

/** The transports, as the gateway's routes use them. */
export interface Transports {
  /** Takes over an HTTP upgrade to /graphql. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Serves a Server-Sent Events request. */
  sse(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  readonly openSockets: number;
  /** Closes every socket. */
  close(): Promise<void>;
}

/** One re-check of a connection's token serves every subscription of it that asks within this long. */
const RECHECK_SHARED_MS = 500;

type WsExtra = { connection?: Connection };

/** Subscriptions (and queries in progress) one WebSocket may run at once. */
export const MAX_OPERATIONS_PER_CONNECTION = 100;

/** The credential in a graphql-ws client's connection parameters, if any (the pipeline reads the upgrade's headers itself). */
function authorizationFrom(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const fromParams = params?.authorization ?? params?.Authorization;
  if (typeof fromParams === 'string') return fromParams;
  if (typeof params?.token === 'string') return `Bearer ${params.token}`;
  return undefined;
}

/**
 * An operation's outcome as graphql-sse takes it. graphql-sse counts a result as one only if it has
 * `data`; a refusal before execution (a document that does not parse or validate, a forbidden
 * subscription) has errors alone, which it took for execution arguments and answered with "Unable
 * to detect operation AST". Such a result goes out as the stream's one `next` event, then `complete`:
 * the errors as they are, with their codes, and what the graphql-sse protocol asks of validation
 * errors (reported in the accepted stream, which an EventSource can read, rather than a 400).
 */
function asSseOutcome(outcome: OperationOutcome): OperationOutcome {
  if (Symbol.asyncIterator in outcome || 'data' in outcome) return outcome;
  return (async function* () {
    yield outcome;
  })();
}

export function createTransports(options: TransportOptions): Transports {
  const { executor, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1_000_000 });
  const connections = new Set<WebSocket>();
  wss.on('connection', (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  const { clock } = options;
  const connectionFor = async (request: http.IncomingMessage, authorization: string | undefined, transport: 'ws' | 'sse'): Promise<Connection> => {
    const credentials = { authorization };
    const { caller, requestId } = await options.authorize(request, credentials);
    const check = async () => {
      try {
        return { scopes: (await options.authorize(request, credentials)).caller.scopes };
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        return { error: new GraphQLError(error.message, { extensions: { code: error.code } }) };
      }
    };
    let last: { at: number; outcome: ReturnType<typeof check> } | undefined;
    const recheck = () => {
      if (!last || clock.now() - last.at > RECHECK_SHARED_MS) {
        const outcome = check();
        last = { at: clock.now(), outcome };
        outcome.catch(() => (last = undefined));
      }
      return last.outcome;
    };
    return { caller, requestId, transport, recheck, connectionId: `${transport}_${crypto.randomUUID()}` };
  };

  const run = (args: ExecutionArgs) => {
    const { request, connection } = args.contextValue as { request: OperationRequest; connection: Connection };
    return executor.run(request, connection, args.document) as never;
  };

  useServer<Record<string, unknown>, WsExtra>(
    {
      connectionInitWaitTimeout: 10_000,
      async onConnect(ctx) {
        const authorization = authorizationFrom(ctx.connectionParams);
        try {
          ctx.extra.connection = await connectionFor(ctx.extra.request, authorization, 'ws');
          return true;
        } catch (error) {
          if (!(error instanceof HttpError)) throw error;
          const code = error.status === 401 ? CloseCode.Unauthorized : CloseCode.Forbidden;
          ctx.extra.socket.close(code, error.message.slice(0, 120));
          return false;
        }
      },
      onSubscribe(ctx, _id, payload) {
        const connection = ctx.extra.connection;
        if (!connection) return [new GraphQLError('Not authenticated', { extensions: { code: 'UNAUTHENTICATED' } })];
        // graphql-ws counts this operation in ctx.subscriptions already.
        if (Object.keys(ctx.subscriptions).length > MAX_OPERATIONS_PER_CONNECTION) {
          return [new GraphQLError(`At most ${MAX_OPERATIONS_PER_CONNECTION} operations run at once on one connection`, { extensions: { code: 'BAD_REQUEST' } })];
        }
        try {
          const document = executor.parse(payload.query);
          return { schema: undefined as never, document, contextValue: { request: payload, connection } } as ExecutionArgs;
        } catch (error) {
          return [new GraphQLError((error as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
        }
      },
      execute: run,
      subscribe: run,
      // Results are already formatted (errors masked) by the executor: send them as they are.
      onNext: (_ctx, _id, _payload, _args, result) => result as never,
    },
    wss,
  );

  /**
   * SSE: the caller is authorized from the request's headers before its body is read, and the body
   * is read with the gateway's size limit (graphql-sse's own Node adapter buffers any body unbounded,
   * before any check). Distinct connections mode only.
   */
  const sse = createSseHandler<http.IncomingMessage, Connection>({
    authenticate: () => null,
    onSubscribe: async (req, params) => asSseOutcome(await executor.run(params as OperationRequest, req.context)) as never,
  });
  async function serveSse(req: http.IncomingMessage, res: http.ServerResponse) {
    let connection: Connection;
    try {
      connection = await connectionFor(req, undefined, 'sse');
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return sendGraphQLError(res, error);
    }
    // Read here, so that a body too large is a 413 (graphql-sse would make any failure a 400); the
    // same bytes the pipeline read if it did (a signed stream request's content-digest).
    const raw = req.method === 'POST' ? (await readRequestBody(req)).toString('utf8') : '';
    const [body, init] = await sse({
      method: req.method!,
      url: req.url!,
      headers: {
        get(key: string) {
          const header = req.headers[key];
          return Array.isArray(header) ? header.join('\n') : (header ?? null);
        },
      },
      body: () => raw,
      raw: req,
      context: connection,
    });
    res.writeHead(init.status ?? 200, init.statusText, init.headers as http.OutgoingHttpHeaders);
    if (!body || typeof body === 'string') {
      await new Promise<void>((resolve) => res.end(body ?? undefined, () => resolve()));
      return;
    }
    const stop = () => void body.return(undefined);
    res.once('close', stop);
    for await (const chunk of body) {
      if (!res.writable) break;
      await new Promise<void>((resolve, reject) => res.write(chunk, (error) => (error ? reject(error) : resolve())));
    }
    res.off('close', stop);
    await new Promise<void>((resolve) => res.end(() => resolve()));
  }

  return {
    /** Takes over an HTTP upgrade to /graphql; refuses anything else. */
    upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer) {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    sse(req: http.IncomingMessage, res: http.ServerResponse) {
      // Distinct connections mode only: graphql-sse's single connection mode reserves a stream per
      // PUT before any token is seen (and keeps it), so its requests are refused outright.
      const singleConnection = req.method === 'PUT' || req.method === 'DELETE' || 'x-graphql-event-stream-token' in req.headers || /[?&]token=/.test(req.url ?? '');
      if (singleConnection || (req.method !== 'GET' && req.method !== 'POST')) {
        const message = singleConnection ? 'Single connection mode is not supported: send each operation as its own event stream (POST with Accept: text/event-stream)' : 'Use GET or POST';
        res.writeHead(singleConnection ? 400 : 405, { 'content-type': 'application/json', ...(singleConnection ? {} : { allow: 'GET, POST' }) });
        res.end(JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }));
        return Promise.resolve();
      }
      return serveSse(req, res).catch((error: unknown) => {
        if (error instanceof HttpError && !res.headersSent) return sendGraphQLError(res, error);
        logger.error({ err: error }, 'SSE request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
        else res.end();
      });
    },
    get openSockets() {
      return connections.size;
    },
    async close() {
      for (const socket of connections) socket.close(1001, 'gateway shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
