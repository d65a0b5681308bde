/**
 * oidc-provider's storage in PostgreSQL (account.oauth_store). Clients are not stored here: they are
 * the apps of app-management, looked up through `clients`.
 *
 * `consume` is a single conditional update, so of two requests presenting the same authorization
 * code or refresh token at the same moment exactly one wins; the other (like any later replay)
 * revokes the whole grant, so what the first produced stops working too.
 */
import { and, eq, isNull, or, sql } from 'drizzle-orm';
import { errors } from 'oidc-provider';
import type { Db } from '../../../core/db.js';
import { merchantAuthorizations, oauthStore } from '../tables.js';

export interface ClientDirectory {
  /** oidc-provider client metadata for an app key, or undefined when there is no such app. */
  find(clientId: string): Promise<Record<string, unknown> | undefined>;
}

type Payload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string; consumed?: number };

export function createOidcAdapter(db: Db, clients: ClientDirectory) {
  async function revokeGrant(grantId: string, by: string) {
    await db.transaction(async (tx) => {
      await tx.delete(oauthStore).where(or(eq(oauthStore.grantId, grantId), and(eq(oauthStore.model, 'Grant'), eq(oauthStore.id, grantId))));
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
        payload,
        grantId: typeof payload.grantId === 'string' ? payload.grantId : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        userCode: typeof payload.userCode === 'string' ? payload.userCode : null,
        expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      };
      await db
        .insert(oauthStore)
        .values({ model: this.model, id, ...values })
        .onConflictDoUpdate({ target: [oauthStore.model, oauthStore.id], set: values });
    }

    async find(id: string): Promise<Payload | undefined> {
      if (this.model === 'Client') return clients.find(id);
      const [row] = await db.select().from(oauthStore).where(and(eq(oauthStore.model, this.model), eq(oauthStore.id, id), live));
      return toPayload(row);
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      const [row] = await db.select().from(oauthStore).where(and(eq(oauthStore.model, this.model), eq(oauthStore.uid, uid), live));
      return toPayload(row);
    }

    async findByUserCode(userCode: string): Promise<Payload | undefined> {
      const [row] = await db.select().from(oauthStore).where(and(eq(oauthStore.model, this.model), eq(oauthStore.userCode, userCode), live));
      return toPayload(row);
    }

    async consume(id: string): Promise<void> {
      const consumed = await db
        .update(oauthStore)
        .set({ consumedAt: new Date() })
        .where(and(eq(oauthStore.model, this.model), eq(oauthStore.id, id), isNull(oauthStore.consumedAt)))
        .returning({ grantId: oauthStore.grantId });
      if (consumed.length) return;
      // Someone consumed it first: a replay, or a twin request racing this one.
      const [row] = await db.select({ grantId: oauthStore.grantId }).from(oauthStore).where(and(eq(oauthStore.model, this.model), eq(oauthStore.id, id)));
      if (row?.grantId) await revokeGrant(row.grantId, 'passport:reuse-detected');
      throw new errors.InvalidGrant(`${this.model === 'RefreshToken' ? 'refresh token' : 'authorization code'} already consumed`);
    }

    async destroy(id: string): Promise<void> {
      await db.delete(oauthStore).where(and(eq(oauthStore.model, this.model), eq(oauthStore.id, id)));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await revokeGrant(grantId, 'passport:grant-revoked');
    }
  };
}
