/** The order subgraph: orders, lines, status history and shipping. */
import type { Database } from '../../core/db.js';
import type { Logger } from '../../core/logger.js';
import type { SubgraphDefinition } from '../../core/subgraph.js';
import { createCheckout } from './checkout.js';
import { createOrderLoaders, type OrderLoaders } from './loaders.js';
import { createProductClient } from './product-client.js';
import { createOrderResolvers } from './resolvers.js';
import { createOrderStore } from './store.js';

export interface OrderSubgraphOptions {
  /** URL of the product subgraph, for stock reservations (resolved when first needed). */
  productUrl: () => string;
  logger: Logger;
}

export function createOrderSubgraph(database: Database, options: OrderSubgraphOptions): SubgraphDefinition<OrderLoaders> {
  const store = createOrderStore(database.db);
  const checkout = createCheckout(store, createProductClient(options.productUrl), options.logger.child({ service: 'order' }));
  return {
    name: 'order',
    resolvers: createOrderResolvers(store, checkout),
    createLoaders: (caller, lookups) => createOrderLoaders(store, caller, lookups),
  };
}
