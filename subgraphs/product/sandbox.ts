/**
 * A developer's sandbox catalog (app-management asks, as the system, when it provisions or resets an
 * app's sandbox merchant): the merchant's products, SKUs and stock are replaced by a generated set,
 * the same for the same seed, written in bulk in one transaction with their product.created events.
 */
import crypto from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { deleteMerchantRows } from '../../core/merchant-data.js';
import type { Db } from '../../core/db.js';
import { forbidden } from '../../core/errors.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import { recordEvents } from '../../messages/outbox.js';
import { productEvent } from './events.js';
import { outboxEvents, products, skus, type ProductRow, type SkuRow } from './tables.js';

const NAMESPACE = 'c1f4a7e2-3b8d-4f60-9e2a-7d5c1b0e8f94';
const PRODUCTS = 12;
const CATALOG = [
  { category: 'Apparel', nouns: ['Cotton Tee', 'Rain Jacket', 'Wool Sweater'], sizes: ['S', 'M', 'L'] },
  { category: 'Kitchen', nouns: ['Chef Knife', 'Tea Kettle', 'Cast Iron Pan'], sizes: [''] },
  { category: 'Electronics', nouns: ['Power Bank', 'USB-C Hub', 'Desk Lamp'], sizes: [''] },
  { category: 'Outdoor', nouns: ['Daypack', 'Water Bottle', 'Trekking Poles'], sizes: [''] },
];
const ADJECTIVES = ['Classic', 'Everyday', 'Premium', 'Travel', 'Compact', 'Urban'];
const COLORS = ['Black', 'Navy', 'Olive', 'Sand'];

export interface SandboxSku {
  id: string;
  productId: string;
  productTitle: string;
  code: string;
  priceAmount: number;
  currency: string;
}

/** A small deterministic generator: the numbers of the seed's SHA-256 chain. */
export function seededNumbers(seed: string) {
  let block = crypto.createHash('sha256').update(seed).digest();
  let offset = 0;
  const next = () => {
    if (offset + 4 > block.length) {
      block = crypto.createHash('sha256').update(block).digest();
      offset = 0;
    }
    const n = block.readUInt32BE(offset) / 2 ** 32;
    offset += 4;
    return n;
  };
  return { int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)), pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]! };
}

/** The catalog of a seed: 12 products (two not on the shelf), 1 to 6 SKUs each, prices in USD, stock 0 to 200. */
export function planSandboxCatalog(merchantId: string, seed: string, now: Date) {
  const rng = seededNumbers(`catalog:${seed}`);
  const productRows: ProductRow[] = [];
  const skuRows: SkuRow[] = [];
  for (let p = 0; p < PRODUCTS; p++) {
    const kind = CATALOG[p % CATALOG.length]!;
    const title = `${rng.pick(ADJECTIVES)} ${rng.pick(kind.nouns)}`;
    const status: ProductRow['status'] = p === PRODUCTS - 2 ? 'DRAFT' : p === PRODUCTS - 1 ? 'OFF_SHELF' : 'ON_SHELF';
    const createdAt = new Date(now.getTime() - (PRODUCTS - p) * 86_400_000);
    const product: ProductRow = { id: uuidv5(`${merchantId}:product:${p}`, NAMESPACE), merchantId, title, description: `${title}, a sandbox product.`, category: kind.category, status, createdAt, updatedAt: createdAt };
    const basePrice = rng.int(5, 200) * 100 - 1;
    const colors = COLORS.slice(0, rng.int(1, 2));
    const variants = colors.flatMap((color, c) => kind.sizes.map((size) => ({ color, size, c })));
    variants.forEach(({ color, size, c }, position) => {
      skuRows.push({
        id: uuidv5(`${merchantId}:sku:${p}:${position}`, NAMESPACE),
        productId: product.id,
        merchantId,
        code: `SBX-${String(p + 1).padStart(3, '0')}-${c + 1}${size}`,
        attributes: [{ name: 'color', value: color }, ...(size ? [{ name: 'size', value: size }] : [])],
        priceAmount: basePrice + c * 500,
        currency: 'USD',
        stock: rng.int(0, 200),
        position,
        createdAt,
        updatedAt: createdAt,
      });
    });
    productRows.push(product);
  }
  return { products: productRows, skus: skuRows };
}

export function createSandboxCatalog(db: Db) {
  return {
    /** Replaces the merchant's catalog; answers the SKUs of products on the shelf (what orders can hold). */
    async provisionSandboxCatalog(merchantId: string, seed: string, now = new Date()): Promise<SandboxSku[]> {
      const merchant = v.id(merchantId, 'merchantId');
      const plan = planSandboxCatalog(merchant, seed, now);
      await db.transaction(async (tx) => {
        await deleteMerchantRows(tx, 'product', merchant);
        await tx.insert(products).values(plan.products);
        await tx.insert(skus).values(plan.skus);
        await recordEvents(
          tx,
          outboxEvents,
          plan.products.map((p) => productEvent('product.created', p, plan.skus.filter((s) => s.productId === p.id), p.createdAt)),
        );
      });
      const onShelf = new Map(plan.products.filter((p) => p.status === 'ON_SHELF').map((p) => [p.id, p]));
      return plan.skus
        .filter((s) => onShelf.has(s.productId))
        .map((s) => ({ id: s.id, productId: s.productId, productTitle: onShelf.get(s.productId)!.title, code: s.code, priceAmount: s.priceAmount, currency: s.currency }));
    },
  };
}

export function createSandboxCatalogResolvers(catalog: ReturnType<typeof createSandboxCatalog>) {
  return {
    Mutation: {
      provisionSandboxCatalog: (_: unknown, args: { merchantId: string; seed: string }, ctx: SubgraphContext<unknown>) => {
        if (ctx.caller.kind !== 'system') throw forbidden('Internal');
        return catalog.provisionSandboxCatalog(args.merchantId, args.seed);
      },
    },
  };
}

/** The product resolvers with the sandbox's internal mutation added (one line in service.ts). */
export function withSandboxCatalog<R extends { Mutation: object }>(resolvers: R, db: Db): R {
  return { ...resolvers, Mutation: { ...resolvers.Mutation, ...createSandboxCatalogResolvers(createSandboxCatalog(db)).Mutation } };
}
