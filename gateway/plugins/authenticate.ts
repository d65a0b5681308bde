/**
 * Authentication: every GraphQL request carries an access token (a WebSocket connection may give it
 * in its connection parameters instead), an RFC 9068 JWT signed by the platform and verified
 * locally against its JWKS:
 * - `Authorization: Bearer <token>` for a plain token;
 * - `Authorization: DPoP <token>` with a `DPoP` proof header for a token bound to the client's key
 *   (RFC 9449, `cnf.jkt`): the proof is a `dpop+jwt` signed by that key, for this request's method
 *   and URL, issued within DPOP_PROOF_WINDOW_SECONDS, carrying `ath` (the token's SHA-256) and a
 *   `jti` never seen before (the replay guard, shared by gateways with REDIS_URL). A bound token
 *   sent as Bearer, or without its proof, is refused: that is the point of binding it.
 * Missing or bad: HTTP 401 with a GraphQL error UNAUTHENTICATED and a `WWW-Authenticate` header
 * (RFC 6750 for Bearer, RFC 9449 section 7.1 for DPoP) saying why.
 * Without an Authorization header, the developer portal's session cookie stands for a developer
 * (with its CSRF header: gateway/developer-auth/session.ts); an Authorization header always wins.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify, type JWTPayload, type JWK } from 'jose';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import { HttpError } from '../../core/http.js';
import { InvalidTokenError } from '../../core/tokens.js';
import { ReplayCheckUnavailable, type ReplayGuard } from '../replay-guard.js';
import type { GatewayPlugin } from './types.js';

export interface AuthenticateOptions {
  /** Verifies an access token and returns its caller, or throws InvalidTokenError. */
  verifyAccessToken(token: string): Promise<Caller>;
  /** Where DPoP proof ids (`jti`) are remembered. */
  replayGuard: ReplayGuard;
  /** PUBLIC_URL: a DPoP proof's `htu` is this origin with the request's path. */
  publicUrl: string;
  clock: Clock;
  /**
   * The person a request's session cookie (portal, console or merchant page) stands for: undefined
   * without one; throws the HttpError that refuses it (a missing CSRF header, a session that ended).
   */
  sessionCaller?(req: http.IncomingMessage): Promise<Caller | undefined>;
}

/** Algorithms a DPoP proof may be signed with (asymmetric only, as RFC 9449 requires). */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'PS384', 'PS512', 'RS256'];
/** How far a proof's `iat` may lie from the gateway's clock; its `jti` is kept this long after its `iat`. */
export const DPOP_PROOF_WINDOW_SECONDS = 300;

const CREDENTIALS = /^(Bearer|DPoP) ([A-Za-z0-9._~+/-]+=*)$/i;
const DPOP_CHALLENGE = `DPoP algs="${DPOP_ALGORITHMS.join(' ')}"`;

const unauthenticated = (message: string, challenge: string) => new HttpError(401, message, 'UNAUTHENTICATED', { 'www-authenticate': challenge });
const dpopRefusal = (error: 'invalid_token' | 'invalid_dpop_proof', message: string) =>
  unauthenticated(message, `${DPOP_CHALLENGE}, error="${error}", error_description="${message.replace(/["\\]/g, '')}"`);
const badProof = (why: string) => dpopRefusal('invalid_dpop_proof', `The DPoP proof is refused: ${why}`);

