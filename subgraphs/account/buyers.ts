/**
 * Buyer accounts: a buyer registers on the passport with an email, a name and a password, proves
 * the email with a code sent to it, and then signs in with the same slow-down and lockout as merchant
 * staff (core/password-sign-in.ts). A buyer account is a real user: merges always keep it.
 */
import crypto from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import { PorticoError, ErrorCode, badInput } from '../../core/errors.js';
import { passwordSignIn, signInRecorder } from '../../core/password-sign-in.js';
import { hashSecret } from '../../core/secrets.js';
import * as v from '../../core/validate.js';
import { buyerAccounts, users } from './tables.js';

/** How long an emailed verification code works. */
export const VERIFICATION_MINUTES = 30;
/** Codes are 8 characters of this alphabet (no look-alikes): about 40 bits, and wrong guesses lock the account. */
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export type BuyerSignIn = { ok: true; userId: string } | { ok: false; reason: 'invalid' | 'locked' | 'unverified'; lockedUntil?: Date };

const codeHash = (code: string) => crypto.createHash('sha256').update(code.trim().toUpperCase()).digest('base64url');

function newCode(): string {
  const bytes = crypto.randomBytes(8);
  return Array.from(bytes, (b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('');
}

export function createBuyerAccounts(db: Db, clock: Clock) {
  const byEmail = async (email: string) => (await db.select().from(buyerAccounts).where(sql`lower(${buyerAccounts.email}) = lower(${email})`))[0];

  return {
    /**
     * Registers a buyer: a real user and an unverified account, and the code to email. An email
     * already registered and verified is a CONFLICT; one registered but never verified gets a new
     * code and password (whoever can read the mailbox owns it).
     */
    async register(input: { email: string; name: string; password: string }): Promise<{ userId: string; code: string }> {
      const email = v.text(input.email, 'email', { max: 320 });
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw badInput('Enter an email address', 'email');
      const name = v.text(input.name, 'name', { max: 64 });
      if (input.password.length < 10) throw badInput('A password has at least 10 characters', 'password');
      const passwordHash = await hashSecret(input.password);
      const code = newCode();
      const expiresAt = new Date(clock.now() + VERIFICATION_MINUTES * 60_000);
      return db.transaction(async (tx) => {
        const [existing] = await tx.select().from(buyerAccounts).where(sql`lower(${buyerAccounts.email}) = lower(${email})`).for('update');
        if (existing?.emailVerifiedAt) throw new PorticoError(ErrorCode.CONFLICT, 'This email already has an account: sign in instead', { field: 'email' });
        if (existing) {
          await tx.update(buyerAccounts).set({ name, passwordHash, verificationHash: codeHash(code), verificationExpiresAt: expiresAt, failedSignIns: 0, lockedUntil: null }).where(eq(buyerAccounts.id, existing.id));
          await tx.update(users).set({ nickname: name }).where(eq(users.id, existing.id));
          return { userId: existing.id, code };
        }
        const userId = crypto.randomUUID();
        await tx.insert(users).values({ id: userId, nickname: name, isVirtual: false, createdAt: new Date(clock.now()) });
        await tx.insert(buyerAccounts).values({ id: userId, email, name, passwordHash, verificationHash: codeHash(code), verificationExpiresAt: expiresAt });
        return { userId, code };
      });
    },

    /** Checks an emailed code; a wrong one counts as a failed sign-in (so guessing locks the account). */
    async verify(email: string, code: string): Promise<BuyerSignIn> {
      const account = await byEmail(email);
      if (!account) return { ok: false, reason: 'invalid' };
      if (account.lockedUntil && account.lockedUntil.getTime() > clock.now()) return { ok: false, reason: 'locked', lockedUntil: account.lockedUntil };
      if (account.emailVerifiedAt) return { ok: true, userId: account.id };
      const expected = Buffer.from(account.verificationHash ?? '');
      const actual = Buffer.from(codeHash(code));
      const valid = expected.length === actual.length && crypto.timingSafeEqual(expected, actual) && !!account.verificationExpiresAt && account.verificationExpiresAt.getTime() > clock.now();
      if (!valid) {
        await signInRecorder(db, buyerAccounts, account.id).failed();
        return { ok: false, reason: 'invalid' };
      }
      await db
        .update(buyerAccounts)
        .set({ emailVerifiedAt: new Date(clock.now()), verificationHash: null, verificationExpiresAt: null, failedSignIns: 0 })
        .where(and(eq(buyerAccounts.id, account.id), eq(buyerAccounts.verificationHash, account.verificationHash!)));
      return { ok: true, userId: account.id };
    },

    /** Email and password; an account whose email is not verified yet cannot sign in. */
    async signIn(email: string, password: string): Promise<BuyerSignIn> {
      const account = await byEmail(email);
      const outcome = await passwordSignIn(account, password, signInRecorder(db, buyerAccounts, account?.id ?? crypto.randomUUID()));
      if (!outcome.ok) return outcome;
      if (!outcome.account.emailVerifiedAt) return { ok: false, reason: 'unverified' };
      return { ok: true, userId: outcome.account.id };
    },

    /** Who is signing in, as the consent page names them. */
    async profile(userId: string): Promise<{ name: string; email: string } | undefined> {
      if (!v.isWellFormedId(userId)) return undefined;
      const [row] = await db.select({ name: buyerAccounts.name, email: buyerAccounts.email }).from(buyerAccounts).where(eq(buyerAccounts.id, userId));
      return row;
    },
  };
}

export type BuyerAccounts = ReturnType<typeof createBuyerAccounts>;
