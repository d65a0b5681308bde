/**
 * An app's flow limits and daily quota, as the gateway enforces them:
 * - its tier: PAID when any package it holds now is PAID, else FREE; the tier's numbers
 *   (`tier_limits`, set by operators);
 * - an operator's override per app (bucket size, restore rate, daily quota; null: the tier's);
 * - lowered while a violation's FLOW_LIMIT_REDUCTION runs (`penalty_ends_at` null or ahead): bucket
 *   size and restore rate scaled to its `flow_limit_percent` (several at once: the lowest). The
 *   quota is not scaled: a penalty slows an app, it does not end its day early.
 * Also the operators' mutations that change them (audited), and what an app reads of its own usage.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import { badInput, notFound } from '../../core/errors.js';
import { nextUtcMidnight, type FlowCounters } from '../../core/flow-counters.js';
import * as v from '../../core/validate.js';
import { operatorActor } from './callers.js';
import { audit } from './audit.js';
import { activeFlowLimitPercent } from './violations.js';
import { apps, packageGrants, permissionPackages, tierLimits, type AppRow, type TierLimitsRow } from './tables.js';

export type Tier = 'FREE' | 'PAID';

export interface EffectiveLimits {
  tier: Tier;
  /** Cost points the app's bucket holds per merchant: also the most one operation may cost. */
  bucketSize: number;
  /** Cost points restored per second. */
  restoreRate: number;
  /** Calls per UTC day. */
  dailyQuota: number;
  /** The percentage of the tier's (or overridden) flow limits an active penalty leaves; null without one. */
  flowLimitPercent: number | null;
}

/** Bounds operators' numbers stay within (a bucket of 0 would refuse everything: suspend the app instead). */
const MAX_BUCKET_SIZE = 1_000_000;
const MAX_RESTORE_RATE = 100_000;
const MAX_DAILY_QUOTA = 1_000_000_000;

/** What of an app's row its limits depend on (besides its grants and violations). */
export type AppLimitInputs = Pick<AppRow, 'id' | 'bucketSizeOverride' | 'restoreRateOverride' | 'dailyQuotaOverride'>;
export const limitColumns = {
  id: apps.id,
  bucketSizeOverride: apps.bucketSizeOverride,
  restoreRateOverride: apps.restoreRateOverride,
  dailyQuotaOverride: apps.dailyQuotaOverride,
};

