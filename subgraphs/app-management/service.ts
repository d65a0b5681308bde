/** The app-management subgraph: developers, apps, scopes and permission packages. */
import type { Database } from '../../core/db.js';
import type { SubgraphDefinition } from '../../core/subgraph.js';
import { readApiCatalog } from './api-catalog.js';
import { createAppManagementLoaders, type AppManagementLoaders } from './loaders.js';
import { createAppManagementResolvers } from './resolvers.js';
import { createAppManagementStore } from './store.js';

export function createAppManagementSubgraph(database: Database): SubgraphDefinition<AppManagementLoaders> {
  const store = createAppManagementStore(database.db);
  return {
    name: 'app-management',
    resolvers: createAppManagementResolvers(store, readApiCatalog()),
    createLoaders: (caller) => createAppManagementLoaders(store, caller),
  };
}
