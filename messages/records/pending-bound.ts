/**
 * Back-pressure of delivery records: a push is sent without waiting for its record, so a database
 * slower than the pushes would let records pile up in memory. At the bound, a push waits until one
 * is written (or failed) before it is sent.
 */
export interface PendingBound {
  /** A record was handed over. */
  added(): void;
  /** A record was written or failed: waiting pushes may go on. */
  settled(): void;
  /** undefined while there is room; otherwise a promise that resolves once there is. */
  room(): Promise<void> | undefined;
  readonly pending: number;
}

export function createPendingBound(max: number): PendingBound {
  let pending = 0;
  const waiting: (() => void)[] = [];
  return {
    added() {
      pending++;
    },
    settled() {
      pending--;
      // Every waiting push goes on (each may not record: it may have been closed meanwhile);
      // together they exceed the bound by at most the pushes being prepared at once.
      if (pending < max) for (const go of waiting.splice(0)) go();
    },
    room() {
      if (pending < max) return undefined;
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    get pending() {
      return pending;
    },
  };
}
