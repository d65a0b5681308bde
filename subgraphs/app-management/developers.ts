/**
 * Developer accounts and their portal sessions: sign-up with a verification link by email, sign-in
 * with the passport's slow-down and lockout (core/password-sign-in.ts), sessions, password reset by
 * email, and the signed-in developer's own profile.
 *
 * Nothing secret is kept in plaintext: passwords as scrypt (core/secrets.ts), session tokens and the
 * one-time email tokens as their SHA-256 (256-bit random values need no salt or stretching), so a
 * copy of the tables opens no account. The gateway makes the session token and sends its hash only;
 * the email tokens are made here and leave only in the email.
 *
 * Answers never tell whether an email is registered: sign-up of a taken address answers as a new
 * one (and tells the owner by email), resend and reset requests answer the same either way, and
 * "not verified" is said only to someone who gave the right password.
 */
import crypto from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { Db, Executor } from '../../core/db.js';
import { badInput, forbidden } from '../../core/errors.js';
import { passwordSignIn, signInRecorder } from '../../core/password-sign-in.js';
import { hashSecret } from '../../core/secrets.js';
import * as v from '../../core/validate.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import { developerOf } from './callers.js';
import type { Mailer } from './mailer.js';
import { developerEmailTokens, developerSessions, developers, type DeveloperRow } from './tables.js';

/** A portal session lasts this long from sign-in (the cookie's Max-Age too). */
export const SESSION_TTL_MS = 12 * 3_600_000;
/** A verification link works this long. */
export const VERIFY_EMAIL_TTL_MS = 24 * 3_600_000;
/** A password-reset link works this long. */
export const RESET_PASSWORD_TTL_MS = 3_600_000;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;
/**
 * A new link of a kind is emailed at most this often while the last one is still usable: asking
 * again and again sends no stream of email to the address (which need not be the asker's).
 */
export const EMAIL_LINK_INTERVAL_MS = 60_000;

/** What sign-up takes, checked the same way at the gateway (its 400) and here. */
/** Control characters (but tab and line breaks), which no name may hold. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const plainText = (max: number) => z.string().trim().min(1).max(max).refine((text) => !CONTROL.test(text), 'must not contain control characters');
export const SignUpInput = z.object({
  email: z.string().trim().max(320).email(),
  password: z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH),
  name: plainText(100),
  kind: z.enum(['INDIVIDUAL', 'COMPANY']),
  companyName: plainText(200).nullish(),
});
export type SignUpInput = z.infer<typeof SignUpInput>;

export type SignInOutcome = 'OK' | 'INVALID' | 'LOCKED' | 'NOT_VERIFIED' | 'DISABLED';

/** The SHA-256 (hex) a session or email token is kept as. */
export const tokenHashOf = (token: string) => crypto.createHash('sha256').update(token, 'utf8').digest('hex');
const newToken = () => crypto.randomBytes(32).toString('base64url');
const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface DeveloperAccountsOptions {
  db: Db;
  clock: Clock;
  mailer: Mailer;
  /** PUBLIC_URL: the links in emails go to its /portal. */
  publicUrl: string;
}

