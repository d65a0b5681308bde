/** Per-request DataLoaders of the order subgraph: one query per kind of lookup per request. */
import DataLoader from 'dataloader';
import type { Caller } from '../../core/caller.js';
import type { OrderStore } from './store.js';
import type { OrderLineRow, OrderRow, OrderStatusChangeRow } from './tables.js';

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

export function createOrderLoaders(store: OrderStore, caller: Caller) {
  // No merchant: every lookup finds nothing (app-level tokens read no merchant data).
  const merchantId = caller.merchantId;
  return {
    order: new DataLoader<string, OrderRow | null>(async (ids) => {
      if (!merchantId) return ids.map(() => null);
      const byId = new Map((await store.ordersByIds(merchantId, ids)).map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
    linesOfOrder: new DataLoader<string, OrderLineRow[]>(async (orderIds) => {
      if (!merchantId) return orderIds.map(() => []);
      const groups = groupBy(await store.linesByOrderIds(merchantId, orderIds), (l) => l.orderId);
      return orderIds.map((id) => groups.get(id) ?? []);
    }),
    historyOfOrder: new DataLoader<string, OrderStatusChangeRow[]>(async (orderIds) => {
      if (!merchantId) return orderIds.map(() => []);
      const groups = groupBy(await store.historyByOrderIds(merchantId, orderIds), (h) => h.orderId);
      return orderIds.map((id) => groups.get(id) ?? []);
    }),
  };
}

export type OrderLoaders = ReturnType<typeof createOrderLoaders>;
