/**
 * Queries and changes of the product subgraph. Every function takes the merchant the caller acts for
 * and filters by it: another merchant's rows are never read or changed (object-level isolation).
 */
import crypto from 'node:crypto';
import { and, asc, count, eq, gte, ilike, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { isCheckViolation, isUniqueViolation, merchantPairsIn, uuidIn, type Db, type Executor } from '../../core/db.js';
import type { MerchantPairs } from '../../core/shared-lookups.js';
import { badInput, conflict, notFound } from '../../core/errors.js';
import { recordEvents } from '../../messages/outbox.js';
import { timeCursor, timeKeyset, type TimeSort } from '../../core/pagination.js';
import * as v from '../../core/validate.js';
import { productEvent, stockChanged } from './events.js';
import { outboxEvents, products, skus, stockAdjustments, stockReservations, type ProductRow, type SkuAttribute, type SkuRow } from './tables.js';

export type ProductStatus = ProductRow['status'];
export type ProductSort = 'CREATED_AT_DESC' | 'CREATED_AT_ASC' | 'UPDATED_AT_ASC';

export interface ProductFilter {
  status?: ProductStatus[] | null;
  category?: string | null;
  search?: string | null;
  updatedSince?: Date | null;
}

export interface SkuInput {
  code: string;
  attributes?: SkuAttribute[] | null;
  price: { amount: number; currency: string };
  stock?: number | null;
}

export interface CreateProductInput {
  title: string;
  description?: string | null;
  category?: string | null;
  skus: SkuInput[];
  /** Seeding only: a fixed id and creation time for the deterministic demo. */
  id?: string;
  status?: ProductStatus;
  createdAt?: Date;
}

const STATUS_TRANSITIONS: Record<ProductStatus, ProductStatus[]> = {
  DRAFT: ['ON_SHELF'],
  ON_SHELF: ['OFF_SHELF'],
  OFF_SHELF: ['ON_SHELF'],
};

const MAX_STOCK = 1_000_000_000;

const sortSpec: Record<ProductSort, TimeSort<ProductRow>> = {
  CREATED_AT_DESC: { column: products.createdAt, direction: 'desc', valueOf: (row) => row.createdAt },
  CREATED_AT_ASC: { column: products.createdAt, direction: 'asc', valueOf: (row) => row.createdAt },
  UPDATED_AT_ASC: { column: products.updatedAt, direction: 'asc', valueOf: (row) => row.updatedAt },
};

export function productCursor(sort: ProductSort, row: ProductRow): string {
  return timeCursor(sortSpec[sort], sort, row);
}

function filterConditions(merchantId: string, filter: ProductFilter | null | undefined): SQL[] {
  const conditions: SQL[] = [eq(products.merchantId, merchantId)];
  if (filter?.status?.length) conditions.push(inArray(products.status, filter.status));
  if (filter?.category) conditions.push(eq(products.category, filter.category));
  if (filter?.search) {
    const escaped = v.text(filter.search, 'filter.search', { max: 100 }).replace(/[\\%_]/g, (c) => `\\${c}`);
    conditions.push(ilike(products.title, `%${escaped}%`));
  }
  if (filter?.updatedSince) conditions.push(gte(products.updatedAt, filter.updatedSince));
  return conditions;
}

function validateSkus(inputs: SkuInput[]) {
  if (inputs.length < 1 || inputs.length > 100) throw badInput('A product needs 1 to 100 SKUs', 'skus');
  const codes = new Set<string>();
  return inputs.map((input, i) => {
    const code = v.text(input.code, `skus[${i}].code`, { max: 64 });
    if (codes.has(code)) throw badInput(`SKU code ${code} appears twice`, `skus[${i}].code`);
    codes.add(code);
    const attributes = (input.attributes ?? []).map((a, j) => ({
      name: v.text(a.name, `skus[${i}].attributes[${j}].name`, { max: 100 }),
      value: v.text(a.value, `skus[${i}].attributes[${j}].value`, { max: 200 }),
    }));
    if (attributes.length > 30) throw badInput('A SKU has at most 30 attributes', `skus[${i}].attributes`);
    return {
      code,
      attributes,
      priceAmount: v.intInRange(input.price.amount, `skus[${i}].price.amount`, 0, Number.MAX_SAFE_INTEGER),
      currency: v.currency(input.price.currency, `skus[${i}].price.currency`),
      stock: v.intInRange(input.stock ?? 0, `skus[${i}].stock`, 0, MAX_STOCK),
      position: i,
    };
  });
}

export function createProductStore(db: Db) {
  const byIds = {
    products: db.select().from(products).where(and(eq(products.merchantId, sql.placeholder('merchantId')), uuidIn(products.id, 'ids'))).prepare('product_products_by_ids'),
    skus: db.select().from(skus).where(and(eq(skus.merchantId, sql.placeholder('merchantId')), uuidIn(skus.id, 'ids'))).prepare('product_skus_by_ids'),
    skusOfProducts: db
      .select()
      .from(skus)
      .where(and(eq(skus.merchantId, sql.placeholder('merchantId')), uuidIn(skus.productId, 'ids')))
      .orderBy(asc(skus.productId), asc(skus.position))
      .prepare('product_skus_by_product_ids'),
  };
  // The same lookups for (merchant, id) pairs of several merchants: the operations of a context batch (core/shared-lookups.ts).
  const byPairs = {
    products: db.select().from(products).where(merchantPairsIn(products.merchantId, products.id)).prepare('product_products_by_pairs'),
    skus: db.select().from(skus).where(merchantPairsIn(skus.merchantId, skus.id)).prepare('product_skus_by_pairs'),
    skusOfProducts: db.select().from(skus).where(merchantPairsIn(skus.merchantId, skus.productId)).orderBy(asc(skus.productId), asc(skus.position)).prepare('product_skus_by_product_pairs'),
  };
  async function lockSku(tx: Executor, merchantId: string, skuId: string): Promise<SkuRow> {
    const [sku] = await tx
      .select()
      .from(skus)
      .where(and(eq(skus.merchantId, merchantId), eq(skus.id, skuId)))
      .for('update');
    if (!sku) throw notFound('SKU', skuId);
    return sku;
  }

  async function lockProduct(tx: Executor, merchantId: string, productId: string): Promise<ProductRow> {
    const [product] = await tx
      .select()
      .from(products)
      .where(and(eq(products.merchantId, merchantId), eq(products.id, productId)))
      .for('update');
    if (!product) throw notFound('Product', productId);
    return product;
  }

  return {
    async productsByIds(merchantId: string, ids: readonly string[]): Promise<ProductRow[]> {
      const wellFormed = ids.filter(v.isWellFormedId);
      if (!wellFormed.length) return [];
      return byIds.products.execute({ merchantId, ids: wellFormed });
    },

    async skusByIds(merchantId: string, ids: readonly string[]): Promise<SkuRow[]> {
      const wellFormed = ids.filter(v.isWellFormedId);
      if (!wellFormed.length) return [];
      return byIds.skus.execute({ merchantId, ids: wellFormed });
    },

    async skusByProductIds(merchantId: string, productIds: readonly string[]): Promise<SkuRow[]> {
      const wellFormed = productIds.filter(v.isWellFormedId);
      if (!wellFormed.length) return [];
      return byIds.skusOfProducts.execute({ merchantId, ids: wellFormed });
    },

    /** Products by (merchant, id) pairs of well-formed ids (see core/shared-lookups.ts). */
    productsByPairs: (pairs: MerchantPairs): Promise<ProductRow[]> => byPairs.products.execute(pairs),
    /** SKUs by (merchant, id) pairs. */
    skusByPairs: (pairs: MerchantPairs): Promise<SkuRow[]> => byPairs.skus.execute(pairs),
    /** SKUs of products by (merchant, product id) pairs. */
    skusOfProductsByPairs: (pairs: MerchantPairs): Promise<SkuRow[]> => byPairs.skusOfProducts.execute(pairs),

    /** Fetches `limit + 1` rows after the cursor so the caller knows whether another page exists. */
    async listProducts(
      merchantId: string,
      args: { filter?: ProductFilter | null; sort: ProductSort; limit: number; after?: string | null },
    ): Promise<ProductRow[]> {
      const page = timeKeyset(sortSpec[args.sort], products.id, args.sort, args.after);
      const conditions = filterConditions(merchantId, args.filter);
      if (page.after) conditions.push(page.after);
      return db
        .select()
        .from(products)
        .where(and(...conditions))
        .orderBy(...page.orderBy)
        .limit(args.limit + 1);
    },

    async countProducts(merchantId: string, filter?: ProductFilter | null): Promise<number> {
      const [row] = await db
        .select({ n: count() })
        .from(products)
        .where(and(...filterConditions(merchantId, filter)));
      return row?.n ?? 0;
    },

    async createProduct(merchantId: string, input: CreateProductInput): Promise<ProductRow> {
      const title = v.text(input.title, 'title', { max: 200 });
      const description = v.optionalText(input.description, 'description', 10_000);
      const category = v.optionalText(input.category, 'category', 100);
      const skuValues = validateSkus(input.skus);
      const now = input.createdAt ?? new Date();
      const productId = input.id ?? crypto.randomUUID();
      try {
        return await db.transaction(async (tx) => {
          const [product] = await tx
            .insert(products)
            .values({ id: productId, merchantId, title, description, category, status: input.status ?? 'DRAFT', createdAt: now, updatedAt: now })
            .returning();
          const skuRows = await tx
            .insert(skus)
            .values(skuValues.map((s) => ({ ...s, id: crypto.randomUUID(), productId, merchantId, createdAt: now, updatedAt: now })))
            .returning();
          await recordEvents(tx, outboxEvents, [productEvent('product.created', product!, skuRows, now)]);
          return product!;
        });
      } catch (error) {
        if (isUniqueViolation(error, 'skus_merchant_code_key')) throw conflict('A SKU with one of these codes already exists', { field: 'skus' });
        throw error;
      }
    },

    async updateProduct(
      merchantId: string,
      input: { id: string; title?: string | null; description?: string | null; category?: string | null; expectedUpdatedAt?: Date | null },
    ): Promise<ProductRow> {
      const id = v.id(input.id, 'id');
      const changes: Partial<Pick<ProductRow, 'title' | 'description' | 'category'>> = {};
      if (input.title !== undefined) {
        if (input.title === null) throw badInput('title cannot be removed', 'title');
        changes.title = v.text(input.title, 'title', { max: 200 });
      }
      if (input.description !== undefined) changes.description = v.optionalText(input.description, 'description', 10_000);
      if (input.category !== undefined) changes.category = v.optionalText(input.category, 'category', 100);
      if (Object.keys(changes).length === 0) throw badInput('Nothing to change: pass title, description or category', 'input');
      return db.transaction(async (tx) => {
        const current = await lockProduct(tx, merchantId, id);
        if (input.expectedUpdatedAt && current.updatedAt.getTime() !== input.expectedUpdatedAt.getTime()) {
          throw conflict('The product was changed by someone else since expectedUpdatedAt', { updatedAt: current.updatedAt.toISOString() });
        }
        const now = new Date();
        const [updated] = await tx
          .update(products)
          .set({ ...changes, updatedAt: now })
          .where(and(eq(products.merchantId, merchantId), eq(products.id, id)))
          .returning();
        await recordEvents(tx, outboxEvents, [productEvent('product.updated', updated!, undefined, now, { changed: Object.keys(changes) })]);
        return updated!;
      });
    },

    async changeStatus(merchantId: string, input: { id: string; status: ProductStatus }): Promise<ProductRow> {
      const id = v.id(input.id, 'id');
      return db.transaction(async (tx) => {
        const current = await lockProduct(tx, merchantId, id);
        if (current.status === input.status) return current;
        if (!STATUS_TRANSITIONS[current.status].includes(input.status)) {
          throw badInput(`A ${current.status} product cannot become ${input.status}`, 'status');
        }
        if (input.status === 'ON_SHELF') {
          const [row] = await tx.select({ n: count() }).from(skus).where(eq(skus.productId, id));
          if (!row?.n) throw badInput('A product needs at least one SKU to go on the shelf', 'status');
        }
        const now = new Date();
        const [updated] = await tx
          .update(products)
          .set({ status: input.status, updatedAt: now })
          .where(and(eq(products.merchantId, merchantId), eq(products.id, id)))
          .returning();
        await recordEvents(tx, outboxEvents, [productEvent('product.status_changed', updated!, undefined, now, { previousStatus: current.status })]);
        return updated!;
      });
    },

    async setStock(merchantId: string, input: { skuId: string; stock: number }): Promise<{ sku: SkuRow; previousStock: number }> {
      const skuId = v.id(input.skuId, 'skuId');
      const stock = v.intInRange(input.stock, 'stock', 0, MAX_STOCK);
      return db.transaction(async (tx) => {
        const current = await lockSku(tx, merchantId, skuId);
        if (current.stock === stock) return { sku: current, previousStock: stock };
        const now = new Date();
        const [sku] = await tx.update(skus).set({ stock, updatedAt: now }).where(eq(skus.id, skuId)).returning();
        await recordEvents(tx, outboxEvents, [stockChanged(sku!, current.stock, 'STOCK_TAKE', null, now)]);
        return { sku: sku!, previousStock: current.stock };
      });
    },

    async adjustStock(
      merchantId: string,
      input: { skuId: string; delta: number; idempotencyKey: string; reason?: string | null },
    ): Promise<{ sku: SkuRow; previousStock: number; replayed: boolean }> {
      const skuId = v.id(input.skuId, 'skuId');
      const delta = v.intInRange(input.delta, 'delta', -MAX_STOCK, MAX_STOCK);
      if (delta === 0) throw badInput('delta must not be zero', 'delta');
      const key = v.idempotencyKey(input.idempotencyKey);
      const reason = v.optionalText(input.reason, 'reason', 500);
      const attempt = () =>
        db.transaction(async (tx) => {
          const current = await lockSku(tx, merchantId, skuId);
          // The SKU lock serializes adjustments of this SKU, so the replay check below cannot race.
          const [previous] = await tx
            .select()
            .from(stockAdjustments)
            .where(and(eq(stockAdjustments.merchantId, merchantId), eq(stockAdjustments.idempotencyKey, key)));
          if (previous) {
            if (previous.skuId !== skuId || previous.delta !== delta) {
              throw conflict('This idempotency key was already used for a different adjustment', { field: 'idempotencyKey' });
            }
            return { sku: current, previousStock: previous.stockBefore, replayed: true };
          }
          const stockAfter = current.stock + delta;
          if (stockAfter < 0) throw conflict(`Not enough stock: ${current.stock} available, ${-delta} requested`, { available: current.stock });
          if (stockAfter > MAX_STOCK) throw badInput(`Stock cannot exceed ${MAX_STOCK}`, 'delta');
          const now = new Date();
          const [sku] = await tx.update(skus).set({ stock: stockAfter, updatedAt: now }).where(eq(skus.id, skuId)).returning();
          await tx.insert(stockAdjustments).values({
            id: crypto.randomUUID(),
            merchantId,
            skuId,
            idempotencyKey: key,
            delta,
            stockBefore: current.stock,
            stockAfter,
            reason,
            createdAt: now,
          });
          await recordEvents(tx, outboxEvents, [stockChanged(sku!, current.stock, 'ADJUSTMENT', reason, now)]);
          return { sku: sku!, previousStock: current.stock, replayed: false };
        });
      try {
        return await attempt();
      } catch (error) {
        // The same key used concurrently on another SKU: the first one won; report like a replay would.
        if (isUniqueViolation(error, 'stock_adjustments_merchant_key')) return attempt();
        throw error;
      }
    },

    /**
     * Takes stock for every line or for none. Idempotent per reservation key: a repeated call while
     * the reservation is held returns its lines without taking stock again. A reservation that was
     * released (its order failed to commit, and the order service retries with the same key) is taken
     * again, with every check of a first reservation: the stock it took was given back.
     */
    async reserveStock(merchantId: string, reservationKey: string, lines: { skuId: string; quantity: number }[]) {
      const key = v.idempotencyKey(reservationKey, 'reservationKey');
      if (lines.length < 1 || lines.length > 100) throw badInput('An order has 1 to 100 lines', 'lines');
      const quantities = new Map<string, number>();
      lines.forEach((line, i) => {
        const skuId = v.id(line.skuId, `lines[${i}].skuId`);
        const quantity = v.intInRange(line.quantity, `lines[${i}].quantity`, 1, 10_000);
        quantities.set(skuId, (quantities.get(skuId) ?? 0) + quantity);
      });
      const skuIds = [...quantities.keys()].sort(); // lock in one order everywhere: no deadlocks
      try {
        return await db.transaction(async (tx) => {
          // Lock the SKUs first: a concurrent call with the same key then waits here and sees the
          // reservation the first one committed, instead of taking the stock a second time.
          const locked = await tx
            .select()
            .from(skus)
            .where(and(eq(skus.merchantId, merchantId), inArray(skus.id, skuIds)))
            .orderBy(asc(skus.id))
            .for('update');
          const existing = await tx
            .select()
            .from(stockReservations)
            .where(and(eq(stockReservations.merchantId, merchantId), eq(stockReservations.reservationKey, key)));
          if (existing.length && (existing.length !== skuIds.length || existing.some((r) => quantities.get(r.skuId) !== r.quantity))) {
            throw conflict('This reservation key was already used for different lines', { field: 'reservationKey' });
          }
          const byId = new Map(locked.map((s) => [s.id, s]));
          for (const skuId of skuIds) if (!byId.has(skuId)) throw notFound('SKU', skuId);
          const productRows = await tx
            .select()
            .from(products)
            .where(and(eq(products.merchantId, merchantId), inArray(products.id, [...new Set(locked.map((s) => s.productId))])));
          const productById = new Map(productRows.map((p) => [p.id, p]));
          // The order's money must add up before any stock is taken (one currency, a total the
          // order service holds exactly): refused here, nothing is reserved and the key stays unused.
          if (new Set(skuIds.map((id) => byId.get(id)!.currency)).size !== 1) throw badInput('All lines of an order must be in one currency', 'lines');
          if (!Number.isSafeInteger(skuIds.reduce((sum, id) => sum + byId.get(id)!.priceAmount * quantities.get(id)!, 0))) throw badInput('The order total is too large', 'lines');
          const held = existing.filter((r) => r.releasedAt === null).length;
          // releaseStock releases every row of a key at once: a key is held, released, or unused.
          if (held > 0 && held < existing.length) throw new Error(`Reservation ${key} is partly released`);
          if (held === 0) {
            const now = new Date();
            const events = [];
            for (const skuId of skuIds) {
              const sku = byId.get(skuId)!;
              const quantity = quantities.get(skuId)!;
              if (productById.get(sku.productId)?.status !== 'ON_SHELF') throw badInput(`SKU ${sku.code} is not on sale`, 'lines');
              if (sku.stock < quantity) throw conflict(`Not enough stock for SKU ${sku.code}: ${sku.stock} available`, { skuId, available: sku.stock });
              const [updated] = await tx.update(skus).set({ stock: sku.stock - quantity, updatedAt: now }).where(eq(skus.id, skuId)).returning();
              events.push(stockChanged(updated!, sku.stock, 'ORDER_RESERVATION', key, now));
            }
            if (existing.length === 0) {
              await tx.insert(stockReservations).values(skuIds.map((skuId) => ({ merchantId, reservationKey: key, skuId, quantity: quantities.get(skuId)!, createdAt: now })));
            } else {
              await tx
                .update(stockReservations)
                .set({ releasedAt: null })
                .where(and(eq(stockReservations.merchantId, merchantId), eq(stockReservations.reservationKey, key)));
            }
            await recordEvents(tx, outboxEvents, events);
          }
          return skuIds.map((skuId) => {
            const sku = byId.get(skuId)!;
            return {
              skuId,
              productId: sku.productId,
              productTitle: productById.get(sku.productId)?.title ?? '',
              skuCode: sku.code,
              unitPrice: { amount: sku.priceAmount, currency: sku.currency },
              quantity: quantities.get(skuId)!,
            };
          });
        });
      } catch (error) {
        if (isCheckViolation(error, 'skus_stock_nonnegative')) throw conflict('Not enough stock');
        throw error;
      }
    },

    /** Gives back the stock a reservation took; a second call changes nothing. Returns whether anything was released. */
    async releaseStock(merchantId: string, reservationKey: string): Promise<boolean> {
      const key = v.idempotencyKey(reservationKey, 'reservationKey');
      return db.transaction(async (tx) => {
        const open = await tx
          .select()
          .from(stockReservations)
          .where(and(eq(stockReservations.merchantId, merchantId), eq(stockReservations.reservationKey, key), isNull(stockReservations.releasedAt)))
          .orderBy(asc(stockReservations.skuId))
          .for('update');
        if (!open.length) return false;
        const now = new Date();
        const events = [];
        for (const reservation of open) {
          const [updated] = await tx
            .update(skus)
            .set({ stock: sql`${skus.stock} + ${reservation.quantity}`, updatedAt: now })
            .where(and(eq(skus.merchantId, merchantId), eq(skus.id, reservation.skuId)))
            .returning();
          events.push(stockChanged(updated!, updated!.stock - reservation.quantity, 'ORDER_RELEASE', key, now));
        }
        await tx
          .update(stockReservations)
          .set({ releasedAt: now })
          .where(and(eq(stockReservations.merchantId, merchantId), eq(stockReservations.reservationKey, key)));
        await recordEvents(tx, outboxEvents, events);
        return true;
      });
    },

    /**
     * Puts back on sale what a buyer returned (an after-sales case of the order service): added
     * once per (return key, SKU), recorded as a stock adjustment under that key, so a retried call
     * adds nothing. Returns whether anything was added.
     */
    async returnStock(merchantId: string, returnKey: string, lines: { skuId: string; quantity: number }[]): Promise<boolean> {
      const key = v.idempotencyKey(returnKey, 'returnKey');
      if (lines.length < 1 || lines.length > 100) throw badInput('A return has 1 to 100 lines', 'lines');
      const quantities = new Map<string, number>();
      lines.forEach((line, i) => {
        const skuId = v.id(line.skuId, `lines[${i}].skuId`);
        quantities.set(skuId, (quantities.get(skuId) ?? 0) + v.intInRange(line.quantity, `lines[${i}].quantity`, 1, 10_000));
      });
      const skuIds = [...quantities.keys()].sort(); // lock in one order everywhere: no deadlocks
      const keyOf = (skuId: string) => `${key}:${skuId}`;
      return db.transaction(async (tx) => {
        const locked = await tx
          .select()
          .from(skus)
          .where(and(eq(skus.merchantId, merchantId), inArray(skus.id, skuIds)))
          .orderBy(asc(skus.id))
          .for('update');
        const byId = new Map(locked.map((s) => [s.id, s]));
        for (const skuId of skuIds) if (!byId.has(skuId)) throw notFound('SKU', skuId);
        const done = new Set(
          (await tx
            .select({ key: stockAdjustments.idempotencyKey })
            .from(stockAdjustments)
            .where(and(eq(stockAdjustments.merchantId, merchantId), inArray(stockAdjustments.idempotencyKey, skuIds.map(keyOf))))).map((r) => r.key),
        );
        const now = new Date();
        const events = [];
        for (const skuId of skuIds.filter((id) => !done.has(keyOf(id)))) {
          const sku = byId.get(skuId)!;
          const quantity = quantities.get(skuId)!;
          const [updated] = await tx.update(skus).set({ stock: sku.stock + quantity, updatedAt: now }).where(eq(skus.id, skuId)).returning();
          await tx.insert(stockAdjustments).values({ id: crypto.randomUUID(), merchantId, skuId, idempotencyKey: keyOf(skuId), delta: quantity, stockBefore: sku.stock, stockAfter: sku.stock + quantity, reason: 'Returned by the buyer', createdAt: now });
          events.push(stockChanged(updated!, sku.stock, 'ORDER_RETURN', key, now));
        }
        await recordEvents(tx, outboxEvents, events);
        return events.length > 0;
      });
    },
  };
}

export type ProductStore = ReturnType<typeof createProductStore>;
