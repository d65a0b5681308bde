/**
 * The gateway asking a subgraph something for itself (not for a client): an app's access, an
 * operator's password check. It signs a context token for the `system` caller with the `internal`
 * scope, which no client token can ever carry.
 */
import { GraphQLError } from 'graphql';
import { INTERNAL_SCOPE, type Caller } from '../../core/caller.js';
import { ErrorCode, PorticoError } from '../../core/errors.js';
import { CONTEXT_TOKEN_HEADER } from '../../core/tokens.js';
import type { SubgraphFetcher } from './subgraph-fetcher.js';

const SYSTEM_CALLER: Caller = { kind: 'system', merchantId: null, appKey: 'portico-gateway', scopes: [INTERNAL_SCOPE] };

export function createInternalClient(fetcher: SubgraphFetcher, signContext: (caller: Caller) => Promise<string>) {
  return async function callSubgraph<T>(url: string, query: string, variables: Record<string, unknown>): Promise<T> {
    const response = await fetcher.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: await signContext(SYSTEM_CALLER) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    const error = body.errors?.[0];
    if (error) {
      if (error.extensions?.code === ErrorCode.UNAUTHENTICATED) throw new PorticoError(ErrorCode.UNAUTHENTICATED, error.message);
      throw new GraphQLError(`internal call failed: ${error.message}`);
    }
    if (!body.data) throw new GraphQLError(`internal call answered HTTP ${response.status} without data`);
    return body.data;
  };
}

export type InternalClient = ReturnType<typeof createInternalClient>;
