/**
 * Merchant staff's sessions on the merchant page (/merchant): sign-in with the passport's staff
 * password check (store.staffSignIn: the same slow-down and lockout as the consent pages), a session
 * of STAFF_SESSION_TTL_MS, its lookup by the gateway, sign-out; and the signed-in staff member
 * (Query.viewerStaff).
 *
 * The gateway makes the session token and sends only its SHA-256, which is all this service keeps
 * (a 256-bit random value needs no salt or stretching): a copy of the table opens no session.
 */
import crypto from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import { badInput, forbidden } from '../../core/errors.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import type { AccountLoaders } from './loaders.js';
import type { AccountStore } from './store.js';
import { merchantStaff, merchants, staffSessions } from './tables.js';

/** A merchant page session lasts this long from sign-in (the cookie's Max-Age too): a working day. */
export const STAFF_SESSION_TTL_MS = 8 * 3_600_000;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A live session as the gateway needs it: who, for which merchant, until when. */
export interface StaffSessionView {
  staffId: string;
  name: string;
  email: string;
  merchantId: string;
  merchantName: string;
  expiresAt: Date;
}

export type StaffSignInOutcome = 'OK' | 'INVALID' | 'LOCKED';

export function createStaffSessions(options: { db: Db; store: AccountStore; clock: Clock }) {
  const { db, store, clock } = options;
  const now = () => new Date(clock.now());

  /** The staff member and their merchant, as a session names them. */
  async function staffView(staffId: string): Promise<Omit<StaffSessionView, 'expiresAt'> | undefined> {
    const [row] = await db
      .select({ staffId: merchantStaff.id, name: merchantStaff.name, email: merchantStaff.email, merchantId: merchants.id, merchantName: merchants.name })
      .from(merchantStaff)
      .innerJoin(merchants, eq(merchants.id, merchantStaff.merchantId))
      .where(eq(merchantStaff.id, staffId));
    return row;
  }

  return {
    /** Checks the password (locked as the passport's staff sign-in) and opens a session under `sessionTokenHash`. */
    async signIn(email: string, password: string, sessionTokenHash: string): Promise<{ outcome: StaffSignInOutcome; lockedUntil?: Date; session?: StaffSessionView }> {
      if (!SHA256_HEX.test(sessionTokenHash)) throw badInput('sessionTokenHash is a SHA-256 in hex', 'sessionTokenHash');
      const checked = await store.staffSignIn(email, password);
      if (!checked.ok) return checked.reason === 'locked' ? { outcome: 'LOCKED', ...(checked.lockedUntil ? { lockedUntil: checked.lockedUntil } : {}) } : { outcome: 'INVALID' };
      const expiresAt = new Date(clock.now() + STAFF_SESSION_TTL_MS);
      await db.insert(staffSessions).values({ id: crypto.randomUUID(), tokenHash: sessionTokenHash, staffId: checked.staffId, createdAt: now(), expiresAt });
      const staff = await staffView(checked.staffId);
      return { outcome: 'OK', session: { ...staff!, expiresAt } };
    },

    /** The live session under this hash (not signed out, not expired), with its staff member and merchant. */
    async session(tokenHash: string): Promise<StaffSessionView | null> {
      if (!SHA256_HEX.test(tokenHash)) return null;
      const [row] = await db
        .select({ staffId: merchantStaff.id, name: merchantStaff.name, email: merchantStaff.email, merchantId: merchants.id, merchantName: merchants.name, expiresAt: staffSessions.expiresAt })
        .from(staffSessions)
        .innerJoin(merchantStaff, eq(merchantStaff.id, staffSessions.staffId))
        .innerJoin(merchants, eq(merchants.id, merchantStaff.merchantId))
        .where(and(eq(staffSessions.tokenHash, tokenHash), isNull(staffSessions.revokedAt), gt(staffSessions.expiresAt, now())));
      return row ?? null;
    },

    async signOut(tokenHash: string): Promise<boolean> {
      if (!SHA256_HEX.test(tokenHash)) return false;
      const ended = await db
        .update(staffSessions)
        .set({ revokedAt: now() })
        .where(and(eq(staffSessions.tokenHash, tokenHash), isNull(staffSessions.revokedAt)))
        .returning({ id: staffSessions.id });
      return ended.length > 0;
    },

    /** The staff member of a staff caller, only as one of the caller's own merchant. */
    async staffOf(caller: Caller) {
      if (!caller.staffId || !v.isWellFormedId(caller.staffId)) return null;
      const staff = await staffView(caller.staffId);
      return staff && staff.merchantId === caller.merchantId ? staff : null;
    },
  };
}

export type StaffSessions = ReturnType<typeof createStaffSessions>;

type Context = SubgraphContext<AccountLoaders>;
const internal = (caller: Caller) => {
  if (caller.kind !== 'system') throw forbidden('Internal');
};

/** Query.viewerStaff, MerchantStaff, and the gateway's internal session operations. */
export function createStaffSessionResolvers(sessions: StaffSessions) {
  return {
    Query: {
      viewerStaff: (_: unknown, __: unknown, ctx: Context) => {
        if (ctx.caller.kind !== 'staff') throw forbidden('Merchant staff signed in to the merchant page only');
        return sessions.staffOf(ctx.caller);
      },
      staffSession: (_: unknown, args: { tokenHash: string }, ctx: Context) => {
        internal(ctx.caller);
        return sessions.session(args.tokenHash);
      },
    },
    Mutation: {
      staffSignIn: async (_: unknown, args: { email: string; password: string; sessionTokenHash: string }, ctx: Context) => {
        internal(ctx.caller);
        const result = await sessions.signIn(args.email, args.password, args.sessionTokenHash);
        return { outcome: result.outcome, lockedUntil: result.lockedUntil ?? null, session: result.session ?? null };
      },
      staffSignOut: (_: unknown, args: { tokenHash: string }, ctx: Context) => {
        internal(ctx.caller);
        return sessions.signOut(args.tokenHash);
      },
    },
    MerchantStaff: {
      id: (staff: { staffId: string }) => staff.staffId,
      // Through the loader that shows a caller its own merchant only.
      merchant: (staff: { merchantId: string }, _: unknown, ctx: Context) => ctx.loaders.merchant.load(staff.merchantId),
    },
  };
}
