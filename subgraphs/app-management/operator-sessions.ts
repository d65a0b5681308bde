/**
 * Operators' sign-in to the console, and its sessions: a password, then a second factor
 * (operator-auth.ts), each step an internal operation the gateway calls (gateway/console-auth/).
 *
 * - The password step opens a PENDING_SECOND_FACTOR session (PENDING_SESSION_TTL_MS), good only for
 *   enrolment (an operator never enrolled enrols first) or the code step. The gateway makes the
 *   session token and sends its SHA-256 only.
 * - The second factor makes the session ACTIVE under a new token (the gateway's), for
 *   CONSOLE_SESSION_TTL_MS from then: shorter than the portal's, since a console session can change
 *   every app on the platform. Only ACTIVE sessions stand for an operator in GraphQL.
 * - Wrong codes count as failed sign-ins, with the password's slow-down and lockout
 *   (core/password-sign-in.ts); a right password alone does not clear the failures (only a whole
 *   sign-in does), or someone holding the password could guess codes without end, a few per sign-in.
 * - A disabled operator cannot sign in, and their sessions end (the lookup leaves them out).
 * - Every sign-in, enrolment, recovery-code use, sign-out and reset goes to the audit log.
 */
import crypto from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { Db, Executor } from '../../core/db.js';
import { badInput, forbidden } from '../../core/errors.js';
import { passwordSignIn, signInRecorder, type SignInRecorder } from '../../core/password-sign-in.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import type { Kek } from '../../core/sealing.js';
import { audit } from './audit.js';
import { operatorActor } from './callers.js';
import { acceptedTotpStep, createTotpSeal, newRecoveryCodes, newTotpSecret, recoveryCodeHash, totpUri } from './operator-auth.js';
import { operatorSessions, operators, type OperatorRow, type OperatorSessionRow } from './tables.js';

/** A session between the password and the second factor lasts this long. */
export const PENDING_SESSION_TTL_MS = 5 * 60_000;
/** A console session lasts this long from its second factor (absolute: the cookie's Max-Age too). */
export const CONSOLE_SESSION_TTL_MS = 2 * 3_600_000;

const SHA256_HEX = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_PASSWORD_LENGTH = 1024;
const MAX_CODE_LENGTH = 64;

export type PasswordOutcome = 'OK' | 'INVALID' | 'LOCKED' | 'DISABLED';
export type SecondFactorOutcome = 'OK' | 'INVALID_CODE' | 'LOCKED' | 'DISABLED' | 'NO_SESSION' | 'ALREADY_ENROLLED' | 'NOT_ENROLLED';

/** What the gateway gets of a session. */
export interface SessionView {
  id: string;
  operatorId: string;
  name: string;
  email: string;
  stage: OperatorSessionRow['stage'];
  totpEnrolled: boolean;
  expiresAt: Date;
}

const viewOf = (session: Pick<OperatorSessionRow, 'id' | 'stage' | 'expiresAt'>, operator: OperatorRow): SessionView => ({
  id: session.id,
  operatorId: operator.id,
  name: operator.name,
  email: operator.email,
  stage: session.stage,
  totpEnrolled: operator.totpEnrolledAt !== null,
  expiresAt: session.expiresAt,
});

/** Thrown inside a transaction to undo it: the pending session was used or ended meanwhile. */
class SessionGone extends Error {}

const requireHash = (hash: string, field: string) => {
  if (!SHA256_HEX.test(hash)) throw badInput(`${field} is a SHA-256 in hex`, field);
};
const actorOf = (operatorId: string) => `operator:${operatorId}`;

export interface OperatorConsoleOptions {
  db: Db;
  clock: Clock;
  /** The platform's key-encryption keys, which seal TOTP secrets. */
  keks: readonly Kek[];
}

