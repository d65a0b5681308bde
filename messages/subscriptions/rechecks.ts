/**
 * Re-checks of open subscriptions (token expiry, revoked authorization, suspended app, lost scope).
 * Each is re-checked once per interval, but not on a timer of its own: connections are spread
 * round-robin over RECHECK_SLOTS slots of the interval, and one timer checks a slot's subscriptions
 * together, in one turn of the event loop. So what the checks look up (whether each merchant's
 * authorization still stands) goes to the subgraphs in one call per slot: with a thousand
 * subscriptions, 10 calls a second instead of 500.
 */
import type { Clock, ClockTimer } from '../../core/clock.js';

/** Slots of the re-check interval over which open subscriptions are spread. */
export const RECHECK_SLOTS = 20;

export interface Rechecks {
  /** Runs `check` once per interval while the returned function has not been called; checks of one connection share a slot. */
  watch(connection: object, check: () => void): () => void;
}

export function createRechecks(options: { clock: Clock; intervalMs: number }): Rechecks {
  const { clock } = options;
  const slots = Array.from({ length: RECHECK_SLOTS }, () => new Set<() => void>());
  const slotOf = new WeakMap<object, number>();
  let nextSlot = 0;
  let slotDue = 0;
  let sweep: ClockTimer | undefined;
  return {
    watch(connection, check) {
      let slot = slotOf.get(connection);
      if (slot === undefined) {
        slot = nextSlot;
        nextSlot = (nextSlot + 1) % RECHECK_SLOTS;
        slotOf.set(connection, slot);
      }
      const own = slots[slot]!;
      own.add(check);
      if (!sweep) {
        sweep = clock.setInterval(() => {
          for (const due of slots[slotDue]!) due();
          slotDue = (slotDue + 1) % RECHECK_SLOTS;
        }, options.intervalMs / RECHECK_SLOTS);
        sweep.unref();
      }
      return () => {
        own.delete(check);
        if (sweep && slots.every((s) => !s.size)) {
          clock.clearInterval(sweep);
          sweep = undefined;
        }
      };
    },
  };
}
