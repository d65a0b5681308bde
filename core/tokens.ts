/**
 * Access tokens (RFC 9068 JWTs the platform issues to apps) and context tokens (what the gateway
 * forwards to subgraphs). Both are verified locally; verified results are cached until they expire
 * so the hot path does one signature check per token, not per request.
 */
import crypto, { type webcrypto } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { SignJWT, jwtVerify, createLocalJWKSet, errors as joseErrors, type CryptoKey, type JWTPayload, type JSONWebKeySet } from 'jose';
import { DEVELOPER_CLIENT_ID, OPERATOR_CLIENT_ID, STAFF_CLIENT_ID, type Caller, type CallerKind } from './caller.js';
import { systemClock, type Clock } from './clock.js';
import type { PlatformKeys } from './keys.js';

export const CONTEXT_TOKEN_HEADER = 'x-portico-context';
/**
 * Marks a request to a subgraph that carries operations of several callers (see
 * gateway/upstream/subgraph-fetcher.ts and core/subgraph.ts). The gateway signs such a request once,
 * as a whole: CONTEXT_BATCH_SIGNATURE_HEADER holds a token over the SHA-256 of the body, and each
 * operation names its caller's claims in the body. (Without that header, each operation carries
 * its own context token: the format gateways sent before, still accepted so that subgraphs can be
 * upgraded first.)
 */
export const CONTEXT_BATCH_HEADER = 'x-portico-batch';
export const CONTEXT_BATCH_VALUE = 'contexts';
export const CONTEXT_BATCH_SIGNATURE_HEADER = 'x-portico-batch-signature';
/** Operations one such request holds at most. */
export const MAX_CONTEXT_BATCH = 50;
const CONTEXT_ISSUER = 'portico-gateway';
const CONTEXT_AUDIENCE = 'portico-subgraph';
/** A batch signature's audience: it is never accepted as a context token, nor a context token as one. */
const CONTEXT_BATCH_AUDIENCE = 'portico-subgraph-batch';
/** A batch signature is good for this long (it covers one request body, sent at once). */
const CONTEXT_BATCH_TTL_SECONDS = 60;
/** How far a batch signature's issue time may lie ahead of the subgraph's clock (the gateway's clock may run a little ahead). */
const BATCH_CLOCK_TOLERANCE_SECONDS = 5;

/** What a context token (or a signed batch, per operation) says about the caller. */
export type ContextClaims = { kind: CallerKind; client_id: string; scope: string; sub: string; op?: string; dev?: string; at_jti?: string; grant?: string; grant_at?: number };

export function contextClaimsOf(caller: Caller): ContextClaims {
  return {
    kind: caller.kind,
    client_id: caller.appKey,
    scope: caller.scopes.join(' '),
    sub: caller.merchantId ?? '',
    ...(caller.operatorId ? { op: caller.operatorId } : {}),
    ...(caller.developerId ? { dev: caller.developerId } : {}),
    ...(caller.staffId ? { staff: caller.staffId } : {}),
    ...(caller.tokenId ? { at_jti: caller.tokenId } : {}),
    ...(caller.grantId ? { grant: caller.grantId } : {}),
    ...(caller.authorizedAt ? { grant_at: caller.authorizedAt } : {}),
  };
}

/**
 * Scope lists by their claim (frozen, shared by every caller with the same scopes: a context batch
 * names fifty callers of one app, and permission checks keep one Set per list, see scopeSetOf).
 */
const scopeLists = new Map<string, readonly string[]>();
function scopesOf(claim: string): readonly string[] {
  let scopes = scopeLists.get(claim);
  if (!scopes) {
    if (scopeLists.size >= 10_000) scopeLists.clear();
    scopes = Object.freeze(claim.split(' ').filter(Boolean));
    scopeLists.set(claim, scopes);
  }
  return scopes;
}

