/**
 * Production shape: each service its own process (bin/serve.ts), one PostgreSQL server, the gateway
 * reaching subgraphs by URL. Runs when DATABASE_URL names a PostgreSQL server (see jest.config.js).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SUBGRAPH_NAMES } from '../../core/config.js';
import { openPostgres } from '../../core/db.js';
import { loadPlatformKeys } from '../../core/keys.js';
import { CONTEXT_BATCH_HEADER, CONTEXT_BATCH_SIGNATURE_HEADER, CONTEXT_BATCH_VALUE, contextClaimsOf, createContextBatchSigner, mintAccessToken } from '../../core/tokens.js';
import { createAccountStore } from '../../subgraphs/account/store.js';
import { createAppManagementStore } from '../../subgraphs/app-management/store.js';
import { ADDRESS, CREATE_PRODUCT } from '../helpers/factories.js';
import { ALL_SCOPES, createTestDatabase, postGraphQL } from '../helpers/platform.js';
import { freePort, runScript, waitForHttp, type Child } from '../helpers/processes.js';

test('gateway and four subgraphs as separate processes serve a full order flow; a revoked package bites on every gateway', async () => {
  const database = (await createTestDatabase())!;
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-keys-'));
  const children: Child[] = [];
  try {
    const keys = await loadPlatformKeys(keysDir, { create: true });
    const ports = Object.fromEntries(await Promise.all(SUBGRAPH_NAMES.map(async (n) => [n, await freePort()] as const)));
    const urls = {
      ORDER_URL: `http://127.0.0.1:${ports.order}/graphql`,
      PRODUCT_URL: `http://127.0.0.1:${ports.product}/graphql`,
      ACCOUNT_URL: `http://127.0.0.1:${ports.account}/graphql`,
      APP_MANAGEMENT_URL: `http://127.0.0.1:${ports['app-management']}/graphql`,
    };
    const gatewayPort = await freePort();
    const secondGatewayPort = await freePort();
    const common = { KEYS_DIR: keysDir, LOG_LEVEL: 'warn', PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`, ...urls };
    for (const name of SUBGRAPH_NAMES) {
      const child = runScript('bin/serve.ts', [name], { ...common, DATABASE_URL: database.url, PORT: String(ports[name]) });
      children.push(child);
      await waitForHttp(`http://127.0.0.1:${ports[name]}/healthz`, child);
    }
    // Two gateway replicas behind one public URL, as a load balancer would run them.
    for (const port of [gatewayPort, secondGatewayPort]) {
      const gateway = runScript('bin/serve.ts', ['gateway'], { ...common, PORT: String(port) });
      children.push(gateway);
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, gateway);
    }

    // Merchants and apps are onboarded by the platform (no public mutation for either yet): straight into their stores.
    const db = await openPostgres(database.url, 2, 'test');
    const merchant = await createAccountStore(db.db).createMerchant({ name: 'Split Shop', contactEmail: 'split@example.com' });
    const apps = createAppManagementStore(db.db);
    const developer = await apps.createDeveloper({ kind: 'COMPANY', name: 'Split ISV', email: 'isv@example.com' });
    await apps.createApp({ key: 'app_split', name: 'Split', developerId: developer.id, status: 'LIVE' });
    const pkg = await apps.createPackage({ name: 'Everything', description: 'test', tier: 'FREE', scopes: ALL_SCOPES });
    await apps.grantPackage('system:tests', { appKey: 'app_split', packageId: pkg.id, reason: 'test' });

    const token = await mintAccessToken(keys, { issuer: common.PUBLIC_URL, audience: 'urn:portico:api', appKey: 'app_split', merchantId: merchant.id, scope: ALL_SCOPES.join(' ') });
    const api = `http://127.0.0.1:${gatewayPort}/graphql`;
    const created = await postGraphQL<any>(api, token, CREATE_PRODUCT, { input: { title: 'Kettle', skus: [{ code: 'K-1', price: { amount: 2500, currency: 'EUR' }, stock: 4 }] } });
    expect(created.errors).toBeUndefined();
    const product = created.data.createProduct.product;
    await postGraphQL(api, token, 'mutation($id: ID!) { changeProductStatus(input: { id: $id, status: ON_SHELF }) { product { id } } }', { id: product.id });
    const placed = await postGraphQL<any>(api, token, 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id total { amount currency } } } }', {
      input: { idempotencyKey: 'split-1', lines: [{ skuId: product.skus[0].id, quantity: 3 }], shippingAddress: ADDRESS },
    });
    expect(placed.errors).toBeUndefined();
    expect(placed.data.placeOrder.order.total).toEqual({ amount: 7500, currency: 'EUR' });

    const page = await postGraphQL<any>(api, token, '{ merchant { name orders { nodes { lines { quantity sku { stock } product { title } } merchant { name } } } } }');
    expect(page.data).toEqual({ merchant: { name: 'Split Shop', orders: { nodes: [{ lines: [{ quantity: 3, sku: { stock: 1 }, product: { title: 'Kettle' } }], merchant: { name: 'Split Shop' } }] } } });

    // A subgraph run by `serve` checks the gateway's signed context batches (the message channel's
    // sub-queries of several merchants' subscribers): each operation answered for the caller it names.
    const other = await createAccountStore(db.db).createMerchant({ name: 'Other Shop', contactEmail: 'other@example.com' });
    const batch = JSON.stringify([merchant.id, other.id].map((merchantId) => ({ caller: contextClaimsOf({ kind: 'app', merchantId, appKey: 'app_split', scopes: ['merchant:read'] }), operation: { query: '{ merchant { name } }' } })));
    const batched = await fetch(urls.ACCOUNT_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CONTEXT_BATCH_HEADER]: CONTEXT_BATCH_VALUE, [CONTEXT_BATCH_SIGNATURE_HEADER]: await createContextBatchSigner(keys.context)(batch) },
      body: batch,
    });
    expect(batched.status).toBe(200);
    expect(((await batched.json()) as { body: unknown }[]).map((a) => a.body)).toEqual([{ data: { merchant: { name: 'Split Shop' } } }, { data: { merchant: { name: 'Other Shop' } } }]);

    // Revoke the package: both gateways stop honouring the still-valid token within 5 s.
    const both = [api, `http://127.0.0.1:${secondGatewayPort}/graphql`];
    for (const url of both) expect((await postGraphQL<any>(url, token, '{ orders { totalCount } }')).data).toEqual({ orders: { totalCount: 1 } });
    await apps.revokePackage('operator:test', { appKey: 'app_split', packageId: pkg.id, reason: 'test' });
    await db.close();
    const revokedAt = Date.now();
    const deniedAfter = await Promise.all(
      both.map(async (url) => {
        while (Date.now() - revokedAt < 6000) {
          const res = await postGraphQL<any>(url, token, '{ orders { totalCount } }');
          if (res.errors?.[0]?.extensions?.code === 'FORBIDDEN') return Date.now() - revokedAt;
          await new Promise((r) => setTimeout(r, 100));
        }
        return Infinity;
      }),
    );
    for (const ms of deniedAfter) expect(ms).toBeLessThan(5000);

    for (const child of children) child.process.kill('SIGTERM');
    expect(await Promise.all(children.map((c) => c.exited))).toEqual(children.map(() => 0));
  } finally {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    fs.rmSync(keysDir, { recursive: true, force: true });
    await database.drop();
  }
}, 180_000);
