/**
 * Signed requests: HTTP Message Signatures (RFC 9421) by the app the access token was issued to.
 * A request carrying `Signature-Input` and `Signature` is verified whether or not its app requires
 * signatures; an app with `signatureRequired` has its unsigned requests refused. What must hold:
 * - covered components: `@method`, `@target-uri` (the public URL, PUBLIC_URL's origin with the
 *   request's path and query) and, when the request has a body, `content-digest` (RFC 9530,
 *   `sha-256=:<base64>:`), which must match the exact bytes execution then parses;
 * - parameters `created` (within SIGNATURE_WINDOW_SECONDS of the gateway's clock, either way),
 *   `nonce` (never seen for this app within the window, across gateways with REDIS_URL), `keyid` (the
 *   token's app key) and `alg`: `hmac-sha256` keyed by the app secret (its text as UTF-8; the previous
 *   secret too while its rotation's grace lasts) or `ed25519` with the public key the app registered.
 * Refused: HTTP 401 with a GraphQL error SIGNATURE_INVALID whose message says which check failed.
 *
 * The signature base is built by `http-message-signatures` (its httpbis createSignatureBase and
 * formatSignatureBase); the checks around it (window on our clock, nonce, digest, keys) are ours,
 * since its verifyMessage reads the wall clock and accepts any one of several signatures.
 *
 * A long-lived connection's request (WebSocket upgrade, SSE request) is verified when it opens; the
 * pipeline's re-checks of the same request while it lives do not verify it again (its nonce is spent
 * and its `created` ages, as they should).
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { httpbis } from 'http-message-signatures';
import { isInnerList, parseDictionary, serializeItem, serializeList, Token, type Dictionary, type InnerList, type Item } from 'structured-headers';
import { openAppSecret } from '../../core/app-secret-seal.js';
import type { Clock } from '../../core/clock.js';
import { ErrorCode } from '../../core/errors.js';
import { HttpError, readRequestBody } from '../../core/http.js';
import type { Kek } from '../../core/sealing.js';
import { ReplayCheckUnavailable, type ReplayGuard } from '../replay-guard.js';
import type { AppAccess, AppSigningKeys } from './app-authorization.js';
import type { GatewayPlugin } from './types.js';

/** How far `created` may lie from the gateway's clock, in the past or the future; a nonce is kept this long after its `created`. */
export const SIGNATURE_WINDOW_SECONDS = 300;
export const SIGNATURE_ALGORITHMS = ['hmac-sha256', 'ed25519'] as const;
const REQUIRED_PARAMETERS = ['created', 'nonce', 'keyid', 'alg'] as const;
/** Keys opened or imported at most (one or two per app). */
const MAX_CACHED_KEYS = 10_000;

export interface VerifySignatureOptions {
  /** What app-management says of an app (cached and shared by the pipeline's stages). */
  appAccess(appKey: string): Promise<AppAccess | null>;
  /** Where nonces are remembered (gateway/replay-guard.ts). */
  replayGuard: ReplayGuard;
  /** The platform's key-encryption keys, which open the apps' sealed secrets. */
  keks: readonly Kek[];
  /** PUBLIC_URL: `@target-uri` is the request's path and query on this origin. */
  publicUrl: string;
  clock: Clock;
}

const refuse = (why: string) => new HttpError(401, `Signature refused: ${why}`, ErrorCode.SIGNATURE_INVALID);