export function useAuthenticate(options: AuthenticateOptions): GatewayPlugin {
  const { clock } = options;
  const origin = new URL(options.publicUrl).origin;
  /** A long-lived connection's request proven with a DPoP proof, and the token it proved: its re-checks do not spend the proof again. */
  const proven = new WeakMap<http.IncomingMessage, string>();

  async function verifyToken(token: string, challenge: (message: string) => HttpError): Promise<Caller> {
    try {
      return await options.verifyAccessToken(token);
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
      throw challenge(error.message);
    }
  }

  async function checkProof(req: http.IncomingMessage, token: string, boundTo: string) {
    const header = req.headers.dpop;
    if (!header) throw dpopRefusal('invalid_token', 'The access token is bound to a key (DPoP): send a DPoP proof header signed by that key with it');
    // A compact JWS has no comma: one means the header came more than once.
    if (Array.isArray(header) || header.includes(',')) throw badProof('send exactly one DPoP header');
    let payload: JWTPayload;
    let jwk: JWK | undefined;
    try {
      const proof = await jwtVerify(header, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGORITHMS, currentDate: new Date(clock.now()) });
      payload = proof.payload;
      jwk = proof.protectedHeader.jwk;
    } catch {
      throw badProof(`it is not a dpop+jwt signed (${DPOP_ALGORITHMS.join(', ')}) by the public key in its jwk header`);
    }
    if (!jwk || 'd' in jwk) throw badProof('its jwk header must hold a public key only');
    if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 200) throw badProof('it needs a jti (a unique id of at most 200 characters)');
    if (payload.htm !== req.method) throw badProof(`htm is ${String(payload.htm).slice(0, 10)}, this request is ${req.method}`);
    const expectedHtu = `${origin}${(req.url ?? '/').split('?')[0]}`;
    let htu: string | undefined;
    try {
      const url = new URL(String(payload.htu));
      url.search = '';
      url.hash = '';
      htu = url.href;
    } catch {
      htu = undefined;
    }
    if (htu !== new URL(expectedHtu).href) throw badProof(`htu must be ${expectedHtu} (the public URL of this request, without its query)`);
    const now = clock.now() / 1000;
    if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > DPOP_PROOF_WINDOW_SECONDS) {
      throw badProof(`iat must be within ${DPOP_PROOF_WINDOW_SECONDS} s of now: make a fresh proof for each request`);
    }
    const ath = crypto.createHash('sha256').update(token).digest();
    const claimedAth = typeof payload.ath === 'string' ? Buffer.from(payload.ath, 'base64url') : Buffer.alloc(0);
    if (claimedAth.length !== ath.length || !crypto.timingSafeEqual(claimedAth, ath)) throw badProof('ath is not the base64url SHA-256 of this access token');
    const thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
    if (thumbprint !== boundTo) throw badProof('it is signed by another key than the one the access token is bound to (cnf.jkt)');
    let first: boolean;
    try {
      first = await options.replayGuard.firstUse(`dpop:${thumbprint}:${payload.jti}`, (payload.iat + DPOP_PROOF_WINDOW_SECONDS) * 1000 - clock.now());
    } catch (error) {
      if (!(error instanceof ReplayCheckUnavailable)) throw error;
      throw new HttpError(503, 'The DPoP proof cannot be checked for replay just now: retry with a fresh proof', 'SERVICE_UNAVAILABLE', { 'retry-after': '1' });
    }
    if (!first) throw badProof('it was used before (jti replayed): make a fresh proof for each request');
  }

  return {
    name: 'authenticate',
    async onRequest(req, state) {
      // A connection's own credential (its graphql-ws connection parameters) stands before the header.
      const header = state.authorization ?? req.headers.authorization;
      if (header === undefined && options.sessionCaller) {
        const person = await options.sessionCaller(req);
        if (person) {
          state.caller = person;
          return;
        }
      }
      const match = typeof header === 'string' ? CREDENTIALS.exec(header) : null;
      if (!match) {
        throw unauthenticated('An access token is required: send Authorization: Bearer <token> (or DPoP <token> with a DPoP proof)', `Bearer realm="portico", ${DPOP_CHALLENGE}`);
      }
      const token = match[2]!;
      if (match[1]!.toLowerCase() === 'bearer') {
        const caller = await verifyToken(token, (message) =>
          unauthenticated(message, `Bearer realm="portico", error="invalid_token", error_description="${message}"`),
        );
        if (caller.keyThumbprint) {
          throw dpopRefusal('invalid_token', 'The access token is bound to a key (DPoP): send it as Authorization: DPoP <token> with a DPoP proof, not as Bearer');
        }
        state.caller = caller;
        return;
      }
      const caller = await verifyToken(token, (message) => dpopRefusal('invalid_token', message));
      if (!caller.keyThumbprint) throw dpopRefusal('invalid_token', 'The access token is not bound to a key: send it as Authorization: Bearer <token>');
      if (proven.get(req) !== token) {
        await checkProof(req, token, caller.keyThumbprint);
        proven.set(req, token);
      }
      state.caller = caller;
    },
  };
}
