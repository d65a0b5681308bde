/**
 * Buyers' identifiers as apps see them: an openid per (buyer, app) and a unionid per (buyer,
 * developer). Both are random (nothing of the platform's user id is in them), minted the first time
 * an app sees the buyer and stored, so they stay the same across sign-ins, token renewals and
 * merges; unique constraints hold the one-to-one both ways (a second mint for the same pair does
 * nothing, and the stored one is read back). An openid is only ever looked up within its own app,
 * a unionid within its own developer: another app's openid finds nobody.
 */
import crypto from 'node:crypto';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { uuidIn, type Db, type Executor } from '../../core/db.js';
import * as v from '../../core/validate.js';
import type { AppDirectory } from './app-directory.js';
import { appOpenids, developerUnionids, guestIds, users, type UserRow } from './tables.js';

/** An app as identities need it: its key, and its developer (whose apps share a unionid). */
export interface AppIdentity {
  appKey: string;
  developerId: string;
}

const newOpenid = () => `o${crypto.randomBytes(18).toString('base64url')}`;
const newUnionid = () => `u${crypto.randomBytes(18).toString('base64url')}`;
/** What an openid or unionid looks like (anything else finds nobody without a query). */
const IDENTIFIER = /^[ou][A-Za-z0-9_-]{24}$/;
export const isIdentifier = (value: string, kind: 'o' | 'u') => IDENTIFIER.test(value) && value[0] === kind;

/** The surviving buyer of a merged one (merges point every merged buyer straight at the survivor). */
export const survivorOf = (user: Pick<UserRow, 'id' | 'mergedInto'>) => user.mergedInto ?? user.id;

/**
 * Each buyer's openid for the app, minted for those who have none yet; keyed by user id. With the
 * merchant the app acts for, the buyers it sees the first time are recorded as known there (a merge
 * of theirs is broadcast to that merchant's apps).
 */
export async function openidsFor(db: Executor, userIds: readonly string[], app: AppIdentity, merchantId?: string | null): Promise<Map<string, string>> {
  const ids = [...new Set(userIds)];
  if (!ids.length) return new Map();
  const read = () =>
    db
      .select({ userId: appOpenids.userId, openid: appOpenids.openid })
      .from(appOpenids)
      .where(and(inArray(appOpenids.userId, ids), eq(appOpenids.appKey, app.appKey), isNull(appOpenids.retiredAt)));
  let rows = await read();
  if (rows.length < ids.length) {
    const have = new Set(rows.map((r) => r.userId));
    const missing = ids.filter((id) => !have.has(id)).map((id) => ({ u: id, o: newOpenid() }));
    await db.execute(sql`insert into account.app_openids (openid, user_id, app_key, developer_id)
      select r.o, r.u, ${app.appKey}, ${app.developerId} from jsonb_to_recordset(${JSON.stringify(missing)}::jsonb) as r(u uuid, o text)
      on conflict (user_id, app_key) where retired_at is null do nothing`);
    if (merchantId && v.isWellFormedId(merchantId)) {
      await db.execute(sql`insert into account.user_merchants (user_id, merchant_id)
        select r.u, ${merchantId.toLowerCase()}::uuid from jsonb_to_recordset(${JSON.stringify(missing)}::jsonb) as r(u uuid) on conflict do nothing`);
    }
    rows = await read();
  }
  return new Map(rows.map((r) => [r.userId, r.openid]));
}

/** Each buyer's unionid for the developer, minted for those who have none yet; keyed by user id. */
export async function unionidsFor(db: Executor, userIds: readonly string[], developerId: string): Promise<Map<string, string>> {
  const ids = [...new Set(userIds)];
  if (!ids.length) return new Map();
  const read = () =>
    db
      .select({ userId: developerUnionids.userId, unionid: developerUnionids.unionid })
      .from(developerUnionids)
      .where(and(inArray(developerUnionids.userId, ids), eq(developerUnionids.developerId, developerId), isNull(developerUnionids.retiredAt)));
  let rows = await read();
  if (rows.length < ids.length) {
    const have = new Set(rows.map((r) => r.userId));
    const missing = ids.filter((id) => !have.has(id)).map((id) => ({ u: id, n: newUnionid() }));
    await db.execute(sql`insert into account.developer_unionids (unionid, user_id, developer_id)
      select r.n, r.u, ${developerId} from jsonb_to_recordset(${JSON.stringify(missing)}::jsonb) as r(u uuid, n text)
      on conflict (user_id, developer_id) where retired_at is null do nothing`);
    rows = await read();
  }
  return new Map(rows.map((r) => [r.userId, r.unionid]));
}

/**
 * Each buyer's openid for the app and unionid for its developer, read in one statement (what a page
 * of orders with their buyers' identifiers costs: one query); those missing are minted first.
 */
