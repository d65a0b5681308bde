/**
 * The bench's graphql-ws clients: one connection per subscriber, as an app opens it (the token in
 * the connection parameters), with no retries (a lost connection is a failed run, not a reconnect).
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export function connectWs(url: string, token: string): Client {
  return createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: true,
    retryAttempts: 0,
    shouldRetry: () => false,
  });
}

/** A query or mutation over the connection: its data, or a rejection with what came instead. */
export function requestOver<T>(client: Client, query: string, variables: Record<string, unknown>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let result: { data?: unknown; errors?: unknown[] } | undefined;
    client.subscribe(
      { query, variables },
      {
        next: (r) => (result = r as typeof result),
        error: (e) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
        complete: () => (result?.errors?.length || !result?.data ? reject(new Error(`${query.slice(0, 40)}: ${JSON.stringify(result).slice(0, 300)}`)) : resolve(result.data as T)),
      },
    );
  });
}
