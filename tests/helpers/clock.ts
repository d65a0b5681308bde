/**
 * Clocks for tests (core/clock.ts is what the code takes).
 * - `fakeClock()`: virtual time only (@sinonjs/fake-timers, not installed globally): nothing fires
 *   until the test advances it. For unit tests of one part, with nothing real underneath.
 * - `adjustableClock()`: real time plus an offset the test moves forward. Timers fire when real time
 *   reaches them, or at once when `advance` passes them. For a whole platform, where real I/O and
 *   libraries keep their own timers, and a test needs an hour or a cache lifetime to pass now.
 */
import FakeTimers from '@sinonjs/fake-timers';
import type { Clock, ClockTimer } from '../../core/clock.js';

export interface FakeClock extends Clock {
  /** Moves time forward, firing the timers due on the way, and letting the promises they settle run. */
  advance(ms: number): Promise<void>;
  /** Runs whatever is due now (a timer of 0 ms), and the promises it settles. */
  runDue(): Promise<void>;
}

export function fakeClock(start = Date.parse('2026-12-01T00:00:00.000Z')): FakeClock {
  const clock = FakeTimers.createClock(start);
  const timer = (id: unknown): ClockTimer => ({ id, unref: () => undefined }) as ClockTimer;
  const idOf = (t: ClockTimer | undefined) => (t as { id?: unknown } | undefined)?.id as FakeTimers.TimerId | undefined;
  return {
    now: () => clock.now,
    setTimeout: (callback, ms) => timer(clock.setTimeout(callback, ms)),
    clearTimeout: (t) => {
      const id = idOf(t);
      if (id !== undefined) clock.clearTimeout(id);
    },
    setInterval: (callback, ms) => timer(clock.setInterval(callback, ms)),
    clearInterval: (t) => {
      const id = idOf(t);
      if (id !== undefined) clock.clearInterval(id);
    },
    advance: async (ms) => {
      await clock.tickAsync(ms);
      await settle();
    },
    runDue: async () => {
      await clock.tickAsync(0);
      await settle();
    },
  };
}

/** A few turns of the real event loop: what a fired timer set going (promises, setImmediate) runs. */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export interface AdjustableClock extends Clock {
  /** Moves this clock `ms` ahead of real time (for good), firing every timer that is due by then. */
  advance(ms: number): Promise<void>;
  readonly offsetMs: number;
}

export function adjustableClock(): AdjustableClock {
  let offset = 0;
  interface Pending {
    dueAt: number;
    callback: () => void;
    intervalMs?: number;
    real: NodeJS.Timeout;
    unref: boolean;
  }
  const pending = new Set<Pending>();
  const now = () => Date.now() + offset;
  const arm = (entry: Pending) => {
    entry.real = setTimeout(() => fire(entry), Math.max(0, entry.dueAt - now()));
    if (entry.unref) entry.real.unref();
  };
  const fire = (entry: Pending) => {
    if (!pending.has(entry)) return;
    if (entry.intervalMs === undefined) pending.delete(entry);
    else {
      entry.dueAt += entry.intervalMs;
      if (entry.dueAt <= now()) entry.dueAt = now() + entry.intervalMs;
      arm(entry);
    }
    entry.callback();
  };
  const schedule = (callback: () => void, ms: number, intervalMs?: number): ClockTimer => {
    const entry: Pending = { dueAt: now() + Math.max(0, ms), callback, real: undefined as unknown as NodeJS.Timeout, unref: false, ...(intervalMs !== undefined ? { intervalMs } : {}) };
    pending.add(entry);
    arm(entry);
    return {
      unref() {
        entry.unref = true;
        entry.real.unref();
        return this;
      },
      entry,
    } as ClockTimer;
  };
  const cancel = (timer: ClockTimer | undefined) => {
    const entry = (timer as { entry?: Pending } | undefined)?.entry;
    if (!entry) return;
    pending.delete(entry);
    clearTimeout(entry.real);
  };
  return {
    now,
    setTimeout: (callback, ms) => schedule(callback, ms),
    clearTimeout: cancel,
    setInterval: (callback, ms) => schedule(callback, ms, Math.max(1, ms)),
    clearInterval: cancel,
    get offsetMs() {
      return offset;
    },
    async advance(ms) {
      offset += ms;
      // Due timers fire in the order they are due; an interval fires once (as a late real one would).
      const due = [...pending].filter((e) => e.dueAt <= now()).sort((a, b) => a.dueAt - b.dueAt);
      for (const entry of due) {
        clearTimeout(entry.real);
        fire(entry);
      }
      await settle();
    },
  };
}
