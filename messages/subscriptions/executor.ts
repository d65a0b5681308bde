/**
 * Executing operations that arrive over WebSocket or SSE.
 *
 * @apollo/gateway does not execute subscriptions, so the channel does: each message of the
 * subscription's stream is executed with graphql-js against the API schema, as the root value; the
 * event's own fields come from the message, its entity fields from sub-queries through the gateway
 * (entity-queries.ts). Queries and mutations sent over these transports go through the gateway as
 * over HTTP.
 */
import type { ApolloServer } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  execute,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
import { getArgumentValues, getVariableValues } from 'graphql/execution/values.js';
import { LRUCache } from 'lru-cache';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import { ErrorCode, PorticoError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { MessageChannel } from '../channel/channel.js';
import { InvalidCursorError, type MessageCrypto } from '../crypto.js';
import { allowedTopics, eventTypeOf, type MessageSource, type MessageTopic, type TopicDefinition } from '../topics.js';
import { createEntityResolution, type EntityQueryOptions, type ExecutionContext, type SubQueryContext } from './entity-queries.js';
import { deliverInOrder } from './ordered-delivery.js';
import { createRechecks } from './rechecks.js';
import type { SingleFetch } from './single-fetch.js';

export interface OperationRequest {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

export interface Connection {
  caller: Caller;
  connectionId: string;
  transport: 'ws' | 'sse';
  requestId: string;
  /**
   * Re-checks the connection's token (expiry, merchant authorization, app status and granted
   * scopes): its current effective scopes, or the error that ends its subscriptions.
   */
  recheck(): Promise<{ scopes: readonly string[] } | { error: GraphQLError }>;
}

/** The context queries and mutations sent over a connection run with, as over HTTP. */
export interface OperationContext {
  caller: Caller;
  requestId: string;
}

export interface SubscriptionExecutorOptions {
  /** The gateway's own Apollo Server: queries and mutations over a connection, and sub-queries that span subgraphs. */
  apollo: Pick<ApolloServer<OperationContext & Partial<SubQueryContext>>, 'executeOperation'>;
  singleFetch?: EntityQueryOptions['singleFetch'] & {
    /** Prepares the planner ahead of the first plan (called when the first subscription opens). */
    warm?(): void;
  };
  schema(): GraphQLSchema;
  channel: MessageChannel;
  crypto: MessageCrypto;
  validationRules: readonly ValidationRule[];
  /** The gateway's limits on a document (enforced while parsing, and by sub-queries of many entities). */
  limits: { maxTokens: number; maxAliases: number };
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  recheckIntervalMs: number;
  clock: Clock;
  logger: Logger;
  /**
   * The fields operators took offline that a caller's subscription selects now (the gateway's API
   * validity, gateway/plugins/api-validity.ts, on its cached list), or null when none: asked at each
   * event, so a change bites on open subscriptions within APP_ACCESS_CACHE_MS.
   */
  offlineFieldsOf?(caller: Caller, schema: GraphQLSchema, document: DocumentNode): OfflineFields | null | Promise<OfflineFields | null>;
}

/** What selecting offline fields makes of a subscription's document. */
export interface OfflineFields {
  /** The document without the offline fields: what each event is executed with (no sub-query asks for them). */
  document: DocumentNode;
  /** The answer to the original document over `data` (the answer to `document`): the offline fields null, with their API_OFFLINE errors. */
  answer(data: Record<string, unknown> | null | undefined, variables: Record<string, unknown>, operationName: string | undefined): { data: Record<string, unknown> | null; errors: readonly GraphQLError[] };
}

export type OperationOutcome = FormattedExecutionResult | AsyncIterableIterator<FormattedExecutionResult>;

export interface SubscriptionExecutor {
  /** Parses an operation's document (shared with every other operation of the same text); throws a GraphQLError when it does not parse. */
  parse(query: string): DocumentNode;
  /** Runs one operation for a connection: a single result, or a stream of results for a subscription. */
  run(request: OperationRequest, connection: Connection, parsed?: DocumentNode): Promise<OperationOutcome>;
}

/** The subscription fields, and the topic each covers (null: the topics it is asked for, or all it may). */
const ROOT_TOPICS: Record<string, MessageTopic | null> = { orderEvents: 'ORDERS', productEvents: 'PRODUCTS', accountEvents: 'ACCOUNTS', messages: null };

/** Documents kept by text (see parseShared): how many, their text in all, and the longest one kept. */
const SHARED_DOCUMENTS = 1000;
const SHARED_DOCUMENTS_TEXT = 4_000_000;
const MAX_SHARED_DOCUMENT_TEXT = 16_000;

/** An error as clients see it (not relying on GraphQLError#toJSON: errors may come from another copy of graphql-js). */
function toFormatted(error: GraphQLError, extensions?: Record<string, unknown>): GraphQLFormattedError {
  return {
    message: error.message,
    ...(error.locations?.length ? { locations: error.locations } : {}),
    ...(error.path ? { path: error.path } : {}),
    ...(extensions || (error.extensions && Object.keys(error.extensions).length) ? { extensions: { ...error.extensions, ...extensions } } : {}),
  };
}

export function createSubscriptionExecutor(options: SubscriptionExecutorOptions): SubscriptionExecutor {
  const { apollo, crypto: messageCrypto } = options;
  const format = (error: GraphQLError, extensions?: Record<string, unknown>) => options.formatError(toFormatted(error, extensions), error.originalError ?? error);
  const formatResult = (result: ExecutionResult): FormattedExecutionResult => {
    const formatted: FormattedExecutionResult = {};
    if (result.errors?.length) formatted.errors = result.errors.map((e) => format(e));
    if ('data' in result) formatted.data = result.data ?? null;
    return formatted;
  };
  const errorResult = (error: GraphQLError): FormattedExecutionResult => ({ errors: [format(error)] });
  const fieldResolver = createEntityResolution({ gateway: apollo, ...(options.singleFetch ? { singleFetch: options.singleFetch } : {}), crypto: messageCrypto, limits: options.limits, logger: options.logger });
  const rechecks = createRechecks({ clock: options.clock, intervalMs: options.recheckIntervalMs });

  /**
   * Parsed documents by their text. Subscribers that send the same operation (an ERP's connections
   * for a thousand merchants) share one DocumentNode, and so one sub-query plan per entity field
   * (entity-queries.ts keys them by the document's field nodes) instead of one per subscription,
   * planned at its first event. Bounded by the text's length; long documents are parsed each time.
   */
  const documents = new LRUCache<string, DocumentNode>({ max: SHARED_DOCUMENTS, maxSize: SHARED_DOCUMENTS_TEXT, sizeCalculation: (_document, query) => query.length });
  /** Validation errors of a shared document against the schema it was validated with (the rules depend on nothing else). */
  const validated = new WeakMap<DocumentNode, { schema: GraphQLSchema; errors: readonly GraphQLError[] }>();
  function validateShared(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] {
    const known = validated.get(document);
    if (known?.schema === schema) return known.errors;
    const errors = validate(schema, document, [...specifiedRules, ...options.validationRules]);
    validated.set(document, { schema, errors });
    return errors;
  }

  function parseShared(query: string): DocumentNode {
    const known = documents.get(query);
    if (known) return known;
    // The same token limit as over HTTP, enforced while parsing (a document that fails is not kept).
    const document = parse(query, { maxTokens: options.limits.maxTokens });
    if (query.length <= MAX_SHARED_DOCUMENT_TEXT) documents.set(query, document);
    return document;
  }

  /** Which topics a subscription field covers, or the error that refuses it. */
  function topicsFor(fieldName: string, args: Record<string, unknown>, scopes: readonly string[]): TopicDefinition[] | GraphQLError {
    const fixed = ROOT_TOPICS[fieldName];
    if (fixed === undefined) return new PorticoError(ErrorCode.BAD_USER_INPUT, `Unknown subscription ${fieldName}`);
    try {
      return allowedTopics(scopes, fixed ? [fixed] : ((args.topics as MessageTopic[] | null | undefined) ?? null));
    } catch (error) {
      if (error instanceof GraphQLError) return error;
      throw error;
    }
  }

  async function openSubscription(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    rawVariables: Record<string, unknown>,
    operationName: string | undefined,
    connection: Connection,
    caller: Caller,
  ): Promise<OperationOutcome> {
    if (caller.kind !== 'app' || !caller.merchantId) {
      return errorResult(new PorticoError(ErrorCode.FORBIDDEN, 'Message subscriptions are per merchant: use a token a merchant authorized for the app'));
    }
    // The sub-query planner is built with the first subscription, not with its first event (once: warm() returns at once after that).
    options.singleFetch?.warm?.();
    const subscriptionType = schema.getSubscriptionType()!;
    const rootField = operation.selectionSet.selections[0];
    if (operation.selectionSet.selections.length !== 1 || rootField?.kind !== Kind.FIELD) {
      return { errors: [format(new GraphQLError('A subscription selects exactly one field at its root, without fragments'), { code: 'GRAPHQL_VALIDATION_FAILED' })] };
    }
    const fieldDef = subscriptionType.getFields()[rootField.name.value]!;
    // Coerce the variables once (validation passed, so this only fails on bad variable values).
    let args: Record<string, unknown>;
    try {
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables, { maxErrors: 10 });
      if (coerced.errors) return { errors: coerced.errors.map((e) => format(e, { code: ErrorCode.BAD_USER_INPUT })) };
      args = getArgumentValues(fieldDef, rootField, coerced.coerced);
    } catch (error) {
      if (error instanceof GraphQLError) return errorResult(new PorticoError(ErrorCode.BAD_USER_INPUT, error.message));
      throw error;
    }
    const topics = topicsFor(rootField.name.value, args, caller.scopes);
    if (topics instanceof GraphQLError) return errorResult(topics);

    let after: Partial<Record<MessageSource, number>> | undefined;
    if (args.after !== undefined && args.after !== null) {
      if (typeof args.after !== 'string') return errorResult(new PorticoError(ErrorCode.BAD_USER_INPUT, 'after must be a MessageCursor string', { field: 'after' }));
      try {
        const state = messageCrypto.openCursor(args.after);
        if (state.appKey !== caller.appKey || state.merchantId !== caller.merchantId) {
          return errorResult(new PorticoError(ErrorCode.BAD_USER_INPUT, 'This cursor belongs to another app or merchant', { field: 'after' }));
        }
        after = state.positions;
      } catch (error) {
        if (error instanceof InvalidCursorError) return errorResult(new PorticoError(ErrorCode.BAD_USER_INPUT, 'after is not a valid MessageCursor', { field: 'after' }));
        throw error;
      }
    }
    const types: Partial<Record<MessageSource, readonly string[]>> = {};
    if (Array.isArray(args.types)) {
      for (const topic of topics) types[topic.source] = (args.types as string[]).map((value) => eventTypeOf(topic, value)).filter((t): t is string => !!t);
    }
    const stream = options.channel.open({
      appKey: caller.appKey,
      merchantId: caller.merchantId,
      sources: topics.map((t) => t.source),
      types,
      ...(after ? { after } : {}),
      // A stream starts at the merchant's authorization of the app (the gateway learns its time with the grant).
      startFrom: caller.authorizedAt ? new Date(caller.authorizedAt) : null,
      connectionId: connection.connectionId,
      transport: connection.transport,
    });
    const context: ExecutionContext = { caller, requestId: connection.requestId, rawVariables };

    // Re-check the caller while the subscription lives: token expiry, revoked authorization, suspended app, lost scope.
    const unwatch = rechecks.watch(connection, () => {
      void connection
        .recheck()
        .then((outcome) => {
          if ('error' in outcome) return stream.terminate(outcome.error);
          const lost = topics.filter((t) => !outcome.scopes.includes(t.scope));
          if (lost.length) return stream.terminate(new PorticoError(ErrorCode.FORBIDDEN, `The app no longer holds ${lost.map((t) => t.scope).join(', ')}`, { requiredScopes: lost.map((t) => [t.scope]) }));
          // Entities pushed from now on are resolved with the scopes the app holds now (a revoked
          // orders:read_pii stops shippingAddress at the next push, not at the next connection).
          if (outcome.scopes.join(' ') !== context.caller.scopes.join(' ')) context.caller = { ...context.caller, scopes: [...outcome.scopes] };
        })
        .catch((error: unknown) => options.logger.warn({ err: error }, 'subscription re-check failed; trying again'));
    });

    return deliverInOrder({
      stream,
      execute: async (envelope) => {
        const rootValue = Object.assign(Object.create(null) as object, envelope, { __typename: envelope.topic.graphqlType });
        // Fields taken offline for the app now (nothing to do, the common case, costs one look at an empty index).
        const asked = options.offlineFieldsOf?.(context.caller, schema, document) ?? null;
        const offline = asked instanceof Promise ? await asked : asked;
        if (!offline) return formatResult(await execute({ schema, document, rootValue, contextValue: context, variableValues: rawVariables, operationName, fieldResolver }));
        const result = await execute({ schema, document: offline.document, rootValue, contextValue: context, variableValues: rawVariables, operationName, fieldResolver });
        const answer = offline.answer(result.data, rawVariables, operationName);
        return formatResult({ data: answer.data, errors: [...(result.errors ?? []), ...answer.errors] });
      },
      failure: (error) => {
        if (!(error instanceof GraphQLError)) options.logger.error({ err: error }, 'subscription failed');
        return errorResult(error instanceof GraphQLError ? error : new PorticoError(ErrorCode.INTERNAL_SERVER_ERROR, (error as Error).message));
      },
      finished: unwatch,
    });
  }

  return {
    parse: parseShared,
    async run(request, connection, parsed) {
      if (typeof request.query !== 'string' || !request.query) return errorResult(new PorticoError(ErrorCode.BAD_USER_INPUT, 'query must be a non-empty string'));
      const rawVariables = (request.variables && typeof request.variables === 'object' ? request.variables : {}) as Record<string, unknown>;
      const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
      let document: DocumentNode;
      try {
        document = parsed ?? parseShared(request.query);
      } catch (error) {
        return errorResult(new GraphQLError((error as GraphQLError).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } }));
      }
      const schema = options.schema();
      const operation = getOperationAST(document, operationName);
      if (!operation) return errorResult(new GraphQLError('Choose one operation with operationName', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
      // A connection lives long; its token may have expired, the merchant may have revoked the
      // authorization, the app may have been suspended or lost scopes since it connected. Every
      // operation sent over it is authorized as it would be over HTTP now (the checks are cached
      // for APP_ACCESS_CACHE_MS, as for HTTP requests).
      let current: Awaited<ReturnType<Connection['recheck']>>;
      try {
        current = await connection.recheck();
      } catch (error) {
        options.logger.error({ err: error }, 'authorizing an operation on a connection failed');
        return errorResult(new PorticoError(ErrorCode.INTERNAL_SERVER_ERROR, 'The operation could not be authorized; try again'));
      }
      if ('error' in current) return errorResult(current.error);
      const caller: Caller = current.scopes.join(' ') === connection.caller.scopes.join(' ') ? connection.caller : { ...connection.caller, scopes: [...current.scopes] };
      if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
        let response: Awaited<ReturnType<typeof apollo.executeOperation>>;
        try {
          response = await apollo.executeOperation(
            { query: request.query, variables: rawVariables, ...(operationName ? { operationName } : {}) },
            { contextValue: { caller, requestId: connection.requestId } },
          );
        } catch (error) {
          // A request refused before execution (a query limit, say) fails alone: never the socket.
          if (error instanceof GraphQLError) return errorResult(new GraphQLError(error.message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
          options.logger.error({ err: error }, 'an operation on a connection failed');
          return errorResult(new PorticoError(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error'));
        }
        if (response.body.kind !== 'single') return errorResult(new PorticoError(ErrorCode.INTERNAL_SERVER_ERROR, 'unexpected incremental response'));
        return response.body.singleResult as FormattedExecutionResult;
      }
      const errors = validateShared(schema, document);
      if (errors.length) return { errors: errors.map((e) => format(e, { code: 'GRAPHQL_VALIDATION_FAILED' })) };
      return openSubscription(schema, document, operation, rawVariables, operationName, connection, caller);
    },
  };
}

export type { SingleFetch };
