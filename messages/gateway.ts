/**
 * The message channel's entry for the gateway: what the gateway gives it, and what it gives back
 * (the channel, its two transports, and an Apollo plugin). Everything else of the channel stays in
 * this folder.
 */
import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode, type ValidationRule } from 'graphql';
import type http from 'node:http';
import type { Caller } from '../core/caller.js';
import type { Clock } from '../core/clock.js';
import type { Database } from '../core/db.js';
import type { Logger } from '../core/logger.js';
import { createMessageChannel, type MessageChannel } from './channel/channel.js';
import type { Kek } from '../core/sealing.js';
import { createMessageCrypto } from './crypto.js';
import { MAX_RECORD_WRITES } from './records/record-queue.js';
import { inThreadRecordWriter, splitRecordWriter, startRecordWorker, type RecordWriter } from './records/record-writer.js';
import { createMessageStore } from './store/index.js';
import type { SubQueryContext } from './subscriptions/entity-queries.js';
import { createSubscriptionExecutor, type OperationContext, type SubscriptionExecutorOptions } from './subscriptions/executor.js';
import { createSingleFetchPlanner } from './subscriptions/single-fetch.js';
import { createTransports, type Transports } from './subscriptions/transports.js';

/** The channel's settings an operator sets (core/config.ts `messages`). */
export interface MessageChannelSettings {
  ackTimeoutMs: number;
  maxPushAttempts: number;
  maxInFlight: number;
  retentionDays: number;
  purgeIntervalMs: number;
}

/** Tuning that tests set (not operator settings: the defaults are the channel's named constants). */
export interface MessageTuning {
  /** Delivery records wait for a pause in pushing this long (0: the next turn). */
  recordQuietMs?: number;
  /** The longest a record waits for that pause. */
  recordMaxDelayMs?: number;
  /** Records pending at which a push waits for room. */
  maxPendingRecords?: number;
  /** Record batches of at least this many pushes go to the record worker (PostgreSQL server only); 0: no worker. */
  recordWorkerBatch?: number;
  /** The record worker's heap limit in MB; 0: Node's default. */
  recordWorkerMaxHeapMb?: number;
}

/**
 * Batches of at least this many records (a burst's) go to the record worker thread, smaller ones are
 * written on the gateway's thread: a few records are written faster on the spot (a trickle of
 * events, one stream catching up 16 messages at a time) than through a round trip to another thread,
 * which also costs a clone each way (records only through the worker caught a backlog up at 2,488
 * events/s, against 2,858 on the gateway's thread).
 */
export const RECORD_WORKER_BATCH = 32;

export interface MessageChannelDependencies {
  database: Database;
  /** The PostgreSQL server (the record worker connects to it); absent with PGlite. */
  databaseUrl: string | undefined;
  keks: readonly Kek[];
  settings: MessageChannelSettings;
  tuning?: MessageTuning | undefined;
  logger: Logger;
  clock: Clock;
  /** The gateway's own Apollo Server (queries over connections, sub-queries that span subgraphs). */
  apollo: Pick<ApolloServer<OperationContext & Partial<SubQueryContext>>, 'executeOperation'>;
  /** The API schema, once the gateway has loaded it. */
  schema(): GraphQLSchema;
  /** The supergraph (the channel plans sub-queries that one subgraph answers alone). */
  supergraphSdl: string;
  /** Sends an operation to one subgraph through the gateway's data source for it. */
  sendToSubgraph(serviceName: string, request: { query: string; operationName?: string; variables: Record<string, unknown> }, context: SubQueryContext): Promise<{ data?: unknown; errors?: readonly GraphQLFormattedError[] }>;
  validationRules: readonly ValidationRule[];
  limits: { maxTokens: number; maxAliases: number };
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  /** How often open subscriptions re-check their caller. */
  recheckIntervalMs: number;
  /** The fields taken offline that a caller's subscription selects now (the gateway's API validity), checked at each event. */
  offlineFieldsOf?: SubscriptionExecutorOptions['offlineFieldsOf'];
  /**
   * Runs the gateway's request pipeline on a connection's own request (the WebSocket upgrade, the
   * SSE request), with the credential a WebSocket client gave in its connection parameters: its
   * caller, or an HttpError.
   */
  authorize(request: http.IncomingMessage, credentials: { authorization?: string | undefined }): Promise<{ caller: Caller; requestId: string }>;
}

