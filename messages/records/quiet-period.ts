/**
 * When the delivery records are written: once the channel has been quiet for a moment, and at the
 * latest a while after the first of them began to wait. A burst's records, written while it was
 * being pushed, took CPU from it (on the gateway's thread handing them over, and the record
 * worker's sealing and statements and PostgreSQL's inserts on the other core, which the subgraph
 * answering the sub-queries needs); written just after it, the same work costs the burst nothing.
 * "Quiet" is the channel's busy signal (channel/busy-signal.ts). One timer, re-armed only when it fires.
 */
import type { Clock, ClockTimer } from '../../core/clock.js';
import type { BusySignal } from '../busy-signal.js';

export interface QuietPeriod {
  /** Records are waiting: `onQuiet` runs once the channel is quiet (or the longest wait is over). */
  waiting(): void;
  /** Nothing waits any more (written meanwhile) or the channel stops. */
  cancel(): void;
}

export interface QuietPeriodOptions {
  clock: Clock;
  busy: BusySignal;
  /** How long the channel must have been quiet; 0: at the next turn of the event loop. */
  quietMs: number;
  /** The longest the first waiting record waits for that. */
  maxDelayMs: number;
  /** Whether anything still waits (checked when the timer fires). */
  anythingWaiting(): boolean;
  onQuiet(): void;
}

export function createQuietPeriod(options: QuietPeriodOptions): QuietPeriod {
  const { clock, busy, quietMs, maxDelayMs } = options;
  let timer: ClockTimer | undefined;
  let firstWaitingAt = 0;
  let nextTurn = false;
  function check() {
    timer = undefined;
    if (!options.anythingWaiting()) return;
    const now = clock.now();
    const wait = Math.min(busy.quietSince() + quietMs - now, firstWaitingAt + maxDelayMs - now);
    if (wait > 0) timer = clock.setTimeout(check, wait);
    else options.onQuiet();
  }
  return {
    waiting() {
      if (quietMs <= 0) {
        if (nextTurn) return;
        nextTurn = true;
        setImmediate(() => {
          nextTurn = false;
          options.onQuiet();
        });
        return;
      }
      if (timer) return;
      firstWaitingAt = clock.now();
      timer = clock.setTimeout(check, Math.min(quietMs, maxDelayMs));
    },
    cancel() {
      clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
