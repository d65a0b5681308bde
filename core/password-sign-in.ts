/**
 * Password sign-in with lockout, for people (merchant staff, operators): one scrypt per attempt,
 * an unknown account costing the same as a wrong password, and after MAX_FAILED_SIGN_INS failures
 * in a row the account locks for LOCK_MINUTES, even against the right password.
 */
import crypto from 'node:crypto';
import { integer, text, timestamp } from 'drizzle-orm/pg-core';
import { hashSecret, verifySecret } from './secrets.js';

export const MAX_FAILED_SIGN_INS = 5;
export const LOCK_MINUTES = 15;

export interface PasswordAccount {
  passwordHash: string;
  failedSignIns: number;
  lockedUntil: Date | null;
}

export type SignInOutcome<A> = { ok: true; account: A } | { ok: false; reason: 'invalid' | 'locked'; lockedUntil?: Date };

/** A hash nobody's password matches, so an unknown account takes as long to refuse as a wrong password. */
let decoyHash: Promise<string> | undefined;

export async function passwordSignIn<A extends PasswordAccount>(
  account: A | undefined,
  password: string,
  /** Stores the new failure count and lock, or clears both (failures 0, lockedUntil null). */
  record: (failedSignIns: number, lockedUntil: Date | null) => Promise<void>,
): Promise<SignInOutcome<A>> {
  const valid = await verifySecret(password, account?.passwordHash ?? (await (decoyHash ??= hashSecret(crypto.randomBytes(16).toString('hex')))));
  if (!account) return { ok: false, reason: 'invalid' };
  if (account.lockedUntil && account.lockedUntil > new Date()) return { ok: false, reason: 'locked', lockedUntil: account.lockedUntil };
  if (!valid) {
    const failures = account.failedSignIns + 1;
    const locks = failures >= MAX_FAILED_SIGN_INS;
    await record(locks ? 0 : failures, locks ? new Date(Date.now() + LOCK_MINUTES * 60_000) : null);
    return { ok: false, reason: 'invalid' };
  }
  if (account.failedSignIns || account.lockedUntil) await record(0, null);
  return { ok: true, account };
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