export interface RunningMessageChannel {
  channel: MessageChannel;
  transports: Transports;
  stop(): Promise<void>;
}

export async function startMessageChannel(deps: MessageChannelDependencies): Promise<RunningMessageChannel> {
  const tuning = deps.tuning ?? {};
  const logger = deps.logger.child({ service: 'messages' });
  const crypto = createMessageCrypto(deps.keks, deps.clock);
  const store = createMessageStore(deps.database.db, crypto, deps.clock);
  const workerBatch = tuning.recordWorkerBatch ?? RECORD_WORKER_BATCH;
  // With a PostgreSQL server, a burst's delivery records are written by a worker thread of the
  // gateway (sealing, JSON and statements on another core: see records/record-writer.ts); PGlite
  // lives in this thread, so it keeps the in-thread writer.
  const records: RecordWriter | undefined =
    deps.database.kind === 'postgres' && deps.databaseUrl && workerBatch > 0
      ? splitRecordWriter(
          inThreadRecordWriter(store, crypto),
          await startRecordWorker({ databaseUrl: deps.databaseUrl, keks: deps.keks, connections: MAX_RECORD_WRITES, maxHeapMb: tuning.recordWorkerMaxHeapMb ?? 0, logger }),
          workerBatch,
        )
      : undefined;
  const channel = createMessageChannel({
    database: deps.database,
    store,
    crypto,
    logger,
    clock: deps.clock,
    ...deps.settings,
    ...(records ? { records } : {}),
    tuning: {
      ...(tuning.recordQuietMs !== undefined ? { recordQuietMs: tuning.recordQuietMs } : {}),
      ...(tuning.recordMaxDelayMs !== undefined ? { recordMaxDelayMs: tuning.recordMaxDelayMs } : {}),
      ...(tuning.maxPendingRecords !== undefined ? { maxPendingRecords: tuning.maxPendingRecords } : {}),
    },
  });
  await channel.start();
  const planSingleFetch = createSingleFetchPlanner(deps.supergraphSdl);
  const executor = createSubscriptionExecutor({
    apollo: deps.apollo,
    singleFetch: { plan: planSingleFetch, warm: planSingleFetch.warm, send: deps.sendToSubgraph },
    schema: deps.schema,
    channel,
    crypto,
    validationRules: deps.validationRules,
    limits: deps.limits,
    formatError: deps.formatError,
    recheckIntervalMs: deps.recheckIntervalMs,
    clock: deps.clock,
    logger: deps.logger,
    ...(deps.offlineFieldsOf ? { offlineFieldsOf: deps.offlineFieldsOf } : {}),
  });
  const transports = createTransports({ executor, authorize: deps.authorize, logger: deps.logger, clock: deps.clock });
  return {
    channel,
    transports,
    async stop() {
      await transports.close();
      await channel.stop();
    },
  };
}

/** Root fields of the API that read what a stream's records say: their requests wait for the stream's pending records. */
const RECORD_READING_FIELDS = new Set(['acknowledgeMessages', 'messageRecords']);

/**
 * The channel's Apollo plugin: a push is sent while its record is being written, so an
 * acknowledgement, and a listing of records, first have this gateway's pending records of the app's
 * stream of the merchant written, so that every message it acknowledges has its record when it is
 * marked, and a subscriber that lists the records of what it received finds them. Which requests
 * wait is read from the operation's root fields (through fragments), not from its text.
 */
export function recordsBeforeReading(channel: () => MessageChannel | undefined): ApolloServerPlugin<{ caller: Caller }> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, contextValue }) {
          const open = channel();
          const { caller } = contextValue;
          if (!open || !operation || caller?.kind !== 'app' || !caller.merchantId || !readsRecords(document, operation)) return;
          await open.recordsWritten(caller.appKey, caller.merchantId);
        },
      };
    },
  };
}

function readsRecords(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode): boolean =>
    set.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return RECORD_READING_FIELDS.has(selection.name.value);
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet);
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || seen.has(name)) return false;
      seen.add(name);
      return visit(fragment.selectionSet);
    });
  return visit(operation.selectionSet);
}
