/**
 * API validity: fields operators took offline (a schema coordinate such as `Mutation.cancelOrder`,
 * for every app or for listed ones, now or in a planned window) answer null with an API_OFFLINE
 * error at their path, as a field the caller lacks the scope for does, and no subgraph is asked for
 * them: a root mutation taken offline changes nothing.
 *
 * How, with @apollo/gateway (which plans whatever document it is given): once the operation is
 * resolved, the offline fields are cut out of the document the gateway plans and executes (under a
 * query hash of its own, so the plan cache never mixes the two), and when the answer is ready the
 * original document is executed over it with graphql-js against the API schema: every field reads its
 * value from the gateway's answer, the offline ones throw API_OFFLINE, so nulls propagate and errors
 * carry paths exactly as GraphQL defines them (a non-null offline field nulls its parent).
 *
 * The offline list is one lookup for every app, cached for APP_ACCESS_CACHE_MS on each gateway, so a
 * change bites everywhere within that time. A planned window is judged on the gateway's clock at
 * each request, so it starts and ends on time. Operators' own calls are never affected: the list
 * is for apps. A request selecting nothing offline costs one look at a per-document index.
 *
 * Subscriptions: the message channel executes each pushed event itself (the gateway does not), so it
 * asks `offlineFieldsOf` at each event, on this same cached list, and does the same: executes the cut
 * document (its entity sub-queries ask no subgraph for an offline field) and answers the original
 * over the result.
 */
import crypto from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  TypeInfo,
  execute,
  isAbstractType,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLFieldResolver,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import { ErrorCode, PorticoError } from '../../core/errors.js';
import type { GatewayContext, GatewayPlugin } from './types.js';

/** An API taken offline, as the gateway loads it (times in epoch milliseconds). */
export interface OfflineApi {
  id: string;
  coordinate: string;
  /** The apps it is offline for; null: every app. */
  appKeys: string[] | null;
  reason: string;
  startsAt: number;
  /** null: until an operator brings it back. */
  endsAt: number | null;
}

export interface ApiValidityOptions {
  /** Every API offline now or planned (not brought back, window not over): one lookup for all apps. */
  loadOfflineApis(): Promise<OfflineApi[]>;
  /** How long the list is trusted before it is asked again (APP_ACCESS_CACHE_MS). */
  cacheMs: number;
  clock: Clock;
}

/** The error an offline field answers with. */
export function apiOfflineError(api: OfflineApi): PorticoError {
  const until = api.endsAt === null ? '' : ` until ${new Date(api.endsAt).toISOString()}`;
  return new PorticoError(ErrorCode.API_OFFLINE, `${api.coordinate} is offline${until}: ${api.reason}`, {
    coordinate: api.coordinate,
    reason: api.reason,
    offlineUntil: api.endsAt === null ? null : new Date(api.endsAt).toISOString(),
  });
}

/** The offline list indexed by app (`*`: every app), built once per list loaded. */
interface OfflineIndex {
  empty: boolean;
  everyApp: OfflineApi[];
  byApp: Map<string, OfflineApi[]>;
}

function indexOf(list: OfflineApi[]): OfflineIndex {
  const byApp = new Map<string, OfflineApi[]>();
  const everyApp: OfflineApi[] = [];
  for (const api of list) {
    if (api.appKeys === null) everyApp.push(api);
    else for (const key of api.appKeys) byApp.set(key, [...(byApp.get(key) ?? []), api]);
  }
  return { empty: list.length === 0, everyApp, byApp };
}

/** The coordinates offline for an app at `now`: the one whose window started first when several cover one. */
function offlineFor(index: OfflineIndex, appKey: string, now: number): Map<string, OfflineApi> {
  const offline = new Map<string, OfflineApi>();
  for (const list of [index.everyApp, index.byApp.get(appKey) ?? []]) {
    for (const api of list) {
      if (api.startsAt > now || (api.endsAt !== null && api.endsAt <= now)) continue;
      const known = offline.get(api.coordinate);
      if (!known || api.startsAt < known.startsAt) offline.set(api.coordinate, api);
    }
  }
  return offline;
}

/**
 * Every field node of a document by the coordinates it selects (`Type.field`; a field selected on
 * an interface or union counts for each of its possible types too). Kept per document: Apollo
 * reuses the parsed document of a query text it has seen.
 */
