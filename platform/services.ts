/** The four subgraph definitions by name, so the embedded runner and `serve <name>` build them alike. */
import type { Clock } from '../core/clock.js';
import type { Config, SubgraphName } from '../core/config.js';
import type { FlowCounters } from '../core/flow-counters.js';
import type { PlatformKeys } from '../core/keys.js';
import type { Database } from '../core/db.js';
import type { Logger } from '../core/logger.js';
import type { SubgraphDefinition } from '../core/subgraph.js';
import { createAccountSubgraph } from '../subgraphs/account/service.js';
import { createAppManagementSubgraph } from '../subgraphs/app-management/service.js';
import { createOrderSubgraph } from '../subgraphs/order/service.js';
import { createProductSubgraph } from '../subgraphs/product/service.js';

export interface ServiceDependencies {
  database: Database;
  logger: Logger;
  keys: PlatformKeys;
  config: Config;
  /** Where the other subgraphs are, for the few calls one makes to another. */
  subgraphUrl(name: SubgraphName): string;
  /** Time for what the services decide by it (default: the system clock). */
  clock?: Clock;
  /** The gateways' call counters, where this process can read them (app-management's viewerApp.usage). */
  flowCounters?: FlowCounters;
}

export function defineSubgraph(name: SubgraphName, deps: ServiceDependencies): SubgraphDefinition<unknown> {
  switch (name) {
    case 'product':
      return createProductSubgraph(deps.database) as SubgraphDefinition<unknown>;
    case 'order':
      return createOrderSubgraph(deps.database, { productUrl: () => deps.subgraphUrl('product'), accountUrl: () => deps.subgraphUrl('account'), logger: deps.logger, durations: deps.config.orderLifecycle, keys: deps.keys, ...(deps.clock ? { clock: deps.clock } : {}) }) as SubgraphDefinition<unknown>;
    case 'account':
      return createAccountSubgraph(deps.database, {
        keys: deps.keys,
        issuer: deps.config.publicUrl,
        audience: deps.config.apiAudience,
        appManagementUrl: () => deps.subgraphUrl('app-management'),
        orderUrl: () => deps.subgraphUrl('order'),
        logger: deps.logger,
        mail: deps.config.mail,
        ...(deps.clock ? { clock: deps.clock } : {}),
      }) as SubgraphDefinition<unknown>;
    case 'app-management':
      return createAppManagementSubgraph(deps.database, deps.keys, deps.clock, deps.flowCounters, { publicUrl: deps.config.publicUrl, mail: deps.config.mail, logger: deps.logger }, { subgraphUrl: deps.subgraphUrl }) as SubgraphDefinition<unknown>;
  }
}
