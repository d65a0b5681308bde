/** The account subgraph: merchants and buyers (and, with the passport work, staff logins and OAuth). */
import type { Database } from '../../core/db.js';
import type { SubgraphDefinition } from '../../core/subgraph.js';
import { createAccountLoaders, type AccountLoaders } from './loaders.js';
import { createAccountResolvers } from './resolvers.js';
import { createAccountStore } from './store.js';

export function createAccountSubgraph(database: Database): SubgraphDefinition<AccountLoaders> {
  const store = createAccountStore(database.db);
  return {
    name: 'account',
    resolvers: createAccountResolvers(),
    createLoaders: (caller) => createAccountLoaders(store, caller),
  };
}
