/** Queries and changes of the account subgraph. */
import crypto from 'node:crypto';
import { and, desc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import { uuidIn, type Db, type Executor } from '../../core/db.js';
import { badInput } from '../../core/errors.js';
import { recordEvents } from '../../messages/outbox.js';
import { passwordSignIn, signInRecorder } from '../../core/password-sign-in.js';
import { hashSecret } from '../../core/secrets.js';
import * as v from '../../core/validate.js';
import { oauthStoreKey } from './passport/store-key.js';
import { merchantAuthorizations, merchantStaff, merchants, oauthStore, outboxEvents, users, type MerchantAuthorizationRow, type MerchantRow, type UserRow } from './tables.js';

export type StaffSignIn = { ok: true; staffId: string; merchantId: string } | { ok: false; reason: 'invalid' | 'locked'; lockedUntil?: Date };

export function createAccountStore(db: Db) {
  const byIds = {
    merchants: db.select().from(merchants).where(uuidIn(merchants.id, 'ids')).prepare('account_merchants_by_ids'),
    users: db.select().from(users).where(uuidIn(users.id, 'ids')).prepare('account_users_by_ids'),
  };
  /**
   * The authorizations behind grants, in the order given (one statement; the gateway asks, cached
   * briefly): whether each is still in force, and when the merchant gave it; null for an unknown grant.
   */
  async function authorizationStates(grantIds: readonly string[]): Promise<({ active: boolean; authorizedAt: Date } | null)[]> {
    if (!grantIds.length) return [];
    const rows = await db
      .select({ grantId: merchantAuthorizations.grantId, authorizedAt: merchantAuthorizations.authorizedAt, revokedAt: merchantAuthorizations.revokedAt })
      .from(merchantAuthorizations)
      .where(inArray(merchantAuthorizations.grantId, [...new Set(grantIds)]));
    const byGrant = new Map(rows.map((r) => [r.grantId, { active: r.revokedAt === null, authorizedAt: r.authorizedAt }]));
    return grantIds.map((id) => byGrant.get(id) ?? null);
  }
  /** Whether the authorizations behind grants are still in force, in the order given. */
  async function authorizationsActive(grantIds: readonly string[]): Promise<boolean[]> {
    return (await authorizationStates(grantIds)).map((state) => state?.active === true);
  }

  return {
    async merchantsByIds(ids: readonly string[]): Promise<MerchantRow[]> {
      const wellFormed = ids.filter(v.isWellFormedId);
      return wellFormed.length ? byIds.merchants.execute({ ids: wellFormed }) : [];
    },

    async usersByIds(ids: readonly string[]): Promise<UserRow[]> {
      const wellFormed = ids.filter(v.isWellFormedId);
      return wellFormed.length ? byIds.users.execute({ ids: wellFormed }) : [];
    },

    async createMerchant(input: { id?: string; name: string; contactEmail: string; contactPhone?: string | null; isTest?: boolean; createdAt?: Date }): Promise<MerchantRow> {
      const now = input.createdAt ?? new Date();
      return db.transaction(async (tx) => {
        const [merchant] = await tx
          .insert(merchants)
          .values({
            id: input.id ?? crypto.randomUUID(),
            name: v.text(input.name, 'name', { max: 200 }),
            contactEmail: v.text(input.contactEmail, 'contactEmail', { max: 320 }),
            contactPhone: v.optionalText(input.contactPhone, 'contactPhone', 40),
            isTest: input.isTest ?? false,
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        await recordEvents(tx, outboxEvents, [
          { merchantId: merchant!.id, aggregateType: 'merchant', aggregateId: merchant!.id, type: 'merchant.registered', occurredAt: now, payload: { merchantId: merchant!.id, name: merchant!.name } },
        ]);
        return merchant!;
      });
    },

    async createStaff(input: { id?: string; merchantId: string; email: string; name: string; password: string }) {
      if (input.password.length < 10) throw badInput('A staff password has at least 10 characters', 'password');
      const [row] = await db
        .insert(merchantStaff)
        .values({ id: input.id ?? crypto.randomUUID(), merchantId: input.merchantId, email: v.text(input.email, 'email', { max: 320 }), name: v.text(input.name, 'name', { max: 200 }), passwordHash: await hashSecret(input.password) })
        .returning();
      return row!;
    },

    /** Checks a staff password (core/password-sign-in.ts: scrypt per attempt, lockout after repeated failures). */
    async staffSignIn(email: string, password: string): Promise<StaffSignIn> {
      const [staff] = await db.select().from(merchantStaff).where(sql`lower(${merchantStaff.email}) = lower(${email})`);
      const outcome = await passwordSignIn(staff, password, signInRecorder(db, merchantStaff, staff?.id ?? ''));
      return outcome.ok ? { ok: true, staffId: outcome.account.id, merchantId: outcome.account.merchantId } : outcome;
    },

    /** Who is signed in to the passport, as its consent page names them: the staff member and their shop. */
    async staffOfMerchant(staffId: string, merchantId: string): Promise<{ name: string; email: string; merchantName: string } | undefined> {
      if (!v.isWellFormedId(staffId) || !v.isWellFormedId(merchantId)) return undefined;
      const [row] = await db
        .select({ name: merchantStaff.name, email: merchantStaff.email, merchantName: merchants.name })
        .from(merchantStaff)
        .innerJoin(merchants, eq(merchants.id, merchantStaff.merchantId))
        .where(and(eq(merchantStaff.id, staffId), eq(merchantStaff.merchantId, merchantId)));
      return row;
    },

    async authorizationsOfMerchants(merchantIds: readonly string[]): Promise<MerchantAuthorizationRow[]> {
      const wellFormed = merchantIds.filter(v.isWellFormedId);
      if (!wellFormed.length) return [];
      return db.select().from(merchantAuthorizations).where(inArray(merchantAuthorizations.merchantId, wellFormed)).orderBy(desc(merchantAuthorizations.authorizedAt));
    },

    /**
     * Revokes an authorization (only the given merchant's, unless merchantId is null for operators):
     * marks it revoked, voids every token of its grant in the passport's storage, and records the event.
     */
    async revokeAuthorization(grantId: string, by: string, merchantId: string | null, reason?: string | null): Promise<MerchantAuthorizationRow | undefined> {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(merchantAuthorizations)
          .set({ revokedAt: sql`coalesce(${merchantAuthorizations.revokedAt}, now())`, revokedBy: sql`coalesce(${merchantAuthorizations.revokedBy}, ${by})` })
          .where(and(eq(merchantAuthorizations.grantId, grantId), ...(merchantId ? [eq(merchantAuthorizations.merchantId, merchantId)] : [])))
          .returning();
        if (!row) return undefined;
        await tx.delete(oauthStore).where(or(eq(oauthStore.grantId, grantId), and(eq(oauthStore.model, 'Grant'), eq(oauthStore.id, oauthStoreKey(grantId)))));
        await recordEvents(tx, outboxEvents, [
          {
            merchantId: row.merchantId,
            aggregateType: 'authorization',
            aggregateId: grantId,
            type: 'authorization.revoked',
            payload: { merchantId: row.merchantId, appKey: row.appKey, revokedBy: row.revokedBy, ...(reason ? { reason } : {}) },
          },
        ]);
        return row;
      });
    },

    /** Records a merchant's consent: the passport grant, the app and what it may do. */
    async recordAuthorization(input: { grantId: string; merchantId: string; appKey: string; appName: string; scopes: string[]; authorizedBy: string | null }) {
      await db
        .insert(merchantAuthorizations)
        .values(input)
        .onConflictDoUpdate({ target: merchantAuthorizations.grantId, set: { scopes: input.scopes, authorizedAt: new Date(), revokedAt: null, revokedBy: null } });
    },

    /** Whether a merchant is a test merchant (a SANDBOX app may act only for those); false for an unknown one. */
    async merchantIsTest(merchantId: string): Promise<boolean> {
      if (!v.isWellFormedId(merchantId)) return false;
      const [row] = await db.select({ isTest: merchants.isTest }).from(merchants).where(eq(merchants.id, merchantId));
      return row?.isTest ?? false;
    },

    /** Whether the authorization behind a grant is still in force (the gateway asks, cached briefly). */
    async authorizationActive(grantId: string): Promise<boolean> {
      return (await authorizationsActive([grantId]))[0]!;
    },

    authorizationsActive,
    authorizationStates,

    /**
     * A bare `user.merged` event (the platform's user ids only, no app's identifiers) for each
     * merchant given. Real merges are written by user-merge.ts, with every app's own openid and
     * unionid; the message channel's tests use this one to put an account event in a stream.
     */
    async recordUserMerge(input: { mergedUserId: string; survivingUserId: string; merchantIds: readonly string[] }, tx: Executor = db): Promise<void> {
      if (input.mergedUserId === input.survivingUserId) throw badInput('A buyer cannot be merged into itself', 'survivingUserId');
      await recordEvents(
        tx,
        outboxEvents,
        [...new Set(input.merchantIds)].map((merchantId) => ({
          merchantId,
          aggregateType: 'user',
          aggregateId: input.survivingUserId,
          type: 'user.merged',
          payload: { mergedUserId: input.mergedUserId, survivingUserId: input.survivingUserId },
        })),
      );
    },

    async createUsers(input: { id?: string; nickname: string; createdAt?: Date }[]): Promise<UserRow[]> {
      if (!input.length) return [];
      return db
        .insert(users)
        .values(input.map((u) => ({ id: u.id ?? crypto.randomUUID(), nickname: v.text(u.nickname, 'nickname', { max: 64 }), ...(u.createdAt ? { createdAt: u.createdAt } : {}) })))
        .returning();
    },
  };
}

export type AccountStore = ReturnType<typeof createAccountStore>;