const selectedFields = new WeakMap<DocumentNode, { schema: GraphQLSchema; fields: Map<string, FieldNode[]> }>();
function fieldsByCoordinate(schema: GraphQLSchema, document: DocumentNode): Map<string, FieldNode[]> {
  const known = selectedFields.get(document);
  if (known?.schema === schema) return known.fields;
  const fields = new Map<string, FieldNode[]>();
  const add = (coordinate: string, node: FieldNode) => fields.set(coordinate, [...(fields.get(coordinate) ?? []), node]);
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (!parent || node.name.value.startsWith('__')) return;
        add(`${parent.name}.${node.name.value}`, node);
        if (isAbstractType(parent)) for (const type of schema.getPossibleTypes(parent)) add(`${type.name}.${node.name.value}`, node);
      },
    }),
  );
  selectedFields.set(document, { schema, fields });
  return fields;
}

const TYPENAME: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

/**
 * The document without the offline fields. A selection set left empty selects `__typename` (a
 * selection set cannot be empty; the root's is answered by the gateway itself, without a subgraph),
 * and so does every selection on an interface or union, for graphql-js to tell the value's type
 * when the original document is executed over the answer.
 */
function withoutFields(schema: GraphQLSchema, document: DocumentNode, offline: ReadonlySet<FieldNode>): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: { enter: (node) => (offline.has(node) ? null : undefined) },
      SelectionSet: {
        leave(node: SelectionSetNode) {
          const parent = typeInfo.getParentType();
          const needsTypename = node.selections.length === 0 || (parent !== null && isAbstractType(parent));
          return needsTypename ? { ...node, selections: [...node.selections, TYPENAME] } : undefined;
        },
      },
    }),
  );
}

/**
 * Cut documents by the document they were cut from and the coordinates cut, so that every request
 * (and every event of a subscription) with the same document and offline list executes the same cut
 * document: the message channel keys its entity sub-queries by the executed document's field nodes.
 */
const cutDocuments = new WeakMap<DocumentNode, { schema: GraphQLSchema; byCoordinates: Map<string, DocumentNode> }>();

/** What selecting offline fields makes of an operation: the document to execute instead, and how to answer the original. */
export interface OfflineSelection {
  /** The document the caller sent. */
  original: DocumentNode;
  /** The document without the offline fields: what is planned and executed. */
  document: DocumentNode;
  /** The offline coordinates it selects, sorted and joined with commas. */
  coordinates: string;
  /** Each offline field node of `original`, with the API that takes it offline. */
  offline: Map<FieldNode, OfflineApi>;
  /**
   * The answer to the original document over `data`, the answer to `document`: each field's value
   * read by its response key, each offline field an API_OFFLINE error (errors carry their paths and
   * nulls propagate as GraphQL defines). `errors` are the offline fields' only.
   */
  answer(data: Record<string, unknown> | null | undefined, variables: Record<string, unknown>, operationName: string | null | undefined): { data: Record<string, unknown> | null; errors: GraphQLError[] };
}

/** The offline fields a document selects, or null when it selects none. */
function offlineSelection(schema: GraphQLSchema, document: DocumentNode, offline: ReadonlyMap<string, OfflineApi>): OfflineSelection | null {
  const selected = fieldsByCoordinate(schema, document);
  const nodes = new Map<FieldNode, OfflineApi>();
  for (const [coordinate, api] of offline) for (const node of selected.get(coordinate) ?? []) nodes.set(node, api);
  if (nodes.size === 0) return null;
  const coordinates = [...new Set([...nodes.values()].map((api) => api.coordinate))].sort().join(',');
  let cuts = cutDocuments.get(document);
  if (cuts?.schema !== schema) cutDocuments.set(document, (cuts = { schema, byCoordinates: new Map() }));
  let cut = cuts.byCoordinates.get(coordinates);
  if (!cut) cuts.byCoordinates.set(coordinates, (cut = withoutFields(schema, document, new Set(nodes.keys()))));
  return {
    original: document,
    document: cut,
    coordinates,
    offline: nodes,
    answer: (data, variables, operationName) => answerOver(schema, document, nodes, data, variables, operationName),
  };
}

/**
 * The offline fields of a caller's operation now, or null when it selects none (or the caller is no
 * app). Synchronous while the cached list is fresh: with nothing offline, one look at an empty
 * index. The message channel calls it for each event it pushes.
 */
export type OfflineFieldsOf = (caller: Caller, schema: GraphQLSchema, document: DocumentNode) => OfflineSelection | null | Promise<OfflineSelection | null>;

export interface ApiValidity {
  plugin: GatewayPlugin;
  offlineFieldsOf: OfflineFieldsOf;
}

