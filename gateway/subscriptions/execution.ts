/**
 * Executing operations that arrive over WebSocket or SSE.
 *
 * @apollo/gateway does not execute subscriptions, so the gateway does: each message of the
 * subscription's stream is executed with graphql-js against the API schema, as the root value. The
 * event's own fields (id, cursor, type...) come from the message; an entity field (`order`,
 * `product`, `sku`, `merchant`) is resolved by running the subscriber's selection for it as a query
 * through the gateway itself (`order(id:) { <selection> }`), with the subscriber's caller. So the
 * fields resolve across subgraphs, and each subgraph's field permissions apply exactly as for
 * queries: a field the app may not read comes back null with FORBIDDEN at its path.
 *
 * Queries and mutations sent over these transports go through the gateway as over HTTP.
 */
import crypto from 'node:crypto';
import type { ApolloServer } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  OperationTypeNode,
  execute,
  getOperationAST,
  parse,
  print,
  specifiedRules,
  validate,
  visit,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type FormattedExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLFieldResolver,
  type GraphQLFormattedError,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
  type VariableDefinitionNode,
} from 'graphql';
import { getArgumentValues, getVariableValues } from 'graphql/execution/values.js';
import { LRUCache } from 'lru-cache';
import type { Caller } from '../../core/caller.js';
import { ErrorCode, PorticoError } from '../../core/errors.js';
import { MAX_CONTEXT_BATCH } from '../../core/tokens.js';
import { InvalidCursorError, type MessageCrypto } from '../../core/messages/crypto.js';
import type { MessageStore } from '../../core/messages/store.js';
import { TOPICS, enumValueOf, eventTypeOf, topicOf, type MessageSource, type MessageTopic, type TopicDefinition } from '../../core/messages/topics.js';
import type { Logger } from '../../core/logger.js';
import { QUERY_LIMITS } from '../plugins/query-limits.js';
import type { GatewayContext } from '../plugins/types.js';
import type { Envelope, MessageChannel } from './channel.js';
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

export interface SubscriptionExecutorOptions {
  apollo: ApolloServer<GatewayContext>;
  /**
   * Entity sub-queries that one subgraph answers alone go straight to it (see single-fetch.ts);
   * without this, every sub-query runs through `apollo`.
   */
  singleFetch?: {
    plan(query: string): SingleFetch | null;
    /** Prepares the planner ahead of the first plan (called when the first subscription opens). */
    warm?(): void;
    send(serviceName: string, request: { query: string; operationName?: string; variables: Record<string, unknown> }, context: GatewayContext): Promise<{ data?: unknown; errors?: readonly GraphQLFormattedError[] }>;
  };
  schema(): GraphQLSchema;
  channel: MessageChannel;
  store: MessageStore;
  crypto: MessageCrypto;
  validationRules: readonly ValidationRule[];
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  recheckIntervalMs: number;
  logger: Logger;
}

export type OperationOutcome = FormattedExecutionResult | AsyncIterableIterator<FormattedExecutionResult>;

/** Entity fields of event types, and the query field that fetches each. */
const ENTITY_FIELDS: Record<string, Record<string, { queryField: string; idOf(envelope: Envelope): unknown }>> = {
  OrderEvent: { order: { queryField: 'order', idOf: (e) => e.event.aggregateId } },
  ProductEvent: {
    product: { queryField: 'product', idOf: (e) => e.event.payload.productId },
    sku: { queryField: 'sku', idOf: (e) => e.event.payload.skuId },
  },
  AccountEvent: { merchant: { queryField: 'merchant', idOf: (e) => e.event.merchantId } },
};

const ROOT_TOPICS: Record<string, MessageTopic | null> = { orderEvents: 'ORDERS', productEvents: 'PRODUCTS', accountEvents: 'ACCOUNTS', messages: null };

interface ExecutionContext {
  caller: Caller;
  requestId: string;
  rawVariables: Record<string, unknown>;
}

