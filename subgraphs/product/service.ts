/** The product subgraph: products, SKUs, prices, stock and shelf status. */
import type { Database } from '../../core/db.js';
import type { SubgraphDefinition } from '../../core/subgraph.js';
import { createProductLoaders, type ProductLoaders } from './loaders.js';
import { createProductResolvers } from './resolvers.js';
import { createProductStore } from './store.js';
import { withSandboxCatalog } from './sandbox.js';

export function createProductSubgraph(database: Database): SubgraphDefinition<ProductLoaders> {
  const store = createProductStore(database.db);
  return {
    name: 'product',
    resolvers: withSandboxCatalog(createProductResolvers(store), database.db),
    createLoaders: (caller, lookups) => createProductLoaders(store, caller, lookups),
  };
}