/** The pipeline's plugin and, on the same cached list, what the message channel asks for each event. */
export function createApiValidity(options: ApiValidityOptions): ApiValidity {
  const { clock, cacheMs } = options;
  let current: { index: OfflineIndex; loadedAt: number } | undefined;
  let loading: Promise<OfflineIndex> | undefined;
  /**
   * The offline list, at most cacheMs old. If the lookup fails, the last list known stays in use:
   * this control takes fields away, and an app-management outage must neither take every field
   * away nor put the offline ones back.
   */
  function offlineIndex(): OfflineIndex | Promise<OfflineIndex> {
    if (current && clock.now() - current.loadedAt < cacheMs) return current.index;
    loading ??= options
      .loadOfflineApis()
      .then((list) => {
        current = { index: indexOf(list), loadedAt: clock.now() };
        return current.index;
      })
      .catch(() => current?.index ?? indexOf([]))
      .finally(() => (loading = undefined));
    return loading;
  }

  const selectionIn = (index: OfflineIndex, appKey: string, schema: GraphQLSchema, document: DocumentNode): OfflineSelection | null => {
    if (index.empty) return null;
    const offline = offlineFor(index, appKey, clock.now());
    return offline.size === 0 ? null : offlineSelection(schema, document, offline);
  };
  const offlineFieldsOf: OfflineFieldsOf = (caller, schema, document) => {
    if (caller.kind !== 'app') return null;
    const index = offlineIndex();
    return index instanceof Promise ? index.then((loaded) => selectionIn(loaded, caller.appKey, schema, document)) : selectionIn(index, caller.appKey, schema, document);
  };

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart({ contextValue }) {
      const caller = contextValue.caller;
      if (caller?.kind !== 'app') return;
      // Loaded here, so that everything after runs synchronously in didResolveOperation: the
      // document is replaced before the later concerns' hooks (cost) look at it.
      const index = await offlineIndex();
      if (index.empty) return;
      const offline = offlineFor(index, caller.appKey, clock.now());
      if (offline.size === 0) return;
      let cut: OfflineSelection | null = null;
      return {
        async didResolveOperation(requestContext) {
          cut = offlineSelection(requestContext.schema, requestContext.document, offline);
          if (!cut) return;
          const mutable = requestContext as { document: DocumentNode; queryHash: string };
          mutable.document = cut.document;
          // The gateway caches plans by query hash: this document's plan is its own.
          mutable.queryHash = crypto.createHash('sha256').update(`${requestContext.queryHash}\0offline:${cut.coordinates}`).digest('hex');
        },
        async willSendResponse(requestContext) {
          if (cut) answerWithOfflineFields(requestContext, cut);
        },
      };
    },
  };
  return { plugin: { name: 'api-validity', apolloPlugins: [plugin] }, offlineFieldsOf };
}

/**
 * The original document executed over an answer to its cut: each field's value read by its
 * response key, each offline field an API_OFFLINE error. With no data to put nulls in (the answer
 * failed as a whole), the offline fields' errors are given as they are.
 */
function answerOver(
  schema: GraphQLSchema,
  original: DocumentNode,
  offline: ReadonlyMap<FieldNode, OfflineApi>,
  data: Record<string, unknown> | null | undefined,
  variables: Record<string, unknown>,
  operationName: string | null | undefined,
): { data: Record<string, unknown> | null; errors: GraphQLError[] } {
  if (data === undefined || data === null) return { data: null, errors: [...new Set(offline.values())].map(apiOfflineError) };
  const resolveField: GraphQLFieldResolver<Record<string, unknown>, unknown> = (source, _args, _context, info) => {
    for (const node of info.fieldNodes) {
      const api = offline.get(node);
      if (api) throw apiOfflineError(api);
    }
    return source[info.path.key as string];
  };
  // Every resolver is synchronous, so graphql-js answers synchronously.
  const reshaped = execute({
    schema,
    document: original,
    rootValue: data,
    variableValues: variables,
    operationName: operationName ?? null,
    fieldResolver: resolveField as GraphQLFieldResolver<unknown, unknown>,
  }) as Awaited<ReturnType<typeof execute>>;
  return { data: (reshaped.data as Record<string, unknown> | null | undefined) ?? null, errors: [...(reshaped.errors ?? [])] };
}

/** The answer to the original document of a request; the gateway's own errors are kept, the offline ones follow them. */
function answerWithOfflineFields(requestContext: GraphQLRequestContext<GatewayContext>, cut: OfflineSelection): void {
  const { response, request } = requestContext;
  if (response.body?.kind !== 'single') return;
  const result = response.body.singleResult;
  const { data, errors: offlineErrors } = cut.answer(result.data, request.variables ?? {}, request.operationName);
  if (!offlineErrors.length) return;
  const formatted: GraphQLFormattedError[] = offlineErrors.map((error) => error.toJSON());
  response.body.singleResult = { ...result, data: result.data === undefined ? undefined : data, errors: [...(result.errors ?? []), ...formatted] };
  (requestContext as { errors?: readonly GraphQLError[] }).errors = [...(requestContext.errors ?? []), ...offlineErrors];
}
