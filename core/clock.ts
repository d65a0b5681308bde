/**
 * Time as a dependency. Everything whose behaviour depends on time (token lifetimes, caches, the
 * message channel's timers) takes a Clock instead of reading the wall clock, so a test advances
 * time instead of sleeping. `systemClock` is the real one; tests pass a fake one (tests/helpers/clock.ts).
 *
 * Only time goes through here: "after this turn of the event loop" (setImmediate, queueMicrotask)
 * is ordering, not time, and stays as it is.
 */

/** A pending timer; `unref` lets the process exit while it is pending (as Node's own timers). */
export interface ClockTimer {
  unref(): unknown;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` once, `ms` from now (0 or less: as soon as possible). */
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
  /** Runs `callback` every `ms`. */
  setInterval(callback: () => void, ms: number): ClockTimer;
  clearInterval(timer: ClockTimer | undefined): void;
}

/** The wall clock and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (timer) => clearInterval(timer as NodeJS.Timeout | undefined),
};

/** Resolves after `ms` of the clock's time. */
export function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
