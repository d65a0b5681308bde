/**
 * How the gateway calls subgraphs: undici's `request` API over one keep-alive connection pool per
 * subgraph, behind the small fetch-shaped interface @apollo/gateway expects. Its default
 * (make-fetch-happen) and even WHATWG fetch cost the gateway a large share of its CPU per request in
 * the order-page benchmark; see bench/README.md.
 */
import { Pool } from 'undici';

/** Connections kept per subgraph. Requests beyond that queue; they never open unbounded sockets. */
const CONNECTIONS_PER_SUBGRAPH = 64;
/** A subgraph that has not answered in this long has failed the request. */
const REQUEST_TIMEOUT_MS = 30_000;

interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** The part of a fetch Response that RemoteGraphQLDataSource reads. */
class SubgraphResponse {
  readonly headers: Headers;
  constructor(
    readonly url: string,
    readonly status: number,
    rawHeaders: Record<string, string | string[] | undefined>,
    /** The body as received, or (one answer of a batch) already parsed. */
    private readonly body: { text: string } | { parsed: unknown },
  ) {
    this.headers = new Headers();
    for (const [name, value] of Object.entries(rawHeaders)) {
      if (value !== undefined) this.headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
  }
  get ok() {
    return this.status >= 200 && this.status < 300;
  }
  get statusText() {
    return String(this.status);
  }
  async text() {
    return 'text' in this.body ? this.body.text : JSON.stringify(this.body.parsed);
  }
  async json() {
    return 'text' in this.body ? (JSON.parse(this.body.text) as unknown) : this.body.parsed;
  }
}

/** Operations sent to one subgraph in one HTTP request at most. */
const MAX_BATCH = 10;

interface Queued {
  url: string;
  body: string;
  resolve(response: SubgraphResponse): void;
  reject(error: unknown): void;
}

/**
 * Batching: the operations a query plan sends to the same subgraph in the same moment (the fetches
 * of one Parallel node: a page's buyers and its merchant, both from account) go in one HTTP request
 * as a JSON array, which Apollo Server executes with one context (one set of DataLoaders). Only
 * requests with identical headers (the same caller's context token and request id) share a batch.
 */
export function createSubgraphFetcher(options: { batching?: boolean } = {}) {
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
    const target = new URL(url);
    const response = await poolFor(target.origin).request({
      path: `${target.pathname}${target.search}`,
      method: (init.method ?? 'GET') as 'POST',
      headers: init.headers ?? {},
      body: init.body ?? null,
    });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  }

  const queues = new Map<string, { headers: Record<string, string>; items: Queued[] }>();
  let scheduled = false;

  async function sendBatch(headers: Record<string, string>, items: Queued[]) {
    const url = items[0]!.url;
    try {
      if (items.length === 1) {
        const answer = await send(url, { method: 'POST', headers, body: items[0]!.body });
        items[0]!.resolve(new SubgraphResponse(url, answer.status, answer.headers, { text: answer.text }));
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
          item.resolve(new SubgraphResponse(url, status, answer.headers, { parsed: one }));
        });
      } else {
        // Not a batch answer (the subgraph refused the request as a whole): every operation gets that answer.
        for (const item of items) item.resolve(new SubgraphResponse(url, answer.status, answer.headers, { text: answer.text }));
      }
    } catch (error) {
      for (const item of items) item.reject(error);
    }
  }

  function flush() {
    scheduled = false;
    const batches = [...queues.values()];
    queues.clear();
    for (const { headers, items } of batches) {
      for (let i = 0; i < items.length; i += MAX_BATCH) void sendBatch(headers, items.slice(i, i + MAX_BATCH));
    }
  }

  return {
    async fetch(url: string, init: FetchInit = {}): Promise<SubgraphResponse> {
      if (!batching || init.method !== 'POST' || typeof init.body !== 'string' || !init.body.startsWith('{')) {
        const answer = await send(url, init);
        return new SubgraphResponse(url, answer.status, answer.headers, { text: answer.text });
      }
      const headers = init.headers ?? {};
      const key = `${url}\u0000${Object.keys(headers)
        .sort()
        .map((name) => `${name}:${headers[name]}`)
        .join('\u0000')}`;
      let queue = queues.get(key);
      if (!queue) queues.set(key, (queue = { headers, items: [] }));
      const items = queue.items;
      const body = init.body;
      const promise = new Promise<SubgraphResponse>((resolve, reject) => items.push({ url, body, resolve, reject }));
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return promise;
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
      pools.clear();
    },
  };
}

export type SubgraphFetcher = ReturnType<typeof createSubgraphFetcher>;
