/**
 * What each durable timer of the order lifecycle does when it fires (timers.ts, timer-runner.ts),
 * inside the transaction that marks it fired. Each handler first checks that what it waited for
 * did not happen meanwhile (the case was answered, the return shipped, the order completed), and
 * then does nothing.
 */
import type { Clock } from '../../core/clock.js';
import type { AfterSales } from './after-sales.js';
import { hasOpenCase, lockOrder, moveOrder, type LifecycleDurations } from './order-changes.js';
import type { OrderTimerKind, TimerHandler } from './timers.js';

export interface LifecycleTimerDependencies {
  afterSales: AfterSales;
  clock: Clock;
  durations: LifecycleDurations;
}

export function orderTimerHandlers({ afterSales, clock, durations }: LifecycleTimerDependencies): Record<OrderTimerKind, TimerHandler> {
  return {
    /** A DELIVERED order with no open case becomes COMPLETED; with one, closing it schedules completion again. */
    COMPLETE_ORDER: async (tx, timer) => {
      const order = await lockOrder(tx, timer.merchantId, timer.subjectId);
      if (order.status !== 'DELIVERED' || (await hasOpenCase(tx, order.id))) return;
      await moveOrder(tx, order, 'COMPLETED', new Date(clock.now()), durations);
    },
    APPROVE_AFTER_SALE: (tx, timer) => afterSales.approveUnanswered(tx, timer),
    CLOSE_UNSHIPPED_RETURN: (tx, timer) => afterSales.closeUnshippedReturn(tx, timer),
  };
}
