/** Resolvers of the order subgraph: thin, they check the caller and call the store, a loader or checkout. */
import { notFound } from '../../core/errors.js';
import { pageSize, toConnection } from '../../core/pagination.js';
import { scalarResolvers } from '../../core/scalars.js';
import { requireMerchant, type SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import type { Checkout, PlaceOrderInput } from './checkout.js';
import type { OrderLoaders } from './loaders.js';
import { orderCursor, type OrderFilter, type OrderSort, type OrderStore } from './store.js';
import type { OrderLineRow, OrderRow, OrderStatusChangeRow } from './tables.js';

type Context = SubgraphContext<OrderLoaders>;
interface ListArgs {
  filter?: OrderFilter | null;
  sort?: OrderSort | null;
  first?: number | null;
  after?: string | null;
}

const money = (amount: number, currency: string) => ({ amount, currency });

export function createOrderResolvers(store: OrderStore, checkout: Checkout) {
  async function orderConnection(merchantId: string, args: ListArgs) {
    const sort = args.sort ?? 'CREATED_AT_DESC';
    const limit = pageSize(args.first);
    const rows = await store.listOrders(merchantId, { filter: args.filter, sort, limit, after: args.after });
    return {
      ...toConnection(rows, limit, (row) => orderCursor(sort, row), !!args.after),
      totalCount: () => store.countOrders(merchantId, args.filter),
    };
  }

  return {
    ...scalarResolvers,
    Query: {
      order: async (_: unknown, args: { id: string }, ctx: Context) => {
        requireMerchant(ctx.caller);
        return (await ctx.loaders.order.load(args.id)) ?? Promise.reject(notFound('Order', args.id));
      },
      orders: (_: unknown, args: ListArgs, ctx: Context) => orderConnection(requireMerchant(ctx.caller), args),
    },
    Mutation: {
      shipOrder: async (_: unknown, { input }: { input: { orderId: string; carrier: string; trackingNumber: string } }, ctx: Context) => {
        const shipment = {
          carrier: v.text(input.carrier, 'carrier', { max: 64 }),
          trackingNumber: v.text(input.trackingNumber, 'trackingNumber', { max: 64 }),
        };
        const merchantId = requireMerchant(ctx.caller);
        const order = await store.transition(merchantId, input.orderId, 'SHIPPED', { shipment });
        checkout.settle(merchantId, ctx.contextToken);
        return { order };
      },
      cancelOrder: async (_: unknown, { input }: { input: { orderId: string; reason?: string | null } }, ctx: Context) => ({
        order: await checkout.cancelOrder(requireMerchant(ctx.caller), ctx.contextToken, input),
      }),
      payOrder: async (_: unknown, { input }: { input: { orderId: string } }, ctx: Context) => {
        const merchantId = requireMerchant(ctx.caller);
        const order = await store.transition(merchantId, input.orderId, 'PAID');
        checkout.settle(merchantId, ctx.contextToken);
        return { order };
      },
      placeOrder: async (_: unknown, { input }: { input: PlaceOrderInput }, ctx: Context) => ({
        order: await checkout.placeOrder(requireMerchant(ctx.caller), ctx.contextToken, input),
      }),
    },
    Order: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.order.load(ref.id),
      total: (order: OrderRow) => money(order.totalAmount, order.currency),
      lines: (order: OrderRow, _: unknown, ctx: Context) => ctx.loaders.linesOfOrder.load(order.id),
      buyer: (order: OrderRow) => (order.buyerId ? { id: order.buyerId } : null),
      merchant: (order: OrderRow) => ({ id: order.merchantId }),
      shipment: (order: OrderRow) =>
        order.carrier && order.trackingNumber && order.shippedAt
          ? { carrier: order.carrier, trackingNumber: order.trackingNumber, shippedAt: order.shippedAt }
          : null,
      statusHistory: (order: OrderRow, _: unknown, ctx: Context) => ctx.loaders.historyOfOrder.load(order.id),
    },
    OrderLine: {
      sku: (line: OrderLineRow) => ({ id: line.skuId }),
      product: (line: OrderLineRow) => ({ id: line.productId }),
      unitPrice: (line: OrderLineRow) => money(line.unitPriceAmount, line.currency),
      total: (line: OrderLineRow) => money(line.totalAmount, line.currency),
    },
    OrderStatusChange: {
      from: (change: OrderStatusChangeRow) => change.fromStatus,
      to: (change: OrderStatusChangeRow) => change.toStatus,
      at: (change: OrderStatusChangeRow) => change.occurredAt,
    },
    Merchant: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      orders: (merchant: { id: string }, args: ListArgs, ctx: Context) => {
        // Only the caller's own merchant has an order list here; any other id resolves to nothing.
        if (merchant.id !== requireMerchant(ctx.caller)) throw notFound('Merchant', merchant.id);
        return orderConnection(merchant.id, args);
      },
    },
  };
}
