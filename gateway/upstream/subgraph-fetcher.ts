/**
 * How the gateway calls subgraphs: undici's `request` API over one keep-alive connection pool per
 * subgraph. The data source (`subgraph-data-source.ts`) posts through `post`, which answers with the
 * status, content type and body as received; `fetch` is the same in the small fetch-shaped form the
 * gateway's internal calls use. @apollo/gateway's default (make-fetch-happen) and even WHATWG fetch
 * cost the gateway a large share of its CPU per request in the order-page benchmark; see
 * bench/README.md.
 */
import { Pool } from 'undici';
import type { Caller } from '../../core/caller.js';
import { REQUEST_ID_HEADER } from '../../core/http.js';
import { CONTEXT_BATCH_HEADER, CONTEXT_BATCH_SIGNATURE_HEADER, CONTEXT_BATCH_VALUE, CONTEXT_TOKEN_HEADER, MAX_CONTEXT_BATCH, callerKey, contextClaimsOf } from '../../core/tokens.js';

/** Connections kept per subgraph. Requests beyond that queue; they never open unbounded sockets. */
const CONNECTIONS_PER_SUBGRAPH = 64;
/** A subgraph that has not answered in this long has failed the request. */
const REQUEST_TIMEOUT_MS = 30_000;

interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

type RawHeaders = Record<string, string | string[] | undefined>;

/** One subgraph answer: one HTTP response, or one operation's answer out of a batch. */
export class SubgraphAnswer {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly rawHeaders: RawHeaders,
    /** The body as received, or (one answer of a batch) already parsed. */
    private readonly body: { text: string } | { parsed: unknown },
  ) {}
  get ok() {
    return this.status >= 200 && this.status < 300;
  }
  get contentType(): string | undefined {
    const value = this.rawHeaders['content-type'];
    return Array.isArray(value) ? value[0] : value;
  }
  /** Whether the body is JSON (GraphQL over HTTP's JSON media types). */
  get isJson(): boolean {
    const type = this.contentType;
    return 'parsed' in this.body || (!!type && (type.startsWith('application/json') || type.startsWith('application/graphql-response+json')));
  }
  text(): string {
    return 'text' in this.body ? this.body.text : JSON.stringify(this.body.parsed);
  }
  /** The parsed body; throws a SyntaxError if it is not JSON. */
  json(): unknown {
    return 'text' in this.body ? (JSON.parse(this.body.text) as unknown) : this.body.parsed;
  }
}

