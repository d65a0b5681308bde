/**
 * Password sign-in with lockout, for people (merchant staff, operators): one scrypt per attempt,
 * an unknown account costing the same as a wrong password, and after MAX_FAILED_SIGN_INS failures
 * in a row the account locks for LOCK_MINUTES, even against the right password (each further
 * failure before a successful sign-in locks it again).
 */
import crypto from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { integer, text, timestamp, type PgColumn, type PgTableWithColumns } from 'drizzle-orm/pg-core';
import type { Db } from './db.js';
import { hashSecret, verifySecret } from './secrets.js';

export const MAX_FAILED_SIGN_INS = 5;
export const LOCK_MINUTES = 15;

export interface PasswordAccount {
  passwordHash: string;
  failedSignIns: number;
  lockedUntil: Date | null;
}

export type SignInOutcome<A> = { ok: true; account: A } | { ok: false; reason: 'invalid' | 'locked'; lockedUntil?: Date };

/**
 * Writes the outcome of an attempt, atomically in the database, so attempts sent in parallel can
 * neither lose each other's failures nor clear a lock another one just set.
 */
export interface SignInRecorder {
  /** Adds one failure; the MAX_FAILED_SIGN_INS-th in a row (and each one after it) locks the account. */
  failed(): Promise<void>;
  /** Clears the failures unless the account is locked now; the lock that holds otherwise. */
  succeeded(): Promise<{ ok: true } | { ok: false; lockedUntil: Date }>;
}

/** A hash nobody's password matches, so an unknown account takes as long to refuse as a wrong password. */
let decoyHash: Promise<string> | undefined;

export async function passwordSignIn<A extends PasswordAccount>(account: A | undefined, password: string, record: SignInRecorder): Promise<SignInOutcome<A>> {
  const valid = await verifySecret(password, account?.passwordHash ?? (await (decoyHash ??= hashSecret(crypto.randomBytes(16).toString('hex')))));
  if (!account) return { ok: false, reason: 'invalid' };
  if (account.lockedUntil && account.lockedUntil > new Date()) return { ok: false, reason: 'locked', lockedUntil: account.lockedUntil };
  if (!valid) {
    await record.failed();
    return { ok: false, reason: 'invalid' };
  }
  // The lock is checked again where it is cleared: a right guess among many sent at once does not
  // get in once the wrong ones have locked the account.
  const cleared = await record.succeeded();
  if (!cleared.ok) return { ok: false, reason: 'locked', lockedUntil: cleared.lockedUntil };
  return { ok: true, account };
}

/** The table of people who sign in with a password: its id and the columns of passwordAccountColumns. */
type PasswordTable = PgTableWithColumns<any> & { id: PgColumn; failedSignIns: PgColumn; lockedUntil: PgColumn };

/** The SignInRecorder of one account of such a table. */
export function signInRecorder(db: Db, table: PasswordTable, id: string): SignInRecorder {
  return {
    async failed() {
      await db
        .update(table)
        .set({
          failedSignIns: sql`${table.failedSignIns} + 1`,
          lockedUntil: sql`case when ${table.failedSignIns} + 1 >= ${MAX_FAILED_SIGN_INS} then now() + make_interval(mins => ${LOCK_MINUTES}) else ${table.lockedUntil} end`,
        })
        .where(eq(table.id, id));
    },
    async succeeded() {
      const cleared = await db
        .update(table)
        .set({ failedSignIns: 0, lockedUntil: null })
        .where(and(eq(table.id, id), sql`(${table.lockedUntil} is null or ${table.lockedUntil} <= now())`))
        .returning({ id: table.id });
      if (cleared.length) return { ok: true };
      const [row] = (await db.select({ lockedUntil: table.lockedUntil }).from(table).where(eq(table.id, id))) as { lockedUntil: Date | null }[];
      return { ok: false, lockedUntil: row?.lockedUntil ?? new Date(Date.now() + LOCK_MINUTES * 60_000) };
    },
  };
}

/** The columns a table of people who sign in with a password needs (staff, operators). Call once per table. */
export function passwordAccountColumns() {
  return {
    email: text('email').notNull(),
    name: text('name').notNull(),
    passwordHash: text('password_hash').notNull(),
    failedSignIns: integer('failed_sign_ins').notNull().default(0),
    lockedUntil: timestamp('locked_until', { withTimezone: true, precision: 3 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  };
}
