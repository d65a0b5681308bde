/**
 * Which developer an app belongs to, as app-management says (its internal `oauthClient`), asked over
 * HTTP as the `system` caller and cached: an app never changes developer, so an answer is kept for
 * an hour (an unknown app is asked again each time). The account service keys buyers' unionids by it and
 * never reads app-management's tables.
 */
import { GraphQLError } from 'graphql';
import { INTERNAL_SCOPE, type Caller } from '../../core/caller.js';
import { cachedLookup } from '../../core/cached-lookup.js';
import { systemClock, type Clock } from '../../core/clock.js';
import type { PlatformKeys } from '../../core/keys.js';
import { CONTEXT_TOKEN_HEADER, createContextSigner } from '../../core/tokens.js';

const SYSTEM_CALLER: Caller = { kind: 'system', merchantId: null, appKey: 'portico-account', scopes: [INTERNAL_SCOPE] };
const KNOWN_APP_TTL_MS = 3_600_000;

export interface AppDirectory {
  /** The developer of an app, or undefined for an unknown app. */
  developerOf(appKey: string): Promise<string | undefined>;
}

export function createAppDirectory(options: { keys: PlatformKeys; appManagementUrl(): string; clock?: Clock }): AppDirectory {
  const signContext = createContextSigner({ privateKey: options.keys.context.privateKey, kid: options.keys.context.kid }, 60, options.clock ?? systemClock);
  async function load(appKey: string): Promise<string | undefined> {
    const response = await fetch(options.appManagementUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: await signContext(SYSTEM_CALLER) },
      body: JSON.stringify({ query: 'query Developer($key: String!) { oauthClient(key: $key) { developerId } }', variables: { key: appKey } }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { data?: { oauthClient: { developerId: string } | null }; errors?: { message: string }[] };
    if (body.errors?.length || !body.data) throw new GraphQLError(`app lookup failed: ${body.errors?.[0]?.message ?? response.status}`);
    return body.data.oauthClient?.developerId;
  }
  // An unknown app is not remembered (it may be created a moment later): its load fails, uncached.
  const known = cachedLookup(
    async (appKey) => {
      const developerId = await load(appKey);
      if (developerId === undefined) throw new UnknownApp();
      return developerId;
    },
    { ttlMs: KNOWN_APP_TTL_MS, clock: options.clock ?? systemClock },
  );
  return {
    developerOf: (appKey) => known(appKey).catch((error: unknown) => (error instanceof UnknownApp ? undefined : Promise.reject(error))),
  };
}

class UnknownApp extends Error {}