export async function identitiesFor(db: Executor, userIds: readonly string[], app: AppIdentity, merchantId?: string | null): Promise<Map<string, { openid: string; unionid: string }>> {
  const ids = [...new Set(userIds.filter(v.isWellFormedId))];
  if (!ids.length) return new Map();
  const read = async () =>
    rowsOf<{ id: string; openid: string | null; unionid: string | null }>(
      await db.execute(sql`select u.id, o.openid, n.unionid from unnest(${`{${ids.join(',')}}`}::uuid[]) as u(id)
        left join account.app_openids o on o.user_id = u.id and o.app_key = ${app.appKey} and o.retired_at is null
        left join account.developer_unionids n on n.user_id = u.id and n.developer_id = ${app.developerId} and n.retired_at is null`),
    );
  let rows = await read();
  if (rows.some((r) => !r.openid || !r.unionid)) {
    const missingOpenids = rows.filter((r) => !r.openid).map((r) => r.id);
    const missingUnionids = rows.filter((r) => !r.unionid).map((r) => r.id);
    if (missingOpenids.length) await openidsFor(db, missingOpenids, app, merchantId);
    if (missingUnionids.length) await unionidsFor(db, missingUnionids, app.developerId);
    rows = await read();
  }
  return new Map(rows.filter((r) => r.openid && r.unionid).map((r) => [r.id, { openid: r.openid!, unionid: r.unionid! }]));
}

/**
 * The reads of a page of buyers as prepared statements (planned once per connection): the users
 * (a merged one's survivor follows only when there is one), and their identifiers for an app.
 */
export function createIdentityReads(db: Db) {
  const usersByIds = db.select().from(users).where(uuidIn(users.id, 'ids')).prepare('account_identity_users_by_ids');
  const identitiesByIds = db
    .select({ id: users.id, openid: appOpenids.openid, unionid: developerUnionids.unionid })
    .from(users)
    .leftJoin(appOpenids, and(eq(appOpenids.userId, users.id), eq(appOpenids.appKey, sql.placeholder('app')), isNull(appOpenids.retiredAt)))
    .leftJoin(developerUnionids, and(eq(developerUnionids.userId, users.id), eq(developerUnionids.developerId, sql.placeholder('developer')), isNull(developerUnionids.retiredAt)))
    .where(uuidIn(users.id, 'ids'))
    .prepare('account_identities_by_ids');
  const usersWithIdentitiesByIds = db
    .select({ user: users, openid: appOpenids.openid, unionid: developerUnionids.unionid })
    .from(users)
    .leftJoin(appOpenids, and(eq(appOpenids.userId, users.id), eq(appOpenids.appKey, sql.placeholder('app')), isNull(appOpenids.retiredAt)))
    .leftJoin(developerUnionids, and(eq(developerUnionids.userId, users.id), eq(developerUnionids.developerId, sql.placeholder('developer')), isNull(developerUnionids.retiredAt)))
    .where(uuidIn(users.id, 'ids'))
    .prepare('account_identity_users_with_identities_by_ids');
  const reads = {
    /**
     * The buyers with their identifiers for the app, in one statement when none was merged and the
     * app has seen them all before (a page of orders with their buyers' openids: one query); else
     * through survivingUsers and identities.
     */
    async usersWithIdentities(userIds: readonly string[], app: AppIdentity, merchantId?: string | null): Promise<Map<string, { user: UserRow; openid: string; unionid: string }>> {
      const ids = [...new Set(userIds.filter(v.isWellFormedId).map((id) => id.toLowerCase()))];
      if (!ids.length) return new Map();
      const rows = await usersWithIdentitiesByIds.execute({ ids, app: app.appKey, developer: app.developerId });
      if (rows.every((r) => !r.user.mergedInto && r.openid && r.unionid)) return new Map(rows.map((r) => [r.user.id, { user: r.user, openid: r.openid!, unionid: r.unionid! }]));
      const byId = await reads.survivingUsers(ids);
      const identities = await reads.identities([...new Set([...byId.values()].map((u) => u.id))], app, merchantId);
      const found = new Map<string, { user: UserRow; openid: string; unionid: string }>();
      for (const [id, user] of byId) {
        const identity = identities.get(user.id);
        if (identity) found.set(id, { user, ...identity });
      }
      return found;
    },
    /** survivingUsers, the first read prepared. */
    async survivingUsers(userIds: readonly string[]): Promise<Map<string, UserRow>> {
      const ids = [...new Set(userIds.filter(v.isWellFormedId).map((id) => id.toLowerCase()))];
      if (!ids.length) return new Map();
      const rows = await usersByIds.execute({ ids });
      if (rows.every((r) => !r.mergedInto)) return new Map(rows.map((r) => [r.id, r]));
      return survivingUsers(db, ids);
    },
    /** identitiesFor, the read prepared; minting (rare) goes through identitiesFor. */
    async identities(userIds: readonly string[], app: AppIdentity, merchantId?: string | null): Promise<Map<string, { openid: string; unionid: string }>> {
      const ids = [...new Set(userIds.filter(v.isWellFormedId))];
      if (!ids.length) return new Map();
      const rows = await identitiesByIds.execute({ ids, app: app.appKey, developer: app.developerId });
      if (rows.length === ids.length && rows.every((r) => r.openid && r.unionid)) return new Map(rows.map((r) => [r.id, { openid: r.openid!, unionid: r.unionid! }]));
      return identitiesFor(db, ids, app, merchantId);
    },
  };
  return reads;
}

