/** Real message-channel clients for tests: graphql-ws over a WebSocket, graphql-sse over HTTP. */
import { createClient, type Client } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';
import type { DomainEvent } from '../../messages/events.js';

export interface Received {
  data?: Record<string, any> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

/** A subscription that collects what it receives; `next(n)` waits for the n-th message overall. */
export interface Collector {
  received: Received[];
  completed: boolean;
  error: unknown;
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  waitForEnd(timeoutMs?: number): Promise<void>;
  stop(): void;
}

function collector(): Collector & { push(r: Received): void; end(error?: unknown): void; unsubscribe?: () => void } {
  const waiters: (() => void)[] = [];
  const state = {
    received: [] as Received[],
    completed: false,
    error: undefined as unknown,
    unsubscribe: undefined as undefined | (() => void),
    push(r: Received) {
      state.received.push(r);
      for (const w of waiters.splice(0)) w();
    },
    end(error?: unknown) {
      state.completed = true;
      state.error = error;
      for (const w of waiters.splice(0)) w();
    },
    async waitFor(count: number, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (state.received.length < count) {
        if (state.completed) throw new Error(`subscription ended after ${state.received.length} of ${count} messages: ${JSON.stringify(state.error ?? state.received.at(-1))}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`only ${state.received.length} of ${count} messages within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, Math.min(left, 200));
        });
      }
      return state.received.slice(0, count);
    },
    async waitForEnd(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!state.completed) {
        if (Date.now() > deadline) throw new Error('subscription did not end');
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop() {
      state.unsubscribe?.();
    },
  };
  return state;
}

export function wsUrl(graphqlUrl: string): string {
  return graphqlUrl.replace(/^http/, 'ws');
}

export function connectWs(graphqlUrl: string, token: string, options: { lazy?: boolean } = {}): Client {
  return createClient({
    url: wsUrl(graphqlUrl),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: options.lazy ?? true,
    retryAttempts: 0,
  });
}

export function subscribeWs(client: Client, query: string, variables: Record<string, unknown> = {}): Collector {
  const c = collector();
  c.unsubscribe = client.subscribe({ query, variables }, { next: (r) => c.push(r as Received), error: (e) => c.end(e), complete: () => c.end() });
  return c;
}

export function subscribeSse(graphqlUrl: string, token: string, query: string, variables: Record<string, unknown> = {}): Collector {
  const client = createSseClient({ url: graphqlUrl.replace(/\/graphql$/, '/graphql/stream'), headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  const c = collector();
  const unsubscribe = client.subscribe({ query, variables }, { next: (r) => c.push(r as Received), error: (e) => c.end(e), complete: () => c.end() });
  c.unsubscribe = () => {
    unsubscribe();
    client.dispose();
  };
  return c;
}

export const ORDER_EVENTS = `subscription Orders($after: MessageCursor, $types: [OrderEventType!]) {
  orderEvents(after: $after, types: $types) { id cursor type status attempt reason occurredAt order { id number status } }
}`;

export const ACKNOWLEDGE = `mutation Ack($upTo: MessageCursor!) { acknowledgeMessages(upTo: $upTo) { acknowledgedCursor topics { topic pending } } }`;

/** An order's PAID event as the order subgraph writes it, with a note (a test writes it to the outbox itself). */
export function paidEvent(merchantId: string, order: { id: string; number: string }, note: string): DomainEvent {
  return {
    merchantId,
    aggregateType: 'order',
    aggregateId: order.id,
    type: 'order.paid',
    payload: { orderId: order.id, number: order.number, status: 'PAID', previousStatus: 'PENDING_PAYMENT', note },
  };
}