interface SubQuery {
  /** The query resolving n entities at once. */
  queryFor(n: number): string;
  /** The single subgraph fetch that answers queryFor(n), or null when it takes the gateway's query plan. */
  singleFetchFor(n: number): SingleFetch | null;
  variableNames: string[];
  /** Entities per sub-query: within the gateway's query limits (aliases, tokens); 1 after a batch was refused. */
  maxBatch: number;
}

/** Documents kept by text (see parseShared): how many, their text in all, and the longest one kept. */
const SHARED_DOCUMENTS = 1000;
const SHARED_DOCUMENTS_TEXT = 4_000_000;
const MAX_SHARED_DOCUMENT_TEXT = 16_000;

/** Slots of the re-check interval over which open subscriptions are spread (see watch). */
const RECHECK_SLOTS = 20;
/** Messages a subscription executes ahead of the one being sent (their sub-queries coalesce). */
const LOOKAHEAD = 16;
/** Entities resolved by one sub-query at most. */
const MAX_ENTITIES_PER_QUERY = 16;

/** Tokens of a document, as the gateway's token limit counts them. */
function tokenCount(query: string): number {
  const lexer = new Lexer(new Source(query));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n++;
  return n;
}

/** Errors of an entity sub-query, by the object and key where graphql-js will meet them. */
const nestedErrors = new WeakMap<object, Map<string, GraphQLError>>();

const isEnvelope = (value: unknown): value is Envelope & { __typename: string } =>
  typeof value === 'object' && value !== null && 'event' in value && 'topic' in value && '__typename' in value;

function errorFromFormatted(error: { message: string; extensions?: Record<string, unknown> }): GraphQLError {
  return new GraphQLError(error.message, { extensions: error.extensions ?? {} });
}

/** An error as clients see it (not relying on GraphQLError#toJSON: errors may come from another copy of graphql-js). */
function toFormatted(error: GraphQLError, extensions?: Record<string, unknown>): GraphQLFormattedError {
  return {
    message: error.message,
    ...(error.locations?.length ? { locations: error.locations } : {}),
    ...(error.path ? { path: error.path } : {}),
    ...(extensions || (error.extensions && Object.keys(error.extensions).length) ? { extensions: { ...error.extensions, ...extensions } } : {}),
  };
}

/** The error that ends a subscription whose push was sent but could not be recorded (MESSAGE_RECORD_TIMING=with-send). */
const recordFailed = () =>
  new PorticoError(ErrorCode.SERVICE_UNAVAILABLE, 'A message sent on this subscription could not be recorded; subscribe again: messages not acknowledged come again', { retryable: true });

