/** Resolvers of the account subgraph. */
import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { MAX_GRANTS_PER_CHECK } from '../../core/caller.js';
import { badInput, forbidden, notFound } from '../../core/errors.js';
import { scalarResolvers } from '../../core/scalars.js';
import { requireMerchant, type SubgraphContext } from '../../core/subgraph.js';
import type { Db } from '../../core/db.js';
import { userOfGuest, userOfOpenid, userOfUnionid } from './identities.js';
import type { AccountLoaders } from './loaders.js';
import { appAuthorizationResolvers } from './app-authorizations.js';
import type { BindOrLogin } from './bind-or-login.js';
import type { AccountStore } from './store.js';
import * as v from '../../core/validate.js';
import type { MerchantAuthorizationRow, MerchantRow, UserRow } from './tables.js';

type Context = SubgraphContext<AccountLoaders>;

export function createAccountResolvers(store: AccountStore, db: Db, bindOrLogin: BindOrLogin) {
  return {
    DateTime: scalarResolvers.DateTime,
    Query: {
      merchantAuthorizations: (_: unknown, args: { merchantId: string }, ctx: Context) => {
        if (ctx.caller.kind !== 'operator') throw forbidden('Operators only');
        return ctx.loaders.authorizationsOfMerchant.load(args.merchantId);
      },
      authorizationActive: (_: unknown, args: { grantId: string }, ctx: Context) => {
        if (ctx.caller.kind !== 'system') throw forbidden('Internal');
        return store.authorizationActive(args.grantId);
      },
      authorizationsActive: (_: unknown, args: { grantIds: string[] }, ctx: Context) => {
        if (ctx.caller.kind !== 'system') throw forbidden('Internal');
        if (args.grantIds.length > MAX_GRANTS_PER_CHECK) throw badInput(`At most ${MAX_GRANTS_PER_CHECK} grants per check`, 'grantIds');
        return store.authorizationsActive(args.grantIds);
      },
      authorizationStates: (_: unknown, args: { grantIds: string[] }, ctx: Context) => {
        if (ctx.caller.kind !== 'system') throw forbidden('Internal');
        if (args.grantIds.length > MAX_GRANTS_PER_CHECK) throw badInput(`At most ${MAX_GRANTS_PER_CHECK} grants per check`, 'grantIds');
        return store.authorizationStates(args.grantIds);
      },
      merchantIsTest: (_: unknown, args: { merchantId: string }, ctx: Context) => {
        if (ctx.caller.kind !== 'system') throw forbidden('Internal');
        return store.merchantIsTest(args.merchantId);
      },
      buyer: async (_: unknown, args: { openid?: string | null; unionid?: string | null }, ctx: Context) => {
        if ((args.openid == null) === (args.unionid == null)) throw badInput('Give the openid or the unionid', 'openid');
        const app = await ctx.loaders.callingApp();
        const user = args.openid != null ? await userOfOpenid(db, app.appKey, args.openid) : await userOfUnionid(db, app.developerId, args.unionid!);
        return user ?? Promise.reject(notFound('Buyer', args.openid ?? args.unionid!));
      },
      buyerId: async (_: unknown, args: { openid?: string | null; unionid?: string | null; guestId?: string | null }, ctx: Context) => {
        const given = [args.openid, args.unionid, args.guestId].filter((a) => a != null);
        if (given.length !== 1) throw badInput('Give the openid, the unionid or the guest id', 'openid');
        const app = await ctx.loaders.callingApp();
        const user =
          args.openid != null ? await userOfOpenid(db, app.appKey, args.openid) : args.unionid != null ? await userOfUnionid(db, app.developerId, args.unionid) : await userOfGuest(db, app.appKey, args.guestId!);
        return user?.id ?? Promise.reject(notFound('Buyer', given[0]!));
      },
      merchant: async (_: unknown, args: { id?: string | null }, ctx: Context) => {
        const id = args.id ?? requireMerchant(ctx.caller);
        return (await ctx.loaders.merchant.load(id)) ?? Promise.reject(notFound('Merchant', id));
      },
    },
    Mutation: {
      bindBuyer: async (_: unknown, args: { input: { openid?: string | null; unionid?: string | null; guestId?: string | null } }, ctx: Context) => {
        const { openid, unionid, guestId } = args.input;
        const bound = await bindOrLogin({ app: await ctx.loaders.callingApp(), openid, unionid, guestId, merchantId: ctx.caller.merchantId });
        ctx.loaders.identity.prime(bound.user.id, { openid: bound.openid, unionid: bound.unionid });
        return { buyer: bound.user, created: bound.created, merged: bound.mergeIds.length };
      },
      orderBuyer: async (_: unknown, args: { openid?: string | null; unionid?: string | null; guestId?: string | null }, ctx: Context) => {
        if (!ctx.caller.merchantId) throw forbidden('An order is placed for a merchant');
        const bound = await bindOrLogin({ app: await ctx.loaders.callingApp(), ...args, merchantId: ctx.caller.merchantId });
        return bound.user.id;
      },
      revokeAppAuthorization: async (_: unknown, args: { id: string; reason?: string | null }, ctx: Context) => {
        const caller = ctx.caller;
        // Who, as the authorization keeps it (and its revocation event carries): the merchant's staff member on the merchant page, its console app, or the operator.
        const by =
          caller.kind === 'operator'
            ? `operator:${caller.operatorId}`
            : caller.kind === 'staff' && caller.merchantId && caller.staffId
              ? `merchant:${caller.merchantId} staff:${caller.staffId}`
              : caller.kind === 'app' && caller.merchantId
                ? `merchant:${caller.merchantId} via ${caller.appKey}`
                : null;
        if (!by) throw forbidden('The merchant (its staff or its console app) or an operator revokes authorizations');
        const reason = v.optionalText(args.reason, 'reason', 500);
        const revoked = await store.revokeAuthorization(args.id, by, caller.kind === 'operator' ? null : caller.merchantId, reason);
        return revoked ?? Promise.reject(notFound('Authorization', args.id));
      },
    },
    AppAuthorization: {
      id: (row: MerchantAuthorizationRow) => row.grantId,
      ...appAuthorizationResolvers.AppAuthorization,
    },
    App: appAuthorizationResolvers.App,
    Merchant: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.merchant.load(ref.id),
      authorizedApps: (merchant: MerchantRow, _: unknown, ctx: Context) => ctx.loaders.authorizationsOfMerchant.load(merchant.id),
      contact: (merchant: MerchantRow) => ({ email: merchant.contactEmail, phone: merchant.contactPhone }),
    },
    User: {
      // An app's page of buyers with their openids: the buyers and their identifiers in one statement.
      __resolveReference: (ref: { id: string }, ctx: Context, info: GraphQLResolveInfo) =>
        ctx.caller.kind === 'app' && selectsIdentifiers(info) ? ctx.loaders.userWithIdentity.load(ref.id) : ctx.loaders.user.load(ref.id),
      openid: async (user: UserRow, _: unknown, ctx: Context) => (await ctx.loaders.identity.load(user.id)).openid,
      unionid: async (user: UserRow, _: unknown, ctx: Context) => (await ctx.loaders.identity.load(user.id)).unionid,
      guest: (user: UserRow) => user.isVirtual,
    },
  };
}

/** Whether an entity fetch's selection asks for a User's openid or unionid (memoized per operation). */
const asksIdentifiers = new WeakMap<object, boolean>();
function selectsIdentifiers(info: GraphQLResolveInfo): boolean {
  const field = info.fieldNodes[0];
  if (!field) return false;
  let asks = asksIdentifiers.get(field);
  if (asks === undefined) {
    const visit = (set: SelectionSetNode | undefined): boolean =>
      !!set?.selections.some((s) =>
        s.kind === Kind.FIELD ? s.name.value === 'openid' || s.name.value === 'unionid' : s.kind === Kind.INLINE_FRAGMENT ? (!s.typeCondition || s.typeCondition.name.value === 'User') && visit(s.selectionSet) : false,
      );
    asks = visit(field.selectionSet);
    asksIdentifiers.set(field, asks);
  }
  return asks;
}
