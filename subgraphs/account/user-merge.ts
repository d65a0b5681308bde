/**
 * Merging one buyer into another, a saga over the outbox:
 * 1. account, in the caller's transaction: the merged buyer points at the survivor (and so does
 *    every buyer merged into it before), its identifiers move to the survivor or retire, its guest
 *    ids follow, the merge is recorded, and USER_MERGED is written to the outbox for every merchant
 *    that knows either buyer, carrying each app's own old and new openid and unionid;
 * 2. a runner asks the services that key data by buyer (order) to re-point it to the survivor, and
 *    marks the merge done when they answer; until then it retries with backoff. The re-point is
 *    idempotent and sweeps every buyer merged into the survivor, so a crash between the steps, or a
 *    merge of the survivor itself meanwhile, only delays it: a restart finishes it.
 * A real buyer always survives a virtual one; between two virtual ones, the earliest.
 */
import crypto from 'node:crypto';
import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Clock } from '../../core/clock.js';
import type { Db, Executor } from '../../core/db.js';
import type { Logger } from '../../core/logger.js';
import { recordEvents } from '../../messages/outbox.js';
import { appOpenids, developerUnionids, guestIds, outboxEvents, userMerchants, userMerges, users, type UserRow } from './tables.js';

/** What one app is told of a merge: its own identifiers of the buyer merged away and of the survivor. */
export interface MergedIdentity {
  appKey: string;
  mergedOpenid: string;
  mergedUnionid: string | null;
  survivingOpenid: string;
  survivingUnionid: string | null;
}

/** Which of two buyers survives a merge: a real one over a virtual one, else the earliest. */
export function survivorAmong(candidates: readonly UserRow[]): UserRow {
  return [...candidates].sort((a, b) => Number(a.isVirtual) - Number(b.isVirtual) || a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))[0]!;
}

/**
 * Merges `merged` into `survivor` in the caller's transaction, which must hold both buyers' rows
 * locked (FOR UPDATE). Returns the merge's id.
 */
export async function mergeUsers(tx: Executor, merged: UserRow, survivor: UserRow, now: Date): Promise<string> {
  if (merged.id === survivor.id || merged.mergedInto || survivor.mergedInto) throw new Error('merge of a buyer already merged, or into itself');
  if (!merged.isVirtual && !survivor.isVirtual) throw new Error('two real buyers are never merged');
  const before = await tx.select().from(appOpenids).where(and(eq(appOpenids.userId, merged.id), isNull(appOpenids.retiredAt)));
  const unionidsBefore = await tx.select().from(developerUnionids).where(and(eq(developerUnionids.userId, merged.id), isNull(developerUnionids.retiredAt)));

  await tx.update(users).set({ mergedInto: survivor.id }).where(sql`${users.id} = ${merged.id} or ${users.mergedInto} = ${merged.id}`);
  // An identifier the survivor has its own of, for the same app or developer, retires (it still
  // finds the person); the others move to the survivor, so the app's records stay right as they are.
  await tx.execute(sql`update account.app_openids m set retired_at = ${now} where m.user_id = ${merged.id} and m.retired_at is null
    and exists (select 1 from account.app_openids s where s.user_id = ${survivor.id} and s.app_key = m.app_key and s.retired_at is null)`);
  await tx.update(appOpenids).set({ userId: survivor.id }).where(and(eq(appOpenids.userId, merged.id), isNull(appOpenids.retiredAt)));
  await tx.execute(sql`update account.developer_unionids m set retired_at = ${now} where m.user_id = ${merged.id} and m.retired_at is null
    and exists (select 1 from account.developer_unionids s where s.user_id = ${survivor.id} and s.developer_id = m.developer_id and s.retired_at is null)`);
  await tx.update(developerUnionids).set({ userId: survivor.id }).where(and(eq(developerUnionids.userId, merged.id), isNull(developerUnionids.retiredAt)));
  await tx.update(guestIds).set({ userId: survivor.id }).where(eq(guestIds.userId, merged.id));
  await tx.execute(sql`insert into account.user_merchants (user_id, merchant_id) select ${survivor.id}, merchant_id from account.user_merchants where user_id = ${merged.id} on conflict do nothing`);
  // Merges still re-pointing into the merged buyer now end at the survivor.
  await tx.update(userMerges).set({ survivingUserId: survivor.id, repointedAt: null, nextAttemptAt: now }).where(eq(userMerges.survivingUserId, merged.id));
  const mergeId = crypto.randomUUID();
  await tx.insert(userMerges).values({ id: mergeId, mergedUserId: merged.id, survivingUserId: survivor.id, createdAt: now, nextAttemptAt: now });

  // Each app that saw the merged buyer, with its own identifiers before and after.
  const openidsAfter = before.length
    ? await tx.select().from(appOpenids).where(and(eq(appOpenids.userId, survivor.id), inArray(appOpenids.appKey, before.map((o) => o.appKey)), isNull(appOpenids.retiredAt)))
    : [];
  const developers = [...new Set(before.map((o) => o.developerId))];
  const unionidsAfter = developers.length
    ? await tx.select().from(developerUnionids).where(and(eq(developerUnionids.userId, survivor.id), inArray(developerUnionids.developerId, developers), isNull(developerUnionids.retiredAt)))
    : [];
  const identities: MergedIdentity[] = before.map((o) => ({
    appKey: o.appKey,
    mergedOpenid: o.openid,
    mergedUnionid: unionidsBefore.find((u) => u.developerId === o.developerId)?.unionid ?? null,
    survivingOpenid: openidsAfter.find((a) => a.appKey === o.appKey)?.openid ?? o.openid,
    survivingUnionid: unionidsAfter.find((u) => u.developerId === o.developerId)?.unionid ?? null,
  }));
  const merchants = await tx.selectDistinct({ merchantId: userMerchants.merchantId }).from(userMerchants).where(inArray(userMerchants.userId, [merged.id, survivor.id]));
  await recordEvents(
    tx,
    outboxEvents,
    merchants.map(({ merchantId }) => ({
      merchantId,
      aggregateType: 'user',
      aggregateId: mergeId,
      type: 'user.merged',
      occurredAt: now,
      // The platform's user ids stay inside it: the channel shows each app only its own entry (messages/user-merged.ts).
      payload: { mergeId, mergedUserId: merged.id, survivingUserId: survivor.id, identities },
    })),
  );
  return mergeId;
}

