/**
 * A subscription's results, in stream order. Messages are executed up to LOOKAHEAD ahead of the one
 * being sent (so a subscription catching up does not wait for each sub-query in turn: theirs
 * coalesce), and sent strictly in order. A message is sent once its stream's pushed mark covers it
 * (channel/push-marks.ts) and is recorded as it is sent: the send does not wait for its record (in a
 * burst the records' sealing and statements were a stage of their own that every push waited on).
 * One read before a reset or a termination is not sent after it.
 */
import type { FormattedExecutionResult } from 'graphql';
import { ErrorCode, PorticoError } from '../../core/errors.js';
import type { Envelope } from '../channel/envelope.js';
import type { MessageStream } from '../channel/stream.js';

/** Messages a subscription executes ahead of the one being sent (their sub-queries coalesce). */
export const LOOKAHEAD = 16;

/** The error that ends a subscription whose push was sent but could not be recorded. */
const recordFailed = () =>
  new PorticoError(ErrorCode.SERVICE_UNAVAILABLE, 'A message sent on this subscription could not be recorded; subscribe again: messages not acknowledged come again', { retryable: true });
/** The error that ends a subscription whose push could not be marked: it was not sent. */
const markFailed = () => new PorticoError(ErrorCode.SERVICE_UNAVAILABLE, 'A message could not be prepared for sending, so it was not sent; subscribe again to receive it', { retryable: true });

export interface OrderedDeliveryOptions {
  stream: MessageStream;
  /** Executes a message: what the subscriber receives for it. */
  execute(envelope: Envelope): Promise<FormattedExecutionResult>;
  /** Turns what ended the subscription into the last result it receives. */
  failure(error: unknown): FormattedExecutionResult;
  /** The subscription is over (ended by either side): called once. */
  finished(): void;
}

type Step = { kind: 'message'; envelope: Envelope; result: FormattedExecutionResult } | { kind: 'error'; error: unknown } | { kind: 'done' };

export function deliverInOrder(options: OrderedDeliveryOptions): AsyncIterableIterator<FormattedExecutionResult> {
  const { stream } = options;
  const iterator = stream[Symbol.asyncIterator]();
  const ahead: Promise<Step>[] = [];
  let readerEnded = false;
  let wakeReader: (() => void) | undefined;
  let wakeConsumer: (() => void) | undefined;
  let done = false;
  const dropped = (envelope: Envelope) => done || !!stream.terminated || stream.isStale(envelope);

  const prepare = async (envelope: Envelope): Promise<Step> => {
    const prepared = stream.preparing();
    try {
      const result = await options.execute(envelope);
      if (dropped(envelope)) return { kind: 'message', envelope, result };
      if (envelope.marked) {
        try {
          await envelope.marked;
        } catch {
          return { kind: 'error', error: markFailed() };
        }
        if (dropped(envelope)) return { kind: 'message', envelope, result };
      }
      // With too many records pending (a database slower than the pushes), it waits for room first.
      const room = stream.roomForRecords();
      if (room) {
        await room;
        if (dropped(envelope)) return { kind: 'message', envelope, result };
      }
      // One that cannot be written ends the subscription; the message stays unacknowledged unless
      // the subscriber acknowledged it (an acknowledgement through this gateway waits for the
      // records of what it acknowledges), so the next connection pushes it again, recorded.
      stream.recordPush(envelope, result).catch(() => stream.terminate(recordFailed()));
      return { kind: 'message', envelope, result };
    } catch (error) {
      return { kind: 'error', error };
    } finally {
      prepared();
    }
  };
  const push = (step: Promise<Step>) => {
    ahead.push(step);
    wakeConsumer?.();
  };
  const reader = async () => {
    while (!done) {
      if (ahead.length >= LOOKAHEAD) {
        await new Promise<void>((resolve) => (wakeReader = resolve));
        wakeReader = undefined;
        continue;
      }
      let step: IteratorResult<Envelope>;
      try {
        step = await iterator.next();
      } catch (error) {
        push(Promise.resolve({ kind: 'error', error }));
        break;
      }
      if (step.done) {
        push(Promise.resolve({ kind: 'done' }));
        break;
      }
      push(prepare(step.value));
    }
    readerEnded = true;
    wakeConsumer?.();
  };
  let readerStarted = false;

  const finish = async () => {
    if (done) return;
    done = true;
    options.finished();
    stream.close();
    wakeReader?.();
    wakeConsumer?.();
    await iterator.return?.(undefined);
  };
  const failWith = async (error: unknown): Promise<IteratorResult<FormattedExecutionResult>> => {
    await finish();
    return { done: false, value: options.failure(error) };
  };

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<FormattedExecutionResult>> {
      if (!readerStarted) {
        readerStarted = true;
        void reader();
      }
      for (;;) {
        if (done) return { done: true, value: undefined };
        if (stream.terminated) return failWith(stream.terminated);
        const head = ahead.shift();
        if (!head) {
          if (readerEnded) return { done: true, value: undefined };
          await new Promise<void>((resolve) => (wakeConsumer = resolve));
          wakeConsumer = undefined;
          continue;
        }
        wakeReader?.();
        const step = await head;
        if (step.kind === 'done') {
          await finish();
          return { done: true, value: undefined };
        }
        if (step.kind === 'error') return failWith(step.error);
        if (done) return { done: true, value: undefined };
        if (stream.terminated) return failWith(stream.terminated);
        if (stream.isStale(step.envelope)) continue;
        stream.sent(step.envelope);
        return { done: false, value: step.result };
      }
    },
    async return(): Promise<IteratorResult<FormattedExecutionResult>> {
      await finish();
      return { done: true, value: undefined };
    },
    // An async generator's whole shape: graphql-sse ends an operation when its client goes away only
    // if the operation has `throw` as well as `return` (its isAsyncGenerator); without it, an
    // abandoned SSE stream kept its subscription open.
    async throw(error?: unknown): Promise<IteratorResult<FormattedExecutionResult>> {
      await finish();
      throw error;
    },
  };
}
