/**
 * Bind-or-login: the one entry through which a buyer is recognized, linked or created (never a
 * separate "bind" and "login", the account-system article's hard-won rule). It takes the app (by its
 * key, never a kind of app), what the app knows of the person (an openid of its own, its developer's
 * unionid, a guest id it gave for a visitor) and the platform's user id when the person signed in,
 * and in one transaction:
 * 1. de-duplicates: each identifier names a buyer (a merged one names its survivor), and the same
 *    buyer named twice is one;
 * 2. refuses two real buyers: an account is never bound to an identity another account holds
 *    (CONFLICT, nothing changes);
 * 3. recognizes or creates: no buyer named, a new one (virtual for a guest);
 * 4. links: the other buyers named (virtual ones) merge into the survivor, a real buyer before any
 *    virtual one, else the earliest (user-merge.ts), and the guest id points at it;
 * 5. de-duplicates again: every identifier given must now name the survivor, or nothing is kept;
 * 6. answers the survivor, with its openid and unionid for the app, minted if new.
 * Calls for the same person are serialized by transaction-scoped advisory locks on each identifier
 * and row locks on the buyers, so concurrent calls create one buyer and merge once.
 */
import crypto from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Clock } from '../../core/clock.js';
import type { Db, Executor } from '../../core/db.js';
import { badInput, conflict, notFound } from '../../core/errors.js';
import * as v from '../../core/validate.js';
import { openidsFor, unionidsFor, userOfOpenid, userOfUnionid, survivingUsers, type AppIdentity } from './identities.js';
import { mergeUsers, survivorAmong } from './user-merge.js';
import { guestIds, userMerchants, users, type UserRow } from './tables.js';

export interface BindOrLoginInput {
  app: AppIdentity;
  /** An openid of this app (another app's is NOT_FOUND). */
  openid?: string | null | undefined;
  /** A unionid of the app's developer. */
  unionid?: string | null | undefined;
  /** The device or session id the app gave for a visitor who has not signed in. */
  guestId?: string | null | undefined;
  /** The platform's user id of a buyer who just signed in (the passport's own call). */
  userId?: string | null | undefined;
  /** The merchant the app acts for, if any: it now knows the buyer (a merge is broadcast there). */
  merchantId?: string | null | undefined;
}

export interface BindOrLoginResult {
  user: UserRow;
  openid: string;
  unionid: string;
  /** A new buyer was created (a guest seen for the first time). */
  created: boolean;
  /** The merges this call made. */
  mergeIds: string[];
}

const GUEST_ID = /^[\x21-\x7e]{1,128}$/;

