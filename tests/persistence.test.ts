/** Data survives a restart: stop the platform, start it again on the same DATA_DIR (or database). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { createTestDatabase, startTestPlatform } from './helpers/platform.js';

test('orders, products and the demo seed are still there after a restart, and the seed is not repeated', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-persist-'));
  const database = await createTestDatabase();
  try {
    const first = await startTestPlatform({ dataDir, seed: true, ...(database ? { databaseUrl: database.url } : {}) });
    const shop = await createMerchant(first, 'Durable Shop');
    const product = await createProduct(first, shop.token, [{ stock: 9 }]);
    const order = (await placeOrder(first, shop.token, [{ skuId: product.skus[0]!.id, quantity: 2 }])).data!.placeOrder.order;
    const demoToken = first.platform.demo!.accessToken;
    const demoOrders = (await first.gql(demoToken, '{ orders { totalCount } }')).data!.orders.totalCount;
    await first.stop();

    // Restarted as an operator would: same data, same port (the token issuer names the public URL).
    const port = String(first.platform.config.port);
    const second = await startTestPlatform({ dataDir, seed: true, extraEnv: { PORT: port }, ...(database ? { databaseUrl: database.url } : {}) });
    try {
      const token = await second.token({ merchantId: shop.id });
      const res = await second.gql(token, 'query($id: ID!) { order(id: $id) { number lines { sku { stock } } } }', { id: order.id });
      expect(res.data).toEqual({ order: { number: order.number, lines: [{ sku: { stock: 7 } }] } });
      // Same signing key after restart: a token minted before still works.
      expect((await second.gql(demoToken, '{ orders { totalCount } }')).data!.orders.totalCount).toBe(demoOrders);
      expect(demoOrders).toBe(110);
      const demo = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo.json'), 'utf8'));
      expect(demo).toMatchObject({ appKey: 'app_demo_erp_sync', merchantId: first.platform.demo!.merchantId, graphqlUrl: second.url });
    } finally {
      await second.stop();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  }
}, 120_000);
