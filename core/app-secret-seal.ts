/**
 * An app's secret sealed at rest (AES-256-GCM with the platform's newest key-encryption key, bound
 * to the app by its additional authenticated data): the key of the app's hmac-sha256 request
 * signatures (RFC 9421), which a scrypt hash cannot verify. app-management seals it where a secret
 * is created or rotated; the gateway opens it to check a signature. Format: `<kek id>.<sealed>`, so
 * a secret sealed before a key-encryption key rotation still opens while that key is kept.
 */
import { open, seal, type Kek } from './sealing.js';

const aadOf = (appKey: string) => `app-secret:${appKey}`;

export function sealAppSecret(keks: readonly Kek[], appKey: string, secret: string): string {
  const kek = keks[0];
  if (!kek) throw new Error('sealing an app secret needs a key-encryption key');
  return `${kek.id}.${seal(kek.key, secret, aadOf(appKey))}`;
}

/** The secret's bytes (its text as UTF-8: the HMAC key); throws for a seal of another app or an unknown key. */
export function openAppSecret(keks: readonly Kek[], appKey: string, sealed: string): Buffer {
  const dot = sealed.indexOf('.');
  const kek = keks.find((k) => k.id === sealed.slice(0, dot));
  if (dot < 0 || !kek) throw new Error('the app secret is sealed with an unknown key-encryption key');
  return open(kek.key, sealed.slice(dot + 1), aadOf(appKey));
}
