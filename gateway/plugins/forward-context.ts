/**
 * Zero trust between gateway and subgraphs: each subgraph request carries a short-lived context
 * token the gateway signs (who the caller is), plus the request id. Subgraphs refuse anything else.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import type { Caller } from '../../core/caller.js';
import { CONTEXT_TOKEN_HEADER } from '../../core/tokens.js';
import type { SubgraphFetcher } from './subgraph-fetcher.js';
import type { GatewayContext } from './types.js';

export class ContextForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly signContext: (caller: Caller) => Promise<string>,
    fetcher: SubgraphFetcher,
  ) {
    // Merchant data is never cached over HTTP, so subgraph cache-control headers are not read either.
    super({ url, fetcher: fetcher.fetch as unknown as RemoteGraphQLDataSource['fetcher'], honorSubgraphCacheControlHeader: false });
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const caller = (context as Partial<GatewayContext>).caller;
    // Without a verified caller (the gateway's own start-up requests), no token is sent and the subgraph refuses.
    if (!caller || !request.http) return;
    request.http.headers.set(CONTEXT_TOKEN_HEADER, await this.signContext(caller));
    const requestId = (context as Partial<GatewayContext>).requestId;
    if (requestId) request.http.headers.set('x-request-id', requestId);
  }

  /**
   * A subgraph that refuses a request with HTTP 4xx and a GraphQL error about the client's input
   * (a variable or literal it could not accept) passes that error on. Anything else (a refused
   * context token, a 5xx) is the platform's fault: an internal error without the subgraph's address.
   */
  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0]): Promise<GraphQLError> {
    const body = (await this.parseBody(response).catch(() => undefined)) as { errors?: { message?: string; extensions?: { code?: string } }[] } | undefined;
    const first = body && typeof body === 'object' ? body.errors?.[0] : undefined;
    const code = first?.extensions?.code;
    if (response.status < 500 && response.status !== 401 && first?.message && (code === 'BAD_USER_INPUT' || code === 'GRAPHQL_VALIDATION_FAILED')) {
      return new GraphQLError(first.message, { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return new GraphQLError(`subgraph answered HTTP ${response.status}`, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  }
}
