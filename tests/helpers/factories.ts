/** Small factories: merchants through the account store, catalog and orders through the public API. */
import crypto from 'node:crypto';
import { createAccountStore } from '../../subgraphs/account/store.js';
import type { TestPlatform } from './platform.js';

export async function createMerchant(t: TestPlatform, name = `Shop ${crypto.randomBytes(3).toString('hex')}`) {
  const merchant = await createAccountStore(t.platform.database.db).createMerchant({ name, contactEmail: `${name.replace(/\W/g, '').toLowerCase()}@example.com` });
  return { id: merchant.id, name: merchant.name, token: await t.token({ merchantId: merchant.id }) };
}

export const CREATE_PRODUCT = `mutation Create($input: CreateProductInput!) {
  createProduct(input: $input) { product { id title status skus { id code stock price { amount currency } } } }
}`;

export interface CreatedProduct {
  id: string;
  title: string;
  status: string;
  skus: { id: string; code: string; stock: number; price: { amount: number; currency: string } }[];
}

/** A product on the shelf with the given SKUs (code, price in cents, stock). */
export async function createProduct(
  t: TestPlatform,
  token: string,
  skus: { code?: string; amount?: number; currency?: string; stock?: number }[] = [{}],
  options: { onShelf?: boolean; title?: string } = {},
): Promise<CreatedProduct> {
  const created = await t.gql<{ createProduct: { product: CreatedProduct } }>(token, CREATE_PRODUCT, {
    input: {
      title: options.title ?? 'Test product',
      skus: skus.map((s) => ({
        code: s.code ?? `SKU-${crypto.randomBytes(4).toString('hex')}`,
        price: { amount: s.amount ?? 1000, currency: s.currency ?? 'USD' },
        stock: s.stock ?? 10,
      })),
    },
  });
  if (created.errors) throw new Error(JSON.stringify(created.errors));
  const product = created.data!.createProduct.product;
  if (options.onShelf === false) return product;
  const listed = await t.gql(token, 'mutation($id: ID!) { changeProductStatus(input: { id: $id, status: ON_SHELF }) { product { status } } }', { id: product.id });
  if (listed.errors) throw new Error(JSON.stringify(listed.errors));
  return { ...product, status: 'ON_SHELF' };
}

export const ADDRESS = { name: 'Ada Buyer', phone: '+1-555-0100', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' };

export const PLACE_ORDER = `mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { id number status total { amount currency } lines { quantity skuCode unitPrice { amount } total { amount } } } }
}`;

export async function placeOrder(t: TestPlatform, token: string, lines: { skuId: string; quantity: number }[], idempotencyKey = crypto.randomUUID()) {
  return t.gql<{ placeOrder: { order: { id: string; number: string; status: string; total: { amount: number; currency: string }; lines: unknown[] } } }>(
    token,
    PLACE_ORDER,
    { input: { idempotencyKey, lines, shippingAddress: ADDRESS } },
  );
}

export async function stockOf(t: TestPlatform, token: string, skuId: string): Promise<number> {
  const result = await t.gql<{ sku: { stock: number } }>(token, 'query($id: ID!) { sku(id: $id) { stock } }', { id: skuId });
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!.sku.stock;
}

/** A new merchant with one order placed (one unit of a product of its own), for tests of its events. */
export async function merchantWithOrder(t: TestPlatform) {
  const merchant = await createMerchant(t);
  const product = await createProduct(t, merchant.token, [{ stock: 10 }]);
  const placed = await placeOrder(t, merchant.token, [{ skuId: product.skus[0]!.id, quantity: 1 }]);
  if (placed.errors) throw new Error(JSON.stringify(placed.errors));
  return { merchant, order: placed.data!.placeOrder.order };
}
