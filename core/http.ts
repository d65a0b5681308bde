/** The small HTTP layer every service shares: body reading with a limit, JSON replies, Apollo adapter. */
import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLRequest } from '@apollo/server';

/**
 * The header a request's id travels in: from the client (kept when sane), on the gateway's answer,
 * and on every operation the gateway sends to a subgraph for the request.
 */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Largest request body accepted, in bytes. GraphQL documents and variables are small; anything larger is refused. */
export const MAX_BODY_BYTES = 1_000_000;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'BAD_REQUEST',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export async function readBody(req: http.IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return (await readBodyBytes(req, limit)).toString('utf8');
}

const requestBodies = new WeakMap<http.IncomingMessage, Promise<Buffer>>();

/**
 * A GraphQL request's body (at most MAX_BODY_BYTES), read from the stream once: every later call for
 * the same request gets the same bytes. So a pipeline stage that must see the body (a signature's
 * content-digest) and the execution that parses it work on exactly the same bytes.
 */
export function readRequestBody(req: http.IncomingMessage): Promise<Buffer> {
  let body = requestBodies.get(req);
  if (!body) {
    body = readBodyBytes(req, MAX_BODY_BYTES);
    requestBodies.set(req, body);
  }
  return body;
}

function readBodyBytes(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Too large: answered with 413 and the connection closed after it (the rest is not kept).
    const tooLarge = () => new HttpError(413, `Request body too large (at most ${limit} bytes)`, 'BAD_REQUEST', { connection: 'close' });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(tooLarge());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        reject(tooLarge());
        req.resume();
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A JSON request body (empty: an empty object); 400 if it is not JSON. */
export function parseJsonBody(raw: string): unknown {
  try {
    return raw.length ? JSON.parse(raw) : {};
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON');
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** A GraphQL-shaped error reply for failures before GraphQL execution starts (auth, body, routing). */
export function sendGraphQLError(res: http.ServerResponse, error: HttpError) {
  sendJson(res, error.status, { errors: [{ message: error.message, extensions: { code: error.code } }] }, error.headers);
}

/** Runs one HTTP request through an ApolloServer, with the given per-request context. */
export async function executeGraphQL<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  context: () => Promise<TContext>,
  /** The request's body, when the caller already read and parsed it. */
  alreadyRead?: { body: unknown },
): Promise<void> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  let body: unknown = undefined;
  if (alreadyRead) {
    body = alreadyRead.body;
  } else if (req.method === 'POST') {
    const raw = (await readRequestBody(req)).toString('utf8');
    const contentType = headers.get('content-type') ?? '';
    if (contentType.includes('application/json') || contentType.includes('application/graphql-response+json')) {
      body = parseJsonBody(raw);
    } else {
      body = raw;
    }
  }
  const httpGraphQLRequest: HTTPGraphQLRequest = {
    method: (req.method ?? 'GET').toUpperCase(),
    headers,
    search: queryStart >= 0 ? url.slice(queryStart) : '',
    body,
  };
  const response = await server.executeHTTPGraphQLRequest({ httpGraphQLRequest, context });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/** Starts an HTTP server and resolves with the port it listens on (port 0 picks a free one). */
/**
 * Listens on port and host, or, given `reserved` (a server already listening), takes over its
 * listening socket: the port was never free in between for another process to take.
 */
export function listen(server: http.Server, port: number, host: string, reserved?: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const listening = () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    };
    if (reserved) server.listen(reserved, listening);
    else server.listen(port, host, listening);
  });
}

/** Closes a server, ending idle keep-alive connections so shutdown does not hang. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 2000).unref();
  });
}

/** The request path without its query string. */
export const pathOf = (req: http.IncomingMessage): string => (req.url ?? '/').split('?')[0] ?? '/';
