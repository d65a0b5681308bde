/**
 * Zero trust between gateway and subgraphs: each subgraph request carries a short-lived context
 * token the gateway signs (who the caller is), plus the request id. Subgraphs refuse anything else.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Caller } from '../../core/caller.js';
import { CONTEXT_TOKEN_HEADER } from '../../core/tokens.js';
import type { GatewayContext } from './types.js';

export class ContextForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly signContext: (caller: Caller) => Promise<string>,
  ) {
    super({ url });
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const caller = (context as Partial<GatewayContext>).caller;
    // Without a verified caller (the gateway's own start-up requests), no token is sent and the subgraph refuses.
    if (!caller || !request.http) return;
    request.http.headers.set(CONTEXT_TOKEN_HEADER, await this.signContext(caller));
    const requestId = (context as Partial<GatewayContext>).requestId;
    if (requestId) request.http.headers.set('x-request-id', requestId);
  }
}
