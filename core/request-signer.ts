/**
 * Signs a request as a client of the API does (RFC 9421, what the gateway's verify-signature stage
 * checks): `content-digest` (RFC 9530 sha-256) of the body, and a signature over `@method`,
 * `@target-uri` and, with a body, `content-digest`, with `created`, `nonce`, `keyid` and `alg`.
 * Used by `npm run sign` (bin/sign.ts) and the tests; any RFC 9421 library does the same.
 */
import crypto from 'node:crypto';
import { createSigner, httpbis } from 'http-message-signatures';

export type SigningKey =
  /** The app secret as issued (its text is the HMAC key). */
  | { alg: 'hmac-sha256'; secret: string }
  /** The Ed25519 private key whose public key the app registered (registerSigningKey). */
  | { alg: 'ed25519'; privateKey: crypto.KeyObject };

export interface RequestToSign {
  method: string;
  /** The URL as the platform's public URL names it (`@target-uri`). */
  url: string;
  body?: string | Buffer;
  /** The app key. */
  keyid: string;
  key: SigningKey;
  /** Default: now. */
  created?: Date;
  /** Default: 16 random bytes, base64url. */
  nonce?: string;
}

/** `sha-256=:<base64>:` of the body (RFC 9530). */
export const contentDigest = (body: string | Buffer) => `sha-256=:${crypto.createHash('sha256').update(body).digest('base64')}:`;

/** The headers to add to the request: `content-digest` (with a body), `signature-input` and `signature`. */
export async function signRequest(request: RequestToSign): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  const hasBody = request.body !== undefined && request.body.length > 0;
  if (hasBody) headers['content-digest'] = contentDigest(request.body!);
  const signer = request.key.alg === 'hmac-sha256' ? createSigner(request.key.secret, 'hmac-sha256', request.keyid) : createSigner(request.key.privateKey, 'ed25519', request.keyid);
  const signed = await httpbis.signMessage(
    {
      key: signer,
      fields: ['@method', '@target-uri', ...(hasBody ? ['content-digest'] : [])],
      params: ['created', 'nonce', 'keyid', 'alg'],
      paramValues: { created: request.created ?? new Date(), nonce: request.nonce ?? crypto.randomBytes(16).toString('base64url'), keyid: request.keyid, alg: request.key.alg },
    },
    { method: request.method, url: request.url, headers },
  );
  const out = signed.headers as Record<string, string>;
  return { ...headers, 'signature-input': out['Signature-Input']!, signature: out['Signature']! };
}
