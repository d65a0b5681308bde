/**
 * The gateway's data source for every subgraph: how an operation is sent for a request, whether
 * @apollo/gateway's query plan or the message channel's single-fetch sub-query sends it. It does
 * what @apollo/gateway's RemoteGraphQLDataSource does for us (POST the operation as JSON, read the
 * JSON answer, turn a failed HTTP status into an error) without building node-fetch Request and
 * Headers objects for every fetch, which profiles of the order page showed at about 5 % of the
 * gateway's CPU. Each operation carries what the pipeline's subgraph-request stage adds (the
 * request id, ...), and is authenticated as its caller (zero trust between gateway and subgraphs:
 * a context token the gateway signs, or the signed batch the fetcher makes of several callers'
 * operations); subgraphs refuse anything else.
 */
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import type { Caller } from '../../core/caller.js';
import type { SubgraphName } from '../../core/config.js';
import { CONTEXT_TOKEN_HEADER } from '../../core/tokens.js';
import type { GatewayContext, GatewayPlugin, SubgraphRequestContext } from '../plugins/types.js';
import { dedupeRepresentations, expandEntities } from './entity-dedupe.js';
import { sharesAcrossCallers, type SubgraphAnswer, type SubgraphFetcher } from './subgraph-fetcher.js';

type GatewayGraphQLResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

/** An operation as the data source sends it. */
export interface SubgraphOperation {
  query?: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  extensions?: Record<string, unknown>;
  /** Headers @apollo/gateway itself asks for (a trace request). */
  http?: { headers: Iterable<[string, string]> };
}

export class SubgraphDataSource implements GraphQLDataSource<GatewayContext> {
  constructor(
    readonly url: string,
    private readonly signContext: (caller: Caller) => Promise<string>,
    private readonly fetcher: SubgraphFetcher,
    /** The pipeline's concerns with a subgraph-request stage, in order (gathered once). */
    private readonly hooks: readonly GatewayPlugin[],
  ) {}

  process({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    return this.send(request, context as SubgraphRequestContext);
  }

  /** Sends one operation for the request `context` is of: the pipeline's headers, authenticated as its caller. */
  async send(request: SubgraphOperation, context: SubgraphRequestContext): Promise<GatewayGraphQLResponse> {
    if (!request.query) throw new Error('Missing query');
    const headers: Record<string, string> = {};
    // Headers @apollo/gateway itself asks for, then ours, which win.
    for (const [name, value] of request.http?.headers ?? []) headers[name] = value;
    headers['content-type'] = 'application/json';
    const hooks = this.hooks;
    for (let i = 0; i < hooks.length; i++) hooks[i]!.onSubgraphRequest!(headers, context);
    const caller = context.caller;
    // An operation that may share a request with other callers' carries no context token: the
    // fetcher names its caller in a signed batch, or signs its context token if it goes alone.
    const share = caller && context.shareRequests === true && sharesAcrossCallers(headers) ? { caller } : undefined;
    // Without a verified caller (the gateway's own health checks), no token is sent and the subgraph refuses.
    if (caller && !share) headers[CONTEXT_TOKEN_HEADER] = await this.signContext(caller);

    // An entity fetch asks for each distinct entity once (see entity-dedupe.ts).
    const representations = request.variables?.representations;
    const dedupe = Array.isArray(representations) ? dedupeRepresentations(representations) : null;
    const variables = dedupe ? { ...request.variables, representations: dedupe.unique } : request.variables;
    const body = JSON.stringify({
      query: request.query,
      ...(variables ? { variables } : {}),
      ...(request.operationName ? { operationName: request.operationName } : {}),
      ...(request.extensions ? { extensions: request.extensions } : {}),
    });
    const answer = await this.fetcher.post(this.url, headers, body, share);
    if (!answer.ok) throw errorFromAnswer(answer);
    const parsed = answer.isJson ? answer.json() : undefined;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new GraphQLError('subgraph answered without a JSON object', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    }
    return dedupe ? expandEntities(parsed as GatewayGraphQLResponse, dedupe) : (parsed as GatewayGraphQLResponse);
  }
}

/** One data source per subgraph, made at its first use: for the gateway's query plans and the channel's single-fetch sub-queries alike. */
export function createSubgraphDataSources(options: {
  urls: Record<SubgraphName, string>;
  signContext: (caller: Caller) => Promise<string>;
  fetcher: SubgraphFetcher;
  hooks: readonly GatewayPlugin[];
}): (serviceName: string) => SubgraphDataSource {
  const sources = new Map<string, SubgraphDataSource>();
  return (serviceName) => {
    let source = sources.get(serviceName);
    if (!source) {
      const url = options.urls[serviceName as SubgraphName];
      if (!url) throw new Error(`No URL configured for subgraph ${serviceName}`);
      sources.set(serviceName, (source = new SubgraphDataSource(url, options.signContext, options.fetcher, options.hooks)));
    }
    return source;
  };
}

/**
 * A subgraph that refuses a request with HTTP 4xx and a GraphQL error about the client's input
 * (a variable or literal it could not accept) passes that error on. Anything else (a refused
 * context token, a 5xx) is the platform's fault: an internal error without the subgraph's address.
 */
function errorFromAnswer(answer: SubgraphAnswer): GraphQLError {
  let first: { message?: string; extensions?: { code?: string } } | undefined;
  try {
    const body = answer.isJson ? (answer.json() as { errors?: (typeof first)[] }) : undefined;
    first = body && typeof body === 'object' ? body.errors?.[0] : undefined;
  } catch {
    first = undefined;
  }
  const code = first?.extensions?.code;
  if (answer.status < 500 && answer.status !== 401 && first?.message && (code === 'BAD_USER_INPUT' || code === 'GRAPHQL_VALIDATION_FAILED')) {
    return new GraphQLError(first.message, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return new GraphQLError(`subgraph answered HTTP ${answer.status}`, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}
