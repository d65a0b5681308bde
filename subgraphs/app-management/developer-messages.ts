/**
 * An app's message channel as its developer sees it in the portal: the app's stream of each merchant
 * (cursor, messages not acknowledged), its delivery records, and the manual re-push and cursor reset.
 * Each is the message channel's own operation (messages/api/resolvers.ts), run for the app as if the
 * app called it with a token of that merchant: the app's scopes now, and the merchant's authorization
 * of the app, whose time is the floor no replay goes back past. Only merchants with an authorization
 * of the app in force: others are NOT_FOUND.
 */
import { eq } from 'drizzle-orm';
import type { Caller } from '../../core/caller.js';
import type { Db } from '../../core/db.js';
import { forbidden, notFound } from '../../core/errors.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import { messageCursors } from '../../messages/tables.js';
import type { createMessageResolvers } from '../../messages/api/resolvers.js';
import { developerOf } from './callers.js';
import { ownApp } from './developer-apps.js';
import type { InternalCall } from './internal-client.js';
import { grantedScopesOf } from './sandbox-provisioner.js';
import type { AppRow } from './tables.js';

type MessageResolvers = ReturnType<typeof createMessageResolvers>;
type Context = SubgraphContext<unknown>;

interface MerchantAuthorization {
  merchantId: string;
  merchantName: string;
  grantId: string;
  authorizedAt: string;
  active: boolean;
}

export function createDeveloperMessageResolvers(deps: { db: Db; call: InternalCall; messages: MessageResolvers }) {
  const { db, call, messages } = deps;

  const authorizationsOf = async (appKey: string, merchantIds: readonly string[]): Promise<MerchantAuthorization[]> =>
    merchantIds.length
      ? (
          await call<{ appMerchantAuthorizations: MerchantAuthorization[] }>(
            'account',
            'query Authorizations($appKey: String!, $merchantIds: [String!]!) { appMerchantAuthorizations(appKey: $appKey, merchantIds: $merchantIds) { merchantId merchantName grantId authorizedAt active } }',
            { appKey, merchantIds },
          )
        ).appMerchantAuthorizations
      : [];

  /** The app as a caller for one merchant: what its token for the merchant would carry. */
  const appCallerFor = async (app: AppRow, authorization: MerchantAuthorization): Promise<Caller> => ({
    kind: 'app',
    appKey: app.key,
    merchantId: authorization.merchantId,
    scopes: await grantedScopesOf(db, app.id),
    grantId: authorization.grantId,
    authorizedAt: Date.parse(authorization.authorizedAt),
  });

  /** The merchant's authorization of the app, in force; NOT_FOUND otherwise. */
  const activeAuthorization = async (app: AppRow, merchantId: string) => {
    const [authorization] = await authorizationsOf(app.key, [merchantId]);
    if (!authorization?.active) throw notFound('Merchant authorization of the app', merchantId);
    return authorization;
  };

  const streamOf = async (app: AppRow, authorization: MerchantAuthorization) => ({
    merchantId: authorization.merchantId,
    merchantName: authorization.merchantName,
    ...(await messages.Query.messageStream(undefined, undefined, { caller: await appCallerFor(app, authorization) })),
  });

  const mayRead = (caller: Caller) => {
    if (caller.kind !== 'developer' && caller.kind !== 'operator') throw forbidden('Developers and operators only');
  };

  return {
    Mutation: {
      redeliverAppMessages: async (_: unknown, { input }: { input: { appKey: string; merchantId: string; ids: string[] } }, ctx: Context) => {
        const app = await ownApp(db, developerOf(ctx.caller), input.appKey);
        const caller = await appCallerFor(app, await activeAuthorization(app, input.merchantId));
        return messages.Mutation.redeliverMessages(undefined, { ids: input.ids }, { caller });
      },
      resetAppMessageCursor: async (_: unknown, { input }: { input: { appKey: string; merchantId: string; to: Parameters<MessageResolvers['Mutation']['resetMessageCursor']>[1]['to'] } }, ctx: Context) => {
        const app = await ownApp(db, developerOf(ctx.caller), input.appKey);
        const authorization = await activeAuthorization(app, input.merchantId);
        const caller = await appCallerFor(app, authorization);
        const stream = await messages.Mutation.resetMessageCursor(undefined, { to: input.to }, { caller });
        return { merchantId: authorization.merchantId, merchantName: authorization.merchantName, ...stream };
      },
    },
    App: {
      /** The sandbox first, then every merchant the app has a stream of (a subscription created its cursor). */
      messageStreams: async (app: AppRow, _: unknown, ctx: Context) => {
        mayRead(ctx.caller);
        const withCursors = await db.selectDistinct({ merchantId: messageCursors.merchantId }).from(messageCursors).where(eq(messageCursors.appKey, app.key));
        const merchantIds = [...new Set([...(app.sandboxMerchantId ? [app.sandboxMerchantId] : []), ...withCursors.map((r) => r.merchantId)])];
        const authorizations = (await authorizationsOf(app.key, merchantIds)).filter((a) => a.active);
        const byMerchant = new Map(authorizations.map((a) => [a.merchantId, a]));
        return Promise.all(merchantIds.flatMap((id) => (byMerchant.has(id) ? [streamOf(app, byMerchant.get(id)!)] : [])));
      },
      messageRecords: async (app: AppRow, args: { merchantId: string; topics?: string[] | null; unacknowledgedOnly?: boolean | null; first?: number | null; after?: string | null }, ctx: Context) => {
        mayRead(ctx.caller);
        const caller = await appCallerFor(app, await activeAuthorization(app, args.merchantId));
        const { merchantId: _merchant, ...listArgs } = args;
        return messages.Query.messageRecords(undefined, listArgs as Parameters<MessageResolvers['Query']['messageRecords']>[1], { caller });
      },
    },
  };
}
