/**
 * oidc-provider's storage in PostgreSQL (account.oauth_store). Clients are not stored here: they are
 * the apps of app-management, looked up through `clients`.
 *
 * No bearer secret is stored in plaintext. oidc-provider's opaque ids are the secrets themselves (an
 * authorization code's or a refresh token's value is its id, a session's id is its cookie value), so
 * a row is keyed by the SHA-256 of the id (`oauthStoreKey`), the stored payload has no `jti`, and
 * `find`, which is given the id, puts it back. What else would repeat a secret is left out too: an
 * Interaction's copy of the session cookie (`session.cookie`, which oidc-provider never reads) and its
 * own id at the end of its resume URL (`returnTo`, restored by `find`). Left in plaintext, as they are
 * identifiers nothing accepts as a credential: grant ids (in every access token as portico_grant, and
 * in merchant_authorizations) and session uids (server-side links from tokens and interactions to
 * their session; the `uid` column serves `findByUid`). Only the Session model is looked up by uid, and
 * only to check that the session still exists, so what `findByUid` returns need not carry the id.
 *
 * `consume` is a single conditional update, so of two requests presenting the same authorization
 * code or refresh token at the same moment exactly one wins; the other (like any later replay)
 * revokes the whole grant, so what the first produced stops working too.
 */
import { and, eq, isNull, or, sql } from 'drizzle-orm';
import { errors } from 'oidc-provider';
import type { Db } from '../../../core/db.js';
import { merchantAuthorizations, oauthStore } from '../tables.js';
import { oauthStoreKey } from './store-key.js';

export interface ClientDirectory {
  /** oidc-provider client metadata for an app key, or undefined when there is no such app. */
  find(clientId: string): Promise<Record<string, unknown> | undefined>;
}

type Payload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string; consumed?: number };

/** Stands for an Interaction's own id in its stored `returnTo`. */
const OWN_ID = '{id}';

/** The payload as stored: without the id or any copy of a bearer secret. */
function forStorage(model: string, id: string, payload: Payload): Payload {
  const { jti: _jti, ...stored } = payload as Payload & { jti?: unknown };
  if (model === 'Interaction') {
    if (typeof stored.returnTo === 'string') stored.returnTo = stored.returnTo.split(id).join(OWN_ID);
    if (stored.session && typeof stored.session === 'object') {
      const { cookie: _cookie, ...session } = stored.session as Record<string, unknown>;
      stored.session = session;
    }
  }
  return stored;
}

/** A payload found by its id, as oidc-provider saved it (but for what it never reads). */
function withId(model: string, id: string, payload: Payload | undefined): Payload | undefined {
  if (!payload) return undefined;
  const found: Payload = { ...payload, jti: id };
  if (model === 'Interaction' && typeof found.returnTo === 'string') found.returnTo = found.returnTo.split(OWN_ID).join(id);
  return found;
}

/**
 * Keeps a merchant's authorization (the grant) alive for another `ttlSeconds` from now: called after
 * each successful refresh, so an integration in use never has to ask the merchant again. It only
 * extends a grant that still exists: a grant revoked meanwhile stays revoked.
 */
export async function extendGrant(db: Db, grantId: string, ttlSeconds: number): Promise<void> {
  const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
  await db
    .update(oauthStore)
    .set({ expiresAt: new Date(exp * 1000), payload: sql`jsonb_set(${oauthStore.payload}, '{exp}', to_jsonb(${exp}::bigint))` })
    .where(and(eq(oauthStore.model, 'Grant'), eq(oauthStore.id, oauthStoreKey(grantId)), sql`(${oauthStore.expiresAt} is null or ${oauthStore.expiresAt} > now())`));
}

export function createOidcAdapter(db: Db, clients: ClientDirectory) {
  async function revokeGrant(grantId: string, by: string) {
    await db.transaction(async (tx) => {
      await tx.delete(oauthStore).where(or(eq(oauthStore.grantId, grantId), and(eq(oauthStore.model, 'Grant'), eq(oauthStore.id, oauthStoreKey(grantId)))));
      await tx
        .update(merchantAuthorizations)
        .set({ revokedAt: new Date(), revokedBy: by })
        .where(and(eq(merchantAuthorizations.grantId, grantId), isNull(merchantAuthorizations.revokedAt)));
    });
  }

  const live = sql`(${oauthStore.expiresAt} is null or ${oauthStore.expiresAt} > now())`;
  const toPayload = (row: typeof oauthStore.$inferSelect | undefined): Payload | undefined =>
    row ? { ...row.payload, ...(row.consumedAt ? { consumed: Math.floor(row.consumedAt.getTime() / 1000) } : {}) } : undefined;

  return class PostgresAdapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
      const values = {
        payload: forStorage(this.model, id, payload),
        grantId: typeof payload.grantId === 'string' ? payload.grantId : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      };
      await db
        .insert(oauthStore)
        .values({ model: this.model, id: oauthStoreKey(id), ...values })
        .onConflictDoUpdate({ target: [oauthStore.model, oauthStore.id], set: values });
    }

    async find(id: string): Promise<Payload | undefined> {
      if (this.model === 'Client') return clients.find(id);
      const [row] = await db.select().from(oauthStore).where(and(eq(oauthStore.model, this.model), eq(oauthStore.id, oauthStoreKey(id)), live));
      return withId(this.model, id, toPayload(row));
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      const [row] = await db.select().from(oauthStore).where(and(eq(oauthStore.model, this.model), eq(oauthStore.uid, uid), live));
      return toPayload(row);
    }

    /**
     * The device flow (disabled) would find a DeviceCode by its user code and then save it under its
     * id, which this storage cannot give back from a user code: refuse rather than lose the id.
     */
    async findByUserCode(): Promise<Payload | undefined> {
      throw new Error('oauth_store: lookups by user code are not supported (the device flow is not enabled)');
    }

    async consume(id: string): Promise<void> {
      const consumed = await db
        .update(oauthStore)
        .set({ consumedAt: new Date() })
        .where(and(eq(oauthStore.model, this.model), eq(oauthStore.id, oauthStoreKey(id)), isNull(oauthStore.consumedAt)))
        .returning({ grantId: oauthStore.grantId });
      if (consumed.length) return;
      // Someone consumed it first: a replay, or a twin request racing this one.
      const [row] = await db
        .select({ grantId: oauthStore.grantId })
        .from(oauthStore)
        .where(and(eq(oauthStore.model, this.model), eq(oauthStore.id, oauthStoreKey(id))));
      if (row?.grantId) await revokeGrant(row.grantId, 'passport:reuse-detected');
      throw new errors.InvalidGrant(`${this.model === 'RefreshToken' ? 'refresh token' : 'authorization code'} already consumed`);
    }

    async destroy(id: string): Promise<void> {
      await db.delete(oauthStore).where(and(eq(oauthStore.model, this.model), eq(oauthStore.id, oauthStoreKey(id))));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await revokeGrant(grantId, 'passport:grant-revoked');
    }
  };
}
