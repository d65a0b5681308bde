/** The app-management subgraph: developers, apps, scopes, permission packages, and the message channel's records. */
import { systemClock, type Clock } from '../../core/clock.js';
import type { Database } from '../../core/db.js';
import type { FlowCounters } from '../../core/flow-counters.js';
import type { PlatformKeys } from '../../core/keys.js';
import { createMessageCrypto } from '../../messages/crypto.js';
import { createMessageResolvers } from '../../messages/api/resolvers.js';
import { createMessageStore } from '../../messages/store/index.js';
import type { SubgraphDefinition } from '../../core/subgraph.js';
import { readApiCatalog } from './api-catalog.js';
import { createCallReportResolvers, createCallReportStore } from './call-reports.js';
import { createAppManagementLoaders, type AppManagementLoaders } from './loaders.js';
import { createIpAllowListResolvers, createIpAllowListStore } from './ip-allow-list.js';
import { createLimitsResolvers, createLimitsStore } from './limits.js';
import { createOfflineApiResolvers, createOfflineApiStore } from './offline-apis.js';
import { createAppManagementResolvers } from './resolvers.js';
import { createSigningResolvers, createSigningStore } from './signing.js';
import { createAppManagementStore } from './store.js';
import { createOperatorConsole, createOperatorConsoleResolvers } from './operator-sessions.js';
import { createDeveloperPortal, type DeveloperPortalOptions } from './developer-portal.js';
import { createAppLifecycle, type AppLifecycleOptions } from './app-lifecycle.js';
import { createConsoleOperations } from './console-operations.js';
import { createViolationLoaders, createViolationResolvers, createViolationStore, type ViolationLoaders } from './violations.js';
import { createLiveSubscriptionResolvers, createLiveSubscriptionStore } from './live-subscriptions.js';
import { authorizationUsageResolvers, createAuthorizationUsageLoaders, createAuthorizationUsageStore, type AuthorizationUsageLoaders } from './authorization-usage.js';

/**
 * `clock`: whose time penalties start and end in (tests move it). `flowCounters`: the gateways' call
 * counters, when this process can read them (embedded mode, or Redis): `viewerApp.usage.callsToday`.
 */
export function createAppManagementSubgraph(database: Database, keys: PlatformKeys, clock: Clock = systemClock, flowCounters?: FlowCounters, portal?: DeveloperPortalOptions, lifecycleOptions?: Pick<AppLifecycleOptions, 'subgraphUrl'>): SubgraphDefinition<AppManagementLoaders & ViolationLoaders & AuthorizationUsageLoaders> {
  const developerPortal = createDeveloperPortal(database.db, clock, portal);
  const consoleOperations = createConsoleOperations({ db: database.db, clock, mailer: developerPortal.mailer, logger: developerPortal.options.logger, publicUrl: developerPortal.options.publicUrl });
  const operatorConsole = createOperatorConsoleResolvers(createOperatorConsole({ db: database.db, clock, keks: keys.messageKeks }));
  const limitsStore = createLimitsStore(database.db, clock);
  const limits = createLimitsResolvers(limitsStore, { counters: flowCounters, clock });
  const store = createAppManagementStore(database.db, keys.messageKeks);
  const messageCrypto = createMessageCrypto(keys.messageKeks);
  const catalog = readApiCatalog();
  const resolvers = createAppManagementResolvers(store, catalog, messageCrypto);
  const offline = createOfflineApiResolvers(createOfflineApiStore(database.db, clock, catalog), clock);
  const signing = createSigningResolvers(createSigningStore(database.db));
  const violationStore = createViolationStore(database.db, clock);
  const violations = createViolationResolvers(violationStore, clock);
  const ipAllowList = createIpAllowListResolvers(createIpAllowListStore(database.db));
  const callReports = createCallReportResolvers(createCallReportStore(database.db));
  const liveSubscriptions = createLiveSubscriptionResolvers(createLiveSubscriptionStore(database.db, clock));
  const authorizationUsage = createAuthorizationUsageStore(database.db, clock);
  const messages = createMessageResolvers(createMessageStore(database.db, messageCrypto), messageCrypto);
  const appMutations = { ...resolvers.Mutation, ...developerPortal.Mutation, ...messages.Mutation, ...signing.Mutation, ...violations.Mutation, ...ipAllowList.Mutation, ...callReports.Mutation, ...limits.Mutation, ...offline.Mutation };
  const lifecycle = createAppLifecycle({ db: database.db, keys, clock, messages, appTokenMutations: appMutations, options: { ...portal, ...lifecycleOptions } });
  return {
    name: 'app-management',
    resolvers: {
      ...resolvers,
      JSON: messages.JSON,
      MessageCursor: messages.MessageCursor,
      Long: callReports.Long,
      Query: { ...resolvers.Query, ...developerPortal.Query, ...messages.Query, ...callReports.Query, ...limits.Query, ...offline.Query, ...lifecycle.Query, ...operatorConsole.Query, ...consoleOperations.Query, ...liveSubscriptions.Query },
      Mutation: { ...appMutations, ...lifecycle.Mutation, ...operatorConsole.Mutation, ...consoleOperations.Mutation, ...liveSubscriptions.Mutation },
      App: { ...resolvers.App, ...signing.App, ...violations.App, ...callReports.App, ...limits.App, ...lifecycle.App },
      AppAccess: limits.AppAccess,
      CallReport: callReports.CallReport,
      PlatformCallReport: callReports.PlatformCallReport,
      AppViolation: violations.AppViolation,
      AppStatusChange: violations.AppStatusChange,
      Developer: { ...resolvers.Developer, ...developerPortal.Developer, ...lifecycle.Developer, ...consoleOperations.Developer },
      AppReview: lifecycle.AppReview,
      Operator: operatorConsole.Operator,
      LiveSubscriptions: liveSubscriptions.LiveSubscriptions,
      AppAuthorization: authorizationUsageResolvers.AppAuthorization,
      Announcement: { ...developerPortal.Announcement, ...consoleOperations.Announcement },
      OfflineApi: offline.OfflineApi,
      ApiField: offline.ApiField,
    },
    // The announcement emails' runner.
    background: consoleOperations.background,
    createLoaders: (caller) => ({ ...createAppManagementLoaders(store, caller), ...createViolationLoaders(violationStore), ...lifecycle.createLoaders(caller), ...createAuthorizationUsageLoaders(authorizationUsage) }),
  };
}