export function createBindOrLogin(db: Db, clock: Clock, onMerged: () => void = () => {}) {
  /** Locks an identifier for this transaction: calls naming the same one run one after another. */
  const lockKey = (tx: Executor, key: string) => tx.execute(sql`select pg_advisory_xact_lock(hashtext('account.identity'), hashtext(${key}))`);

  async function named(tx: Executor, input: BindOrLoginInput): Promise<UserRow[]> {
    const found: (UserRow | undefined)[] = [];
    if (input.openid != null) {
      const user = await userOfOpenid(tx, input.app.appKey, input.openid);
      if (!user) throw notFound('Buyer', input.openid);
      found.push(user);
    }
    if (input.unionid != null) {
      const user = await userOfUnionid(tx, input.app.developerId, input.unionid);
      if (!user) throw notFound('Buyer', input.unionid);
      found.push(user);
    }
    if (input.userId != null) {
      const user = (await survivingUsers(tx, [input.userId])).get(input.userId.toLowerCase());
      if (!user) throw notFound('User', input.userId);
      found.push(user);
    }
    if (input.guestId != null) {
      const [guest] = await tx.select({ userId: guestIds.userId }).from(guestIds).where(and(eq(guestIds.appKey, input.app.appKey), eq(guestIds.guestId, input.guestId)));
      if (guest) found.push((await survivingUsers(tx, [guest.userId])).get(guest.userId));
    }
    // De-duplication before linking: the same buyer named twice is one.
    const byId = new Map(found.filter((u): u is UserRow => !!u).map((u) => [u.id, u]));
    return [...byId.values()];
  }

  return async function bindOrLogin(input: BindOrLoginInput): Promise<BindOrLoginResult> {
    if (input.guestId != null && !GUEST_ID.test(input.guestId)) throw badInput('A guest id is 1 to 128 printable ASCII characters', 'guestId');
    if (input.openid == null && input.unionid == null && input.guestId == null && input.userId == null) throw badInput('Give an openid, a unionid or a guest id', 'openid');
    if (input.merchantId != null) v.id(input.merchantId, 'merchantId');
    const now = new Date(clock.now());
    const result = await db.transaction(async (tx) => {
      const keys = [
        input.openid != null ? `openid:${input.openid}` : null,
        input.unionid != null ? `unionid:${input.unionid}` : null,
        input.guestId != null ? `guest:${input.app.appKey}:${input.guestId}` : null,
        input.userId != null ? `user:${input.userId.toLowerCase()}` : null,
      ]
        .filter((k): k is string => !!k)
        .sort();
      for (const key of keys) await lockKey(tx, key);

      let candidates = await named(tx, input);
      // Lock the buyers (in id order, so two calls never wait on each other crosswise), then look
      // again: a merge that committed meanwhile may have changed who they are.
      for (let attempt = 0; ; attempt++) {
        const ids = candidates.map((c) => c.id).sort();
        const locked = ids.length ? await tx.select().from(users).where(inArray(users.id, ids)).orderBy(users.id).for('update') : [];
        if (locked.every((u) => !u.mergedInto)) {
          candidates = locked;
          break;
        }
        if (attempt > 5) throw conflict('The buyer is being merged; try again', { retryable: true });
        candidates = await named(tx, input);
      }

      const real = candidates.filter((u) => !u.isVirtual);
      if (real.length > 1) throw conflict('These identifiers belong to two different signed-in buyers: an account is never bound to an identity another account holds', { field: 'unionid' });

      let created = false;
      let survivor: UserRow;
      if (!candidates.length) {
        if (input.guestId == null) throw notFound('Buyer', input.openid ?? input.unionid ?? '');
        [survivor] = (await tx.insert(users).values({ id: crypto.randomUUID(), nickname: 'Guest', isVirtual: true, createdAt: now }).returning()) as [UserRow];
        created = true;
      } else survivor = survivorAmong(candidates);

      const mergeIds: string[] = [];
      for (const other of candidates) if (other.id !== survivor.id) mergeIds.push(await mergeUsers(tx, other, survivor, now));

      if (input.guestId != null) {
        await tx
          .insert(guestIds)
          .values({ appKey: input.app.appKey, guestId: input.guestId, userId: survivor.id, createdAt: now })
          .onConflictDoUpdate({ target: [guestIds.appKey, guestIds.guestId], set: { userId: survivor.id } });
      }
      if (input.merchantId != null) await tx.insert(userMerchants).values({ userId: survivor.id, merchantId: input.merchantId.toLowerCase() }).onConflictDoNothing();
      const openid = (await openidsFor(tx, [survivor.id], input.app)).get(survivor.id)!;
      const unionid = (await unionidsFor(tx, [survivor.id], input.app.developerId)).get(survivor.id)!;

      // De-duplication after linking: everything given names the survivor now, or nothing is kept.
      const after = await named(tx, { ...input, userId: null });
      if (after.some((u) => u.id !== survivor.id)) throw new Error('bind-or-login left an identifier naming another buyer');
      return { user: survivor, openid, unionid, created, mergeIds };
    });
    if (result.mergeIds.length) onMerged();
    return result;
  };
}

export type BindOrLogin = ReturnType<typeof createBindOrLogin>;
