/**
 * App status and violations: operators record a violation against an app with its penalty (a
 * warning, a flow-limit reduction for a while, or a suspension), end a suspension by reinstating
 * the app to the status it replaced, and lift a flow-limit reduction early. Every status change
 * goes through changeAppStatus (store.ts), the one path that keeps the status history and the audit
 * log. The app reads its own violations and status history; operators any app's.
 *
 * Contract with flow control: a FLOW_LIMIT_REDUCTION is active while its penalty_ends_at is null
 * or in the future, and cuts the app's bucket size and restore rate to flow_limit_percent % (several
 * active: the lowest percent); `activeFlowLimitPercent` answers exactly that.
 */
import crypto from 'node:crypto';
import DataLoader from 'dataloader';
import { and, desc, eq, gt, inArray, isNull, min, or } from 'drizzle-orm';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { Db, Executor } from '../../core/db.js';
import { badInput, conflict, notFound } from '../../core/errors.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import { operatorActor } from './callers.js';
import { changeAppStatus } from './app-status.js';
import { audit } from './audit.js';
import { appStatusChanges, appViolations, apps, type AppRow, type AppStatusChangeRow, type AppViolationRow } from './tables.js';

export type ViolationPenalty = AppViolationRow['penalty'];

export interface RecordViolationInput {
  appKey: string;
  kind: string;
  note: string;
  evidence?: string | null;
  penalty: ViolationPenalty;
  flowLimitPercent?: number | null;
  penaltyEndsAt?: Date | null;
}

/**
 * The percentage of its flow limits an app keeps now: the lowest of its active FLOW_LIMIT_REDUCTION
 * violations (penalty_ends_at null or after `now`), or null when none is active.
 */
export async function activeFlowLimitPercent(db: Executor, appId: string, now: Date): Promise<number | null> {
  const [row] = await db
    .select({ percent: min(appViolations.flowLimitPercent) })
    .from(appViolations)
    .where(
      and(
        eq(appViolations.appId, appId),
        eq(appViolations.penalty, 'FLOW_LIMIT_REDUCTION'),
        or(isNull(appViolations.penaltyEndsAt), gt(appViolations.penaltyEndsAt, now)),
      ),
    );
  return row?.percent ?? null;
}

export function createViolationStore(db: Db, clock: Clock) {
  const appForUpdate = async (tx: Executor, appKey: string): Promise<AppRow> => {
    const [app] = await tx.select().from(apps).where(eq(apps.key, appKey)).for('update');
    if (!app) throw notFound('App', appKey);
    return app;
  };

  return {
    async recordViolation(actor: string, input: RecordViolationInput): Promise<AppViolationRow> {
      const kind = v.text(input.kind, 'kind', { max: 100 });
      const note = v.text(input.note, 'note', { max: 2000 });
      const evidence = v.optionalText(input.evidence, 'evidence', 10_000);
      const reduction = input.penalty === 'FLOW_LIMIT_REDUCTION';
      let flowLimitPercent: number | null = null;
      let penaltyEndsAt: Date | null = null;
      if (reduction) {
        if (input.flowLimitPercent === null || input.flowLimitPercent === undefined) throw badInput('A FLOW_LIMIT_REDUCTION needs flowLimitPercent (1 to 99)', 'flowLimitPercent');
        flowLimitPercent = v.intInRange(input.flowLimitPercent, 'flowLimitPercent', 1, 99);
        penaltyEndsAt = input.penaltyEndsAt ?? null;
        if (penaltyEndsAt && penaltyEndsAt.getTime() <= clock.now()) throw badInput('penaltyEndsAt must be in the future', 'penaltyEndsAt');
      } else {
        if (input.flowLimitPercent !== null && input.flowLimitPercent !== undefined) throw badInput(`flowLimitPercent is only for a FLOW_LIMIT_REDUCTION, not a ${input.penalty}`, 'flowLimitPercent');
        if (input.penaltyEndsAt) throw badInput(`penaltyEndsAt is only for a FLOW_LIMIT_REDUCTION, not a ${input.penalty}`, 'penaltyEndsAt');
      }
      return db.transaction(async (tx) => {
        const app = await appForUpdate(tx, input.appKey);
        const [violation] = await tx
          .insert(appViolations)
          .values({ id: crypto.randomUUID(), appId: app.id, kind, note, evidence, penalty: input.penalty, flowLimitPercent, penaltyEndsAt, recordedBy: actor })
          .returning();
        await audit(tx, {
          actor,
          action: 'app.violation_recorded',
          targetType: 'app',
          targetId: app.key,
          reason: note,
          details: { violationId: violation!.id, kind, penalty: input.penalty, flowLimitPercent, penaltyEndsAt: penaltyEndsAt?.toISOString() ?? null, evidence },
        });
        // Already suspended: the violation is on record and the suspension it asks for already holds.
        if (input.penalty === 'SUSPENSION' && app.status !== 'SUSPENDED') {
          await changeAppStatus(tx, actor, app, 'SUSPENDED', `violation ${violation!.id} (${kind}): ${note}`);
        }
        return violation!;
      });
    },

    /** Ends an active FLOW_LIMIT_REDUCTION now. */
    async liftPenalty(actor: string, input: { violationId: string; reason: string }): Promise<AppViolationRow> {
      const id = v.id(input.violationId, 'violationId');
      const reason = v.text(input.reason, 'reason', { max: 500 });
      return db.transaction(async (tx) => {
        const [violation] = await tx.select().from(appViolations).where(eq(appViolations.id, id)).for('update');
        if (!violation) throw notFound('Violation', input.violationId);
        const now = new Date(clock.now());
        if (violation.penalty !== 'FLOW_LIMIT_REDUCTION') throw conflict(`A ${violation.penalty} has no penalty to lift${violation.penalty === 'SUSPENSION' ? ': reinstate the app instead' : ''}`, { penalty: violation.penalty });
        if (violation.penaltyEndsAt && violation.penaltyEndsAt <= now) throw conflict(`The penalty already ended at ${violation.penaltyEndsAt.toISOString()}`, { penaltyEndsAt: violation.penaltyEndsAt.toISOString() });
        const [lifted] = await tx.update(appViolations).set({ penaltyEndsAt: now }).where(eq(appViolations.id, id)).returning();
        const [app] = await tx.select({ key: apps.key }).from(apps).where(eq(apps.id, violation.appId));
        await audit(tx, { actor, action: 'app.violation_penalty_lifted', targetType: 'app', targetId: app!.key, reason, details: { violationId: id, previousPenaltyEndsAt: violation.penaltyEndsAt?.toISOString() ?? null } });
        return lifted!;
      });
    },

    /** Ends a suspension: the app goes back to the status the suspension replaced. */
    async reinstateApp(actor: string, input: { appKey: string; reason: string }): Promise<AppRow> {
      const reason = v.text(input.reason, 'reason', { max: 500 });
      return db.transaction(async (tx) => {
        const app = await appForUpdate(tx, input.appKey);
        if (app.status !== 'SUSPENDED') throw conflict(`App ${app.key} is not suspended (it is ${app.status})`, { currentStatus: app.status });
        // A suspension from before the replaced status was kept goes back to SANDBOX, which reaches no real merchant.
        return changeAppStatus(tx, actor, app, app.statusBeforeSuspension ?? 'SANDBOX', reason);
      });
    },

    async violationsOfApps(appIds: readonly string[]): Promise<AppViolationRow[]> {
      if (!appIds.length) return [];
      return db
        .select()
        .from(appViolations)
        .where(inArray(appViolations.appId, [...appIds]))
        .orderBy(desc(appViolations.recordedAt), desc(appViolations.id));
    },

    async statusChangesOfApps(appIds: readonly string[]): Promise<AppStatusChangeRow[]> {
      if (!appIds.length) return [];
      return db
        .select()
        .from(appStatusChanges)
        .where(inArray(appStatusChanges.appId, [...appIds]))
        .orderBy(desc(appStatusChanges.id));
    },
  };
}

