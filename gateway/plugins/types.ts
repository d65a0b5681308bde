/** The shape of a gateway pipeline concern: HTTP-stage hooks plus, optionally, an Apollo plugin. */
import type http from 'node:http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { ValidationRule } from 'graphql';
import type { Caller } from '../../core/caller.js';

/** Per-request state, created by the pipeline and handed to each hook in order. */
export interface RequestState {
  requestId: string;
  caller?: Caller;
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
}

export interface GatewayPlugin {
  name: string;
  /** Runs before GraphQL execution; throw an HttpError to refuse the request. */
  onRequest?(req: http.IncomingMessage, state: RequestState): void | Promise<void>;
  /** Apollo Server plugins this concern adds. */
  apolloPlugins?: ApolloServerPlugin<GatewayContext>[];
  /** GraphQL validation rules this concern adds (run on every new document, before planning). */
  validationRules?: ValidationRule[];
}
