/** Resolvers of the order subgraph: thin, they check the caller and call the store, a loader or checkout. */
import { notFound } from '../../core/errors.js';
import { pageSize, toConnection } from '../../core/pagination.js';
import { scalarResolvers } from '../../core/scalars.js';
import { requireMerchant, type SubgraphContext } from '../../core/subgraph.js';
import { caseCursor, caseMatches, casesAfter, type AfterSales, type CaseFilter, type CaseSort, type OpenCaseInput } from './after-sales.js';
import type { Checkout, PlaceOrderInput } from './checkout.js';
import type { OrderLoaders } from './loaders.js';
import { childrenWanted, type OrderChildren, type SelectionInfo } from './order-children.js';
import type { Shipments, ShipmentInput, TrackingInput } from './shipments.js';
import { orderCursor, type OrderFilter, type OrderSort, type OrderStore } from './store.js';
import type { AfterSaleCaseLineRow, AfterSaleCaseRow, OrderLineRow, OrderRow, OrderStatusChangeRow, ShipmentLineRow, ShipmentRow, TrackingEventRow } from './tables.js';

type Context = SubgraphContext<OrderLoaders>;
interface ListArgs {
  filter?: OrderFilter | null;
  sort?: OrderSort | null;
  first?: number | null;
  after?: string | null;
}

interface CaseListArgs {
  filter?: CaseFilter | null;
  sort?: CaseSort | null;
  first?: number | null;
  after?: string | null;
}

const money = (amount: number, currency: string) => ({ amount, currency });

/** A line of a shipment or case, with the order it belongs to (to find the order line). */
type LineOf<Row> = Row & { orderId: string };