const headerOf = (req: http.IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

/** Whether the request carries a body (content-digest is then required). */
const hasBody = (req: http.IncomingMessage) => Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;

const bareValue = (value: unknown): unknown => (value instanceof Token ? value.toString() : value);

/** A small bounded cache of derived keys, by the text they come from. */
function keyCache<K>() {
  const keys = new Map<string, K>();
  return (source: string, make: () => K): K => {
    let key = keys.get(source);
    if (key === undefined) {
      if (keys.size >= MAX_CACHED_KEYS) keys.clear();
      key = make();
      keys.set(source, key);
    }
    return key;
  };
}

export function useVerifySignature(options: VerifySignatureOptions): GatewayPlugin {
  const { clock, replayGuard } = options;
  const origin = new URL(options.publicUrl).origin;
  /** Requests whose signature was verified: a long-lived connection's re-checks skip it. */
  const verified = new WeakSet<http.IncomingMessage>();
  const hmacKeyOf = keyCache<crypto.KeyObject>();
  const ed25519KeyOf = keyCache<crypto.KeyObject>();

  /** The app's secrets usable now for hmac-sha256: the current one, and the previous one within its grace. */
  function hmacKeys(appKey: string, signing: AppSigningKeys): crypto.KeyObject[] {
    const sealed = [signing.secretSealed];
    if (signing.previousSecretSealed && signing.previousSecretExpiresAt && Date.parse(signing.previousSecretExpiresAt) > clock.now()) sealed.push(signing.previousSecretSealed);
    return sealed.filter((s): s is string => !!s).map((s) => hmacKeyOf(s, () => crypto.createSecretKey(openAppSecret(options.keks, appKey, s))));
  }

  function signatureMatches(alg: string, appKey: string, signing: AppSigningKeys, base: Buffer, signature: Buffer): boolean {
    if (alg === 'hmac-sha256') {
      const keys = hmacKeys(appKey, signing);
      if (!keys.length) {
        throw refuse(`app ${appKey} has no secret usable for hmac-sha256 (its secret predates signed requests, or its previous secret's grace is over): rotate the secret (rotateAppSecret) or sign with ed25519`);
      }
      let matched = false;
      for (const key of keys) {
        const expected = crypto.createHmac('sha256', key).update(base).digest();
        // Every key is tried, constant-time each, so the answer's timing does not say which one matched.
        if (expected.length === signature.length && crypto.timingSafeEqual(expected, signature)) matched = true;
      }
      return matched;
    }
    if (!signing.publicKey) throw refuse(`app ${appKey} has no Ed25519 public key registered (registerSigningKey)`);
    const publicKey = ed25519KeyOf(signing.publicKey, () => crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: signing.publicKey! }, format: 'jwk' }));
    return signature.length === 64 && crypto.verify(null, base, publicKey, signature);
  }

  async function verify(req: http.IncomingMessage, appKey: string, access: AppAccess | null, inputHeader: string, signatureHeader: string) {
    let inputs: Dictionary;
    let signatures: Dictionary;
    try {
      inputs = parseDictionary(inputHeader);
      signatures = parseDictionary(signatureHeader);
    } catch {
      throw refuse('Signature-Input or Signature is not a structured field dictionary (RFC 8941)');
    }
    // The first signature is the one checked (a client sends one; RFC 9421 lets the verifier choose).
    const [label, member] = inputs.entries().next().value ?? [];
    if (!label || !member || !isInnerList(member)) throw refuse('Signature-Input names no signature (label=("@method" ...);created=...)');
    const signed = signatures.get(label);
    if (!signed || !(signed[0] instanceof ArrayBuffer)) throw refuse(`Signature has no byte sequence for the label "${label}"`);
    const [components, parameters] = member as InnerList;

    const missing = REQUIRED_PARAMETERS.filter((p) => !parameters.has(p));
    if (missing.length) throw refuse(`missing signature parameter(s) ${missing.join(', ')}`);
    const keyid = bareValue(parameters.get('keyid'));
    const alg = bareValue(parameters.get('alg'));
    const created = parameters.get('created');
    const nonce = bareValue(parameters.get('nonce'));
    if (typeof keyid !== 'string' || typeof alg !== 'string' || typeof nonce !== 'string' || !nonce || typeof created !== 'number' || !Number.isInteger(created)) {
      throw refuse('keyid, alg and nonce must be strings and created an integer (seconds since the epoch)');
    }
    if (keyid !== appKey) throw refuse(`unknown key: keyid "${keyid.slice(0, 100)}" is not the app the access token was issued to (${appKey})`);
    if (!access) throw refuse(`unknown key: app ${appKey} is not registered`);
    if (!(SIGNATURE_ALGORITHMS as readonly string[]).includes(alg)) throw refuse(`algorithm "${alg.slice(0, 50)}" is not accepted: use ${SIGNATURE_ALGORITHMS.join(' or ')}`);

    const now = clock.now() / 1000;
    if (now - created > SIGNATURE_WINDOW_SECONDS) throw refuse(`created ${Math.floor(now - created)} s ago: a signature is good for ${SIGNATURE_WINDOW_SECONDS} s`);
    if (created - now > SIGNATURE_WINDOW_SECONDS) throw refuse(`created ${Math.ceil(created - now)} s in the future: the signer's clock is more than ${SIGNATURE_WINDOW_SECONDS} s ahead`);

    const covered = components.map(([name]) => name);
    const required = ['@method', '@target-uri', ...(hasBody(req) ? ['content-digest'] : [])];
    const uncovered = required.filter((name) => !covered.includes(name));
    if (uncovered.length) throw refuse(`missing required component(s) ${uncovered.join(', ')}: a signature covers @method, @target-uri and, with a body, content-digest`);

    if (covered.includes('content-digest')) await checkContentDigest(req);

    let base: Buffer;
    try {
      const message = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', origin), headers: req.headers as Record<string, string | string[]> };
      const lines = httpbis.createSignatureBase({ fields: components.map((item: Item) => serializeItem(item)) }, message);
      lines.push(['"@signature-params"', [serializeList([member])]]);
      base = Buffer.from(httpbis.formatSignatureBase(lines));
    } catch (error) {
      throw refuse(`the signature covers a component this request cannot give: ${(error as Error).message}`);
    }
    if (!signatureMatches(alg, appKey, access.signing, base, Buffer.from(signed[0]))) {
      throw refuse(`wrong signature: it does not verify with app ${appKey}'s ${alg === 'hmac-sha256' ? 'secret' : 'Ed25519 public key'} over this request (@target-uri is ${origin}${req.url ?? '/'})`);
    }

    // Last, so that only a request the app really signed spends its nonce.
    let first: boolean;
    try {
      first = await replayGuard.firstUse(`sig:${appKey}:${nonce}`, (created + SIGNATURE_WINDOW_SECONDS) * 1000 - clock.now());
    } catch (error) {
      if (!(error instanceof ReplayCheckUnavailable)) throw error;
      throw new HttpError(503, 'The signature\'s nonce cannot be checked just now: retry with a new nonce', 'SERVICE_UNAVAILABLE', { 'retry-after': '1' });
    }
    if (!first) throw refuse(`nonce reused: "${nonce.slice(0, 100)}" was already used by app ${appKey} within ${SIGNATURE_WINDOW_SECONDS} s`);
  }

  async function checkContentDigest(req: http.IncomingMessage) {
    const header = headerOf(req, 'content-digest');
    let digests: Dictionary;
    try {
      digests = parseDictionary(header ?? '');
    } catch {
      throw refuse('Content-Digest is not a structured field dictionary (sha-256=:<base64>:)');
    }
    const claimed = digests.get('sha-256')?.[0];
    if (!(claimed instanceof ArrayBuffer)) throw refuse('Content-Digest has no sha-256 digest (sha-256=:<base64>:)');
    const actual = crypto.createHash('sha256').update(await readRequestBody(req)).digest();
    const given = Buffer.from(claimed);
    if (given.length !== actual.length || !crypto.timingSafeEqual(given, actual)) throw refuse('the body does not match its content-digest (it changed after signing)');
  }

  return {
    name: 'verify-signature',
    async onRequest(req, state) {
      const caller = state.caller!;
      // Operators (the console) are no app: they have no key to sign with.
      if (caller.kind !== 'app' || verified.has(req)) return;
      const input = headerOf(req, 'signature-input');
      const signature = headerOf(req, 'signature');
      const access = await options.appAccess(caller.appKey);
      if (input === undefined && signature === undefined) {
        if (access?.signing.signatureRequired) throw refuse(`app ${caller.appKey} requires signed requests and this one is unsigned (send Signature-Input and Signature, RFC 9421)`);
        return;
      }
      if (input === undefined || signature === undefined) throw refuse('Signature-Input and Signature come together: one of them is missing');
      await verify(req, caller.appKey, access, input, signature);
      verified.add(req);
    },
  };
}
