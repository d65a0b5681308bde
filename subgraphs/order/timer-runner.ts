/**
 * Fires the order service's due timers (timers.ts), in every process that runs the order service.
 *
 * A pass reads the next pending timers of the kinds it has handlers for, oldest due first, and fires
 * each due one in its own transaction: lock the row `FOR UPDATE SKIP LOCKED` (still pending, still
 * due), set `fired_at`, run the kind's handler in that transaction, commit. A row another process
 * holds is skipped; once that process commits, the row is no longer pending. A kind without a
 * handler here (a newer version's, during a rolling deploy) is left to the processes that know it.
 *
 * When nothing is due, the runner sleeps on the clock until the next pending timer is due, or
 * IDLE_POLL_MS at most (another process, or a request of this one, may have scheduled an earlier
 * one meanwhile).
 *
 * A handler that throws rolls its change back; the timer stays pending with `attempts` + 1 and its
 * `last_error`, and is retried with exponential backoff. The table has no column for the time of
 * the next try, so the backoff is kept twice: durably, as a schedule computed from `due_at` and
 * `attempts` (try n comes RETRY_BASE_MS · (2^n − 1) after the due time, each step at most
 * RETRY_MAX_STEP_MS), which every process and a restart honour; and in this process's memory, from
 * the time of its own last try, which spaces the tries of a timer that was already late (for the
 * durable schedule, a timer due a day ago is due again at once).
 */
import { and, asc, eq, gt, inArray, lte, notInArray, sql } from 'drizzle-orm';
import type { Clock, ClockTimer } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import type { Logger } from '../../core/logger.js';
import { orderTimers } from './tables.js';
import { pendingTimer, type FiringTimer, type TimerHandler, type TimerHandlers } from './timers.js';

/**
 * Longest sleep when no pending timer is known to be due sooner. A timer scheduled after a pass is
 * due a whole window later (hours or days), after the next pass, so it is not late for this; only
 * one scheduled less than this ahead (a window set that short) or another process's failed one
 * waits up to this long. An idle process costs two indexed statements per IDLE_POLL_MS.
 */
const IDLE_POLL_MS = 300_000;
/** Timers read (and fired, each in its own transaction) per batch. */
const BATCH_SIZE = 50;
/** The first retry of a failed timer comes this long after its due time; each next one twice as long after the previous. */
export const RETRY_BASE_MS = 10_000;
/** The longest step between two tries. */
export const RETRY_MAX_STEP_MS = 3_600_000;
/** What a failure leaves in `last_error`, at most. */
const LAST_ERROR_LENGTH = 500;

export interface TimerRunner {
  /** Fires every timer due now (after a pass already under way); resolves with how many fired. */
  runDue(): Promise<number>;
  /** Stops polling and waits for the pass under way. */
  stop(): Promise<void>;
}

export interface TimerRunnerOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  handlers: TimerHandlers;
  /**
   * After a timer's transaction committed: what its change set going outside the database (stock a
   * refund owes goes back on sale). A failure here is logged; what it owed stays recorded for the
   * next drain.
   */
  afterFired?: (kind: string, timer: FiringTimer) => Promise<void>;
}

/** Time from a timer's due time to its try after `attempts` failures (the durable backoff). */
export function retryOffsetMs(attempts: number): number {
  let offset = 0;
  for (let step = 0; step < attempts; step++) offset += Math.min(RETRY_BASE_MS * 2 ** step, RETRY_MAX_STEP_MS);
  return offset;
}

/** Steps of the backoff below RETRY_MAX_STEP_MS (after them, each step is the maximum). */
const UNCAPPED_STEPS = Math.ceil(Math.log2(RETRY_MAX_STEP_MS / RETRY_BASE_MS));

/** `retryOffsetMs(attempts)` of each row, in SQL, as an interval. */
const retryOffset = sql.raw(`(case when attempts <= ${UNCAPPED_STEPS}
  then ${RETRY_BASE_MS} * (power(2, attempts) - 1)
  else ${retryOffsetMs(UNCAPPED_STEPS)} + ${RETRY_MAX_STEP_MS}::float8 * (attempts - ${UNCAPPED_STEPS}) end) * interval '1 millisecond'`);

/** When a pending timer is next tried: its due time, pushed back by its failures. */
const nextTryAt = sql`(${orderTimers.dueAt} + ${retryOffset})`;
/** Whether a pending timer is to be tried at `now`. */
const triedBy = (now: Date) => sql`${nextTryAt} <= ${now.toISOString()}::timestamptz`;

/**
 * What a failure records: the innermost cause's message (a database error's own text, not the
 * query-and-parameters message a driver wraps it in: parameters can hold personal data).
 */
function describeFailure(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (!(cause instanceof Error)) break;
    current = cause;
  }
  const text = current instanceof Error ? `${current.name}: ${current.message}` : String(current);
  return text.replace(/\n\s*params:[\s\S]*$/, '').slice(0, LAST_ERROR_LENGTH);
}

