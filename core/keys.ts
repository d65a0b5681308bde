/**
 * Signing keys, kept as JWK files (mode 0600) under KEYS_DIR:
 * - `access-token-keys.json`: ES256 keys that sign access tokens; the newest signs, all are published
 *   in the JWKS so tokens signed before a rotation stay valid until they expire;
 * - `context-key.json`: the Ed25519 key the gateway signs context tokens with. Subgraphs only need its
 *   public half, so a subgraph cannot mint callers.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface PlatformKeys {
  /** Newest access-token key: signs. */
  accessToken: SigningKey;
  /** Public access-token keys, newest first, as served at /.well-known/jwks.json. */
  jwks: { keys: JWK[] };
  /** The same keys with their private parts, newest first: for the passport (oidc-provider) to sign with. */
  privateJwks: JWK[];
  context: { privateKey: CryptoKey; publicKey: CryptoKey; kid: string };
  /** Keys that sign the passport's cookies (newest first). */
  cookieKeys: string[];
  /**
   * Key-encryption keys of the message channel (newest first): they wrap each app's AES-256-GCM
   * data key, which is stored wrapped in the database, never in plaintext.
   */
  messageKeks: { id: string; key: Buffer }[];
}

const ACCESS_TOKEN_FILE = 'access-token-keys.json';
const CONTEXT_FILE = 'context-key.json';
const COOKIE_FILE = 'passport-cookie-keys.json';
const MESSAGE_KEK_FILE = 'message-keks.json';

async function newPrivateJwk(alg: 'ES256' | 'EdDSA'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg, use: 'sig', kid: crypto.randomUUID() };
}

function writeSecretFile(file: string, value: unknown) {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function publicPart(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = jwk;
  return rest;
}

/**
 * Loads the platform keys, creating them on first use when `create` is set (embedded mode and the
 * first production start). Creation is atomic, so two processes starting together agree on one key.
 */
export async function loadPlatformKeys(keysDir: string, options: { create: boolean }): Promise<PlatformKeys> {
  const accessFile = path.join(keysDir, ACCESS_TOKEN_FILE);
  const contextFile = path.join(keysDir, CONTEXT_FILE);
  let access = readJson<{ keys: JWK[] }>(accessFile);
  let context = readJson<JWK>(contextFile);
  if (!access || !context) {
    if (!options.create) throw new Error(`Signing keys are missing in ${keysDir}; start the platform once or set KEYS_DIR`);
    if (!access) {
      const candidate = { keys: [await newPrivateJwk('ES256')] };
      try {
        fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
        fs.writeFileSync(accessFile, JSON.stringify(candidate, null, 2), { mode: 0o600, flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      access = readJson<{ keys: JWK[] }>(accessFile)!;
    }
    if (!context) {
      try {
        fs.writeFileSync(contextFile, JSON.stringify(await newPrivateJwk('EdDSA'), null, 2), { mode: 0o600, flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      context = readJson<JWK>(contextFile)!;
    }
  }
  let cookieKeys = readJson<string[]>(path.join(keysDir, COOKIE_FILE));
  if (!cookieKeys) {
    if (!options.create) throw new Error(`Signing keys are missing in ${keysDir}; run npm run keys -- init`);
    try {
      fs.writeFileSync(path.join(keysDir, COOKIE_FILE), JSON.stringify([crypto.randomBytes(32).toString('base64url')]), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    cookieKeys = readJson<string[]>(path.join(keysDir, COOKIE_FILE))!;
  }
  let messageKeks = readJson<{ id: string; key: string }[]>(path.join(keysDir, MESSAGE_KEK_FILE));
  if (!messageKeks) {
    if (!options.create) throw new Error(`Message keys are missing in ${keysDir}; run npm run keys -- init`);
    try {
      fs.writeFileSync(path.join(keysDir, MESSAGE_KEK_FILE), JSON.stringify([{ id: crypto.randomUUID(), key: crypto.randomBytes(32).toString('base64url') }]), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    messageKeks = readJson<{ id: string; key: string }[]>(path.join(keysDir, MESSAGE_KEK_FILE))!;
  }
  const newest = access.keys[0];
  if (!newest?.kid) throw new Error(`${accessFile} holds no usable key`);
  return {
    accessToken: {
      kid: newest.kid,
      alg: newest.alg ?? 'ES256',
      privateKey: (await importJWK(newest, newest.alg ?? 'ES256')) as CryptoKey,
      publicJwk: publicPart(newest),
    },
    jwks: { keys: access.keys.map(publicPart) },
    privateJwks: access.keys,
    cookieKeys,
    messageKeks: messageKeks.map((k) => ({ id: k.id, key: Buffer.from(k.key, 'base64url') })),
    context: {
      kid: context.kid ?? 'context',
      privateKey: (await importJWK(context, 'EdDSA')) as CryptoKey,
      publicKey: (await importJWK(publicPart(context), 'EdDSA')) as CryptoKey,
    },
  };
}

/**
 * Adds a new access-token key in front (it signs from the next start on); older keys stay published
 * so their tokens verify until expiry. `keep` bounds how many old keys are kept.
 */
export async function rotateAccessTokenKey(keysDir: string, keep = 2): Promise<string> {
  const file = path.join(keysDir, ACCESS_TOKEN_FILE);
  const current = readJson<{ keys: JWK[] }>(file) ?? { keys: [] };
  const fresh = await newPrivateJwk('ES256');
  writeSecretFile(file, { keys: [fresh, ...current.keys].slice(0, keep + 1) });
  return fresh.kid!;
}