export function createOperatorConsole(options: OperatorConsoleOptions) {
  const { db, clock } = options;
  const totpSeal = createTotpSeal(options.keks);
  const now = () => new Date(clock.now());
  const byEmail = async (email: string) => (await db.select().from(operators).where(sql`lower(${operators.email}) = lower(${email.trim()})`))[0];

  /**
   * The password's recorder, but a right password clears no failures (the second factor's success
   * does): it only answers whether the account is locked now.
   */
  function passwordRecorder(operatorId: string): SignInRecorder {
    const base = signInRecorder(db, operators, operatorId);
    return {
      failed: base.failed,
      async succeeded() {
        const [locked] = await db.select({ lockedUntil: operators.lockedUntil }).from(operators).where(and(eq(operators.id, operatorId), sql`${operators.lockedUntil} > now()`));
        return locked?.lockedUntil ? { ok: false, lockedUntil: locked.lockedUntil } : { ok: true };
      },
    };
  }

  async function checkPassword(email: string, password: string): Promise<{ outcome: PasswordOutcome; operator?: OperatorRow; lockedUntil?: Date }> {
    if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) return { outcome: 'INVALID' };
    const found = typeof email === 'string' && email.length <= 320 ? await byEmail(email) : undefined;
    const outcome = await passwordSignIn(found, password, passwordRecorder(found?.id ?? crypto.randomUUID()));
    if (!outcome.ok) return outcome.reason === 'locked' ? { outcome: 'LOCKED', lockedUntil: outcome.lockedUntil! } : { outcome: 'INVALID' };
    if (outcome.account.disabledAt) return { outcome: 'DISABLED' };
    return { outcome: 'OK', operator: outcome.account };
  }

  /** The operator's row, locked for this transaction (codes are checked and spent one at a time). */
  async function lockOperator(tx: Executor, operatorId: string): Promise<OperatorRow> {
    const [operator] = await tx.select().from(operators).where(eq(operators.id, operatorId)).for('update');
    return operator!;
  }

  /** A failure of the second factor: counted as a failed sign-in (the MAX_FAILED_SIGN_INS-th locks). */
  const codeFailed = (tx: Executor, operatorId: string) => signInRecorder(tx as Db, operators, operatorId).failed();
  // Locks are set and read in the database's time, as core/password-sign-in.ts does for the password.
  const lockedNow = (operator: OperatorRow) => (operator.lockedUntil && operator.lockedUntil > new Date() ? operator.lockedUntil : undefined);

  /**
   * Checks and spends a TOTP code or a recovery code of an enrolled operator (locked in `tx`).
   * Clears the failures on success, counts one otherwise.
   */
  async function spendSecondFactor(
    tx: Executor,
    operator: OperatorRow,
    proof: { code?: string | null; recoveryCode?: string | null },
  ): Promise<{ ok: true; method: 'totp' | 'recovery_code'; recoveryCodesLeft: number } | { ok: false; outcome: 'INVALID_CODE' | 'LOCKED'; lockedUntil?: Date }> {
    const lockedUntil = lockedNow(operator);
    if (lockedUntil) return { ok: false, outcome: 'LOCKED', lockedUntil };
    let spent: { method: 'totp' | 'recovery_code'; recoveryCodesLeft: number } | undefined;
    if (proof.code) {
      const secret = totpSeal.openEnrolled(operator.id, operator.totpSecretSealed);
      const step = secret ? await acceptedTotpStep(secret, proof.code, clock.now(), operator.totpLastStep) : undefined;
      if (step !== undefined) {
        await tx.update(operators).set({ totpLastStep: step }).where(eq(operators.id, operator.id));
        spent = { method: 'totp', recoveryCodesLeft: operator.recoveryCodeHashes.length };
      }
    } else if (proof.recoveryCode) {
      // Hashed first: the lookup compares SHA-256 values, whose timing tells nothing of the codes.
      const hash = recoveryCodeHash(proof.recoveryCode);
      const [left] = await tx
        .update(operators)
        .set({ recoveryCodeHashes: sql`array_remove(${operators.recoveryCodeHashes}, ${hash})` })
        .where(and(eq(operators.id, operator.id), sql`${hash} = any(${operators.recoveryCodeHashes})`))
        .returning({ count: sql<number>`cardinality(${operators.recoveryCodeHashes})` });
      if (left) spent = { method: 'recovery_code', recoveryCodesLeft: Number(left.count) };
    }
    if (!spent) {
      await codeFailed(tx, operator.id);
      return { ok: false, outcome: 'INVALID_CODE' };
    }
    await tx.update(operators).set({ failedSignIns: 0, lockedUntil: null }).where(eq(operators.id, operator.id));
    if (spent.method === 'recovery_code') {
      await audit(tx, { actor: actorOf(operator.id), action: 'operator.recovery_code_used', targetType: 'operator', targetId: operator.id, details: { recoveryCodesLeft: spent.recoveryCodesLeft } });
    }
    return { ok: true, ...spent };
  }

  /** The pending session under this hash (not revoked, not expired) and its operator, locked; undefined when none. */
  async function pendingSession(tx: Executor, tokenHash: string) {
    const [session] = await tx
      .select()
      .from(operatorSessions)
      .where(and(eq(operatorSessions.tokenHash, tokenHash), eq(operatorSessions.stage, 'PENDING_SECOND_FACTOR'), isNull(operatorSessions.revokedAt), gt(operatorSessions.expiresAt, now())));
    if (!session) return undefined;
    return { session, operator: await lockOperator(tx, session.operatorId) };
  }

  /** Makes a pending session ACTIVE under a new token hash, or throws SessionGone (the transaction is undone). */
  async function activate(tx: Executor, session: OperatorSessionRow, newTokenHash: string, method: string) {
    const [active] = await tx
      .update(operatorSessions)
      .set({ tokenHash: newTokenHash, stage: 'ACTIVE', expiresAt: new Date(clock.now() + CONSOLE_SESSION_TTL_MS) })
      .where(and(eq(operatorSessions.id, session.id), eq(operatorSessions.stage, 'PENDING_SECOND_FACTOR'), isNull(operatorSessions.revokedAt), gt(operatorSessions.expiresAt, now())))
      .returning();
    if (!active) throw new SessionGone();
    await audit(tx, { actor: actorOf(session.operatorId), action: 'operator.signed_in', targetType: 'operator', targetId: session.operatorId, details: { via: 'console', method, sessionId: session.id } });
    return active;
  }

  /** Runs a second-factor step; a session used or ended meanwhile answers NO_SESSION with nothing changed. */
  async function step<T extends { outcome: SecondFactorOutcome }>(work: (tx: Executor) => Promise<T>): Promise<T | { outcome: 'NO_SESSION' }> {
    try {
      return await db.transaction(work);
    } catch (error) {
      if (error instanceof SessionGone) return { outcome: 'NO_SESSION' };
      throw error;
    }
  }

  return {
    /** The password step: a pending session under `sessionTokenHash` when the password is right. */
    async signIn(email: string, password: string, sessionTokenHash: string): Promise<{ outcome: PasswordOutcome; lockedUntil?: Date; session?: SessionView }> {
      requireHash(sessionTokenHash, 'sessionTokenHash');
      const checked = await checkPassword(email, password);
      if (checked.outcome !== 'OK') return checked;
      const operator = checked.operator!;
      const [session] = await db
        .insert(operatorSessions)
        .values({ id: crypto.randomUUID(), tokenHash: sessionTokenHash, operatorId: operator.id, stage: 'PENDING_SECOND_FACTOR', createdAt: now(), expiresAt: new Date(clock.now() + PENDING_SESSION_TTL_MS) })
        .returning();
      return { outcome: 'OK', session: viewOf(session!, operator) };
    },

    /** A TOTP secret for the pending session's operator to enrol: the same one again for the same session. */
    async startEnrolment(sessionTokenHash: string): Promise<{ outcome: 'OK' | 'NO_SESSION' | 'ALREADY_ENROLLED'; otpauthUri?: string; secret?: string }> {
      if (!SHA256_HEX.test(sessionTokenHash)) return { outcome: 'NO_SESSION' };
      return db.transaction(async (tx) => {
        const pending = await pendingSession(tx, sessionTokenHash);
        if (!pending) return { outcome: 'NO_SESSION' as const };
        const { session, operator } = pending;
        if (operator.totpEnrolledAt) return { outcome: 'ALREADY_ENROLLED' as const };
        let secret = totpSeal.openForEnrolment(operator.id, session.id, operator.totpSecretSealed);
        if (!secret) {
          secret = newTotpSecret();
          await tx.update(operators).set({ totpSecretSealed: totpSeal.sealForEnrolment(operator.id, session.id, secret) }).where(eq(operators.id, operator.id));
        }
        return { outcome: 'OK' as const, otpauthUri: totpUri(operator.email, secret), secret };
      });
    },

    /** The first code from the authenticator: enrolled, recovery codes made (returned this once), the session ACTIVE. */
    async finishEnrolment(sessionTokenHash: string, newSessionTokenHash: string, code: string) {
      requireHash(newSessionTokenHash, 'newSessionTokenHash');
      if (!SHA256_HEX.test(sessionTokenHash)) return { outcome: 'NO_SESSION' as const };
      return step(async (tx) => {
        const pending = await pendingSession(tx, sessionTokenHash);
        if (!pending) return { outcome: 'NO_SESSION' as const };
        const { session, operator } = pending;
        if (operator.disabledAt) return { outcome: 'DISABLED' as const };
        if (operator.totpEnrolledAt) return { outcome: 'ALREADY_ENROLLED' as const };
        const lockedUntil = lockedNow(operator);
        if (lockedUntil) return { outcome: 'LOCKED' as const, lockedUntil };
        const secret = totpSeal.openForEnrolment(operator.id, session.id, operator.totpSecretSealed);
        const accepted = secret && typeof code === 'string' && code.length <= MAX_CODE_LENGTH ? await acceptedTotpStep(secret, code, clock.now(), null) : undefined;
        if (!secret || accepted === undefined) {
          await codeFailed(tx, operator.id);
          return { outcome: 'INVALID_CODE' as const };
        }
        const recovery = newRecoveryCodes();
        const [enrolled] = await tx
          .update(operators)
          .set({ totpSecretSealed: totpSeal.sealEnrolled(operator.id, secret), totpEnrolledAt: now(), totpLastStep: accepted, recoveryCodeHashes: recovery.hashes, failedSignIns: 0, lockedUntil: null })
          .where(and(eq(operators.id, operator.id), isNull(operators.totpEnrolledAt)))
          .returning();
        await audit(tx, { actor: actorOf(operator.id), action: 'operator.totp_enrolled', targetType: 'operator', targetId: operator.id, details: { recoveryCodes: recovery.codes.length } });
        const active = await activate(tx, session, newSessionTokenHash, 'totp');
        return { outcome: 'OK' as const, session: viewOf(active, enrolled!), recoveryCodes: recovery.codes, recoveryCodesLeft: recovery.codes.length };
      });
    },

    /** The code step of a pending session: a TOTP code or a recovery code; the session ACTIVE under the new hash. */
    async secondFactor(sessionTokenHash: string, newSessionTokenHash: string, proof: { code?: string | null; recoveryCode?: string | null }) {
      requireHash(newSessionTokenHash, 'newSessionTokenHash');
      if (!proof.code === !proof.recoveryCode) throw badInput('Give either a code or a recovery code', 'code');
      if ((proof.code?.length ?? 0) > MAX_CODE_LENGTH || (proof.recoveryCode?.length ?? 0) > MAX_CODE_LENGTH) return { outcome: 'INVALID_CODE' as const };
      if (!SHA256_HEX.test(sessionTokenHash)) return { outcome: 'NO_SESSION' as const };
      return step(async (tx) => {
        const pending = await pendingSession(tx, sessionTokenHash);
        if (!pending) return { outcome: 'NO_SESSION' as const };
        const { session, operator } = pending;
        if (operator.disabledAt) return { outcome: 'DISABLED' as const };
        if (!operator.totpEnrolledAt) return { outcome: 'NOT_ENROLLED' as const };
        const spent = await spendSecondFactor(tx, operator, proof);
        if (!spent.ok) return spent.lockedUntil ? { outcome: spent.outcome, lockedUntil: spent.lockedUntil } : { outcome: spent.outcome };
        const active = await activate(tx, session, newSessionTokenHash, spent.method);
        return { outcome: 'OK' as const, session: viewOf(active, operator), recoveryCodesLeft: spent.recoveryCodesLeft };
      });
    },

    /** Password and second factor in one step, for the operator token scripts use (no session). */
    async tokenSignIn(email: string, password: string, proof: { code?: string | null; recoveryCode?: string | null }): Promise<{ outcome: PasswordOutcome | SecondFactorOutcome; lockedUntil?: Date; operatorId?: string }> {
      if (!proof.code === !proof.recoveryCode) throw badInput('Give either a code or a recovery code', 'code');
      const checked = await checkPassword(email, password);
      if (checked.outcome !== 'OK') return checked;
      const operatorId = checked.operator!.id;
      if ((proof.code?.length ?? 0) > MAX_CODE_LENGTH || (proof.recoveryCode?.length ?? 0) > MAX_CODE_LENGTH) {
        await codeFailed(db, operatorId);
        return { outcome: 'INVALID_CODE' };
      }
      return db.transaction(async (tx) => {
        const operator = await lockOperator(tx, operatorId);
        if (!operator.totpEnrolledAt) return { outcome: 'NOT_ENROLLED' as const };
        const spent = await spendSecondFactor(tx, operator, proof);
        if (!spent.ok) return spent.lockedUntil ? { outcome: spent.outcome, lockedUntil: spent.lockedUntil } : { outcome: spent.outcome };
        await audit(tx, { actor: actorOf(operatorId), action: 'operator.signed_in', targetType: 'operator', targetId: operatorId, details: { via: 'token', method: spent.method } });
        return { outcome: 'OK' as const, operatorId };
      });
    },

    /** The session under this hash, pending or active (not revoked, not expired, its operator not disabled). */
    async session(tokenHash: string): Promise<SessionView | null> {
      if (!SHA256_HEX.test(tokenHash)) return null;
      const [row] = await db
        .select({ session: operatorSessions, operator: operators })
        .from(operatorSessions)
        .innerJoin(operators, eq(operators.id, operatorSessions.operatorId))
        .where(and(eq(operatorSessions.tokenHash, tokenHash), isNull(operatorSessions.revokedAt), gt(operatorSessions.expiresAt, now()), isNull(operators.disabledAt)));
      return row ? viewOf(row.session, row.operator) : null;
    },

    async signOut(tokenHash: string): Promise<boolean> {
      if (!SHA256_HEX.test(tokenHash)) return false;
      return db.transaction(async (tx) => {
        const [revoked] = await tx
          .update(operatorSessions)
          .set({ revokedAt: now() })
          .where(and(eq(operatorSessions.tokenHash, tokenHash), isNull(operatorSessions.revokedAt)))
          .returning();
        if (!revoked) return false;
        await audit(tx, { actor: actorOf(revoked.operatorId), action: 'operator.signed_out', targetType: 'operator', targetId: revoked.operatorId, details: { sessionId: revoked.id, stage: revoked.stage } });
        return true;
      });
    },

    /**
     * Clears an operator's TOTP enrolment and recovery codes (they lost both): their next sign-in
     * enrols again. Every session of theirs ends. False when no operator has this email.
     */
    async resetTotp(email: string, actor: string, reason: string): Promise<boolean> {
      return db.transaction(async (tx) => {
        const [operator] = await tx
          .update(operators)
          .set({ totpSecretSealed: null, totpEnrolledAt: null, totpLastStep: null, recoveryCodeHashes: [] })
          .where(sql`lower(${operators.email}) = lower(${email.trim()})`)
          .returning({ id: operators.id });
        if (!operator) return false;
        await tx.update(operatorSessions).set({ revokedAt: now() }).where(and(eq(operatorSessions.operatorId, operator.id), isNull(operatorSessions.revokedAt)));
        await audit(tx, { actor, action: 'operator.totp_reset', targetType: 'operator', targetId: operator.id, reason, details: {} });
        return true;
      });
    },

    /**
     * Disables an operator (no sign-in; every session of theirs ends, on every gateway within
     * SESSION_CACHE_MS) or enables them again. False when no operator has this email or nothing changes.
     */
    async setDisabled(email: string, disabled: boolean, actor: string, reason: string): Promise<boolean> {
      return db.transaction(async (tx) => {
        const [operator] = await tx
          .update(operators)
          .set({ disabledAt: disabled ? now() : null })
          .where(and(sql`lower(${operators.email}) = lower(${email.trim()})`, disabled ? isNull(operators.disabledAt) : sql`${operators.disabledAt} is not null`))
          .returning({ id: operators.id });
        if (!operator) return false;
        if (disabled) await tx.update(operatorSessions).set({ revokedAt: now() }).where(and(eq(operatorSessions.operatorId, operator.id), isNull(operatorSessions.revokedAt)));
        await audit(tx, { actor, action: disabled ? 'operator.disabled' : 'operator.enabled', targetType: 'operator', targetId: operator.id, reason, details: {} });
        return true;
      });
    },

    async operatorById(id: string): Promise<OperatorRow | undefined> {
      if (!v.isWellFormedId(id)) return undefined;
      return (await db.select().from(operators).where(eq(operators.id, id)))[0];
    },
  };
}

