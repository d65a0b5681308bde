/**
 * Operators' side of developer accounts (the console): find developers, read what happened to them
 * and their apps, verify or reject them, disable and enable their accounts.
 *
 * Each decision is one transaction: the developer's row locked, the transition checked (CONFLICT
 * when it does not apply, nothing written), the change, the ended sessions of a disabled account and
 * the audit entry together. The developer's email goes once that has committed, so no email tells of
 * a change that was rolled back.
 */
import { and, count, desc, eq, inArray, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import { conflict, notFound } from '../../core/errors.js';
import { pageSize, timeCursor, timeKeyset, toConnection, type TimeSort } from '../../core/pagination.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import { audit } from './audit.js';
import { operatorActor } from './callers.js';
import type { Mailer } from './mailer.js';
import { containsPattern } from './search.js';
import { apps, auditLog, developerSessions, developers, type AuditLogRow, type DeveloperRow } from './tables.js';

/** The longest reason an operator may give (a rejection's is what the developer reads). */
const MAX_REASON_LENGTH = 1000;
/** The most history entries one request reads. */
const MAX_HISTORY = 200;

const SORT_NAME = 'DEVELOPERS';
const NEWEST_FIRST: TimeSort<DeveloperRow> = { column: developers.createdAt, direction: 'desc', valueOf: (row) => row.createdAt };
export const developersCursor = (row: DeveloperRow) => timeCursor(NEWEST_FIRST, SORT_NAME, row);

export interface DeveloperFilter {
  search?: string | null;
  verificationStatus?: DeveloperRow['verificationStatus'] | null;
  disabled?: boolean | null;
}

export type DeveloperDecision = 'verify' | 'reject' | 'disable' | 'enable';

/** What each decision needs of the account, what it changes, and how it is recorded. */
const DECISIONS: Record<DeveloperDecision, { applies(d: DeveloperRow): boolean; refusal: string; action: string; change(reason: string, now: Date): Partial<DeveloperRow> }> = {
  verify: {
    applies: (d) => d.verificationStatus !== 'VERIFIED',
    refusal: 'The developer is already verified',
    action: 'developer.verified',
    // A former rejection's reason no longer applies; it stays in the audit log.
    change: () => ({ verificationStatus: 'VERIFIED', verificationReason: null }),
  },
  reject: {
    applies: (d) => d.verificationStatus !== 'REJECTED',
    refusal: 'The developer is already rejected',
    action: 'developer.rejected',
    change: (reason) => ({ verificationStatus: 'REJECTED', verificationReason: reason }),
  },
  disable: {
    applies: (d) => d.disabledAt === null,
    refusal: 'The developer account is already disabled',
    action: 'developer.disabled',
    change: (_, now) => ({ disabledAt: now }),
  },
  enable: {
    applies: (d) => d.disabledAt !== null,
    refusal: 'The developer account is not disabled',
    action: 'developer.enabled',
    change: () => ({ disabledAt: null }),
  },
};

export function createDeveloperAdminStore(db: Db, clock: Clock) {
  const now = () => new Date(clock.now());

  function conditionsOf(filter: DeveloperFilter): SQL | undefined {
    const pattern = containsPattern(filter.search);
    return and(
      pattern ? or(sql`${developers.name} ilike ${pattern}`, sql`${developers.email} ilike ${pattern}`, sql`${developers.companyName} ilike ${pattern}`) : undefined,
      filter.verificationStatus ? eq(developers.verificationStatus, filter.verificationStatus) : undefined,
      filter.disabled === true ? isNotNull(developers.disabledAt) : filter.disabled === false ? isNull(developers.disabledAt) : undefined,
    );
  }

  return {
    async list(filter: DeveloperFilter, page: { limit: number; after?: string | null | undefined }): Promise<DeveloperRow[]> {
      const keyset = timeKeyset(NEWEST_FIRST, developers.id, SORT_NAME, page.after);
      return db
        .select()
        .from(developers)
        .where(and(conditionsOf(filter), keyset.after))
        .orderBy(...keyset.orderBy)
        .limit(page.limit + 1);
    },

    async count(filter: DeveloperFilter): Promise<number> {
      const [row] = await db.select({ n: count() }).from(developers).where(conditionsOf(filter));
      return row?.n ?? 0;
    },

    async byId(id: string): Promise<DeveloperRow | undefined> {
      if (!v.isWellFormedId(id)) return undefined;
      return (await db.select().from(developers).where(eq(developers.id, id.toLowerCase())))[0];
    },

    /** Audit entries about the developer or one of their apps (apps are recorded by key), newest first. */
    async history(developerId: string, limit: number): Promise<AuditLogRow[]> {
      const appKeys = db.select({ key: apps.key }).from(apps).where(eq(apps.developerId, developerId));
      return db
        .select()
        .from(auditLog)
        .where(or(and(eq(auditLog.targetType, 'developer'), eq(auditLog.targetId, developerId)), and(eq(auditLog.targetType, 'app'), inArray(auditLog.targetId, appKeys))))
        .orderBy(desc(auditLog.id))
        .limit(limit);
    },

    /** Applies a decision; CONFLICT (nothing written) when it does not apply to the account as it is. */
    async decide(actor: string, input: { developerId: string; reason: string }, decision: DeveloperDecision): Promise<DeveloperRow> {
      const reason = v.text(input.reason, 'reason', { max: MAX_REASON_LENGTH });
      const rule = DECISIONS[decision];
      return db.transaction(async (tx) => {
        const [current] = v.isWellFormedId(input.developerId)
          ? await tx.select().from(developers).where(eq(developers.id, input.developerId.toLowerCase())).for('update')
          : [];
        if (!current) throw notFound('Developer', input.developerId);
        if (!rule.applies(current)) throw conflict(rule.refusal, { verificationStatus: current.verificationStatus, disabled: current.disabledAt !== null });
        const at = now();
        const [updated] = await tx.update(developers).set(rule.change(reason, at)).where(eq(developers.id, current.id)).returning();
        // A disabled account's portal sessions end here, not only at the gateway's next lookup.
        const endedSessions =
          decision === 'disable'
            ? (
                await tx
                  .update(developerSessions)
                  .set({ revokedAt: at })
                  .where(and(eq(developerSessions.developerId, current.id), isNull(developerSessions.revokedAt)))
                  .returning({ id: developerSessions.id })
              ).length
            : undefined;
        await audit(tx, {
          actor,
          action: rule.action,
          targetType: 'developer',
          targetId: current.id,
          reason,
          at,
          details: {
            before: { verificationStatus: current.verificationStatus, disabled: current.disabledAt !== null },
            after: { verificationStatus: updated!.verificationStatus, disabled: updated!.disabledAt !== null },
            ...(endedSessions !== undefined ? { endedSessions } : {}),
          },
        });
        return updated!;
      });
    },
  };
}

export type DeveloperAdminStore = ReturnType<typeof createDeveloperAdminStore>;

/** What the developer is told of a decision (enabling again is told by being able to sign in). */
function mailOf(decision: DeveloperDecision, developer: DeveloperRow, portalUrl: string) {
  const hello = `Hello ${developer.name},\n\n`;
  switch (decision) {
    case 'verify':
      return { subject: 'Your Portico developer account is verified', text: `${hello}An operator verified your developer account: you can now create apps at ${portalUrl}.\n` };
    case 'reject':
      return {
        subject: 'Your Portico developer account was not verified',
        text: `${hello}An operator did not verify your developer account, for this reason:\n\n${developer.verificationReason}\n\nYou can read it again in the portal: ${portalUrl}\n`,
      };
    case 'disable':
      return { subject: 'Your Portico developer account is disabled', text: `${hello}An operator disabled your developer account: you can no longer sign in to the portal.\n` };
    case 'enable':
      return undefined;
  }
}

type Context = SubgraphContext<unknown>;

export function createDeveloperAdminResolvers(store: DeveloperAdminStore, mailer: Mailer, publicUrl: string) {
  const decide = (decision: DeveloperDecision) => async (_: unknown, { input }: { input: { developerId: string; reason: string } }, ctx: Context) => {
    const developer = await store.decide(operatorActor(ctx.caller), input, decision);
    const mail = mailOf(decision, developer, `${publicUrl}/portal`);
    // Only to an address the developer proved is theirs: an unproven one may be someone else's.
    if (mail && developer.emailVerifiedAt) await mailer.send({ to: developer.email, ...mail });
    return developer;
  };
  return {
    Query: {
      developers: async (
        _: unknown,
        args: DeveloperFilter & { first?: number | null; after?: string | null },
        ctx: Context,
      ) => {
        operatorActor(ctx.caller);
        const limit = pageSize(args.first);
        const filter: DeveloperFilter = { search: args.search, verificationStatus: args.verificationStatus, disabled: args.disabled };
        const rows = await store.list(filter, { limit, after: args.after });
        return { ...toConnection(rows, limit, developersCursor, !!args.after), totalCount: () => store.count(filter) };
      },
      developer: async (_: unknown, args: { id: string }, ctx: Context) => {
        operatorActor(ctx.caller);
        const developer = await store.byId(args.id);
        if (!developer) throw notFound('Developer', args.id);
        return developer;
      },
    },
    Mutation: {
      verifyDeveloper: decide('verify'),
      rejectDeveloper: decide('reject'),
      disableDeveloper: decide('disable'),
      enableDeveloper: decide('enable'),
    },
    Developer: {
      history: (developer: DeveloperRow, args: { first?: number | null }, ctx: Context) => {
        operatorActor(ctx.caller);
        return store.history(developer.id, v.intInRange(args.first ?? 50, 'first', 1, MAX_HISTORY));
      },
    },
  };
}