/** The caller that claims describe; throws InvalidTokenError for claims that describe none. */
export function callerOfClaims(claims: unknown): Caller {
  const c = (claims && typeof claims === 'object' ? claims : {}) as Record<string, unknown>;
  const kind = c.kind;
  if (kind !== 'app' && kind !== 'operator' && kind !== 'developer' && kind !== 'staff' && kind !== 'system') throw new InvalidTokenError('Missing or invalid context token');
  // A developer caller names its developer, a staff caller its staff member and merchant; no other kind carries either.
  if ((kind === 'developer') !== (typeof c.dev === 'string' && c.dev.length > 0)) throw new InvalidTokenError('Missing or invalid context token');
  if ((kind === 'staff') !== (typeof c.staff === 'string' && c.staff.length > 0)) throw new InvalidTokenError('Missing or invalid context token');
  if (kind === 'staff' && !(typeof c.sub === 'string' && c.sub)) throw new InvalidTokenError('Missing or invalid context token');
  return {
    kind,
    merchantId: typeof c.sub === 'string' && c.sub ? c.sub : null,
    appKey: String(c.client_id ?? ''),
    ...(typeof c.op === 'string' ? { operatorId: c.op } : {}),
    ...(typeof c.dev === 'string' ? { developerId: c.dev } : {}),
    ...(typeof c.staff === 'string' ? { staffId: c.staff } : {}),
    scopes: scopesOf(String(c.scope ?? '')),
    ...(typeof c.at_jti === 'string' ? { tokenId: c.at_jti } : {}),
    ...(typeof c.grant === 'string' ? { grantId: c.grant } : {}),
    ...(typeof c.grant_at === 'number' && Number.isSafeInteger(c.grant_at) ? { authorizedAt: c.grant_at } : {}),
  };
}

/** callerKey per caller object (callers are never changed: a caller whose scopes change is a new object). */
const callerKeys = new WeakMap<Caller, string>();

/** One string per distinct caller (what a context token would say about it). */
export function callerKey(caller: Caller): string {
  let key = callerKeys.get(caller);
  if (key === undefined) {
    key = [caller.kind, caller.appKey, caller.merchantId ?? '', caller.operatorId ?? '', caller.developerId ?? '', caller.staffId ?? '', caller.scopes.join(' '), caller.tokenId ?? '', caller.grantId ?? '', caller.authorizedAt ?? ''].join('\u0000');
    callerKeys.set(caller, key);
  }
  return key;
}

const bodyDigest = (body: string) => crypto.createHash('sha256').update(body, 'utf8').digest();

/** A small expiring cache with a size bound (oldest entries go first). */
class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  constructor(private readonly maxEntries: number) {}
  get(key: string, now: number): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }
  set(key: string, value: V, expiresAt: number) {
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expiresAt });
  }
  /** The live entries (expired ones are dropped on the way). */
  *live(now: number): Generator<[string, V]> {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(key);
      else yield [key, entry.value];
    }
  }
}

export interface MintAccessTokenInput {
  issuer: string;
  audience: string;
  appKey: string;
  merchantId: string | null;
  scope: string;
  ttlSeconds?: number;
  /** The passport grant (merchant authorization) the token comes from, as the passport sets it. */
  grantId?: string;
  /** Time of issue (default: the system clock). */
  clock?: Clock;
}

/** Claim that marks an operator token (platform staff); app tokens never carry it. */
const ROLE_CLAIM = 'portico_role';

/** Signs an access token the way the passport does (typ at+jwt, RFC 9068). */
export async function mintAccessToken(keys: PlatformKeys, input: MintAccessTokenInput): Promise<string> {
  return signAccessToken(keys, { client_id: input.appKey, scope: input.scope, ...(input.grantId ? { portico_grant: input.grantId } : {}) }, input.merchantId, input);
}

/** Signs an operator token: `sub` is the operator, `client_id` the console, scope `operator`. */
export async function mintOperatorToken(keys: PlatformKeys, input: { issuer: string; audience: string; operatorId: string; ttlSeconds?: number; clock?: Clock }): Promise<string> {
  return signAccessToken(keys, { client_id: OPERATOR_CLIENT_ID, scope: 'operator', [ROLE_CLAIM]: 'operator' }, input.operatorId, input);
}