export function createDeveloperAccounts(options: DeveloperAccountsOptions) {
  const { db, clock, mailer, publicUrl } = options;
  const now = () => new Date(clock.now());
  const byEmail = async (email: string) => (await db.select().from(developers).where(sql`lower(${developers.email}) = lower(${email.trim()})`))[0];

  /** A new one-time link for `purpose` (the token's hash kept, the link returned). */
  async function issueEmailToken(developerId: string, purpose: 'VERIFY_EMAIL' | 'RESET_PASSWORD', ttlMs: number, page: string, executor: Executor = db) {
    const token = newToken();
    await executor.insert(developerEmailTokens).values({ id: crypto.randomUUID(), developerId, purpose, tokenHash: tokenHashOf(token), createdAt: now(), expiresAt: new Date(clock.now() + ttlMs) });
    return `${publicUrl}/portal/${page}?token=${encodeURIComponent(token)}`;
  }

  /** Uses a one-time token: its developer, or undefined for an unknown, used or expired one. */
  async function consumeEmailToken(tx: Executor, token: string, purpose: 'VERIFY_EMAIL' | 'RESET_PASSWORD') {
    if (typeof token !== 'string' || token.length < 20 || token.length > 200) return undefined;
    const [used] = await tx
      .update(developerEmailTokens)
      .set({ usedAt: now() })
      .where(and(eq(developerEmailTokens.tokenHash, tokenHashOf(token)), eq(developerEmailTokens.purpose, purpose), isNull(developerEmailTokens.usedAt), gt(developerEmailTokens.expiresAt, now())))
      .returning({ developerId: developerEmailTokens.developerId });
    return used?.developerId;
  }

  /** Whether a link of this kind went to the developer within EMAIL_LINK_INTERVAL_MS and is still usable. */
  async function linkRecentlySent(developerId: string, purpose: 'VERIFY_EMAIL' | 'RESET_PASSWORD') {
    const [recent] = await db
      .select({ id: developerEmailTokens.id })
      .from(developerEmailTokens)
      .where(
        and(
          eq(developerEmailTokens.developerId, developerId),
          eq(developerEmailTokens.purpose, purpose),
          isNull(developerEmailTokens.usedAt),
          gt(developerEmailTokens.expiresAt, now()),
          gt(developerEmailTokens.createdAt, new Date(clock.now() - EMAIL_LINK_INTERVAL_MS)),
        ),
      )
      .limit(1);
    return !!recent;
  }

  async function mailVerification(developer: DeveloperRow, link: string) {
    await mailer.send({
      to: developer.email,
      subject: 'Verify your email for the Portico developer portal',
      text: `Hello ${developer.name},\n\nConfirm that this address is yours by opening this link within 24 hours:\n\n${link}\n\nIf you did not sign up, ignore this message.\n`,
      link,
    });
  }

  return {
    /** Registers a developer (or, for a taken email, tells its owner): the same answer either way. */
    async signUp(raw: SignUpInput): Promise<string> {
      const parsed = SignUpInput.safeParse(raw);
      if (!parsed.success) throw badInput(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const input = parsed.data;
      if (input.kind === 'COMPANY' && !input.companyName) throw badInput('A company developer gives the company name', 'companyName');
      // Hashed before anything is looked up, so a taken email costs as long as a new one.
      const passwordHash = await hashSecret(input.password);
      const id = crypto.randomUUID();
      // The account and its first link together; the email once they are committed.
      const created = await db.transaction(async (tx) => {
        const [developer] = await tx
          .insert(developers)
          .values({ id, kind: input.kind, name: input.name, email: input.email, companyName: input.kind === 'COMPANY' ? input.companyName! : null, passwordHash, createdAt: now() })
          .onConflictDoNothing()
          .returning();
        return developer && { developer, link: await issueEmailToken(developer.id, 'VERIFY_EMAIL', VERIFY_EMAIL_TTL_MS, 'verify', tx) };
      });
      if (created) {
        await mailVerification(created.developer, created.link);
        return created.developer.id;
      }
      const owner = await byEmail(input.email);
      if (owner) {
        await mailer.send({
          to: owner.email,
          subject: 'Someone tried to sign up to the Portico developer portal with your email',
          text: `Hello ${owner.name},\n\nSomeone (perhaps you) tried to create a developer account with this address, which already has one. ` +
            `Sign in at ${publicUrl}/portal/sign-in, or reset your password at ${publicUrl}/portal/forgot-password.\n\nIf it was not you, nothing changed.\n`,
        });
      }
      // An id of no one: the answer looks like a new account's.
      return id;
    },

    async verifyEmail(token: string): Promise<boolean> {
      return db.transaction(async (tx) => {
        const developerId = await consumeEmailToken(tx, token, 'VERIFY_EMAIL');
        if (!developerId) return false;
        await tx.update(developers).set({ emailVerifiedAt: sql`coalesce(${developers.emailVerifiedAt}, ${now()})` }).where(eq(developers.id, developerId));
        return true;
      });
    },

    async resendVerification(email: string): Promise<boolean> {
      const developer = await byEmail(email);
      if (developer && !developer.emailVerifiedAt && !developer.disabledAt && !(await linkRecentlySent(developer.id, 'VERIFY_EMAIL'))) {
        await mailVerification(developer, await issueEmailToken(developer.id, 'VERIFY_EMAIL', VERIFY_EMAIL_TTL_MS, 'verify'));
      }
      return true;
    },

    /** Checks the password (slowed and locked as the passport's) and opens a session under `sessionTokenHash`. */
    async signIn(email: string, password: string, sessionTokenHash: string): Promise<{ outcome: SignInOutcome; developer?: DeveloperRow; lockedUntil?: Date; expiresAt?: Date }> {
      if (!SHA256_HEX.test(sessionTokenHash)) throw badInput('sessionTokenHash is a SHA-256 in hex', 'sessionTokenHash');
      const found = await byEmail(email);
      const account = found?.passwordHash ? { ...found, passwordHash: found.passwordHash } : undefined;
      const outcome = await passwordSignIn(account, password, signInRecorder(db, developers, account?.id ?? crypto.randomUUID()));
      if (!outcome.ok) return outcome.reason === 'locked' ? { outcome: 'LOCKED', lockedUntil: outcome.lockedUntil! } : { outcome: 'INVALID' };
      const developer = outcome.account;
      if (developer.disabledAt) return { outcome: 'DISABLED' };
      if (!developer.emailVerifiedAt) return { outcome: 'NOT_VERIFIED' };
      const expiresAt = new Date(clock.now() + SESSION_TTL_MS);
      await db.insert(developerSessions).values({ id: crypto.randomUUID(), tokenHash: sessionTokenHash, developerId: developer.id, createdAt: now(), lastSeenAt: now(), expiresAt });
      return { outcome: 'OK', developer, expiresAt };
    },

    /** The live session under this hash (not revoked, not expired, its developer not disabled). */
    async session(tokenHash: string): Promise<{ developer: DeveloperRow; expiresAt: Date } | null> {
      if (!SHA256_HEX.test(tokenHash)) return null;
      const [row] = await db
        .select({ developer: developers, expiresAt: developerSessions.expiresAt })
        .from(developerSessions)
        .innerJoin(developers, eq(developers.id, developerSessions.developerId))
        .where(and(eq(developerSessions.tokenHash, tokenHash), isNull(developerSessions.revokedAt), gt(developerSessions.expiresAt, now()), isNull(developers.disabledAt)));
      return row ?? null;
    },

    async signOut(tokenHash: string): Promise<boolean> {
      if (!SHA256_HEX.test(tokenHash)) return false;
      const revoked = await db
        .update(developerSessions)
        .set({ revokedAt: now() })
        .where(and(eq(developerSessions.tokenHash, tokenHash), isNull(developerSessions.revokedAt)))
        .returning({ id: developerSessions.id });
      return revoked.length > 0;
    },

    async requestPasswordReset(email: string): Promise<boolean> {
      const developer = await byEmail(email);
      if (developer && !developer.disabledAt && !(await linkRecentlySent(developer.id, 'RESET_PASSWORD'))) {
        const link = await issueEmailToken(developer.id, 'RESET_PASSWORD', RESET_PASSWORD_TTL_MS, 'reset-password');
        await mailer.send({
          to: developer.email,
          subject: 'Reset your Portico developer portal password',
          text: `Hello ${developer.name},\n\nSet a new password by opening this link within an hour:\n\n${link}\n\nIf you did not ask for it, ignore this message: your password stays as it is.\n`,
          link,
        });
      }
      return true;
    },

    /** Sets a new password with a reset link: every session of the developer ends, and so do their other reset links. */
    async resetPassword(token: string, password: string): Promise<boolean> {
      if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
        throw badInput(`A password has ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`, 'password');
      }
      const passwordHash = await hashSecret(password);
      return db.transaction(async (tx) => {
        const developerId = await consumeEmailToken(tx, token, 'RESET_PASSWORD');
        if (!developerId) return false;
        // The link came by email: it proves the address as the verification link does.
        await tx
          .update(developers)
          .set({ passwordHash, failedSignIns: 0, lockedUntil: null, emailVerifiedAt: sql`coalesce(${developers.emailVerifiedAt}, ${now()})` })
          .where(eq(developers.id, developerId));
        await tx.update(developerSessions).set({ revokedAt: now() }).where(and(eq(developerSessions.developerId, developerId), isNull(developerSessions.revokedAt)));
        await tx
          .update(developerEmailTokens)
          .set({ usedAt: now() })
          .where(and(eq(developerEmailTokens.developerId, developerId), eq(developerEmailTokens.purpose, 'RESET_PASSWORD'), isNull(developerEmailTokens.usedAt)));
        return true;
      });
    },

    async developerById(id: string): Promise<DeveloperRow | undefined> {
      return (await db.select().from(developers).where(eq(developers.id, id)))[0];
    },

    async updateProfile(id: string, input: { name?: string | null; companyName?: string | null; announcementEmails?: boolean | null }): Promise<DeveloperRow> {
      const changes: Partial<DeveloperRow> = {};
      if (input.name !== undefined && input.name !== null) changes.name = v.text(input.name, 'name', { max: 100 });
      if (input.companyName !== undefined) changes.companyName = v.optionalText(input.companyName, 'companyName', 200);
      if (input.announcementEmails !== undefined && input.announcementEmails !== null) changes.announcementEmails = input.announcementEmails;
      // Checked in the statement itself, so a refused change writes nothing.
      const keepsCompanyName = changes.companyName === null ? sql`${developers.kind} <> 'COMPANY'` : sql`true`;
      const [updated] = Object.keys(changes).length
        ? await db.update(developers).set(changes).where(and(eq(developers.id, id), keepsCompanyName)).returning()
        : await db.select().from(developers).where(eq(developers.id, id));
      if (!updated) throw badInput('A company developer keeps a company name', 'companyName');
      return updated;
    },
  };
}

