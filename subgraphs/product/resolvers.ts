/** Resolvers of the product subgraph: thin, they check the caller and call the store or a loader. */
import { notFound } from '../../core/errors.js';
import { pageSize, toConnection } from '../../core/pagination.js';
import { scalarResolvers } from '../../core/scalars.js';
import { requireMerchant, type SubgraphContext } from '../../core/subgraph.js';
import type { ProductLoaders } from './loaders.js';
import { productCursor, type ProductFilter, type ProductSort, type ProductStatus, type ProductStore, type SkuInput } from './store.js';
import type { ProductRow, SkuRow } from './tables.js';

type Context = SubgraphContext<ProductLoaders>;
interface ListArgs {
  filter?: ProductFilter | null;
  sort?: ProductSort | null;
  first?: number | null;
  after?: string | null;
}

export function createProductResolvers(store: ProductStore) {
  async function productConnection(merchantId: string, args: ListArgs) {
    const sort = args.sort ?? 'CREATED_AT_DESC';
    const limit = pageSize(args.first);
    const rows = await store.listProducts(merchantId, { filter: args.filter, sort, limit, after: args.after });
    return {
      ...toConnection(rows, limit, (row) => productCursor(sort, row), !!args.after),
      totalCount: () => store.countProducts(merchantId, args.filter),
    };
  }

  return {
    ...scalarResolvers,
    Query: {
      product: async (_: unknown, args: { id: string }, ctx: Context) => {
        requireMerchant(ctx.caller);
        return (await ctx.loaders.product.load(args.id)) ?? Promise.reject(notFound('Product', args.id));
      },
      sku: async (_: unknown, args: { id: string }, ctx: Context) => {
        requireMerchant(ctx.caller);
        return (await ctx.loaders.sku.load(args.id)) ?? Promise.reject(notFound('SKU', args.id));
      },
      products: (_: unknown, args: ListArgs, ctx: Context) => productConnection(requireMerchant(ctx.caller), args),
    },
    Mutation: {
      createProduct: async (_: unknown, { input }: { input: { title: string; description?: string | null; category?: string | null; skus: SkuInput[] } }, ctx: Context) => ({
        product: await store.createProduct(requireMerchant(ctx.caller), input),
      }),
      updateProduct: async (_: unknown, { input }: { input: Parameters<ProductStore['updateProduct']>[1] }, ctx: Context) => ({
        product: await store.updateProduct(requireMerchant(ctx.caller), input),
      }),
      changeProductStatus: async (_: unknown, { input }: { input: { id: string; status: ProductStatus } }, ctx: Context) => ({
        product: await store.changeStatus(requireMerchant(ctx.caller), input),
      }),
      setStock: async (_: unknown, { input }: { input: { skuId: string; stock: number } }, ctx: Context) => ({
        ...(await store.setStock(requireMerchant(ctx.caller), input)),
        replayed: false,
      }),
      adjustStock: async (_: unknown, { input }: { input: Parameters<ProductStore['adjustStock']>[1] }, ctx: Context) =>
        store.adjustStock(requireMerchant(ctx.caller), input),
      reserveStock: async (_: unknown, { input }: { input: { reservationKey: string; lines: { skuId: string; quantity: number }[] } }, ctx: Context) =>
        store.reserveStock(requireMerchant(ctx.caller), input.reservationKey, input.lines),
      releaseStock: async (_: unknown, args: { reservationKey: string }, ctx: Context) => store.releaseStock(requireMerchant(ctx.caller), args.reservationKey),
      returnStock: async (_: unknown, { input }: { input: { returnKey: string; lines: { skuId: string; quantity: number }[] } }, ctx: Context) =>
        store.returnStock(requireMerchant(ctx.caller), input.returnKey, input.lines),
    },
    Product: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.product.load(ref.id),
      skus: (product: ProductRow, _: unknown, ctx: Context) => ctx.loaders.skusOfProduct.load(product.id),
      merchant: (product: ProductRow) => ({ id: product.merchantId }),
    },
    Sku: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.sku.load(ref.id),
      price: (sku: SkuRow) => ({ amount: sku.priceAmount, currency: sku.currency }),
      product: async (sku: SkuRow, _: unknown, ctx: Context) => ctx.loaders.product.load(sku.productId),
    },
    Merchant: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      products: (merchant: { id: string }, args: ListArgs, ctx: Context) => {
        // Only the caller's own merchant has a product list here; any other id resolves to nothing.
        if (merchant.id !== requireMerchant(ctx.caller)) throw notFound('Merchant', merchant.id);
        return productConnection(merchant.id, args);
      },
    },
  };
}