async function signAccessToken(keys: PlatformKeys, claims: Record<string, string>, subject: string | null, input: { issuer: string; audience: string; ttlSeconds?: number; clock?: Clock }) {
  const ttl = Math.min(input.ttlSeconds ?? 3600, 7200);
  const issuedAt = Math.floor((input.clock ?? systemClock).now() / 1000);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: keys.accessToken.alg, kid: keys.accessToken.kid, typ: 'at+jwt' })
    .setIssuer(input.issuer)
    .setAudience(input.audience)
    .setIssuedAt(issuedAt)
    .setJti(crypto.randomUUID())
    .setExpirationTime(issuedAt + ttl);
  if (subject) jwt.setSubject(subject);
  return jwt.sign(keys.accessToken.privateKey);
}

export class InvalidTokenError extends Error {}

/** The shortest time between two reloads of the key set for tokens signed by an unknown key. */
const JWKS_RELOAD_INTERVAL_MS = 30_000;

/**
 * Verifies access tokens against a JWKS; returns the caller or throws InvalidTokenError with a reason.
 * A token signed by a key the set does not hold yet (a rotation happened) makes it reload the set
 * through `reloadJwks`, at most once per JWKS_RELOAD_INTERVAL_MS, so rotation needs no restart.
 */
export function createAccessTokenVerifier(options: { jwks: JSONWebKeySet; issuer: string; audience: string; reloadJwks?: () => Promise<JSONWebKeySet>; clock?: Clock }) {
  const clock = options.clock ?? systemClock;
  let keySet = createLocalJWKSet(options.jwks);
  let lastReload = 0;
  const cache = new ExpiringCache<Caller>(50_000);
  const verify = (token: string) =>
    jwtVerify(token, keySet, { issuer: options.issuer, audience: options.audience, typ: 'at+jwt', algorithms: ['ES256'], clockTolerance: 5, currentDate: new Date(clock.now()) });
  async function verifyWithRotation(token: string) {
    try {
      return await verify(token);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey) || !options.reloadJwks || clock.now() - lastReload < JWKS_RELOAD_INTERVAL_MS) throw error;
      lastReload = clock.now();
      keySet = createLocalJWKSet(await options.reloadJwks());
      return verify(token);
    }
  }
  return async function verifyAccessToken(token: string): Promise<Caller> {
    const now = clock.now();
    const cached = cache.get(token, now);
    if (cached) return cached;
    let payload: JWTPayload;
    try {
      ({ payload } = await verifyWithRotation(token));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new InvalidTokenError('The access token has expired');
      throw new InvalidTokenError('The access token is not valid');
    }
    if (typeof payload.client_id !== 'string' || typeof payload.scope !== 'string' || typeof payload.exp !== 'number') {
      throw new InvalidTokenError('The access token lacks client_id or scope');
    }
    const scopes = payload.scope.split(' ').filter(Boolean);
    const tokenId = payload.jti ? { tokenId: payload.jti } : {};
    let caller: Caller;
    if (payload[ROLE_CLAIM] === 'operator') {
      if (typeof payload.sub !== 'string' || payload.client_id !== OPERATOR_CLIENT_ID) throw new InvalidTokenError('The operator token is malformed');
      caller = { kind: 'operator', merchantId: null, appKey: OPERATOR_CLIENT_ID, operatorId: payload.sub, scopes, expiresAt: payload.exp, ...tokenId };
    } else {
      // The console's, the portal's and the merchant page's client ids are no app's: no access token acts as any.
      if (payload.client_id === OPERATOR_CLIENT_ID || payload.client_id === DEVELOPER_CLIENT_ID || payload.client_id === STAFF_CLIENT_ID) throw new InvalidTokenError('The access token is not valid');
      // Client credentials: the passport sets sub to the client itself; such a token acts for no merchant.
      const merchantId = typeof payload.sub === 'string' && payload.sub !== payload.client_id ? payload.sub : null;
      const grantId = typeof payload.portico_grant === 'string' ? { grantId: payload.portico_grant } : {};
      // A DPoP-bound token (RFC 9449) names its key's thumbprint; the gateway then asks for a proof by that key.
      const cnf = payload.cnf as { jkt?: unknown } | undefined;
      const keyThumbprint = typeof cnf?.jkt === 'string' ? { keyThumbprint: cnf.jkt } : {};
      caller = { kind: 'app', merchantId, appKey: payload.client_id, scopes, expiresAt: payload.exp, ...tokenId, ...grantId, ...keyThumbprint };
    }
    cache.set(token, caller, payload.exp * 1000);
    return caller;
  };
}

