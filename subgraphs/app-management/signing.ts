/**
 * An app's keys for signed requests (RFC 9421, checked by the gateway's verify-signature stage):
 * its sealed secrets for hmac-sha256 (sealed where a secret is created or rotated, store.ts), the
 * Ed25519 public key the app registers, and whether unsigned calls are refused. The gateway reads
 * them with the rest of the app's access (`appAccess`); this file changes them, each change audited.
 */
import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db, Executor } from '../../core/db.js';
import { badInput, conflict, notFound } from '../../core/errors.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import { appLevelCaller, operatorActor } from './callers.js';
import { audit } from './audit.js';
import { apps, type AppRow } from './tables.js';

/** What the gateway needs to verify an app's signatures (the internal `AppSigning` type). */
export interface AppSigning {
  /** The current secret, sealed (core/app-secret-seal.ts); null for a secret from before request signing. */
  secretSealed: string | null;
  /** The secret a rotation replaced, sealed, with the end of its grace; the gateway judges the grace on its own clock. */
  previousSecretSealed: string | null;
  previousSecretExpiresAt: Date | null;
  /** The registered Ed25519 public key (raw 32 bytes, base64url). */
  publicKey: string | null;
  signatureRequired: boolean;
}

/** The columns of `apps` that signingOf reads, for a select. */
export const signingColumns = {
  secretSealed: apps.secretSealed,
  previousSecretSealed: apps.previousSecretSealed,
  previousSecretExpiresAt: apps.previousSecretExpiresAt,
  signingPublicKey: apps.signingPublicKey,
  signatureRequired: apps.signatureRequired,
};

type SigningColumns = { [K in keyof typeof signingColumns]: AppRow[K] };

export function signingOf(row: SigningColumns): AppSigning {
  const previous = row.previousSecretSealed && row.previousSecretExpiresAt;
  return {
    secretSealed: row.secretSealed,
    previousSecretSealed: previous ? row.previousSecretSealed : null,
    previousSecretExpiresAt: previous ? row.previousSecretExpiresAt : null,
    publicKey: row.signingPublicKey,
    signatureRequired: row.signatureRequired,
  };
}

const RAW_KEY = /^[A-Za-z0-9_\-+/]{43}=?$/;

/**
 * An Ed25519 public key as the gateway keeps it (raw 32 bytes, base64url), from the raw key
 * (base64url or base64), a JWK (`{"kty":"OKP","crv":"Ed25519","x":...}`) or a PEM SubjectPublicKeyInfo.
 * Anything else, and any private key (never to be sent to anyone), is BAD_USER_INPUT.
 */
export function ed25519PublicKey(input: string): string {
  const text = v.text(input, 'publicKey', { max: 2000 }).trim();
  const refuse = (why: string) => badInput(`publicKey: ${why}. Send an Ed25519 public key: 32 bytes in base64url, a JWK (kty OKP, crv Ed25519) or a PEM public key`, 'publicKey');
  if (RAW_KEY.test(text)) {
    const raw = Buffer.from(text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, ''), 'base64url');
    if (raw.length !== 32) throw refuse('not 32 bytes');
    return raw.toString('base64url');
  }
  let key: crypto.KeyObject;
  try {
    if (text.startsWith('{')) {
      const jwk = JSON.parse(text) as Record<string, unknown>;
      if ('d' in jwk) throw refuse('this is a private key; keep it secret and send only its public part');
      key = crypto.createPublicKey({ key: jwk as crypto.JsonWebKey, format: 'jwk' });
    } else {
      if (/PRIVATE KEY/.test(text)) throw refuse('this is a private key; keep it secret and send only its public part');
      key = crypto.createPublicKey(text);
    }
  } catch (error) {
    if (error instanceof Error && 'extensions' in error) throw error;
    throw refuse('not a key this API reads');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw refuse(`a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  return key.export({ format: 'jwk' }).x!;
}


export function createSigningStore(db: Db) {
  const locked = async (tx: Executor, appKey: string) => {
    const [app] = await tx.select().from(apps).where(eq(apps.key, appKey)).for('update');
    if (!app) throw notFound('App', appKey);
    return app;
  };
  const setRequired = async (tx: Executor, app: AppRow, required: boolean, actor: string, reason: string | null) => {
    const [updated] = await tx.update(apps).set({ signatureRequired: required, updatedAt: new Date() }).where(eq(apps.id, app.id)).returning();
    await audit(tx, { actor, action: 'app.signature_required_changed', targetType: 'app', targetId: app.key, reason, details: { from: app.signatureRequired, to: required } });
    return updated!;
  };
  return {
    /** Operators: require signed requests of an app, or stop requiring them. */
    async setSignatureRequired(actor: string, input: { appKey: string; required: boolean; reason: string }): Promise<AppRow> {
      const reason = v.text(input.reason, 'reason', { max: 500 });
      return db.transaction(async (tx) => {
        const app = await locked(tx, input.appKey);
        // As setAppStatus: no change is a CONFLICT, so the reason never sits beside a change that did not happen.
        if (app.signatureRequired === input.required) throw conflict(`App ${app.key} already ${input.required ? 'requires' : 'does not require'} signed requests`, { signatureRequired: app.signatureRequired });
        return setRequired(tx, app, input.required, actor, reason);
      });
    },

    /** The app itself: from now on its unsigned calls are refused. Only an operator turns it off again. */
    async requireSignatures(appKey: string): Promise<AppRow> {
      return db.transaction(async (tx) => {
        const app = await locked(tx, appKey);
        if (app.signatureRequired) return app;
        return setRequired(tx, app, true, `app:${appKey}`, null);
      });
    },

    /** The app itself (or its developer, `actor`): registers (or replaces) the Ed25519 public key its ed25519 signatures are checked with. */
    async registerSigningKey(appKey: string, publicKey: string, actor = `app:${appKey}`): Promise<AppRow> {
      const key = ed25519PublicKey(publicKey);
      return db.transaction(async (tx) => {
        const app = await locked(tx, appKey);
        const [updated] = await tx.update(apps).set({ signingPublicKey: key, updatedAt: new Date() }).where(eq(apps.id, app.id)).returning();
        await audit(tx, { actor, action: 'app.signing_key_registered', targetType: 'app', targetId: appKey, details: { publicKey: key, replaced: app.signingPublicKey } });
        return updated!;
      });
    },
  };
}

export type SigningStore = ReturnType<typeof createSigningStore>;

// Only the caller is read: the resolvers need no loaders.
type Context = SubgraphContext<unknown>;

export function createSigningResolvers(store: SigningStore) {
  return {
    Mutation: {
      setAppSignatureRequired: (_: unknown, { input }: { input: { appKey: string; required: boolean; reason: string } }, ctx: Context) =>
        store.setSignatureRequired(operatorActor(ctx.caller), input),
      requireSignedRequests: (_: unknown, __: unknown, ctx: Context) => store.requireSignatures(appLevelCaller(ctx.caller, 'An app requires signatures of itself')),
      registerSigningKey: (_: unknown, args: { publicKey: string }, ctx: Context) =>
        store.registerSigningKey(appLevelCaller(ctx.caller, 'An app registers its own signing key'), args.publicKey),
    },
    App: {
      hmacSigning: (app: AppRow) => app.secretSealed !== null,
    },
  };
}