export function createOrderResolvers(store: OrderStore, checkout: Checkout, shipments: Shipments, afterSales: AfterSales) {
  async function orderConnection(merchantId: string, args: ListArgs, ctx: Context, info: SelectionInfo) {
    const sort = args.sort ?? 'CREATED_AT_DESC';
    const limit = pageSize(args.first);
    // The children the page selects come with it, straight into their DataLoaders (order-children.ts).
    const wanted = childrenWanted(info);
    const found = (order: OrderRow, children: OrderChildren) => {
      if (children.lines) ctx.loaders.linesOfOrder.prime(order.id, children.lines);
      if (children.shipments) ctx.loaders.shipmentsOfOrder.prime(order.id, children.shipments);
      if (children.cases) ctx.loaders.casesOfOrder.prime(order.id, children.cases);
    };
    const rows = await store.listOrders(merchantId, { filter: args.filter, sort, limit, after: args.after }, { wanted, found });
    return {
      ...toConnection(rows, limit, (row) => orderCursor(sort, row), !!args.after),
      totalCount: () => store.countOrders(merchantId, args.filter),
    };
  }

  async function caseConnection(merchantId: string, args: CaseListArgs) {
    const sort = args.sort ?? 'CREATED_AT_DESC';
    const limit = pageSize(args.first);
    const rows = await afterSales.listCases(merchantId, { filter: args.filter, sort, limit, after: args.after });
    return {
      ...toConnection(rows, limit, (row) => caseCursor(sort, row), !!args.after),
      totalCount: () => afterSales.countCases(merchantId, args.filter),
    };
  }

  /** An order line by its order and id, through the order's lines loader. */
  async function orderLine(ctx: Context, orderId: string, lineId: string) {
    const lines = await ctx.loaders.linesOfOrder.load(orderId);
    return lines.find((l) => l.id === lineId)!;
  }

  const shipmentPayload = (result: { shipment: ShipmentRow; order: OrderRow }) => result;
  const casePayload = (result: { afterSale: AfterSaleCaseRow; order: OrderRow }) => ({ afterSaleCase: result.afterSale, order: result.order });
  const orderOf = (row: { orderId: string }, ctx: Context) => ctx.loaders.order.load(row.orderId).then((order) => order ?? Promise.reject(notFound('Order', row.orderId)));

  return {
    ...scalarResolvers,
    Query: {
      order: async (_: unknown, args: { id: string }, ctx: Context) => {
        requireMerchant(ctx.caller);
        return (await ctx.loaders.order.load(args.id)) ?? Promise.reject(notFound('Order', args.id));
      },
      orders: (_: unknown, args: ListArgs, ctx: Context, info: SelectionInfo) => orderConnection(requireMerchant(ctx.caller), args, ctx, info),
      shipment: async (_: unknown, args: { id: string }, ctx: Context) => {
        requireMerchant(ctx.caller);
        return (await ctx.loaders.shipment.load(args.id)) ?? Promise.reject(notFound('Shipment', args.id));
      },
      afterSaleCase: async (_: unknown, args: { id: string }, ctx: Context) => {
        requireMerchant(ctx.caller);
        return (await ctx.loaders.afterSaleCase.load(args.id)) ?? Promise.reject(notFound('AfterSaleCase', args.id));
      },
      afterSaleCases: (_: unknown, args: CaseListArgs, ctx: Context) => caseConnection(requireMerchant(ctx.caller), args),
    },
    Mutation: {
      shipOrder: async (_: unknown, { input }: { input: { orderId: string; carrier: string; trackingNumber: string } }, ctx: Context) => {
        const merchantId = requireMerchant(ctx.caller);
        // Everything not shipped yet, in one shipment.
        const { order } = await shipments.createShipment(merchantId, { orderId: input.orderId, carrier: input.carrier, trackingNumber: input.trackingNumber });
        checkout.settle(merchantId, ctx.contextToken);
        return { order };
      },
      createShipment: async (_: unknown, { input }: { input: ShipmentInput & { idempotencyKey: string } }, ctx: Context) => {
        const merchantId = requireMerchant(ctx.caller);
        const result = await shipments.createShipment(merchantId, input);
        checkout.settle(merchantId, ctx.contextToken);
        return shipmentPayload(result);
      },
      addShipmentTracking: async (_: unknown, { input }: { input: TrackingInput }, ctx: Context) => shipmentPayload(await shipments.addTracking(requireMerchant(ctx.caller), input)),
      confirmShipmentDelivered: async (_: unknown, { input }: { input: { shipmentId: string; occurredAt?: Date | null } }, ctx: Context) =>
        shipmentPayload(await shipments.addTracking(requireMerchant(ctx.caller), { shipmentId: input.shipmentId, status: 'DELIVERED', occurredAt: input.occurredAt ?? null, description: 'Delivery confirmed by the merchant' })),
      openAfterSale: async (_: unknown, { input }: { input: OpenCaseInput }, ctx: Context) => casePayload(await afterSales.openCase(requireMerchant(ctx.caller), input)),
      approveAfterSale: async (_: unknown, { input }: { input: { caseId: string; amount?: number | null; requireReturn?: boolean | null; idempotencyKey: string } }, ctx: Context) => {
        const merchantId = requireMerchant(ctx.caller);
        const result = await afterSales.approveCase(merchantId, input);
        // A refund that settles unshipped units puts them back on sale (owed in its transaction).
        await checkout.giveBackOwedStock(merchantId, ctx.contextToken);
        return casePayload(result);
      },
      rejectAfterSale: async (_: unknown, { input }: { input: { caseId: string; reason: string } }, ctx: Context) => casePayload(await afterSales.rejectCase(requireMerchant(ctx.caller), input)),
      shipAfterSaleReturn: async (_: unknown, { input }: { input: { caseId: string; carrier: string; trackingNumber: string } }, ctx: Context) =>
        casePayload(await afterSales.shipReturn(requireMerchant(ctx.caller), input)),
      receiveAfterSaleReturn: async (_: unknown, { input }: { input: { caseId: string; idempotencyKey: string } }, ctx: Context) => {
        const merchantId = requireMerchant(ctx.caller);
        const result = await afterSales.receiveReturn(merchantId, input);
        // Answered once the stock is back on sale (or kept owed, and retried in the background).
        await checkout.giveBackOwedStock(merchantId, ctx.contextToken);
        return casePayload(result);
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
      shipment: async (order: OrderRow, _: unknown, ctx: Context) => (await ctx.loaders.shipmentsOfOrder.load(order.id))[0] ?? null,
      shipments: (order: OrderRow, _: unknown, ctx: Context) => ctx.loaders.shipmentsOfOrder.load(order.id),
      paid: (order: OrderRow) => money(order.paidAmount, order.currency),
      refunded: (order: OrderRow) => money(order.refundedAmount, order.currency),
      // An order has few cases: all of them come in one batched query, and the page is cut here.
      afterSaleCases: async (order: OrderRow, args: { filter?: CaseFilter | null; first?: number | null; after?: string | null }, ctx: Context) => {
        const limit = pageSize(args.first);
        const matching = (await ctx.loaders.casesOfOrder.load(order.id)).filter((row) => caseMatches(row, args.filter));
        const rows = casesAfter(matching, 'CREATED_AT_DESC', args.after).slice(0, limit + 1);
        return { ...toConnection(rows, limit, (row) => caseCursor('CREATED_AT_DESC', row), !!args.after), totalCount: matching.length };
      },
      statusHistory: (order: OrderRow, _: unknown, ctx: Context) => ctx.loaders.historyOfOrder.load(order.id),
    },
    OrderLine: {
      sku: (line: OrderLineRow) => ({ id: line.skuId }),
      product: (line: OrderLineRow) => ({ id: line.productId }),
      unitPrice: (line: OrderLineRow) => money(line.unitPriceAmount, line.currency),
      total: (line: OrderLineRow) => money(line.totalAmount, line.currency),
      refunded: (line: OrderLineRow) => money(line.refundedAmount, line.currency),
    },
    Shipment: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.shipment.load(ref.id),
      order: (shipment: ShipmentRow, _: unknown, ctx: Context) => orderOf(shipment, ctx),
      lines: async (shipment: ShipmentRow, _: unknown, ctx: Context): Promise<LineOf<ShipmentLineRow>[]> =>
        (await ctx.loaders.linesOfShipment.load(shipment.id)).map((line) => ({ ...line, orderId: shipment.orderId })),
      tracking: (shipment: ShipmentRow, _: unknown, ctx: Context) => ctx.loaders.trackingOfShipment.load(shipment.id),
    },
    ShipmentLine: {
      line: (line: LineOf<ShipmentLineRow>, _: unknown, ctx: Context) => orderLine(ctx, line.orderId, line.orderLineId),
    },
    TrackingEvent: {
      occurredAt: (event: TrackingEventRow) => event.occurredAt,
    },
    AfterSaleCase: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.afterSaleCase.load(ref.id),
      order: (row: AfterSaleCaseRow, _: unknown, ctx: Context) => orderOf(row, ctx),
      requested: (row: AfterSaleCaseRow) => money(row.requestedAmount, row.currency),
      approved: (row: AfterSaleCaseRow) => (row.approvedAmount === null ? null : money(row.approvedAmount, row.currency)),
      refunded: (row: AfterSaleCaseRow) => money(row.refundedAmount, row.currency),
      lines: async (row: AfterSaleCaseRow, _: unknown, ctx: Context): Promise<LineOf<AfterSaleCaseLineRow>[]> =>
        (await ctx.loaders.linesOfCase.load(row.id)).map((line) => ({ ...line, orderId: row.orderId })),
      returnShipment: (row: AfterSaleCaseRow, _: unknown, ctx: Context) => ctx.loaders.returnOfCase.load(row.id),
    },
    AfterSaleCaseLine: {
      line: (line: LineOf<AfterSaleCaseLineRow>, _: unknown, ctx: Context) => orderLine(ctx, line.orderId, line.orderLineId),
    },
    OrderStatusChange: {
      from: (change: OrderStatusChangeRow) => change.fromStatus,
      to: (change: OrderStatusChangeRow) => change.toStatus,
      at: (change: OrderStatusChangeRow) => change.occurredAt,
    },
    Merchant: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      orders: (merchant: { id: string }, args: ListArgs, ctx: Context, info: SelectionInfo) => {
        // Only the caller's own merchant has an order list here; any other id resolves to nothing.
        if (merchant.id !== requireMerchant(ctx.caller)) throw notFound('Merchant', merchant.id);
        return orderConnection(merchant.id, args, ctx, info);
      },
    },
  };
}