export function createLimitsStore(db: Db, clock: Clock) {
  return {
    async effectiveLimits(app: AppLimitInputs): Promise<EffectiveLimits> {
      const now = new Date(clock.now());
      const [[paid], tiers, percent] = await Promise.all([
        db
          .select({ paid: sql<boolean>`bool_or(${permissionPackages.tier} = 'PAID')` })
          .from(packageGrants)
          .innerJoin(permissionPackages, eq(permissionPackages.id, packageGrants.packageId))
          .where(and(eq(packageGrants.appId, app.id), isNull(packageGrants.revokedAt))),
        db.select().from(tierLimits),
        activeFlowLimitPercent(db, app.id, now),
      ]);
      const tier: Tier = paid?.paid ? 'PAID' : 'FREE';
      const base = tiers.find((t) => t.tier === tier);
      if (!base) throw new Error(`no tier_limits row for ${tier}`);
      const scaled = (value: number) => (percent === null ? value : Math.max(1, Math.floor((value * percent) / 100)));
      return {
        tier,
        bucketSize: scaled(app.bucketSizeOverride ?? base.bucketSize),
        restoreRate: scaled(app.restoreRateOverride ?? base.restoreRate),
        dailyQuota: app.dailyQuotaOverride ?? base.dailyQuota,
        flowLimitPercent: percent,
      };
    },

    listTierLimits(): Promise<TierLimitsRow[]> {
      return db.select().from(tierLimits).orderBy(tierLimits.tier);
    },

    async setTierLimits(actor: string, input: { tier: Tier; bucketSize: number; restoreRate: number; dailyQuota: number; reason: string }): Promise<TierLimitsRow> {
      const reason = v.text(input.reason, 'reason', { max: 1000 });
      const values = {
        bucketSize: v.intInRange(input.bucketSize, 'bucketSize', 1, MAX_BUCKET_SIZE),
        restoreRate: v.intInRange(input.restoreRate, 'restoreRate', 1, MAX_RESTORE_RATE),
        dailyQuota: v.intInRange(input.dailyQuota, 'dailyQuota', 1, MAX_DAILY_QUOTA),
      };
      return db.transaction(async (tx) => {
        const [before] = await tx.select().from(tierLimits).where(eq(tierLimits.tier, input.tier)).for('update');
        if (!before) throw notFound('Tier', input.tier);
        const [row] = await tx
          .update(tierLimits)
          .set({ ...values, updatedAt: new Date(clock.now()), updatedBy: actor })
          .where(eq(tierLimits.tier, input.tier))
          .returning();
        await audit(tx, {
          actor,
          action: 'tier_limits.set',
          targetType: 'tier',
          targetId: input.tier,
          reason,
          details: { before: { bucketSize: before.bucketSize, restoreRate: before.restoreRate, dailyQuota: before.dailyQuota }, after: values },
        });
        return row!;
      });
    },

    /** Sets (a number) or clears (null) each of an app's overrides; an absent field stays as it is. */
    async setAppFlowLimits(
      actor: string,
      input: { appKey: string; bucketSize?: number | null; restoreRate?: number | null; dailyQuota?: number | null; reason: string },
    ): Promise<AppRow> {
      const reason = v.text(input.reason, 'reason', { max: 1000 });
      const change: Partial<Pick<AppRow, 'bucketSizeOverride' | 'restoreRateOverride' | 'dailyQuotaOverride'>> = {};
      if (input.bucketSize !== undefined) change.bucketSizeOverride = input.bucketSize === null ? null : v.intInRange(input.bucketSize, 'bucketSize', 1, MAX_BUCKET_SIZE);
      if (input.restoreRate !== undefined) change.restoreRateOverride = input.restoreRate === null ? null : v.intInRange(input.restoreRate, 'restoreRate', 1, MAX_RESTORE_RATE);
      if (input.dailyQuota !== undefined) change.dailyQuotaOverride = input.dailyQuota === null ? null : v.intInRange(input.dailyQuota, 'dailyQuota', 1, MAX_DAILY_QUOTA);
      if (!Object.keys(change).length) throw badInput('Give at least one of bucketSize, restoreRate and dailyQuota (a number sets the override, null clears it)');
      return db.transaction(async (tx) => {
        const [before] = await tx.select().from(apps).where(eq(apps.key, input.appKey)).for('update');
        if (!before) throw notFound('App', input.appKey);
        const [row] = await tx.update(apps).set({ ...change, updatedAt: new Date(clock.now()) }).where(eq(apps.id, before.id)).returning();
        await audit(tx, {
          actor,
          action: 'app.flow_limits_set',
          targetType: 'app',
          targetId: input.appKey,
          reason,
          details: {
            before: { bucketSize: before.bucketSizeOverride, restoreRate: before.restoreRateOverride, dailyQuota: before.dailyQuotaOverride },
            after: { bucketSize: row!.bucketSizeOverride, restoreRate: row!.restoreRateOverride, dailyQuota: row!.dailyQuotaOverride },
          },
        });
        return row!;
      });
    },
  };
}

export type LimitsStore = ReturnType<typeof createLimitsStore>;

/**
 * The resolvers of limits and usage. `counters`: the gateways' call counters when this service can
 * read them (the same process, or Redis); without them `callsToday` is null.
 */
export function createLimitsResolvers(store: LimitsStore, options: { counters: FlowCounters | undefined; clock: Clock }) {
  const { counters, clock } = options;
  return {
    Query: {
      tierLimits: (_: unknown, __: unknown, ctx: { caller: Caller }) => {
        operatorActor(ctx.caller);
        return store.listTierLimits();
      },
    },
    Mutation: {
      setTierLimits: (_: unknown, { input }: { input: Parameters<LimitsStore['setTierLimits']>[1] }, ctx: { caller: Caller }) =>
        store.setTierLimits(operatorActor(ctx.caller), input),
      setAppFlowLimits: (_: unknown, { input }: { input: Parameters<LimitsStore['setAppFlowLimits']>[1] }, ctx: { caller: Caller }) =>
        store.setAppFlowLimits(operatorActor(ctx.caller), input),
    },
    AppAccess: {
      limits: (access: { limitsOf: AppLimitInputs }) => store.effectiveLimits(access.limitsOf),
    },
    App: {
      usage: async (app: AppRow) => {
        const now = clock.now();
        const [limits, callsToday] = await Promise.all([store.effectiveLimits(app), counters ? counters.callsToday(app.key, now) : null]);
        return { ...limits, callsToday, resetsAt: new Date(nextUtcMidnight(now)) };
      },
      flowLimitOverrides: (app: AppRow) => ({ bucketSize: app.bucketSizeOverride, restoreRate: app.restoreRateOverride, dailyQuota: app.dailyQuotaOverride }),
    },
  };
}