/** The part of a fetch Response the gateway's internal calls read. */
class SubgraphResponse {
  constructor(private readonly answer: SubgraphAnswer) {}
  get url() {
    return this.answer.url;
  }
  get status() {
    return this.answer.status;
  }
  get ok() {
    return this.answer.ok;
  }
  get statusText() {
    return String(this.answer.status);
  }
  get headers(): Headers {
    const headers = new Headers();
    for (const [name, value] of Object.entries(this.answer.rawHeaders)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    return headers;
  }
  async text() {
    return this.answer.text();
  }
  async json() {
    return this.answer.json();
  }
}

/** Operations sent to one subgraph in one HTTP request at most. */
const MAX_BATCH = 10;

interface Queued {
  url: string;
  body: string;
  resolve(answer: SubgraphAnswer): void;
  reject(error: unknown): void;
}

/** Where a subgraph URL points, parsed once per URL. */
const targets = new Map<string, { origin: string; path: string }>();
function targetOf(url: string) {
  let target = targets.get(url);
  if (!target) {
    const parsed = new URL(url);
    targets.set(url, (target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` }));
  }
  return target;
}

/**
 * Whether an operation with these headers may travel in a request of several callers: only its
 * JSON content type and its request id, which the batch carries in the body beside the operation
 * (a batch item has no headers of its own).
 */
export function sharesAcrossCallers(headers: Record<string, string>): boolean {
  for (const name in headers) {
    if (name === REQUEST_ID_HEADER) continue;
    if (name !== 'content-type' || headers[name] !== 'application/json') return false;
  }
  return true;
}

/** A caller's claims as a batch item names them, serialized once per caller object. */
const claimsJson = new WeakMap<Caller, string>();
function claimsJsonOf(caller: Caller): string {
  let json = claimsJson.get(caller);
  if (json === undefined) claimsJson.set(caller, (json = JSON.stringify(contextClaimsOf(caller))));
  return json;
}

/**
 * Batching: the operations a query plan sends to the same subgraph in the same moment (the fetches
 * of one Parallel node: a page's buyers and its merchant, both from account) go in one HTTP request
 * as a JSON array, which Apollo Server executes with one context (one set of DataLoaders). Only
 * requests with identical headers (the same caller's context token and request id) share a batch.
 *
 * Operations of different callers to the same subgraph in the same moment, where the data source
 * allows it (the message channel resolving a burst of events for many merchants' subscribers; never
 * a client's own request, whose latency would then wait on others'), share an HTTP request too, marked
 * CONTEXT_BATCH_HEADER: each travels with its caller's claims and request id in the body, the
 * gateway signs the body once (`signBatch`), and the subgraph checks that signature and runs each
 * operation with its own context, so nothing but the connection is shared (core/subgraph.ts). Such
 * an operation that ends up alone goes with its caller's own context token (`signContext`).
 */
export function createSubgraphFetcher(options: { batching?: boolean; signContext: (caller: Caller) => Promise<string>; signBatch: (body: string) => string }) {
  const batching = options.batching ?? true;
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string) => {
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connections: CONNECTIONS_PER_SUBGRAPH, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
      pools.set(origin, pool);
    }
    return pool;
  };

  async function send(url: string, init: FetchInit) {
    const target = targetOf(url);
    const response = await poolFor(target.origin).request({
      path: target.path,
      method: (init.method ?? 'GET') as 'POST',
      headers: init.headers ?? {},
      body: init.body ?? null,
    });
    return { status: response.statusCode, headers: response.headers as RawHeaders, text: await response.body.text() };
  }

  /** Operations waiting for the flush; a shareable queue holds one caller's, with its caller and no token yet. */
  type Queue = { headers: Record<string, string>; items: Queued[]; caller?: Caller };
  const queues = new Map<string, Queue>();
  const { signContext } = options;
  let scheduled = false;

  async function sendBatch(headers: Record<string, string>, items: Queued[]) {
    const url = items[0]!.url;
    try {
      if (items.length === 1) {
        const answer = await send(url, { method: 'POST', headers, body: items[0]!.body });
        items[0]!.resolve(new SubgraphAnswer(url, answer.status, answer.headers, { text: answer.text }));
        return;
      }
      const answer = await send(url, { method: 'POST', headers, body: `[${items.map((i) => i.body).join(',')}]` });
      let parsed: unknown;
      try {
        parsed = JSON.parse(answer.text);
      } catch {
        parsed = undefined;
      }
      if (Array.isArray(parsed) && parsed.length === items.length) {
        // A batch has one HTTP status (Apollo gives it 400 if any of its operations was refused):
        // an operation that has data succeeded, whatever the others did.
        items.forEach((item, i) => {
          const one = parsed[i] as { data?: unknown } | null;
          const status = one && typeof one === 'object' && one.data !== undefined && one.data !== null ? 200 : answer.status;
          item.resolve(new SubgraphAnswer(url, status, answer.headers, { parsed: one }));
        });
      } else {
        // Not a batch answer (the subgraph refused the request as a whole): every operation gets that answer.
        for (const item of items) item.resolve(new SubgraphAnswer(url, answer.status, answer.headers, { text: answer.text }));
      }
    } catch (error) {
      for (const item of items) item.reject(error);
    }
  }

  /** Operations of several callers in one request, signed once; each answer comes back with its own status. */
  async function sendContextBatch(entries: { headers: Record<string, string>; caller: Caller; item: Queued }[]) {
    const url = entries[0]!.item.url;
    const body = `[${entries
      .map(({ headers, caller, item }) => `{"caller":${claimsJsonOf(caller)},"requestId":${JSON.stringify(headers[REQUEST_ID_HEADER] ?? null)},"operation":${item.body}}`)
      .join(',')}]`;
    try {
      // Signed synchronously (see createContextBatchSigner): no thread-pool round trip before the request goes.
      const signature = options.signBatch(body);
      const answer = await send(url, { method: 'POST', headers: { 'content-type': 'application/json', [CONTEXT_BATCH_HEADER]: CONTEXT_BATCH_VALUE, [CONTEXT_BATCH_SIGNATURE_HEADER]: signature }, body });
      let parsed: unknown;
      try {
        parsed = answer.status === 200 ? JSON.parse(answer.text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (Array.isArray(parsed) && parsed.length === entries.length) {
        entries.forEach(({ item }, i) => {
          const one = parsed[i] as { status?: unknown; body?: unknown } | null;
          const status = typeof one?.status === 'number' ? one.status : 500;
          item.resolve(new SubgraphAnswer(url, status, { 'content-type': 'application/json' }, { parsed: one?.body ?? null }));
        });
      } else {
        for (const { item } of entries) item.resolve(new SubgraphAnswer(url, answer.status, answer.headers, { text: answer.text }));
      }
    } catch (error) {
      for (const { item } of entries) item.reject(error);
    }
  }

  /**
   * One caller's operations: batches of MAX_BATCH, each run by the subgraph with one context. A
   * shareable queue's caller gets its own context token for it.
   */
  function sendOwn(queue: Queue) {
    const { headers, items, caller } = queue;
    const sendAll = (sent: Record<string, string>) => {
      for (let i = 0; i < items.length; i += MAX_BATCH) void sendBatch(sent, items.slice(i, i + MAX_BATCH));
    };
    if (!caller) return sendAll(headers);
    signContext(caller).then(
      (token) => sendAll({ ...headers, [CONTEXT_TOKEN_HEADER]: token }),
      (error: unknown) => items.forEach((item) => item.reject(error)),
    );
  }

  /** Operations queued that may share a request with other callers' (see post). */
  let shareablePending = 0;
  let flushSoon = false;
  function flush() {
    scheduled = false;
    flushSoon = false;
    shareablePending = 0;
    const batches = [...queues.values()];
    queues.clear();
    // Per subgraph: the operations that may share a request with other callers' go together.
    const byUrl = new Map<string, { queue: Queue; headers: Record<string, string>; caller: Caller; item: Queued }[]>();
    for (const queue of batches) {
      const { headers, items, caller } = queue;
      if (caller && batches.length > 1) {
        const url = items[0]!.url;
        let entries = byUrl.get(url);
        if (!entries) byUrl.set(url, (entries = []));
        for (const item of items) entries.push({ queue, headers, caller, item });
        continue;
      }
      sendOwn(queue);
    }
    for (const entries of byUrl.values()) {
      const callers = new Set(entries.map((e) => e.queue));
      if (callers.size === 1) {
        // One caller after all: its own batch, with its own context token.
        sendOwn(entries[0]!.queue);
        continue;
      }
      for (let i = 0; i < entries.length; i += MAX_CONTEXT_BATCH) void sendContextBatch(entries.slice(i, i + MAX_CONTEXT_BATCH));
    }
  }

  /**
   * POSTs one GraphQL operation (a JSON object body), batched with others of the same moment and
   * headers. With `share`, the operation (which then carries no context token, only the request id)
   * is the caller's, and may also share a request with other such callers' operations.
   */
  async function post(url: string, headers: Record<string, string>, body: string, share?: { caller: Caller }): Promise<SubgraphAnswer> {
    if (share && !sharesAcrossCallers(headers)) throw new Error('an operation shared across callers carries no header but its request id');
    if (!batching || !body.startsWith('{')) {
      const sent = share ? { ...headers, [CONTEXT_TOKEN_HEADER]: await signContext(share.caller) } : headers;
      const answer = await send(url, { method: 'POST', headers: sent, body });
      return new SubgraphAnswer(url, answer.status, answer.headers, { text: answer.text });
    }
    const shareable = share !== undefined;
    const key = shareable
      ? `shared\u0000${url}\u0000${callerKey(share.caller)}\u0000${headers[REQUEST_ID_HEADER] ?? ''}`
      : `own\u0000${url}\u0000${Object.keys(headers)
          .sort()
          .map((name) => `${name}:${headers[name]}`)
          .join('\u0000')}`;
    let queue = queues.get(key);
    if (!queue) queues.set(key, (queue = { headers, items: [], ...(share ? { caller: share.caller } : {}) }));
    const items = queue.items;
    const promise = new Promise<SubgraphAnswer>((resolve, reject) => items.push({ url, body, resolve, reject }));
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
    // A full context batch goes at once rather than at the next turn of the event loop (a burst of
    // subscriptions queues hundreds in one turn; the subgraph can start on the first fifty).
    if (shareable && ++shareablePending >= MAX_CONTEXT_BATCH && !flushSoon) {
      flushSoon = true;
      queueMicrotask(flush);
    }
    return promise;
  }

  return {
    post,
    async fetch(url: string, init: FetchInit = {}): Promise<SubgraphResponse> {
      if (init.method === 'POST' && typeof init.body === 'string') return new SubgraphResponse(await post(url, init.headers ?? {}, init.body));
      const answer = await send(url, init);
      return new SubgraphResponse(new SubgraphAnswer(url, answer.status, answer.headers, { text: answer.text }));
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
      pools.clear();
    },
  };
}

export type SubgraphFetcher = ReturnType<typeof createSubgraphFetcher>;
