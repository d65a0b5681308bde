/**
 * Per-operation DataLoaders of the order subgraph: one query per kind of lookup per request, shared
 * by the operations of a request that carries several callers' (see core/shared-lookups.ts).
 */
import type DataLoader from 'dataloader';
import type { Caller } from '../../core/caller.js';
import { allRows, firstRow, rowMerchant as merchantOf, type RequestLookups } from '../../core/shared-lookups.js';
import type { OrderStore } from './store.js';
import type { OrderLineRow, OrderRow, OrderStatusChangeRow } from './tables.js';

const ofOrder = (row: { orderId: string }) => row.orderId;

export function createOrderLoaders(store: OrderStore, caller: Caller, lookups: RequestLookups) {
  // No merchant: every lookup finds nothing (app-level tokens read no merchant data).
  const merchantId = caller.merchantId;
  return {
    order: lookups.merchantLoader<OrderRow, OrderRow | null>('order.orders', merchantId, { one: store.ordersByIds, pairs: store.ordersByPairs, merchantOf, idOf: (r) => r.id }, firstRow),
    linesOfOrder: lookups.merchantLoader<OrderLineRow, OrderLineRow[]>('order.lines', merchantId, { one: store.linesByOrderIds, pairs: store.linesByPairs, merchantOf, idOf: ofOrder }, allRows),
    historyOfOrder: lookups.merchantLoader<OrderStatusChangeRow, OrderStatusChangeRow[]>('order.history', merchantId, { one: store.historyByOrderIds, pairs: store.historyByPairs, merchantOf, idOf: ofOrder }, allRows),
  } satisfies Record<string, DataLoader<string, unknown>>;
}

export type OrderLoaders = ReturnType<typeof createOrderLoaders>;