const rowsOf = <T>(result: unknown): T[] => ((result as { rows?: T[] }).rows ?? (result as T[]));

/**
 * The buyer an app's openid names (the survivor, if that buyer was merged), or undefined: an openid
 * of another app, or none at all, is nobody. A retired openid (its buyer merged into one that had
 * its own) still finds the person.
 */
export async function userOfOpenid(db: Executor, appKey: string, openid: string): Promise<UserRow | undefined> {
  if (!isIdentifier(openid, 'o')) return undefined;
  const [row] = await db
    .select({ user: users })
    .from(appOpenids)
    .innerJoin(users, eq(users.id, appOpenids.userId))
    .where(and(eq(appOpenids.openid, openid), eq(appOpenids.appKey, appKey)));
  return row ? survivingUser(db, row.user) : undefined;
}

/** The buyer a developer's unionid names (the survivor, if merged), or undefined (another developer's: nobody). */
export async function userOfUnionid(db: Executor, developerId: string, unionid: string): Promise<UserRow | undefined> {
  if (!isIdentifier(unionid, 'u')) return undefined;
  const [row] = await db
    .select({ user: users })
    .from(developerUnionids)
    .innerJoin(users, eq(users.id, developerUnionids.userId))
    .where(and(eq(developerUnionids.unionid, unionid), eq(developerUnionids.developerId, developerId)));
  return row ? survivingUser(db, row.user) : undefined;
}

/** The buyer an app's guest id names (the survivor, if merged), or undefined. */
export async function userOfGuest(db: Executor, appKey: string, guestId: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select({ user: users })
    .from(guestIds)
    .innerJoin(users, eq(users.id, guestIds.userId))
    .where(and(eq(guestIds.appKey, appKey), eq(guestIds.guestId, guestId)));
  return row ? survivingUser(db, row.user) : undefined;
}

/** The buyers of these ids as they are now: a merged one as its survivor; keyed by the id asked. */
export async function survivingUsers(db: Executor, userIds: readonly string[]): Promise<Map<string, UserRow>> {
  const ids = [...new Set(userIds.filter(v.isWellFormedId).map((id) => id.toLowerCase()))];
  if (!ids.length) return new Map();
  const rows = await db.select().from(users).where(inArray(users.id, ids));
  const survivorIds = [...new Set(rows.filter((r) => r.mergedInto).map((r) => r.mergedInto!))];
  const survivors = new Map((survivorIds.length ? await db.select().from(users).where(inArray(users.id, survivorIds)) : []).map((r) => [r.id, r]));
  return new Map(rows.map((r) => [r.id, r.mergedInto ? (survivors.get(r.mergedInto) ?? r) : r]));
}

async function survivingUser(db: Executor, user: UserRow): Promise<UserRow> {
  if (!user.mergedInto) return user;
  const [survivor] = await db.select().from(users).where(eq(users.id, user.mergedInto));
  return survivor ?? user;
}

/** The buyer's identifiers for the passport's ID tokens: the survivor's, for the app and its developer. */
export function passportIdentities(db: Executor, apps: AppDirectory) {
  async function appOf(appKey: string): Promise<AppIdentity> {
    const developerId = await apps.developerOf(appKey);
    if (!developerId) throw new Error(`unknown app ${appKey}`);
    return { appKey, developerId };
  }
  return {
    async openidOf(userId: string, appKey: string): Promise<string | undefined> {
      const user = (await survivingUsers(db, [userId])).get(userId.toLowerCase());
      return user ? (await openidsFor(db, [user.id], await appOf(appKey))).get(user.id) : undefined;
    },
    async claimsOf(userId: string, appKey: string): Promise<{ unionid: string; nickname: string } | undefined> {
      const user = (await survivingUsers(db, [userId])).get(userId.toLowerCase());
      if (!user) return undefined;
      const unionid = (await unionidsFor(db, [user.id], (await appOf(appKey)).developerId)).get(user.id);
      return unionid ? { unionid, nickname: user.nickname } : undefined;
    },
  };
}
