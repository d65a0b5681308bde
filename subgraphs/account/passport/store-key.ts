/**
 * Row keys of account.oauth_store. oidc-provider's opaque ids are bearer secrets (a refresh token's or
 * an authorization code's value is its id, a session's id is its cookie), so only their SHA-256 is
 * stored. They carry at least 126 random bits, so an unsalted hash cannot be reversed by guessing.
 * Migration 0004_oauth_store_hashed_ids computes the same key in SQL:
 * encode(sha256(convert_to(id, 'UTF8')), 'hex').
 */
import crypto from 'node:crypto';

export function oauthStoreKey(id: string): string {
  return crypto.createHash('sha256').update(id, 'utf8').digest('hex');
}