/** Signs context tokens for subgraphs, one per distinct caller, reused and refreshed ahead of time (below). */
export function createContextSigner(key: { privateKey: CryptoKey; kid: string }, ttlSeconds: number, clock: Clock = systemClock) {
  /**
   * Tokens per caller, handed out until three quarters of their life (a subgraph receives one with
   * at least a quarter left). Past half its life (plus a random part of a further tenth, so callers
   * first seen together do not all come due together), a token still in use is signed afresh in
   * the background, by a sweep once a second or by the first request that finds it due, and the
   * fresh one is swapped in once signed. So no request of a caller in use waits for a signature, and
   * a burst (the message channel resolving entities for 1,000 callers at once) does not re-sign them
   * all on its way.
   */
  const ttlMs = ttlSeconds * 1000;
  type Entry = { caller: Caller; token: Promise<string>; refreshAt: number; usedAt: number; refreshing: boolean };
  const cache = new ExpiringCache<Entry>(50_000);
  const sign = (caller: Caller) => {
    const { sub, ...claims } = contextClaimsOf(caller);
    const issuedAt = Math.floor(clock.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
      .setIssuer(CONTEXT_ISSUER)
      .setAudience(CONTEXT_AUDIENCE)
      .setSubject(sub)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .sign(key.privateKey);
  };
  const remember = (cacheKey: string, caller: Caller, token: Promise<string>, signedAt: number, usedAt: number) =>
    cache.set(cacheKey, { caller, token, refreshAt: signedAt + ttlMs / 2 + Math.random() * (ttlMs / 10), usedAt, refreshing: false }, signedAt + (ttlMs * 3) / 4);
  const refresh = (cacheKey: string, entry: Entry, now: number) => {
    entry.refreshing = true;
    const fresh = sign(entry.caller);
    fresh.then(
      () => remember(cacheKey, entry.caller, fresh, now, entry.usedAt),
      () => (entry.refreshing = false),
    );
  };
  // The sweep: tokens due that were used within the last half of a lifetime (others just expire).
  const sweep = clock.setInterval(() => {
    const now = clock.now();
    for (const [cacheKey, entry] of cache.live(now)) {
      if (!entry.refreshing && now >= entry.refreshAt && now - entry.usedAt < ttlMs / 2) refresh(cacheKey, entry, now);
    }
  }, Math.min(1000, ttlMs / 16));
  sweep.unref();

  return function signContext(caller: Caller): Promise<string> {
    const cacheKey = callerKey(caller);
    const now = clock.now();
    const cached = cache.get(cacheKey, now);
    if (cached) {
      cached.usedAt = now;
      if (now >= cached.refreshAt && !cached.refreshing) refresh(cacheKey, cached, now);
      return cached.token;
    }
    const token = sign(caller);
    remember(cacheKey, caller, token, now, now);
    return token;
  };
}

/** Verifies context tokens in a subgraph; anything but a valid gateway-signed token is refused. */
export function createContextVerifier(publicKey: CryptoKey, clock: Clock = systemClock) {
  const cache = new ExpiringCache<Caller>(50_000);
  return async function verifyContext(token: string): Promise<Caller> {
    const now = clock.now();
    const cached = cache.get(token, now);
    if (cached) return cached;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, publicKey, { issuer: CONTEXT_ISSUER, audience: CONTEXT_AUDIENCE, algorithms: ['EdDSA'], currentDate: new Date(now) }));
    } catch {
      throw new InvalidTokenError('Missing or invalid context token');
    }
    const caller = callerOfClaims(payload);
    cache.set(token, caller, (payload.exp ?? 0) * 1000);
    return caller;
  };
}

