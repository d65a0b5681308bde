/**
 * The developer's app lifecycle in the portal, put together: their apps (developer-apps.ts), release
 * reviews (app-reviews.ts), the sandbox (sandbox.ts, sandbox-provisioner.ts) and the message views
 * (developer-messages.ts), with what they share: the internal calls to the other subgraphs.
 */
import type { Clock } from '../../core/clock.js';
import type { SubgraphName } from '../../core/config.js';
import type { Caller } from '../../core/caller.js';
import type { Db } from '../../core/db.js';
import type { PlatformKeys } from '../../core/keys.js';
import { createLogger, type Logger } from '../../core/logger.js';
import type { createMessageResolvers } from '../../messages/api/resolvers.js';
import { createAppReviewLoaders, createAppReviewResolvers, createAppReviewStore } from './app-reviews.js';
import { createDeveloperAppResolvers, createDeveloperAppStore } from './developer-apps.js';
import { createDeveloperMessageResolvers } from './developer-messages.js';
import { createInternalCall } from './internal-client.js';
import { createIpAllowListStore } from './ip-allow-list.js';
import { createSandboxResolvers } from './sandbox.js';
import { createSandboxProvisioner } from './sandbox-provisioner.js';
import { createSigningStore } from './signing.js';
import { createAppManagementStore } from './store.js';

export interface AppLifecycleOptions {
  /** Where the other subgraphs are: the sandbox is provisioned there. */
  subgraphUrl(name: SubgraphName): string;
  /** PUBLIC_URL: the authorize URLs point at its passport. */
  publicUrl: string;
  logger: Logger;
}

type AppTokenMutations = Parameters<typeof createDeveloperAppResolvers>[0]['appTokenMutations'];

export function createAppLifecycle(deps: {
  db: Db;
  keys: PlatformKeys;
  clock: Clock;
  messages: ReturnType<typeof createMessageResolvers>;
  /** The app-token versions of rotateAppSecret, registerSigningKey, setIpAllowList and requestPermissionPackage: developer callers are taken over, others go on to them. */
  appTokenMutations: AppTokenMutations;
  options?: Partial<AppLifecycleOptions>;
}) {
  const { db, keys, clock } = deps;
  const logger = deps.options?.logger ?? createLogger('silent');
  const subgraphUrl =
    deps.options?.subgraphUrl ??
    ((name: SubgraphName) => {
      throw new Error(`No URL of the ${name} subgraph was given to app-management`);
    });
  const call = createInternalCall({ keys, subgraphUrl, clock });
  const provisioner = createSandboxProvisioner({ db, call, clock, logger: logger.child({ service: 'app-management', concern: 'sandbox' }) });
  const reviewStore = createAppReviewStore(db, clock);
  const reviews = createAppReviewResolvers(reviewStore);
  const sandbox = createSandboxResolvers({ db, call, provisioner, publicUrl: deps.options?.publicUrl ?? 'http://127.0.0.1:4000' });
  const developerMessages = createDeveloperMessageResolvers({ db, call, messages: deps.messages });
  const developerApps = createDeveloperAppResolvers({
    db,
    store: createDeveloperAppStore(db, keys.messageKeks, clock),
    apps: createAppManagementStore(db, keys.messageKeks),
    signing: createSigningStore(db),
    ipAllowList: createIpAllowListStore(db),
    sandbox: provisioner,
    appTokenMutations: deps.appTokenMutations,
  });
  return {
    Query: { ...developerApps.Query, ...reviews.Query },
    Mutation: { ...developerApps.Mutation, ...reviews.Mutation, ...sandbox.Mutation, ...developerMessages.Mutation },
    App: { ...developerApps.App, ...reviews.App, ...sandbox.App, ...developerMessages.App },
    Developer: developerApps.Developer,
    AppReview: reviews.AppReview,
    createLoaders: (_caller: Caller) => createAppReviewLoaders(reviewStore),
  };
}