export type ViolationStore = ReturnType<typeof createViolationStore>;

function groupByApp<T extends { appId: string }>(rows: readonly T[], appIds: readonly string[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const row of rows) groups.set(row.appId, [...(groups.get(row.appId) ?? []), row]);
  return appIds.map((id) => groups.get(id) ?? []);
}

/** Per-request loaders; callers reach them only through an app they may see (the app loader checks). */
export function createViolationLoaders(store: ViolationStore) {
  return {
    violationsOfApp: new DataLoader<string, AppViolationRow[]>(async (appIds) => groupByApp(await store.violationsOfApps(appIds), appIds)),
    statusChangesOfApp: new DataLoader<string, AppStatusChangeRow[]>(async (appIds) => groupByApp(await store.statusChangesOfApps(appIds), appIds)),
  };
}

export type ViolationLoaders = ReturnType<typeof createViolationLoaders>;
type Context = SubgraphContext<ViolationLoaders>;

/** Who did it is for operators; an app sees what happened to it, not which operator did it. */
const forOperators = (caller: Caller, actor: string) => (caller.kind === 'operator' ? actor : null);

export function createViolationResolvers(store: ViolationStore, clock: Clock) {
  return {
    Mutation: {
      recordAppViolation: (_: unknown, { input }: { input: RecordViolationInput }, ctx: Context) => store.recordViolation(operatorActor(ctx.caller), input),
      liftViolationPenalty: (_: unknown, { input }: { input: { violationId: string; reason: string } }, ctx: Context) => store.liftPenalty(operatorActor(ctx.caller), input),
      reinstateApp: (_: unknown, { input }: { input: { appKey: string; reason: string } }, ctx: Context) => store.reinstateApp(operatorActor(ctx.caller), input),
    },
    App: {
      violations: (app: AppRow, _: unknown, ctx: Context) => ctx.loaders.violationsOfApp.load(app.id),
      statusHistory: (app: AppRow, _: unknown, ctx: Context) => ctx.loaders.statusChangesOfApp.load(app.id),
    },
    AppViolation: {
      recordedBy: (violation: AppViolationRow, _: unknown, ctx: Context) => forOperators(ctx.caller, violation.recordedBy),
      penaltyActive: async (violation: AppViolationRow, _: unknown, ctx: Context) => {
        switch (violation.penalty) {
          case 'WARNING':
            return false;
          case 'FLOW_LIMIT_REDUCTION':
            return !violation.penaltyEndsAt || violation.penaltyEndsAt.getTime() > clock.now();
          case 'SUSPENSION': {
            // Until the app next left SUSPENDED (a reinstatement, or an operator's setAppStatus).
            const changes = await ctx.loaders.statusChangesOfApp.load(violation.appId);
            return !changes.some((change) => change.fromStatus === 'SUSPENDED' && change.at >= violation.recordedAt);
          }
        }
      },
    },
    AppStatusChange: {
      from: (change: AppStatusChangeRow) => change.fromStatus,
      to: (change: AppStatusChangeRow) => change.toStatus,
      actor: (change: AppStatusChangeRow, _: unknown, ctx: Context) => forOperators(ctx.caller, change.actor),
    },
  };
}