/**
 * Signs the body of a context batch (operations of several callers in one request to a subgraph):
 * one signature per request, over the SHA-256 of the exact body, which names each operation's
 * caller. Per-caller context tokens would need one signature per caller, re-signed as they age:
 * for a thousand subscribers that meant a thousand signatures at the gateway and a thousand
 * verifications at the subgraph every half token lifetime, landing on whichever burst came next.
 *
 * The signature is a compact JWS (EdDSA), verified in the subgraph synchronously too (see
 * createContextBatchVerifier). It is made here synchronously with node:crypto rather than with
 * jose, whose signing is WebCrypto's and so goes through the thread pool: its answer reaches the
 * gateway only when the event loop next polls, which in a burst comes after the gateway has
 * executed every subscription, so each sub-query would leave the gateway late.
 */
export function createContextBatchSigner(key: { privateKey: CryptoKey; kid: string }, clock: Clock = systemClock) {
  const privateKey = crypto.KeyObject.from(key.privateKey as unknown as webcrypto.CryptoKey);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('context batches are signed with an Ed25519 key');
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: key.kid })).toString('base64url');
  return function signBatch(body: string): string {
    const now = Math.floor(clock.now() / 1000);
    const claims = { body_sha256: bodyDigest(body).toString('base64url'), iss: CONTEXT_ISSUER, aud: CONTEXT_BATCH_AUDIENCE, iat: now, exp: now + CONTEXT_BATCH_TTL_SECONDS };
    const signingInput = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${signingInput}.${crypto.sign(null, Buffer.from(signingInput), privateKey).toString('base64url')}`;
  };
}

/**
 * Checks a context batch's signature against the body as received; throws InvalidTokenError.
 *
 * Verified synchronously with fast-jwt (node:crypto) rather than with jose, for the reason the
 * signer signs synchronously: jose verifies with WebCrypto, whose answer comes through the thread
 * pool at the event loop's next poll, so in a burst each batch of sub-queries waited in the
 * subgraph for the batches that arrived after it (and the hop cost the order subgraph about a
 * tenth of its CPU in a thousand-subscriber burst). Only EdDSA with this key, this issuer and the
 * batch audience, within its lifetime, is accepted.
 */
export function createContextBatchVerifier(publicKey: CryptoKey, clock: Clock = systemClock) {
  const key = crypto.KeyObject.from(publicKey as unknown as webcrypto.CryptoKey);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('context batches are verified with an Ed25519 key');
  const verifySigned = createVerifier({
    key: key.export({ format: 'pem', type: 'spki' }).toString(),
    algorithms: ['EdDSA'],
    allowedIss: CONTEXT_ISSUER,
    allowedAud: CONTEXT_BATCH_AUDIENCE,
    requiredClaims: ['exp', 'iat'],
    // Its lifetime is checked below against the clock (fast-jwt's own time would be fixed at creation).
    ignoreExpiration: true,
    ignoreNotBefore: true,
    cache: false,
  });
  return async function verifyBatch(signature: string, body: string): Promise<void> {
    let payload: Record<string, unknown>;
    try {
      payload = verifySigned(signature) as Record<string, unknown>;
    } catch {
      throw new InvalidTokenError('Missing or invalid batch signature');
    }
    const now = clock.now() / 1000;
    if (typeof payload.exp !== 'number' || payload.exp <= now || typeof payload.iat !== 'number' || payload.iat > now + BATCH_CLOCK_TOLERANCE_SECONDS) {
      throw new InvalidTokenError('Missing or invalid batch signature');
    }
    const signed = typeof payload.body_sha256 === 'string' ? Buffer.from(payload.body_sha256, 'base64url') : Buffer.alloc(0);
    const actual = bodyDigest(body);
    if (signed.length !== actual.length || !crypto.timingSafeEqual(signed, actual)) throw new InvalidTokenError('The batch signature does not cover this body');
  };
}