export function startTimerRunner(options: TimerRunnerOptions): TimerRunner {
  const { db, clock, handlers } = options;
  const logger = options.logger.child({ component: 'order-timers' });
  const kinds = Object.keys(handlers);
  /** This process's own backoff: no try of these timers before the time given (ms of the clock). */
  const notBefore = new Map<string, number>();
  let wake: ClockTimer | undefined;
  let stopped = false;
  let inFlight: Promise<unknown> = Promise.resolve();

  /** Fires one timer if it is still pending and due; whether it fired. */
  async function fire(id: string, handler: TimerHandler): Promise<boolean> {
    const now = new Date(clock.now());
    const fired = await db.transaction(async (tx) => {
      const [timer] = await tx
        .select()
        .from(orderTimers)
        .where(and(eq(orderTimers.id, id), pendingTimer, triedBy(now)))
        .for('update', { skipLocked: true });
      if (!timer) return undefined; // fired or cancelled meanwhile, moved later, or held by another process
      // Marked fired before its handler runs, so the timer the handler schedules or cancels (its
      // change may start or end a wait of the same kind) is another one, never this one.
      await tx.update(orderTimers).set({ firedAt: now }).where(eq(orderTimers.id, id));
      await handler(tx as unknown as Db, { subjectId: timer.subjectId, merchantId: timer.merchantId, dueAt: timer.dueAt });
      return timer;
    });
    if (!fired) return false;
    notBefore.delete(id);
    logger.info({ timerId: id, kind: fired.kind, subjectId: fired.subjectId, merchantId: fired.merchantId, lateMs: now.getTime() - fired.dueAt.getTime(), attempts: fired.attempts }, 'order timer fired');
    await options.afterFired?.(fired.kind, { subjectId: fired.subjectId, merchantId: fired.merchantId, dueAt: fired.dueAt }).catch((error: unknown) =>
      logger.warn({ err: error, timerId: id, kind: fired.kind }, 'what an order timer set going after its change failed; kept for retry'),
    );
    return true;
  }

  async function recordFailure(id: string, kind: string, error: unknown) {
    const lastError = describeFailure(error);
    const [row] = await db
      .update(orderTimers)
      .set({ attempts: sql`${orderTimers.attempts} + 1`, lastError })
      .where(and(eq(orderTimers.id, id), pendingTimer))
      .returning({ attempts: orderTimers.attempts });
    const attempts = row?.attempts ?? 1;
    notBefore.set(id, clock.now() + Math.min(RETRY_BASE_MS * 2 ** (attempts - 1), RETRY_MAX_STEP_MS));
    logger.warn({ timerId: id, kind, attempts, error: lastError }, 'order timer failed; retried later');
  }

  /** Fires what is due, batch after batch; returns how many fired and when to look again. */
  async function pass(): Promise<{ fired: number; nextAt: number | undefined }> {
    let fired = 0;
    for (;;) {
      const now = clock.now();
      const at = new Date(now);
      for (const [id, until] of notBefore) if (until <= now) notBefore.delete(id);
      const backedOff = [...notBefore.keys()];
      // Due by the index on due_at, oldest first; a failed one only once its backoff is over.
      const due = await db
        .select({ id: orderTimers.id, kind: orderTimers.kind })
        .from(orderTimers)
        .where(and(pendingTimer, lte(orderTimers.dueAt, at), triedBy(at), inArray(orderTimers.kind, kinds), backedOff.length ? notInArray(orderTimers.id, backedOff) : undefined))
        .orderBy(asc(orderTimers.dueAt))
        .limit(BATCH_SIZE);
      let progress = 0;
      for (const timer of due) {
        if (stopped) break;
        try {
          if (await fire(timer.id, handlers[timer.kind as keyof TimerHandlers]!)) {
            fired += 1;
            progress += 1;
          }
        } catch (error) {
          progress += 1;
          await recordFailure(timer.id, timer.kind, error).catch((recordError: unknown) =>
            logger.error({ err: recordError, timerId: timer.id }, 'the failure of an order timer could not be recorded'),
          );
        }
      }
      // A full batch that moved: there may be more. Otherwise (or when the rest is held by another
      // process, or stopping) this pass is done: look again when the next timer is due, or when
      // this process's next retry is (another process's retries come with the idle poll).
      if (stopped || due.length < BATCH_SIZE || progress === 0) {
        const [next] = await db
          .select({ dueAt: orderTimers.dueAt })
          .from(orderTimers)
          .where(and(pendingTimer, gt(orderTimers.dueAt, at), inArray(orderTimers.kind, kinds)))
          .orderBy(asc(orderTimers.dueAt))
          .limit(1);
        const nextAt = Math.min(next ? next.dueAt.getTime() : Infinity, ...notBefore.values());
        return { fired, nextAt: Number.isFinite(nextAt) ? nextAt : undefined };
      }
    }
  }

  function runDue(): Promise<number> {
    const run = inFlight.then(async () => {
      try {
        const { fired, nextAt } = await pass();
        sleepUntil(nextAt);
        return fired;
      } catch (error) {
        logger.error({ err: error }, 'order timers could not be read; trying again later');
        sleepUntil(undefined);
        return 0;
      }
    });
    inFlight = run;
    return run;
  }

  function sleepUntil(nextAt: number | undefined) {
    clock.clearTimeout(wake);
    wake = undefined;
    if (stopped) return;
    const ms = Math.min(IDLE_POLL_MS, Math.max(0, (nextAt ?? Infinity) - clock.now()));
    wake = clock.setTimeout(() => {
      wake = undefined;
      void runDue();
    }, ms);
    wake.unref();
  }

  if (kinds.length) void runDue();
  return {
    runDue,
    async stop() {
      stopped = true;
      clock.clearTimeout(wake);
      wake = undefined;
      await inFlight.catch(() => undefined);
    },
  };
}
