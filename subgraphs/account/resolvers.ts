/** Resolvers of the account subgraph. */
import { notFound } from '../../core/errors.js';
import { scalarResolvers } from '../../core/scalars.js';
import { requireMerchant, type SubgraphContext } from '../../core/subgraph.js';
import type { AccountLoaders } from './loaders.js';
import type { MerchantRow } from './tables.js';

type Context = SubgraphContext<AccountLoaders>;

export function createAccountResolvers() {
  return {
    DateTime: scalarResolvers.DateTime,
    Query: {
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
