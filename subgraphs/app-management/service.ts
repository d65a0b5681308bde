/** The app-management subgraph: developers, apps, scopes, permission packages, and the message channel's records. */
import type { Database } from '../../core/db.js';
import type { PlatformKeys } from '../../core/keys.js';
import { createMessageCrypto } from '../../messages/crypto.js';
import { createMessageResolvers } from '../../messages/api/resolvers.js';
import { createMessageStore } from '../../messages/store/index.js';
import type { SubgraphDefinition } from '../../core/subgraph.js';
import { readApiCatalog } from './api-catalog.js';
import { createAppManagementLoaders, type AppManagementLoaders } from './loaders.js';
import { createAppManagementResolvers } from './resolvers.js';
import { createAppManagementStore } from './store.js';

export function createAppManagementSubgraph(database: Database, keys: PlatformKeys): SubgraphDefinition<AppManagementLoaders> {
  const store = createAppManagementStore(database.db);
  const messageCrypto = createMessageCrypto(keys.messageKeks);
  const resolvers = createAppManagementResolvers(store, readApiCatalog(), messageCrypto);
  const messages = createMessageResolvers(createMessageStore(database.db, messageCrypto), messageCrypto);
  return {
    name: 'app-management',
    resolvers: {
      ...resolvers,
      JSON: messages.JSON,
      MessageCursor: messages.MessageCursor,
      Query: { ...resolvers.Query, ...messages.Query },
      Mutation: { ...resolvers.Mutation, ...messages.Mutation },
    },
    createLoaders: (caller) => createAppManagementLoaders(store, caller),
  };
}
