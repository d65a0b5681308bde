/**
 * The last stage of the pipeline: every call, executed or refused, becomes one FinishedCall (who,
 * which operation, its outcome, latency and cost), handed to the sinks that count it: the call
 * report (per app, aggregated per minute, gateway/call-reports.ts) and the Prometheus metrics
 * (gateway/metrics.ts). One signal, two readers; neither reads the other.
 *
 * Executed calls are seen by an Apollo plugin when their answer is ready (HTTP requests and the
 * queries and mutations sent over a WebSocket connection); calls an earlier stage refused are seen
 * by `onRefusal`, from where gateway/server.ts answers the refusal. The message channel's own
 * entity sub-queries (`shareRequests`) are the platform's work, not calls, and are not counted.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { getOperationAST } from 'graphql';
import type { Caller } from '../../core/caller.js';
import type { GatewayContext, GatewayPlugin } from './types.js';

/** One call, as its counters see it. */
export interface FinishedCall {
  /** Who called; undefined when the call was refused before its caller was known. */
  caller: Caller | undefined;
  /** The operation's name ('' anonymous, or not known because the call was refused before its document was read). */
  operationName: string;
  /** SHA-256 (hex) of the document's text ('' when it was not read). */
  documentHash: string;
  /** OK, or the code of the answer's first error. */
  outcome: string;
  /** The code of every error of the answer, in order (empty when OK). */
  errorCodes: readonly string[];
  /** From the request's arrival to its answer being ready. */
  latencyMs: number;
  /** The query cost flow control charged (0 when it did not run). */
  requestedCost: number;
  actualCost: number;
  /** Refused before execution (by a pipeline stage). */
  refused: boolean;
}

export interface CallSink {
  recordCall(call: FinishedCall): void;
}

/** The code a call without any counts as. */
export const OK_OUTCOME = 'OK';

/** What flow control leaves on the context (gateway/plugins/flow-control.ts): the cost it charged. */
interface CostedContext {
  cost?: { requested: number; actual: number } | undefined;
}

/** Operation names as the GraphQL grammar allows them, and short: what a client sends besides is not a name. */
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;
/** Error codes as servers write them (UPPER_SNAKE); anything else is counted as one code. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const UNKNOWN_CODE = 'UNKNOWN';

export const operationNameOf = (name: unknown): string => (typeof name === 'string' && OPERATION_NAME.test(name) ? name : '');
export const errorCodeOf = (code: unknown): string => (typeof code === 'string' && ERROR_CODE.test(code) ? code : UNKNOWN_CODE);

export function useCallReport(options: { recordCall(call: FinishedCall): void }): GatewayPlugin {
  const { recordCall } = options;
  const counting: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart(started) {
      if (started.contextValue.shareRequests) return;
      // An HTTP request's clock started when it arrived (before the pipeline); an operation over a
      // connection's starts now.
      const startedAt = started.contextValue.receivedAt ?? performance.now();
      return {
        async willSendResponse({ contextValue, response, operationName, request, queryHash, document }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
          const errorCodes = errors?.map((error) => errorCodeOf(error.extensions?.code)) ?? [];
          const cost = (contextValue as CostedContext).cost;
          recordCall({
            caller: contextValue.caller,
            // A document that parsed but did not validate has no resolved operation: its name is still in it.
            operationName: operationNameOf(operationName ?? (document ? getOperationAST(document, request.operationName)?.name?.value : request.operationName)),
            documentHash: queryHash ?? '',
            outcome: errorCodes[0] ?? OK_OUTCOME,
            errorCodes,
            latencyMs: performance.now() - startedAt,
            requestedCost: cost?.requested ?? 0,
            actualCost: cost?.actual ?? 0,
            refused: false,
          });
        },
      };
    },
  };
  return {
    name: 'call-report',
    apolloPlugins: [counting],
    onRefusal(state, error) {
      const code = errorCodeOf(error.code);
      recordCall({
        caller: state.caller,
        operationName: '',
        documentHash: '',
        outcome: code,
        errorCodes: [code],
        latencyMs: performance.now() - state.receivedAt,
        requestedCost: 0,
        actualCost: 0,
        refused: true,
      });
    },
  };
}
