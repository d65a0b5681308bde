/**
 * The account service asking another service something as the platform itself (the `system` caller
 * with the `internal` scope, in a context token signed with the platform's context key), as
 * app-management does (subgraphs/app-management/internal-client.ts): today, the order service
 * re-pointing a merged buyer's orders.
 */
import { GraphQLError } from 'graphql';
import { INTERNAL_SCOPE, type Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { PlatformKeys } from '../../core/keys.js';
import { CONTEXT_TOKEN_HEADER, createContextSigner } from '../../core/tokens.js';

const SYSTEM_CALLER: Caller = { kind: 'system', merchantId: null, appKey: 'portico-account', scopes: [INTERNAL_SCOPE] };

export type InternalCall = <T = unknown>(url: string, query: string, variables: Record<string, unknown>) => Promise<T>;

export function createInternalCaller(keys: PlatformKeys, clock: Clock, timeoutMs = 15_000): InternalCall {
  const signContext = createContextSigner({ privateKey: keys.context.privateKey, kid: keys.context.kid }, 60, clock);
  return async function call<T>(url: string, query: string, variables: Record<string, unknown>): Promise<T> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: await signContext(SYSTEM_CALLER) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length || !body.data) throw new GraphQLError(`internal call failed: ${body.errors?.[0]?.message ?? `HTTP ${response.status}`}`);
    return body.data;
  };
}
