/**
 * Access tokens (RFC 9068 JWTs the platform issues to apps) and context tokens (what the gateway
 * forwards to subgraphs). Both are verified locally; verified results are cached until they expire
 * so the hot path does one signature check per token, not per request.
 */
import crypto from 'node:crypto';
import { SignJWT, jwtVerify, createLocalJWKSet, errors as joseErrors, type CryptoKey, type JWTPayload, type JSONWebKeySet } from 'jose';
import type { Caller } from './caller.js';
import type { PlatformKeys } from './keys.js';

export const CONTEXT_TOKEN_HEADER = 'x-portico-context';
const CONTEXT_ISSUER = 'portico-gateway';
const CONTEXT_AUDIENCE = 'portico-subgraph';

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
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expiresAt });
  }
}

export interface MintAccessTokenInput {
  issuer: string;
  audience: string;
  appKey: string;
  merchantId: string | null;
  scope: string;
  ttlSeconds?: number;
}

/** Signs an access token the way the passport does (typ at+jwt, RFC 9068). */
export async function mintAccessToken(keys: PlatformKeys, input: MintAccessTokenInput): Promise<string> {
  const ttl = Math.min(input.ttlSeconds ?? 3600, 7200);
  const jwt = new SignJWT({ client_id: input.appKey, scope: input.scope })
    .setProtectedHeader({ alg: keys.accessToken.alg, kid: keys.accessToken.kid, typ: 'at+jwt' })
    .setIssuer(input.issuer)
    .setAudience(input.audience)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(`${ttl}s`);
  if (input.merchantId) jwt.setSubject(input.merchantId);
  return jwt.sign(keys.accessToken.privateKey);
}

export class InvalidTokenError extends Error {}

/** Verifies access tokens against a JWKS; returns the caller or throws InvalidTokenError with a reason. */
export function createAccessTokenVerifier(options: { jwks: JSONWebKeySet; issuer: string; audience: string }) {
  const keySet = createLocalJWKSet(options.jwks);
  const cache = new ExpiringCache<Caller>(50_000);
  return async function verifyAccessToken(token: string): Promise<Caller> {
    const now = Date.now();
    const cached = cache.get(token, now);
    if (cached) return cached;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        issuer: options.issuer,
        audience: options.audience,
        typ: 'at+jwt',
        algorithms: ['ES256'],
        clockTolerance: 5,
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new InvalidTokenError('The access token has expired');
      throw new InvalidTokenError('The access token is not valid');
    }
    if (typeof payload.client_id !== 'string' || typeof payload.scope !== 'string' || typeof payload.exp !== 'number') {
      throw new InvalidTokenError('The access token lacks client_id or scope');
    }
    const caller: Caller = {
      merchantId: typeof payload.sub === 'string' ? payload.sub : null,
      appKey: payload.client_id,
      scopes: payload.scope.split(' ').filter(Boolean),
      ...(payload.jti ? { tokenId: payload.jti } : {}),
    };
    cache.set(token, caller, payload.exp * 1000);
    return caller;
  };
}

/** Signs context tokens for subgraphs. One token per distinct caller is reused for half its lifetime. */
export function createContextSigner(key: { privateKey: CryptoKey; kid: string }, ttlSeconds: number) {
  const cache = new ExpiringCache<Promise<string>>(50_000);
  return function signContext(caller: Caller): Promise<string> {
    const cacheKey = `${caller.appKey}\u0000${caller.merchantId ?? ''}\u0000${caller.scopes.join(' ')}\u0000${caller.tokenId ?? ''}`;
    const now = Date.now();
    const cached = cache.get(cacheKey, now);
    if (cached) return cached;
    const token = new SignJWT({ client_id: caller.appKey, scope: caller.scopes.join(' '), ...(caller.tokenId ? { at_jti: caller.tokenId } : {}) })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
      .setIssuer(CONTEXT_ISSUER)
      .setAudience(CONTEXT_AUDIENCE)
      .setSubject(caller.merchantId ?? '')
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(key.privateKey);
    cache.set(cacheKey, token, now + (ttlSeconds * 1000) / 2);
    return token;
  };
}

/** Verifies context tokens in a subgraph; anything but a valid gateway-signed token is refused. */
export function createContextVerifier(publicKey: CryptoKey) {
  const cache = new ExpiringCache<Caller>(50_000);
  return async function verifyContext(token: string): Promise<Caller> {
    const now = Date.now();
    const cached = cache.get(token, now);
    if (cached) return cached;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, publicKey, { issuer: CONTEXT_ISSUER, audience: CONTEXT_AUDIENCE, algorithms: ['EdDSA'] }));
    } catch {
      throw new InvalidTokenError('Missing or invalid context token');
    }
    const caller: Caller = {
      merchantId: payload.sub ? payload.sub : null,
      appKey: String(payload.client_id ?? ''),
      scopes: String(payload.scope ?? '').split(' ').filter(Boolean),
      ...(typeof payload.at_jti === 'string' ? { tokenId: payload.at_jti } : {}),
    };
    cache.set(token, caller, (payload.exp ?? 0) * 1000);
    return caller;
  };
}
