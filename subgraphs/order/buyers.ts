/**
 * Orders and the buyers they belong to (the account service owns buyers; order keeps their user id):
 * - a buyer's orders at the caller's merchant (User.orders), newest first;
 * - a merge's second step: the account service asks to re-point the orders of merged buyers to the
 *   buyer they were merged into, and gets its answer once they are (idempotent: a retry finds
 *   nothing left to move);
 * - the buyer of a new order (placeOrder's `buyer`): an openid, unionid or guest id the app gives,
 *   which the account service recognizes, links or creates through its bind-or-login entry, asked
 *   with the caller's own context token.
 */
import { GraphQLError } from 'graphql';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { ErrorCode, PorticoError, badInput, forbidden } from '../../core/errors.js';
import { requireMerchant, type SubgraphContext } from '../../core/subgraph.js';
import { pageSize, timeCursor, timeKeyset, toConnection, type TimeSort } from '../../core/pagination.js';
import { CONTEXT_TOKEN_HEADER } from '../../core/tokens.js';
import * as v from '../../core/validate.js';
import { orders, type OrderRow } from './tables.js';

/** What an app may say of an order's buyer: one of these. */
export interface OrderBuyerInput {
  openid?: string | null;
  unionid?: string | null;
  guestId?: string | null;
}

const NEWEST_FIRST: TimeSort<OrderRow> = { column: orders.createdAt, direction: 'desc', valueOf: (row) => row.createdAt };
const SORT_NAME = 'BUYER_CREATED_AT_DESC';

export function createOrderBuyers(db: Db) {
  return {
    /** A buyer's orders at one merchant, newest first, a page at a time. */
    async ordersOfBuyer(merchantId: string, userId: string, args: { first?: number | null; after?: string | null }) {
      const limit = pageSize(args.first);
      const keyset = timeKeyset(NEWEST_FIRST, orders.id, SORT_NAME, args.after);
      const mine = and(eq(orders.merchantId, merchantId), eq(orders.buyerId, userId));
      const rows = await db
        .select()
        .from(orders)
        .where(keyset.after ? and(mine, keyset.after) : mine)
        .orderBy(...keyset.orderBy)
        .limit(limit + 1);
      return {
        ...toConnection(rows, limit, (row) => timeCursor(NEWEST_FIRST, SORT_NAME, row), !!args.after),
        totalCount: async () => (await db.select({ n: sql<number>`count(*)::int` }).from(orders).where(mine))[0]!.n,
      };
    },

    /** Moves the orders of merged buyers to their survivor; the orders moved (0 on a retry). */
    async repointBuyers(survivingUserId: string, mergedUserIds: readonly string[]): Promise<number> {
      v.id(survivingUserId, 'survivingUserId');
      const merged = mergedUserIds.filter((id) => id !== survivingUserId).map((id, i) => v.id(id, `mergedUserIds[${i}]`));
      if (!merged.length) return 0;
      const moved = await db
        .update(orders)
        .set({ buyerId: survivingUserId, updatedAt: sql`now()` })
        .where(inArray(orders.buyerId, merged))
        .returning({ id: orders.id });
      return moved.length;
    },
  };
}

export type OrderBuyers = ReturnType<typeof createOrderBuyers>;

/** The account service's side of an order's buyer. */
export interface BuyerDirectory {
  /** The platform's user id of the buyer the app names (created for a new guest). */
  buyerOf(contextToken: string, input: OrderBuyerInput): Promise<string>;
  /** The platform's user id of a buyer the app names; NOT_FOUND for one it does not know. */
  findBuyer(contextToken: string, input: OrderBuyerInput): Promise<string>;
}

const PASSED_THROUGH = new Set<string>([ErrorCode.BAD_USER_INPUT, ErrorCode.NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.FORBIDDEN]);

export function createBuyerDirectory(accountUrl: () => string, timeoutMs = 10_000): BuyerDirectory {
  async function ask(contextToken: string, query: string, field: 'orderBuyer' | 'buyerId', input: OrderBuyerInput): Promise<string> {
    const response = await fetch(accountUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: contextToken },
      body: JSON.stringify({ query, variables: { openid: input.openid ?? null, unionid: input.unionid ?? null, guestId: input.guestId ?? null } }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json()) as { data?: Record<string, string>; errors?: { message: string; extensions?: { code?: string; field?: string } }[] };
    const error = body.errors?.[0];
    if (error) {
      const code = error.extensions?.code;
      if (code && PASSED_THROUGH.has(code)) throw new PorticoError(code as ErrorCode, error.message, { field: `buyer.${error.extensions?.field ?? 'openid'}` });
      throw new GraphQLError(`account service failed: ${error.message}`);
    }
    if (!body.data) throw new GraphQLError(`account service answered HTTP ${response.status} without data`);
    return body.data[field]!;
  }
  return {
    buyerOf: (contextToken, input) =>
      ask(contextToken, 'mutation Buyer($openid: String, $unionid: String, $guestId: String) { orderBuyer(openid: $openid, unionid: $unionid, guestId: $guestId) }', 'orderBuyer', input),
    findBuyer: (contextToken, input) =>
      ask(contextToken, 'query Buyer($openid: String, $unionid: String, $guestId: String) { buyerId(openid: $openid, unionid: $unionid, guestId: $guestId) }', 'buyerId', input),
  };
}

type OrdersResolver = (parent: unknown, args: Record<string, unknown>, ctx: SubgraphContext<unknown> & { contextToken: string }, info: unknown) => unknown;

/** The order resolvers with buyers' orders (User.orders, orders(buyer:)) and the merge's re-point (internal). */
export function withOrderBuyers<R extends { Query: object; Mutation: object }>(resolvers: R, buyers: OrderBuyers, directory?: BuyerDirectory): R & { User: object } {
  const allOrders = (resolvers.Query as { orders: OrdersResolver }).orders;
  return {
    ...resolvers,
    Query: {
      ...resolvers.Query,
      orders: async (parent: unknown, args: { buyer?: OrderBuyerInput | null; filter?: unknown; sort?: string | null; first?: number | null; after?: string | null }, ctx: SubgraphContext<unknown> & { contextToken: string }, info: unknown) => {
        if (!args.buyer) return allOrders(parent, args, ctx, info);
        const merchantId = requireMerchant(ctx.caller);
        if (args.filter || (args.sort && args.sort !== 'CREATED_AT_DESC')) throw badInput('orders(buyer:) is newest first, without a filter', 'buyer');
        if (!directory) throw new GraphQLError('orders(buyer:) needs the account service');
        const userId = await directory.findBuyer(ctx.contextToken, args.buyer);
        return buyers.ordersOfBuyer(merchantId, userId, args);
      },
    },
    Mutation: {
      ...resolvers.Mutation,
      repointBuyers: (_: unknown, args: { survivingUserId: string; mergedUserIds: string[] }, ctx: SubgraphContext<unknown>) => {
        if (ctx.caller.kind !== 'system') throw forbidden('Internal');
        return buyers.repointBuyers(args.survivingUserId, args.mergedUserIds);
      },
    },
    User: {
      orders: (user: { id: string }, args: { first?: number | null; after?: string | null }, ctx: SubgraphContext<unknown>) => buyers.ordersOfBuyer(requireMerchant(ctx.caller), user.id, args),
    },
  };
}
