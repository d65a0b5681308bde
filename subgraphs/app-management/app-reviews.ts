/**
 * Release review: a developer submits a SANDBOX app with notes (at most one review pending per app);
 * an operator approves it, which releases the app to LIVE through the one path of status changes
 * (app-status.ts: status history, audit, event), or rejects it with a reason the developer reads.
 */
import crypto from 'node:crypto';
import DataLoader from 'dataloader';
import { asc, desc, eq, inArray } from 'drizzle-orm';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import { isUniqueViolation } from '../../core/db.js';
import { conflict, notFound } from '../../core/errors.js';
import { pageSize } from '../../core/pagination.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import { changeAppStatus } from './app-status.js';
import { audit } from './audit.js';
import { developerOf, operatorActor } from './callers.js';
import { ownApp } from './developer-apps.js';
import { appReviews, apps, type AppRow } from './tables.js';

export type AppReviewRow = typeof appReviews.$inferSelect;

export function createAppReviewStore(db: Db, clock: Clock) {
  const decide = (actor: string, input: { reviewId: string; reason: string }, decision: 'APPROVED' | 'REJECTED') => {
    const reason = v.text(input.reason, 'reason', { max: 2000 });
    if (!v.isWellFormedId(input.reviewId)) throw notFound('App review', input.reviewId);
    return db.transaction(async (tx) => {
      const [review] = await tx.select().from(appReviews).where(eq(appReviews.id, input.reviewId.toLowerCase())).for('update');
      if (!review) throw notFound('App review', input.reviewId);
      if (review.status !== 'PENDING') throw conflict(`The review was already ${review.status.toLowerCase()}`, { status: review.status });
      const [app] = await tx.select().from(apps).where(eq(apps.id, review.appId)).for('update');
      if (decision === 'APPROVED') {
        // Only a SANDBOX app is released; a suspension since the submission is for operators to lift first.
        if (app!.status !== 'SANDBOX') throw conflict(`App ${app!.key} is ${app!.status}: only a SANDBOX app is released`, { currentStatus: app!.status });
        await changeAppStatus(tx, actor, app!, 'LIVE', `review ${review.id}: ${reason}`);
      }
      const [decided] = await tx
        .update(appReviews)
        .set({ status: decision, decidedAt: new Date(clock.now()), decidedBy: actor, decisionReason: reason })
        .where(eq(appReviews.id, review.id))
        .returning();
      await audit(tx, { actor, action: decision === 'APPROVED' ? 'review.approved' : 'review.rejected', targetType: 'app', targetId: app!.key, reason, details: { reviewId: review.id } });
      return decided!;
    });
  };
  return {
    async submit(developerId: string, input: { appKey: string; notes?: string | null }): Promise<AppReviewRow> {
      const notes = v.optionalText(input.notes, 'notes', 5000) ?? '';
      try {
        return await db.transaction(async (tx) => {
          const app = await ownApp(tx, developerId, input.appKey, { lock: true });
          if (app.status !== 'SANDBOX') throw conflict(`App ${app.key} is ${app.status}: only a SANDBOX app is submitted for review`, { currentStatus: app.status });
          const [review] = await tx.insert(appReviews).values({ id: crypto.randomUUID(), appId: app.id, notes, submittedAt: new Date(clock.now()) }).returning();
          await audit(tx, { actor: `developer:${developerId}`, action: 'review.submitted', targetType: 'app', targetId: app.key, details: { reviewId: review!.id } });
          return review!;
        });
      } catch (error) {
        if (isUniqueViolation(error, 'app_reviews_pending_key')) throw conflict('A review of this app is already pending', { field: 'appKey' });
        throw error;
      }
    },
    approve: (actor: string, input: { reviewId: string; reason: string }) => decide(actor, input, 'APPROVED'),
    reject: (actor: string, input: { reviewId: string; reason: string }) => decide(actor, input, 'REJECTED'),
    /** Operators' queue: oldest first. */
    async listReviews(status: AppReviewRow['status'], limit: number): Promise<AppReviewRow[]> {
      return db.select().from(appReviews).where(eq(appReviews.status, status)).orderBy(asc(appReviews.submittedAt), asc(appReviews.id)).limit(limit);
    },
    async reviewsOfApps(appIds: readonly string[]): Promise<AppReviewRow[]> {
      return appIds.length ? db.select().from(appReviews).where(inArray(appReviews.appId, [...appIds])).orderBy(desc(appReviews.submittedAt), desc(appReviews.id)) : [];
    },
  };
}

export type AppReviewStore = ReturnType<typeof createAppReviewStore>;

export function createAppReviewLoaders(store: AppReviewStore) {
  return {
    reviewsOfApp: new DataLoader<string, AppReviewRow[]>(async (appIds) => {
      const rows = await store.reviewsOfApps(appIds);
      return appIds.map((id) => rows.filter((r) => r.appId === id));
    }),
  };
}

export type AppReviewLoaders = ReturnType<typeof createAppReviewLoaders>;

type Context = SubgraphContext<AppReviewLoaders & { appById: { load(id: string): Promise<AppRow | null> } }>;

export function createAppReviewResolvers(store: AppReviewStore) {
  return {
    Query: {
      appReviews: (_: unknown, args: { status: AppReviewRow['status']; first?: number | null }, ctx: Context) => {
        operatorActor(ctx.caller);
        return store.listReviews(args.status, pageSize(args.first));
      },
    },
    Mutation: {
      submitAppForReview: (_: unknown, { input }: { input: { appKey: string; notes?: string | null } }, ctx: Context) => store.submit(developerOf(ctx.caller), input),
      approveAppReview: (_: unknown, { input }: { input: { reviewId: string; reason: string } }, ctx: Context) => store.approve(operatorActor(ctx.caller), input),
      rejectAppReview: (_: unknown, { input }: { input: { reviewId: string; reason: string } }, ctx: Context) => store.reject(operatorActor(ctx.caller), input),
    },
    App: {
      reviews: (app: AppRow, _: unknown, ctx: Context) => ctx.loaders.reviewsOfApp.load(app.id),
    },
    AppReview: {
      // Through the app loader: a review is only ever read by its app's developer or an operator.
      app: async (review: AppReviewRow, _: unknown, ctx: Context) => (await ctx.loaders.appById.load(review.appId)) ?? Promise.reject(notFound('App', review.appId)),
    },
  };
}