export function createSubscriptionExecutor(options: SubscriptionExecutorOptions) {
  const { apollo, crypto: messageCrypto } = options;
  const recordBeforeSend = options.channel.recordBeforeSend;
  const format = (error: GraphQLError, extensions?: Record<string, unknown>) => options.formatError(toFormatted(error, extensions), error.originalError ?? error);
  const formatResult = (result: ExecutionResult): FormattedExecutionResult => {
    const formatted: FormattedExecutionResult = {};
    if (result.errors?.length) formatted.errors = result.errors.map((e) => format(e));
    if ('data' in result) formatted.data = result.data ?? null;
    return formatted;
  };
  const errorResult = (error: GraphQLError): FormattedExecutionResult => ({ errors: [format(error)] });

  /** Per selection (the field nodes of one subscription document): the query that resolves it. */
  const subQueries = new WeakMap<FieldNode, SubQuery>();

  /**
   * Parsed documents by their text. Subscribers that send the same operation (an ERP's connections
   * for a thousand merchants) share one DocumentNode, and so one sub-query plan per entity field
   * (subQueries is keyed by the document's field nodes) instead of one per subscription, planned at
   * its first event. Bounded by the text's length; long documents are parsed each time.
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
    const document = parse(query, { maxTokens: QUERY_LIMITS.maxTokens });
    if (query.length <= MAX_SHARED_DOCUMENT_TEXT) documents.set(query, document);
    return document;
  }

  function subQueryFor(info: GraphQLResolveInfo, queryField: string) {
    const cached = subQueries.get(info.fieldNodes[0]!);
    if (cached) return cached;
    const selections = info.fieldNodes.flatMap((node) => node.selectionSet?.selections ?? []);
    const withTypename = (set: SelectionSetNode): SelectionSetNode =>
      visit(set, {
        SelectionSet(node) {
          if (node.selections.some((s) => s.kind === Kind.FIELD && s.name.value === '__typename' && !s.alias)) return undefined;
          return { ...node, selections: [...node.selections, { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } }] };
        },
      });
    const selectionSet = withTypename({ kind: Kind.SELECTION_SET, selections });
    // The fragments this selection uses, transitively, and the operation variables it refers to.
    const fragments = new Map<string, FragmentDefinitionNode>();
    const variables = new Set<string>();
    const collect = (node: SelectionSetNode | FragmentDefinitionNode) =>
      visit(node, {
        Variable(v) {
          variables.add(v.name.value);
        },
        FragmentSpread(spread) {
          const name = spread.name.value;
          const fragment = info.fragments[name];
          if (fragment && !fragments.has(name)) {
            fragments.set(name, { ...fragment, selectionSet: withTypename(fragment.selectionSet) });
            collect(fragment);
          }
        },
      });
    collect(selectionSet);
    const definitions: VariableDefinitionNode[] = (info.operation.variableDefinitions ?? []).filter((d) => variables.has(d.variable.name.value));
    const documents = new Map<number, string>();
    /** The selection for n entities: `e0: order(id: $portico_id0) {...} e1: ...` (a batch repeats it). */
    const queryFor = (n: number): string => {
      let query = documents.get(n);
      if (query) return query;
      const ids = Array.from({ length: n }, (_, i) => `portico_id${i}`);
      const operation: OperationDefinitionNode = {
        kind: Kind.OPERATION_DEFINITION,
        operation: OperationTypeNode.QUERY,
        name: { kind: Kind.NAME, value: 'PorticoMessageEntities' },
        variableDefinitions: [
          ...definitions,
          ...ids.map((id): VariableDefinitionNode => ({
            kind: Kind.VARIABLE_DEFINITION,
            variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: id } },
            type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'ID' } } },
          })),
        ],
        selectionSet: {
          kind: Kind.SELECTION_SET,
          selections: ids.map((id, i): FieldNode => ({
            kind: Kind.FIELD,
            alias: { kind: Kind.NAME, value: `e${i}` },
            name: { kind: Kind.NAME, value: queryField },
            arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'id' }, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: id } } }],
            selectionSet,
          })),
        },
      };
      query = print({ kind: Kind.DOCUMENT, definitions: [operation, ...fragments.values()] });
      documents.set(n, query);
      return query;
    };
    // A batch repeats the selection: keep it within the gateway's limits on aliases and tokens.
    // (A fragment's aliases are counted once, however often it is spread: a batch that still
    // exceeds a limit is refused and falls back to one entity per query, see fetchEntities.)
    let aliases = 1;
    for (const node of [selectionSet, ...fragments.values()]) {
      visit(node, {
        Field(field) {
          if (field.alias) aliases++;
        },
      });
    }
    const singleFetches = new Map<number, SingleFetch | null>();
    const singleFetchFor = (n: number): SingleFetch | null => {
      if (!options.singleFetch) return null;
      let planned = singleFetches.get(n);
      if (planned === undefined) {
        try {
          planned = options.singleFetch.plan(queryFor(n));
        } catch (error) {
          // A query the planner refuses (over a limit, say) goes through the gateway, which answers for it.
          options.logger.warn({ err: error }, 'message channel: no single-fetch plan for an entity sub-query');
          planned = null;
        }
        singleFetches.set(n, planned);
      }
      return planned;
    };
    const plan: SubQuery = {
      queryFor,
      singleFetchFor,
      variableNames: definitions.map((d) => d.variable.name.value),
      maxBatch: Math.max(1, Math.min(MAX_ENTITIES_PER_QUERY, Math.floor(QUERY_LIMITS.maxAliases / aliases), Math.floor((QUERY_LIMITS.maxTokens * 0.9) / tokenCount(queryFor(1))))),
    };
    subQueries.set(info.fieldNodes[0]!, plan);
    return plan;
  }

  /**
   * Entity sub-queries, coalesced per subscription: the messages a subscription prepares together
   * (catching up, it executes several ahead) resolve their entities in one gateway operation, so
   * a backlog costs one sub-query per batch rather than one per message.
   */
  const pendingEntities = new Map<ExecutionContext, Map<SubQuery, { variables: Record<string, unknown>; requests: { id: string; resolve(v: unknown): void; reject(e: unknown): void }[] }>>();
  let entitiesScheduled = false;
  let entitiesFlushSoon = false;
  function flushEntities() {
    entitiesFlushSoon = false;
    if (!pendingEntities.size) return;
    const batches = [...pendingEntities];
    pendingEntities.clear();
    for (const [context, byPlan] of batches) {
      for (const [plan, batch] of byPlan) {
        for (let i = 0; i < batch.requests.length; i += plan.maxBatch) {
          const requests = batch.requests.slice(i, i + plan.maxBatch);
          fetchEntities(context, plan, batch.variables, requests.map((r) => r.id)).then(
            (outcomes) => requests.forEach((r, k) => (outcomes[k] instanceof Error ? r.reject(outcomes[k]) : r.resolve(outcomes[k]))),
            (error: unknown) => requests.forEach((r) => r.reject(error)),
          );
        }
      }
    }
  }

  /** Runs one sub-query for the given ids; per id, the entity (with its nested errors attached) or the error that nulls it. */
  async function fetchEntities(context: ExecutionContext, plan: SubQuery, shared: Record<string, unknown>, ids: string[]): Promise<unknown[]> {
    const variables: Record<string, unknown> = { ...shared };
    ids.forEach((id, i) => (variables[`portico_id${i}`] = id));
    // Many subscribers' sub-queries of one moment may share HTTP requests to a subgraph, each with its own context.
    const contextValue: GatewayContext = { caller: context.caller, requestId: context.requestId, shareRequests: true };
    let data: unknown;
    let errors: readonly GraphQLFormattedError[] | undefined;
    const single = plan.singleFetchFor(ids.length);
    if (single && options.singleFetch) {
      const used: Record<string, unknown> = {};
      for (const name of single.variableUsages) if (name in variables) used[name] = variables[name];
      ({ data, errors } = await options.singleFetch.send(single.serviceName, { query: single.operation, ...(single.operationName ? { operationName: single.operationName } : {}), variables: used }, contextValue));
    } else {
      const response = await apollo.executeOperation({ query: plan.queryFor(ids.length), variables }, { contextValue });
      if (response.body.kind !== 'single') throw new PorticoError(ErrorCode.INTERNAL_SERVER_ERROR, 'unexpected incremental response');
      ({ data, errors } = response.body.singleResult);
    }
    const entities: unknown[] = ids.map((_, i) => (data as Record<string, unknown> | null | undefined)?.[`e${i}`] ?? null);
    const byAlias = new Map(ids.map((_, i) => [`e${i}`, i]));
    for (const error of errors ?? []) {
      const path = error.path ?? [];
      const index = byAlias.get(String(path[0]));
      if (index === undefined) {
        // A batch the gateway refused as a whole (a limit on its size, say): one entity per query from now on.
        if (ids.length > 1) {
          plan.maxBatch = 1;
          const one = await Promise.all(ids.map((id) => fetchEntities(context, plan, shared, [id])));
          return one.map((outcomes) => outcomes[0]);
        }
        // An error of the whole operation fails its entity.
        return [errorFromFormatted(error)];
      }
      const entity = entities[index];
      if (entity instanceof Error) continue;
      if (path.length <= 1 || entity === null) {
        entities[index] = errorFromFormatted(error);
        continue;
      }
      // Walk to the object holding the failed field (or the deepest one that exists).
      let parent: unknown = entity;
      let key = String(path[1]);
      for (let i = 2; i < path.length; i++) {
        const next = (parent as Record<string, unknown>)[key];
        if (next === null || typeof next !== 'object') break;
        parent = next;
        key = String(path[i]);
      }
      if (parent && typeof parent === 'object') {
        let map = nestedErrors.get(parent);
        if (!map) nestedErrors.set(parent, (map = new Map()));
        if (!map.has(key)) map.set(key, errorFromFormatted(error));
      }
    }
    return entities;
  }

  function resolveEntity(info: GraphQLResolveInfo, context: ExecutionContext, queryField: string, id: unknown): Promise<unknown> | null {
    if (typeof id !== 'string' || !id) return null;
    const plan = subQueryFor(info, queryField);
    let byPlan = pendingEntities.get(context);
    if (!byPlan) pendingEntities.set(context, (byPlan = new Map()));
    let batch = byPlan.get(plan);
    if (!batch) {
      const variables: Record<string, unknown> = {};
      for (const name of plan.variableNames) if (name in context.rawVariables) variables[name] = context.rawVariables[name];
      byPlan.set(plan, (batch = { variables, requests: [] }));
    }
    const requests = batch.requests;
    const promise = new Promise<unknown>((resolve, reject) => requests.push({ id, resolve, reject }));
    if (!entitiesScheduled) {
      entitiesScheduled = true;
      setImmediate(() => {
        entitiesScheduled = false;
        flushEntities();
      });
    }
    // A burst wakes many subscriptions at once: once a context batch's worth of them wait for
    // entities, their sub-queries go now, so that the subgraph works on them while the gateway
    // executes the rest (waiting for the next turn of the event loop, the first sub-query of a
    // thousand-subscriber burst left only after all thousand had been executed).
    if (pendingEntities.size >= MAX_CONTEXT_BATCH && !entitiesFlushSoon) {
      entitiesFlushSoon = true;
      queueMicrotask(flushEntities);
    }
    return promise;
  }

  const fieldResolver: GraphQLFieldResolver<unknown, ExecutionContext> = (source, _args, context, info) => {
    if (info.parentType === info.schema.getSubscriptionType()) return source;
    if (isEnvelope(source)) return eventField(source, info, context);
    const value = (source as Record<string, unknown> | null)?.[info.path.key as string];
    if (value === null || value === undefined) {
      const error = source && typeof source === 'object' ? nestedErrors.get(source)?.get(info.path.key as string) : undefined;
      if (error) throw error;
    }
    return value;
  };

  function eventField(envelope: Envelope & { __typename: string }, info: GraphQLResolveInfo, context: ExecutionContext): unknown {
    const { event } = envelope;
    const entity = ENTITY_FIELDS[envelope.__typename]?.[info.fieldName];
    if (entity) return resolveEntity(info, context, entity.queryField, entity.idOf(envelope));
    switch (info.fieldName) {
      case '__typename':
        return envelope.__typename;
      case 'id':
        return event.id;
      case 'cursor':
        return envelope.cursor;
      case 'topic':
        return envelope.topic.topic;
      case 'occurredAt':
        return event.occurredAt.toISOString();
      case 'attempt':
        return envelope.attempt;
      case 'reason':
        return envelope.reason;
      case 'type':
        return enumValueOf(event.type);
      case 'status':
        return event.payload.status ?? null;
      case 'stockBefore':
        return event.payload.stockBefore ?? null;
      case 'stockAfter':
        return event.payload.stockAfter ?? null;
      case 'stockChangeSource':
        return event.payload.source ?? null;
      case 'mergedUserRef':
        return userRef(context.caller.appKey, event.payload.mergedUserId);
      case 'survivingUserRef':
        return userRef(context.caller.appKey, event.payload.survivingUserId);
      default:
        return null;
    }
  }

  /** Opaque per-app references to buyers until the identity work brings openids. */
  const refKey = messageCrypto.derivedKey('portico user reference v1');
  function userRef(appKey: string, userId: unknown): string | null {
    if (typeof userId !== 'string') return null;
    return crypto.createHmac('sha256', refKey).update(`${appKey}|${userId}`).digest('base64url').slice(0, 32);
  }

  /**
   * Re-checks of open subscriptions. Each is re-checked once per recheckIntervalMs, but not on a
   * timer of its own: connections are spread round-robin over RECHECK_SLOTS slots of the interval,
   * and one timer checks a slot's subscriptions together, in one turn of the event loop. So what the
   * checks look up (whether each merchant's authorization still stands) goes to the subgraphs in one
   * call per slot: with a thousand subscriptions, 10 calls a second instead of 500.
   */
  const slots = Array.from({ length: RECHECK_SLOTS }, () => new Set<() => void>());
  const slotOf = new WeakMap<Connection, number>();
  let nextSlot = 0;
  let slotDue = 0;
  let sweep: NodeJS.Timeout | undefined;
  function watch(connection: Connection, check: () => void): () => void {
    let slot = slotOf.get(connection);
    if (slot === undefined) {
      slot = nextSlot;
      nextSlot = (nextSlot + 1) % RECHECK_SLOTS;
      slotOf.set(connection, slot);
    }
    const own = slots[slot]!;
    own.add(check);
    if (!sweep) {
      sweep = setInterval(() => {
        for (const due of slots[slotDue]!) due();
        slotDue = (slotDue + 1) % RECHECK_SLOTS;
      }, options.recheckIntervalMs / RECHECK_SLOTS);
      sweep.unref();
    }
    return () => {
      own.delete(check);
      if (sweep && slots.every((slot) => !slot.size)) {
        clearInterval(sweep);
        sweep = undefined;
      }
    };
  }

  /** Which topics a subscription field covers, or the error that refuses it. */
  function topicsFor(fieldName: string, args: Record<string, unknown>, scopes: ReadonlySet<string>): TopicDefinition[] | GraphQLError {
    const fixed = ROOT_TOPICS[fieldName];
    if (fixed === undefined) return new PorticoError(ErrorCode.BAD_USER_INPUT, `Unknown subscription ${fieldName}`);
    if (fixed) {
      const topic = topicOf(fixed);
      if (!scopes.has(topic.scope)) return new PorticoError(ErrorCode.FORBIDDEN, `${fieldName} needs the scope ${topic.scope}`, { requiredScopes: [[topic.scope]] });
      return [topic];
    }
    const asked = (args.topics as MessageTopic[] | null | undefined) ?? null;
    if (asked) {
      const missing = asked.map(topicOf).filter((t) => !scopes.has(t.scope));
      if (missing.length) return new PorticoError(ErrorCode.FORBIDDEN, `messages for ${missing.map((t) => t.topic).join(', ')} need ${missing.map((t) => t.scope).join(', ')}`, { requiredScopes: missing.map((t) => [t.scope]) });
      return [...new Set(asked)].map(topicOf);
    }
    const held = TOPICS.filter((t) => scopes.has(t.scope));
    if (!held.length) return new PorticoError(ErrorCode.FORBIDDEN, 'messages needs at least one of the scopes messages:orders, messages:products, messages:accounts', { requiredScopes: TOPICS.map((t) => [t.scope]) });
    return held;
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
    const topics = topicsFor(rootField.name.value, args, new Set(caller.scopes));
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
    const startFrom = caller.grantId ? await options.store.authorizedAt(caller.grantId) : null;
    const stream = options.channel.open({
      appKey: caller.appKey,
      merchantId: caller.merchantId,
      sources: topics.map((t) => t.source),
      types,
      ...(after ? { after } : {}),
      startFrom,
      connectionId: connection.connectionId,
      transport: connection.transport,
    });
    const context: ExecutionContext = { caller, requestId: connection.requestId, rawVariables };
    const iterator = stream[Symbol.asyncIterator]();

    // Re-check the caller while the subscription lives: token expiry, revoked authorization, suspended app, lost scope.
    const unwatch = watch(connection, () => {
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

    /**
     * Messages are executed up to LOOKAHEAD ahead of the one being sent (so a subscription catching
     * up does not wait for each sub-query in turn), and sent strictly in stream order. Each is
     * recorded as it is sent (before, with MESSAGE_RECORD_TIMING=before-send). One read before a
     * reset or a termination is not sent after it.
     */
    type Step = { kind: 'message'; envelope: Envelope; result: FormattedExecutionResult } | { kind: 'error'; error: unknown } | { kind: 'done' };
    const ahead: Promise<Step>[] = [];
    let readerEnded = false;
    let wakeReader: (() => void) | undefined;
    let wakeConsumer: (() => void) | undefined;
    let done = false;

    /** Read before a reset of its topic: the stream replays from the reset position instead. */
    const stale = (envelope: Envelope) => stream.isStale(envelope);
    const prepare = async (envelope: Envelope): Promise<Step> => {
      const prepared = stream.preparing();
      try {
        const rootValue = Object.assign(Object.create(null) as object, envelope, { __typename: envelope.topic.graphqlType });
        const result = formatResult(await execute({ schema, document, rootValue, contextValue: context, variableValues: rawVariables, operationName, fieldResolver }));
        if (done || stream.terminated || stale(envelope)) return { kind: 'message', envelope, result };
        if (!recordBeforeSend) {
          // Recorded as it is sent: the send does not wait for the record (in a burst, the records'
          // sealing and statements are a stage of their own that every push waited on). One that
          // cannot be written ends the subscription; the message stays unacknowledged unless the
          // subscriber acknowledged it (an acknowledgement through this gateway waits for the
          // records of what it acknowledges), so the next connection pushes it again, recorded.
          // With too many records pending (a database slower than the pushes), it waits for room first.
          const room = stream.roomForRecords();
          if (room) {
            await room;
            if (done || stream.terminated || stale(envelope)) return { kind: 'message', envelope, result };
          }
          stream.recordPush(envelope, result).catch(() => stream.terminate(recordFailed()));
          return { kind: 'message', envelope, result };
        }
        try {
          await stream.recordPush(envelope, result);
        } catch {
          // Written for the client: nothing is lost (the message stays unacknowledged), it comes again on the next connection.
          return { kind: 'error', error: new PorticoError(ErrorCode.SERVICE_UNAVAILABLE, 'The message could not be recorded, so it was not sent; subscribe again to receive it', { retryable: true }) };
        }
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
      unwatch();
      stream.close();
      wakeReader?.();
      await iterator.return?.();
    };
    const failWith = async (error: unknown): Promise<IteratorResult<FormattedExecutionResult>> => {
      await finish();
      const graphQLError = error instanceof GraphQLError ? error : new PorticoError(ErrorCode.INTERNAL_SERVER_ERROR, (error as Error).message);
      if (!(error instanceof GraphQLError)) options.logger.error({ err: error }, 'subscription failed');
      return { done: false, value: errorResult(graphQLError) };
    };

    const results: AsyncIterableIterator<FormattedExecutionResult> = {
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
          if (stale(step.envelope)) continue;
          stream.sent(step.envelope);
          return { done: false, value: step.result };
        }
      },
      async return(): Promise<IteratorResult<FormattedExecutionResult>> {
        await finish();
        return { done: true, value: undefined };
      },
    };
    return results;
  }

  return {
    /** Parses an operation's document (shared with every other operation of the same text); throws a GraphQLError when it does not parse. */
    parse: parseShared,
    /** Runs one operation for a connection: a single result, or a stream of results for a subscription. */
    async run(request: OperationRequest, connection: Connection, parsed?: DocumentNode): Promise<OperationOutcome> {
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

export type SubscriptionExecutor = ReturnType<typeof createSubscriptionExecutor>;
