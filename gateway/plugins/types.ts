/**
 * The shape of a gateway pipeline concern: a hook for each stage it takes part in (the incoming
 * request, each operation sent to a subgraph), plus, optionally, Apollo plugins and validation rules.
 */
import type http from 'node:http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { ValidationRule } from 'graphql';
import type { Caller } from '../../core/caller.js';
import type { HttpError } from '../../core/http.js';

/** Per-request state, created by the pipeline and handed to each hook in order. */
export interface RequestState {
  requestId: string;
  caller?: Caller | undefined;
  /**
   * The credential a long-lived connection gave besides its request's headers: a graphql-ws client's
   * connection parameters (a browser cannot set a header on a WebSocket upgrade). It stands instead
   * of the request's Authorization header. Never set for a plain HTTP request.
   */
  authorization?: string | undefined;
  /** The client's address (core/client-address.ts: X-Forwarded-For only from trusted proxies), set by the request-id stage. */
  clientAddress: string;
  /** When the request arrived (performance.now()), before any stage: the call report's latency starts here. */
  receivedAt: number;
}

/** A fresh state for one request (every field present, so every state has the same shape). */
export function newRequestState(authorization?: string): RequestState {
  return { requestId: '', caller: undefined, authorization, clientAddress: '', receivedAt: performance.now() };
}

export interface GatewayContext extends BaseContext {
  caller: Caller;
  requestId: string;
  /**
   * Its subgraph fetches may share an HTTP request with other callers' (signed once as a whole; each
   * operation names its caller and runs with its own context): set for the message channel's entity
   * sub-queries, where a burst resolves many subscribers' events at once. Clients' own requests
   * never wait on anyone else's.
   */
  shareRequests?: boolean;
  /** When the HTTP request arrived (RequestState.receivedAt); absent for operations over a connection. */
  receivedAt?: number;
  /** With tracing on: the W3C traceparent of the request's span, sent on with its subgraph requests (plugins/trace-context.ts). */
  traceparent?: string | undefined;
  /**
   * The operation's cost in points (plugins/flow-control.ts): requested (the estimate the bucket was
   * charged) and actual (counted over the answer; 0 when nothing was executed). Set before the answer
   * is sent; the call report records it. Absent when no operation was resolved.
   */
  cost?: { requested: number; actual: number };
}

/**
 * What an operation sent to a subgraph is sent for: the context of the request it serves (a
 * client's HTTP request, an operation over a connection, an event's entity sub-query).
 */
export type SubgraphRequestContext = Readonly<Partial<GatewayContext>>;

export interface GatewayPlugin {
  name: string;
  /** Runs before GraphQL execution; throw an HttpError to refuse the request. */
  onRequest?(req: http.IncomingMessage, state: RequestState): void | Promise<void>;
  /**
   * Runs for each operation the gateway sends to a subgraph for a request: the query plan's fetches
   * (also those of queries over a WebSocket and of events' entity sub-queries that span subgraphs)
   * and the message channel's single-fetch sub-queries, all of which go through the gateway's
   * subgraph data source. It sets the headers this concern adds (lower-case names) on `headers`.
   * Not for the gateway's own lookups (app access, authorizations: cached and shared by many
   * requests, so no one request's headers belong on them) nor for the passport's routes, which
   * the gateway forwards as they came.
   *
   * Synchronous, and on the hot path (several times per page): read what it needs from `context`,
   * which the request stage filled, and allocate nothing it can avoid.
   *
   * Operations share an HTTP request (batched) in two ways, both decided after this hook:
   * - one request's operations to one subgraph in the same moment go in one HTTP request only when
   *   the headers the hooks gave them are identical, so a batch's headers are every one of its
   *   operations' own;
   * - operations of several callers (the message channel's sub-queries, `shareRequests`) go in one
   *   signed request where each operation names its own caller and request id in the body. An
   *   operation gets in such a request only if its headers are `content-type` and the request id
   *   (`x-request-id`, which then travels in the body beside it); given any other header, it is
   *   sent with its own caller and headers instead.
   */
  onSubgraphRequest?(headers: Record<string, string>, context: SubgraphRequestContext): void;
  /**
   * Runs when an earlier stage (or reading the body) refused the request with `error`, before the
   * refusal is answered: what the state holds by then (the caller, if known). Synchronous.
   */
  onRefusal?(state: RequestState, error: HttpError): void;
  /** Apollo Server plugins this concern adds. */
  apolloPlugins?: ApolloServerPlugin<GatewayContext>[];
  /** GraphQL validation rules this concern adds (run on every new document, before planning). */
  validationRules?: ValidationRule[];
}