export type DeveloperAccounts = ReturnType<typeof createDeveloperAccounts>;

type Context = SubgraphContext<unknown>;
const internal = (caller: Caller) => {
  if (caller.kind !== 'system') throw forbidden('Internal');
};

/** What the gateway gets for a session (Developer fields it needs, without the hashes). */
const sessionView = (session: { developer: DeveloperRow; expiresAt: Date }) => ({ ...session.developer, developerId: session.developer.id, expiresAt: session.expiresAt });

export function createDeveloperResolvers(accounts: DeveloperAccounts, mailer: Mailer) {
  return {
    Query: {
      viewerDeveloper: (_: unknown, __: unknown, ctx: Context) => accounts.developerById(developerOf(ctx.caller)),
      developerSession: async (_: unknown, args: { tokenHash: string }, ctx: Context) => {
        internal(ctx.caller);
        const session = await accounts.session(args.tokenHash);
        return session ? sessionView(session) : null;
      },
      localMailbox: (_: unknown, args: { first: number }, ctx: Context) => {
        internal(ctx.caller);
        return mailer.recent(v.intInRange(args.first, 'first', 1, 200));
      },
    },
    Mutation: {
      updateDeveloperProfile: (_: unknown, { input }: { input: { name?: string | null; companyName?: string | null; announcementEmails?: boolean | null } }, ctx: Context) =>
        accounts.updateProfile(developerOf(ctx.caller), input),
      developerSignUp: (_: unknown, { input }: { input: SignUpInput }, ctx: Context) => {
        internal(ctx.caller);
        return accounts.signUp(input);
      },
      developerVerifyEmail: (_: unknown, args: { token: string }, ctx: Context) => {
        internal(ctx.caller);
        return accounts.verifyEmail(args.token);
      },
      developerResendVerification: (_: unknown, args: { email: string }, ctx: Context) => {
        internal(ctx.caller);
        return accounts.resendVerification(args.email);
      },
      developerSignIn: async (_: unknown, args: { email: string; password: string; sessionTokenHash: string }, ctx: Context) => {
        internal(ctx.caller);
        const result = await accounts.signIn(args.email, args.password, args.sessionTokenHash);
        return { outcome: result.outcome, lockedUntil: result.lockedUntil ?? null, session: result.developer ? sessionView({ developer: result.developer, expiresAt: result.expiresAt! }) : null };
      },
      developerSignOut: (_: unknown, args: { tokenHash: string }, ctx: Context) => {
        internal(ctx.caller);
        return accounts.signOut(args.tokenHash);
      },
      developerRequestPasswordReset: (_: unknown, args: { email: string }, ctx: Context) => {
        internal(ctx.caller);
        return accounts.requestPasswordReset(args.email);
      },
      developerResetPassword: (_: unknown, args: { token: string; password: string }, ctx: Context) => {
        internal(ctx.caller);
        return accounts.resetPassword(args.token, args.password);
      },
    },
    Developer: {
      emailVerified: (developer: DeveloperRow) => developer.emailVerifiedAt !== null,
    },
  };
}
