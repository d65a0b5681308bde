/** Per-request DataLoaders of the product subgraph: one query per kind of lookup per request. */
import DataLoader from 'dataloader';
import type { Caller } from '../../core/caller.js';
import type { ProductStore } from './store.js';
import type { ProductRow, SkuRow } from './tables.js';

export function createProductLoaders(store: ProductStore, caller: Caller) {
  // No merchant: every lookup finds nothing (app-level tokens read no merchant data).
  const merchantId = caller.merchantId;
  return {
    product: new DataLoader<string, ProductRow | null>(async (ids) => {
      if (!merchantId) return ids.map(() => null);
      const rows = await store.productsByIds(merchantId, ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
    sku: new DataLoader<string, SkuRow | null>(async (ids) => {
      if (!merchantId) return ids.map(() => null);
      const rows = await store.skusByIds(merchantId, ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
    skusOfProduct: new DataLoader<string, SkuRow[]>(async (productIds) => {
      if (!merchantId) return productIds.map(() => []);
      const rows = await store.skusByProductIds(merchantId, productIds);
      const byProduct = new Map<string, SkuRow[]>();
      for (const row of rows) byProduct.set(row.productId, [...(byProduct.get(row.productId) ?? []), row]);
      return productIds.map((id) => byProduct.get(id) ?? []);
    }),
  };
}

export type ProductLoaders = ReturnType<typeof createProductLoaders>;
