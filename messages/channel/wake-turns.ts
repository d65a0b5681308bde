/**
 * Streams woken by NOTIFYs go on in turns of a few, one turn of the event loop each, not all in the
 * turn that read the NOTIFYs. A burst's NOTIFYs arrive together, and each woken stream executes its
 * message up to its entity sub-query; the sub-queries of a turn leave for the subgraph at the end of
 * that turn, because undici writes a request on a reused keep-alive connection only after a turn of
 * the event loop (it first checks the idle socket; GHSA-35p6-xmwp-9g52). Woken all at once, a
 * thousand streams executed before the first sub-query left, and the subgraph started only then; in
 * turns, it works on the first ones while the gateway executes the rest.
 *
 * While streams wait for their turn the channel is busy (busy-signal.ts).
 */
import type { BusySignal } from '../busy-signal.js';

export interface Wakeable {
  /** Its turn came: a stream asleep goes on now. */
  wakeTurn(): void;
}

export interface WakeTurns {
  /** Wakes the stream in a coming turn (once, however often it is asked before then). */
  wake(stream: Wakeable): void;
  /** The stream closed: it is not woken. */
  forget(stream: Wakeable): void;
}

export function createWakeTurns(options: { perTurn: number; busy: BusySignal }): WakeTurns {
  const waiting = new Set<Wakeable>();
  let turnScheduled = false;
  let release: (() => void) | undefined;
  const settle = () => {
    if (waiting.size || !release) return;
    release();
    release = undefined;
  };
  function nextTurn() {
    turnScheduled = false;
    let n = 0;
    for (const stream of waiting) {
      if (n++ === options.perTurn) break;
      waiting.delete(stream);
      stream.wakeTurn();
    }
    if (waiting.size) {
      turnScheduled = true;
      setImmediate(nextTurn);
    }
    settle();
  }
  return {
    wake(stream) {
      waiting.add(stream);
      release ??= options.busy.hold();
      if (turnScheduled) return;
      turnScheduled = true;
      setImmediate(nextTurn);
    },
    forget(stream) {
      waiting.delete(stream);
      settle();
    },
  };
}