/** The services that key data by buyer, asked to re-point it: they answer once it is done. */
export interface BuyerDataOwners {
  repointBuyers(survivingUserId: string, mergedUserIds: string[]): Promise<void>;
}

export interface MergeRunnerOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  owners: BuyerDataOwners;
  /** How often pending merges are looked for (a merge made here wakes the runner at once). */
  pollMs?: number;
}

/**
 * A merge claimed by a runner is left to it this long before another runner may take it (after a
 * crash). Short, since the re-point is idempotent: a claim that lapses while its call is still out
 * costs a second call, nothing else.
 */
const CLAIM_MS = 5_000;
const MAX_BACKOFF_MS = 60_000;

/** The runner of the saga's second step; several processes may run one (claims keep them apart). */
export function startMergeRunner(options: MergeRunnerOptions) {
  const { db, clock, logger } = options;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;

  async function claim(): Promise<{ id: string; survivingUserId: string; attempts: number }[]> {
    const now = new Date(clock.now());
    return db.transaction(async (tx) => {
      const due = await tx
        .select({ id: userMerges.id, survivingUserId: userMerges.survivingUserId, attempts: userMerges.attempts })
        .from(userMerges)
        .where(and(isNull(userMerges.repointedAt), lte(userMerges.nextAttemptAt, now)))
        .orderBy(asc(userMerges.nextAttemptAt))
        .limit(20)
        .for('update', { skipLocked: true });
      if (due.length) await tx.update(userMerges).set({ nextAttemptAt: new Date(now.getTime() + CLAIM_MS) }).where(inArray(userMerges.id, due.map((d) => d.id)));
      return due;
    });
  }

  async function finish(merge: { id: string; survivingUserId: string; attempts: number }) {
    const merged = await db.select({ id: users.id }).from(users).where(eq(users.mergedInto, merge.survivingUserId));
    try {
      await options.owners.repointBuyers(merge.survivingUserId, merged.map((m) => m.id));
      // Done, unless the survivor was merged meanwhile (then the merge points further and goes again).
      await db.update(userMerges).set({ repointedAt: new Date(clock.now()) }).where(and(eq(userMerges.id, merge.id), eq(userMerges.survivingUserId, merge.survivingUserId)));
    } catch (error) {
      const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(merge.attempts, 10));
      logger.warn({ err: error, mergeId: merge.id, attempts: merge.attempts + 1 }, 'a buyer merge could not be re-pointed yet; retried later');
      await db
        .update(userMerges)
        .set({ attempts: sql`${userMerges.attempts} + 1`, nextAttemptAt: new Date(clock.now() + backoff) })
        .where(eq(userMerges.id, merge.id))
        .catch(() => undefined);
    }
  }

  async function runOnce() {
    do {
      again = false;
      const due = await claim();
      for (const merge of due) await finish(merge);
      if (due.length === 20) again = true;
    } while (again && !stopped);
  }

  function wake() {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = runOnce()
      .catch((error: unknown) => logger.warn({ err: error }, 'buyer merges: a round failed; the next one retries'))
      .finally(() => {
        running = undefined;
      });
  }

  const timer = setInterval(wake, options.pollMs ?? 1000);
  timer.unref();
  wake();
  return {
    /** Looks for merges to finish now (after one was recorded). */
    wake,
    /** Resolves once the current round (if any) ended. */
    idle: async () => {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

export type MergeRunner = ReturnType<typeof startMergeRunner>;