export type OperatorConsole = ReturnType<typeof createOperatorConsole>;

type Context = SubgraphContext<unknown>;
const internal = (caller: Caller) => {
  if (caller.kind !== 'system') throw forbidden('Internal');
};
type Proof = { code?: string | null; recoveryCode?: string | null };

export function createOperatorConsoleResolvers(accounts: OperatorConsole) {
  return {
    Query: {
      viewerOperator: async (_: unknown, __: unknown, ctx: Context) => {
        operatorActor(ctx.caller);
        const operator = await accounts.operatorById(ctx.caller.operatorId!);
        // A disabled operator's token (at most an hour old) sees no account of theirs.
        return operator && !operator.disabledAt ? operator : null;
      },
      operatorSession: (_: unknown, args: { tokenHash: string }, ctx: Context) => {
        internal(ctx.caller);
        return accounts.session(args.tokenHash);
      },
      operatorActive: async (_: unknown, args: { operatorId: string }, ctx: Context) => {
        internal(ctx.caller);
        if (!UUID.test(args.operatorId)) return false;
        const operator = await accounts.operatorById(args.operatorId);
        return !!operator && !operator.disabledAt;
      },
    },
    Mutation: {
      operatorConsoleSignIn: (_: unknown, args: { email: string; password: string; sessionTokenHash: string }, ctx: Context) => {
        internal(ctx.caller);
        return accounts.signIn(args.email, args.password, args.sessionTokenHash);
      },
      startOperatorTotpEnrolment: (_: unknown, args: { sessionTokenHash: string }, ctx: Context) => {
        internal(ctx.caller);
        return accounts.startEnrolment(args.sessionTokenHash);
      },
      finishOperatorTotpEnrolment: (_: unknown, args: { sessionTokenHash: string; newSessionTokenHash: string; code: string }, ctx: Context) => {
        internal(ctx.caller);
        return accounts.finishEnrolment(args.sessionTokenHash, args.newSessionTokenHash, args.code);
      },
      operatorSecondFactor: (_: unknown, args: { sessionTokenHash: string; newSessionTokenHash: string } & Proof, ctx: Context) => {
        internal(ctx.caller);
        return accounts.secondFactor(args.sessionTokenHash, args.newSessionTokenHash, { code: args.code, recoveryCode: args.recoveryCode });
      },
      operatorSignOut: (_: unknown, args: { tokenHash: string }, ctx: Context) => {
        internal(ctx.caller);
        return accounts.signOut(args.tokenHash);
      },
      operatorTokenSignIn: (_: unknown, args: { email: string; password: string } & Proof, ctx: Context) => {
        internal(ctx.caller);
        return accounts.tokenSignIn(args.email, args.password, { code: args.code, recoveryCode: args.recoveryCode });
      },
    },
    Operator: {
      recoveryCodesLeft: (operator: OperatorRow) => operator.recoveryCodeHashes.length,
    },
  };
}
