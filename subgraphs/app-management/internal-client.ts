/**
 * app-management asking another subgraph something for the developer portal (provisioning a sandbox,
 * minting a sandbox token, naming the merchants of an app's streams): over HTTP, as the `system`
 * caller with the `internal` scope, in a context token signed with the platform's context key, as
 * the gateway's own internal calls are (gateway/upstream/internal-client.ts). Only what app-management
 * decided on a developer's behalf, after checking the app is theirs, goes through here.
 */
import { GraphQLError } from 'graphql';
import { INTERNAL_SCOPE, type Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { SubgraphName } from '../../core/config.js';
import { ErrorCode, PorticoError } from '../../core/errors.js';
import type { PlatformKeys } from '../../core/keys.js';
import { CONTEXT_TOKEN_HEADER, createContextSigner } from '../../core/tokens.js';

const SYSTEM_CALLER: Caller = { kind: 'system', merchantId: null, appKey: 'portico-app-management', scopes: [INTERNAL_SCOPE] };
/** Codes of the other service's answer that mean the same to our caller (anything else is an internal failure). */
const PASSED_THROUGH = new Set<string>([ErrorCode.BAD_USER_INPUT, ErrorCode.NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.FORBIDDEN]);

export type InternalCall = <T>(subgraph: SubgraphName, query: string, variables: Record<string, unknown>) => Promise<T>;

export function createInternalCall(options: { keys: PlatformKeys; subgraphUrl: (name: SubgraphName) => string; clock: Clock; timeoutMs?: number }): InternalCall {
  const signContext = createContextSigner({ privateKey: options.keys.context.privateKey, kid: options.keys.context.kid }, 60, options.clock);
  return async function call<T>(subgraph: SubgraphName, query: string, variables: Record<string, unknown>): Promise<T> {
    const response = await fetch(options.subgraphUrl(subgraph), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: await signContext(SYSTEM_CALLER) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const body = (await response.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    const error = body.errors?.[0];
    if (error) {
      const code = error.extensions?.code;
      if (code && PASSED_THROUGH.has(code)) throw new PorticoError(code as ErrorCode, error.message);
      throw new GraphQLError(`${subgraph} service failed: ${error.message}`);
    }
    if (!body.data) throw new GraphQLError(`${subgraph} service answered HTTP ${response.status} without data`);
    return body.data;
  };
}
