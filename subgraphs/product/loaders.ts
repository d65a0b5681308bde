/**
 * Per-operation DataLoaders of the product subgraph: one query per kind of lookup per request,
 * shared by the operations of a request that carries several callers' (see core/shared-lookups.ts).
 */
import type DataLoader from 'dataloader';
import type { Caller } from '../../core/caller.js';
import { allRows, firstRow, rowMerchant as merchantOf, type RequestLookups } from '../../core/shared-lookups.js';
import type { ProductStore } from './store.js';
import type { ProductRow, SkuRow } from './tables.js';

export function createProductLoaders(store: ProductStore, caller: Caller, lookups: RequestLookups) {
  // No merchant: every lookup finds nothing (app-level tokens read no merchant data).
  const merchantId = caller.merchantId;
  return {
    product: lookups.merchantLoader<ProductRow, ProductRow | null>('product.products', merchantId, { one: store.productsByIds, pairs: store.productsByPairs, merchantOf, idOf: (r) => r.id }, firstRow),
    sku: lookups.merchantLoader<SkuRow, SkuRow | null>('product.skus', merchantId, { one: store.skusByIds, pairs: store.skusByPairs, merchantOf, idOf: (r) => r.id }, firstRow),
    skusOfProduct: lookups.merchantLoader<SkuRow, SkuRow[]>('product.skusOfProducts', merchantId, { one: store.skusByProductIds, pairs: store.skusOfProductsByPairs, merchantOf, idOf: (r) => r.productId }, allRows),
  } satisfies Record<string, DataLoader<string, unknown>>;
}

export type ProductLoaders = ReturnType<typeof createProductLoaders>;
