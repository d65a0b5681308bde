/**
 * The entity fields of pushed events (`order`, `product`, `sku`, `merchant`), resolved by running
 * the subscriber's selection for them as a query through the gateway itself
 * (`e0: order(id: $portico_id0) { <selection> }`), with the subscriber's caller. So the fields
 * resolve across subgraphs, and each subgraph's field permissions apply exactly as for queries: a
 * field the app may not read comes back null with FORBIDDEN at its path.
 *
 * Sub-queries are coalesced: the messages a subscription prepares together (catching up, it
 * executes several ahead) resolve their entities in one operation, so a backlog costs one
 * sub-query per batch rather than one per message; and a sub-query that one subgraph answers alone
 * goes straight to it (single-fetch.ts).
 */
import crypto from 'node:crypto';
import type { ApolloServer } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  Lexer,
  OperationTypeNode,
  Source,
  TokenKind,
  print,
  visit,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFieldResolver,
  type GraphQLFormattedError,
  type GraphQLResolveInfo,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { Caller } from '../../core/caller.js';
import { ErrorCode, PorticoError } from '../../core/errors.js';
import { MAX_CONTEXT_BATCH } from '../../core/tokens.js';
import type { Logger } from '../../core/logger.js';
import type { Envelope } from '../channel/envelope.js';
import type { MessageCrypto } from '../crypto.js';
import { enumValueOf } from '../topics.js';
import { mergedIdentityFor } from '../user-merged.js';
import type { SingleFetch } from './single-fetch.js';

/** What a subscription's execution carries: who it runs for (its scopes may change while it lives). */
export interface ExecutionContext {
  caller: Caller;
  requestId: string;
  rawVariables: Record<string, unknown>;
}

/**
 * The context of an entity sub-query as the gateway's data sources take it. Its subgraph fetches
 * may share an HTTP request with other callers' (signed once as a whole; each operation names its
 * caller and runs with its own context): a burst resolves many subscribers' events at once.
 */
export interface SubQueryContext {
  caller: Caller;
  requestId: string;
  shareRequests: true;
}

export interface EntityQueryOptions {
  /** The gateway's own Apollo Server: sub-queries that span subgraphs run through it. */
  gateway: Pick<ApolloServer<SubQueryContext>, 'executeOperation'>;
  /**
   * Entity sub-queries that one subgraph answers alone go straight to it (see single-fetch.ts);
   * without this, every sub-query runs through `gateway`.
   */
  singleFetch?: {
    plan(query: string): SingleFetch | null;
    send(serviceName: string, request: { query: string; operationName?: string; variables: Record<string, unknown> }, context: SubQueryContext): Promise<{ data?: unknown; errors?: readonly GraphQLFormattedError[] }>;
  };
  crypto: Pick<MessageCrypto, 'derivedKey'>;
  /** The gateway's limits on a document's aliases and tokens: a sub-query of many entities stays within them. */
  limits: { maxAliases: number; maxTokens: number };
  logger: Logger;
}

/** Entity fields of event types, and the query field that fetches each. */
const ENTITY_FIELDS: Record<string, Record<string, { queryField: string; idOf(envelope: Envelope): unknown }>> = {
  OrderEvent: {
    order: { queryField: 'order', idOf: (e) => e.event.aggregateId },
    shipment: { queryField: 'shipment', idOf: (e) => e.event.payload.shipmentId },
    afterSaleCase: { queryField: 'afterSaleCase', idOf: (e) => e.event.payload.caseId },
  },
  ProductEvent: {
    product: { queryField: 'product', idOf: (e) => e.event.payload.productId },
    sku: { queryField: 'sku', idOf: (e) => e.event.payload.skuId },
  },
  AccountEvent: { merchant: { queryField: 'merchant', idOf: (e) => e.event.merchantId } },
};

interface SubQuery {
  /** The query resolving n entities at once. */
  queryFor(n: number): string;
  /** The single subgraph fetch that answers queryFor(n), or null when it takes the gateway's query plan. */
  singleFetchFor(n: number): SingleFetch | null;
  variableNames: string[];
  /** Entities per sub-query: within the gateway's query limits (aliases, tokens); 1 after a batch was refused. */
  maxBatch: number;
}

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

/** The field resolver of a subscription's executions: an event's own fields from its envelope, entities through sub-queries. */
export function createEntityResolution(options: EntityQueryOptions): GraphQLFieldResolver<unknown, ExecutionContext> {
  const { limits } = options;
  /** Per selection (the field nodes of one subscription document): the query that resolves it. */
  const subQueries = new WeakMap<FieldNode, SubQuery>();

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
      maxBatch: Math.max(1, Math.min(MAX_ENTITIES_PER_QUERY, Math.floor(limits.maxAliases / aliases), Math.floor((limits.maxTokens * 0.9) / tokenCount(queryFor(1))))),
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
    const contextValue: SubQueryContext = { caller: context.caller, requestId: context.requestId, shareRequests: true };
    let data: unknown;
    let errors: readonly GraphQLFormattedError[] | undefined;
    const single = plan.singleFetchFor(ids.length);
    if (single && options.singleFetch) {
      const used: Record<string, unknown> = {};
      for (const name of single.variableUsages) if (name in variables) used[name] = variables[name];
      ({ data, errors } = await options.singleFetch.send(single.serviceName, { query: single.operation, ...(single.operationName ? { operationName: single.operationName } : {}), variables: used }, contextValue));
    } else {
      const response = await options.gateway.executeOperation({ query: plan.queryFor(ids.length), variables }, { contextValue });
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
      case 'mergedOpenid':
      case 'mergedUnionid':
      case 'survivingOpenid':
      case 'survivingUnionid':
        return mergedIdentityFor(event.payload, context.caller.appKey)?.[info.fieldName] ?? null;
      default:
        return null;
    }
  }

  /** Opaque per-app references to buyers until the identity work brings openids. */
  const refKey = options.crypto.derivedKey('portico user reference v1');
  function userRef(appKey: string, userId: unknown): string | null {
    if (typeof userId !== 'string') return null;
    return crypto.createHmac('sha256', refKey).update(`${appKey}|${userId}`).digest('base64url').slice(0, 32);
  }

  return fieldResolver;
}
