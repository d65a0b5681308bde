/**
 * The gateway's request pipeline, top to bottom in the order each request goes through it.
 * Later concerns (app status, signature, IP allow list, flow control, call report) slot in here.
 */
import type { Caller } from '../core/caller.js';
import { useAuthenticate } from './plugins/authenticate.js';
import { useRequestId } from './plugins/request-id.js';
import type { GatewayPlugin } from './plugins/types.js';

export interface PipelineDependencies {
  verifyAccessToken(token: string): Promise<Caller>;
}

export function createPipeline(deps: PipelineDependencies): GatewayPlugin[] {
  return [
    useRequestId(),
    useAuthenticate({ verifyAccessToken: deps.verifyAccessToken }),
  ];
}
