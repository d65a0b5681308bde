/** The account subgraph: merchants, their staff and buyers, and the passport (OAuth 2.0 authorization server). */
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../core/db.js';
import type { PlatformKeys } from '../../core/keys.js';
import type { Logger } from '../../core/logger.js';
import { schemaDir } from '../../core/paths.js';
import type { SubgraphDefinition } from '../../core/subgraph.js';
import { systemClock } from '../../core/clock.js';
import { createAppDirectory } from './app-directory.js';
import { createBuyerMailer } from './buyer-mail.js';
import { createBuyerAccounts } from './buyers.js';
import { createIdentityReads, passportIdentities } from './identities.js';
import { createBindOrLogin } from './bind-or-login.js';
import { createInternalCaller } from './internal-calls.js';
import { startMergeRunner, type MergeRunner } from './user-merge.js';
import { createAccountLoaders, type AccountLoaders } from './loaders.js';
import { createAppAuthorizationLoaders, createAppAuthorizationStore, type AppAuthorizationLoaders } from './app-authorizations.js';
import { createPassportRoutes } from './passport/index.js';
import { createAccountResolvers } from './resolvers.js';
import { createAccountStore } from './store.js';
import { createSandboxAccountResolvers, createSandboxAccounts } from './sandbox.js';
import { createStaffSessionResolvers, createStaffSessions } from './staff-sessions.js';

export interface AccountSubgraphOptions {
  keys: PlatformKeys;
  /** The platform's public origin: the passport's issuer. */
  issuer: string;
  audience: string;
  appManagementUrl(): string;
  /** The order service, asked to re-point merged buyers' orders (user-merge.ts). */
  orderUrl?(): string;
  logger: Logger;
  /** Time of the sandbox tokens it mints and of buyers' verification codes (default: the system clock). */
  clock?: Clock;
  /** Email to buyers (verification codes): SMTP_URL (undefined: logged) and MAIL_FROM. */
  mail?: { smtpUrl: string | undefined; from: string };
}

export function createAccountSubgraph(database: Database, options: AccountSubgraphOptions): SubgraphDefinition<AccountLoaders & AppAuthorizationLoaders> {
  const store = createAccountStore(database.db);
  const apps = createAppDirectory({ keys: options.keys, appManagementUrl: options.appManagementUrl, ...(options.clock ? { clock: options.clock } : {}) });
  const clock = options.clock ?? systemClock;
  let merges: MergeRunner | undefined;
  const bindOrLogin = createBindOrLogin(database.db, clock, () => merges?.wake());
  const callInternal = createInternalCaller(options.keys, clock);
  const identityReads = createIdentityReads(database.db);
  const appAuthorizations = createAppAuthorizationStore(database.db);
  const scopes = (JSON.parse(fs.readFileSync(path.join(schemaDir, 'scopes.json'), 'utf8')) as { name: string }[]).map((s) => s.name);
  return {
    name: 'account',
    resolvers: withStaffSessions(
      withSandbox(createAccountResolvers(store, database.db, bindOrLogin), createSandboxAccountResolvers(createSandboxAccounts(database.db, options))),
      createStaffSessionResolvers(createStaffSessions({ db: database.db, store, clock })),
    ),
    createLoaders: (caller) => ({ ...createAccountLoaders(store, caller, { reads: identityReads, apps }), ...createAppAuthorizationLoaders(appAuthorizations, caller) }),
    handleHttp: createPassportRoutes({
      db: database.db,
      accounts: store,
      keys: options.keys,
      issuer: options.issuer,
      audience: options.audience,
      scopes,
      appManagementUrl: options.appManagementUrl,
      logger: options.logger,
      buyers: {
        accounts: createBuyerAccounts(database.db, clock),
        sendMail: createBuyerMailer({ smtpUrl: options.mail?.smtpUrl, from: options.mail?.from ?? 'Portico <no-reply@portico.invalid>', logger: options.logger }),
        identities: passportIdentities(database.db, apps),
        // A buyer who consented goes through the one bind-or-login entry: known to the app from now on.
        signedIn: async (userId, client) => {
          const developerId = await apps.developerOf(client.key);
          if (developerId) await bindOrLogin({ app: { appKey: client.key, developerId }, userId });
        },
      },
    }),
    // The saga's second step: merged buyers' orders re-pointed by the order service, retried until done.
    background: {
      start: () => {
        const orderUrl = options.orderUrl;
        if (!orderUrl) return;
        merges = startMergeRunner({
          db: database.db,
          clock,
          logger: options.logger.child({ service: 'account' }),
          owners: {
            repointBuyers: async (survivingUserId, mergedUserIds) => {
              await callInternal(orderUrl(), 'mutation Repoint($s: String!, $m: [String!]!) { repointBuyers(survivingUserId: $s, mergedUserIds: $m) }', { s: survivingUserId, m: mergedUserIds });
            },
          },
        });
      },
      stop: async () => {
        await merges?.stop();
      },
    },
  };
}

/** The account resolvers with the sandbox's internal operations (subgraphs/account/sandbox.ts). */
function withSandbox<R extends { Query: object; Mutation: object }>(resolvers: R, sandbox: ReturnType<typeof createSandboxAccountResolvers>): R {
  return { ...resolvers, Query: { ...resolvers.Query, ...sandbox.Query }, Mutation: { ...resolvers.Mutation, ...sandbox.Mutation } };
}

/** The account resolvers with the merchant page's sessions and staff (subgraphs/account/staff-sessions.ts). */
function withStaffSessions<R extends { Query: object; Mutation: object }>(resolvers: R, staff: ReturnType<typeof createStaffSessionResolvers>): R {
  return { ...resolvers, Query: { ...resolvers.Query, ...staff.Query }, Mutation: { ...resolvers.Mutation, ...staff.Mutation }, MerchantStaff: staff.MerchantStaff };
}
