/** Resolvers of the account subgraph. */
import { forbidden, notFound } from '../../core/errors.js';
import { scalarResolvers } from '../../core/scalars.js';
import { requireMerchant, type SubgraphContext } from '../../core/subgraph.js';
import type { AccountLoaders } from './loaders.js';
import type { AccountStore } from './store.js';
import type { MerchantRow } from './tables.js';

type Context = SubgraphContext<AccountLoaders>;

export function createAccountResolvers(store: AccountStore) {
  return {
    DateTime: scalarResolvers.DateTime,
    Query: {
      authorizationActive: (_: unknown, args: { grantId: string }, ctx: Context) => {
        if (ctx.caller.kind !== 'system') throw forbidden('Internal');
        return store.authorizationActive(args.grantId);
      },
      merchant: async (_: unknown, args: { id?: string | null }, ctx: Context) => {
        const id = args.id ?? requireMerchant(ctx.caller);
        return (await ctx.loaders.merchant.load(id)) ?? Promise.reject(notFound('Merchant', id));
      },
    },
    Merchant: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.merchant.load(ref.id),
      contact: (merchant: MerchantRow) => ({ email: merchant.contactEmail, phone: merchant.contactPhone }),
    },
    User: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.user.load(ref.id),
    },
  };
}
