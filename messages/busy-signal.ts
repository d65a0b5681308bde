/**
 * Whether the gateway is busy pushing: one signal that the parts which keep the channel busy
 * publish, and that whoever must not get in the way of a burst reads (the delivery records wait for
 * a pause, records/quiet-period.ts), instead of one part reading another's state.
 *
 * A pause is a pause of the whole channel, not only of the pushes: while a message is being prepared
 * (its entity sub-query on its way to a subgraph) or woken streams wait for their turn, the burst is
 * still on, however long since the last push. A burst's pushes come a context batch at a time, and
 * the gap while a batch's sub-queries are answered can pass any short quiet time.
 */
import type { Clock } from '../core/clock.js';

export interface BusySignal {
  /** A push happened just now. */
  pushed(): void;
  /** Work of a push is in progress (a message being prepared, streams waiting for their turn) until the returned function is called; calling it twice releases once. */
  hold(): () => void;
  /** Since when the channel has been quiet: now while anything is held, else the time of the last push (0 if none). */
  quietSince(): number;
}

export function createBusySignal(clock: Clock): BusySignal {
  let held = 0;
  let lastPush = 0;
  return {
    pushed() {
      lastPush = clock.now();
    },
    hold() {
      held++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held--;
      };
    },
    quietSince: () => (held > 0 ? clock.now() : lastPush),
  };
}
