/**
 * Identities under concurrency, on a PostgreSQL server:
 * - parallel bind-or-login calls for the same new guest create one buyer; parallel orders for one
 *   guest id all belong to it; parallel binds that recognize two guests as one person (each side
 *   naming the other) merge them once, into the earliest; parallel binds of a guest to a signed-in
 *   buyer merge it once;
 * - the merge saga survives SIGKILL: an account process killed while it has the order service
 *   re-point a backlog of merges leaves some done and none half-done, and the account process
 *   started in its place finishes every one, so no order points at a merged buyer.
 * One platform for the first part; the second runs bare account and order processes on a database
 * of its own (a platform's own account service would finish the merges itself).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq, inArray, sql } from 'drizzle-orm';
import { openPostgres, type Database } from '../../core/db.js';
import { loadPlatformKeys } from '../../core/keys.js';
import { createAppManagementStore } from '../../subgraphs/app-management/store.js';
import { createAccountStore } from '../../subgraphs/account/store.js';
import { mergeUsers } from '../../subgraphs/account/user-merge.js';
import { userMerges, users } from '../../subgraphs/account/tables.js';
import { orders } from '../../subgraphs/order/tables.js';
import { ADDRESS, createMerchant, createProduct } from '../helpers/factories.js';
import { ALL_SCOPES, createTestDatabase, startTestPlatform, waitUntil, type TestPlatform } from '../helpers/platform.js';
import { freePort, runScript, waitForHttp, type Child } from '../helpers/processes.js';

const SCOPES = [...ALL_SCOPES, 'users:write'];
const BIND = 'mutation($input: BindBuyerInput!) { bindBuyer(input: $input) { created merged buyer { openid unionid guest } } }';
const rows = <T>(result: unknown): T[] => ((result as { rows?: T[] }).rows ?? (result as T[]));

describe('concurrent bind-or-login on PostgreSQL', () => {
  let t: TestPlatform;
  let tokens: string[];
  let skuId: string;

  beforeAll(async () => {
    t = await startTestPlatform();
    const store = createAppManagementStore(t.platform.database.db);
    const pkg = await store.createPackage({ name: `Concurrency ${crypto.randomUUID()}`, description: 'test', tier: 'FREE', scopes: SCOPES });
    const dev = await store.createDeveloper({ kind: 'COMPANY', name: 'Concurrent Dev', email: `${crypto.randomUUID()}@example.com`, verificationStatus: 'VERIFIED' });
    const m = await createMerchant(t);
    skuId = (await createProduct(t, m.token, [{ code: 'CONC-1', stock: 1000 }])).skus[0]!.id;
    tokens = [];
    for (const name of ['App A', 'App B']) {
      const { app } = await store.createApp({ name, developerId: dev.id, status: 'LIVE' });
      await store.grantPackage('system:tests', { appKey: app.key, packageId: pkg.id, reason: 'concurrency' });
      tokens.push(await t.token({ merchantId: m.id, appKey: app.key, scopes: SCOPES }));
    }
  }, 120_000);
  afterAll(() => t?.stop());

  const bind = (token: string, input: Record<string, string>) => t.gql<any>(token, BIND, { input });
  const countUsers = async () => rows<{ n: number }>(await t.platform.database.db.execute(sql`select count(*)::int as n from account.users`))[0]!.n;

  test('20 parallel binds of one new guest create one buyer', async () => {
    const before = await countUsers();
    const guestId = `device-${crypto.randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 20 }, () => bind(tokens[0]!, { guestId })));
    expect(answers.every((a) => !a.errors)).toBe(true);
    expect(new Set(answers.map((a) => a.data.bindBuyer.buyer.openid)).size).toBe(1);
    expect(answers.filter((a) => a.data.bindBuyer.created)).toHaveLength(1);
    expect(await countUsers()).toBe(before + 1);
  });

  test('10 parallel orders for one new guest id all belong to one buyer', async () => {
    const before = await countUsers();
    const guestId = `device-${crypto.randomUUID()}`;
    const placed = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.gql<any>(tokens[0]!, 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { buyer { openid } } } }', {
          input: { idempotencyKey: crypto.randomUUID(), lines: [{ skuId, quantity: 1 }], shippingAddress: ADDRESS, buyer: { guestId } },
        }),
      ),
    );
    expect(placed.every((p) => !p.errors)).toBe(true);
    expect(new Set(placed.map((p) => p.data.placeOrder.order.buyer.openid)).size).toBe(1);
    expect(await countUsers()).toBe(before + 1);
  });

  test('two guests recognized as one person from both sides at once merge once, into the earliest', async () => {
    const g1 = `device-${crypto.randomUUID()}`;
    const g2 = `device-${crypto.randomUUID()}`;
    const first = (await bind(tokens[0]!, { guestId: g1 })).data.bindBuyer.buyer;
    const second = (await bind(tokens[1]!, { guestId: g2 })).data.bindBuyer.buyer;
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? bind(tokens[1]!, { guestId: g2, unionid: first.unionid }) : bind(tokens[0]!, { guestId: g1, unionid: second.unionid }))),
    );
    expect(answers.every((a) => !a.errors)).toBe(true);
    expect(answers.reduce((n, a) => n + a.data.bindBuyer.merged, 0)).toBe(1);
    expect(new Set(answers.map((a) => a.data.bindBuyer.buyer.unionid))).toEqual(new Set([first.unionid]));
    const merged = rows<{ n: number }>(await t.platform.database.db.execute(sql`select count(*)::int as n from account.user_merges m join account.developer_unionids u on u.user_id = m.surviving_user_id where u.unionid = ${first.unionid}`))[0]!;
    expect(merged.n).toBe(1);
  });

  test('parallel binds of a guest to a signed-in buyer merge it once', async () => {
    // A signed-in buyer the app knows: one of its orders, read by the app.
    const [real] = await createAccountStore(t.platform.database.db).createUsers([{ nickname: 'Real' }]);
    const placed = await t.gql<any>(tokens[0]!, 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } } }', {
      input: { idempotencyKey: crypto.randomUUID(), lines: [{ skuId, quantity: 1 }], shippingAddress: ADDRESS },
    });
    await t.platform.database.db.execute(sql`update "order".orders set buyer_id = ${real!.id} where id = ${placed.data.placeOrder.order.id}`);
    const openid = (await t.gql<any>(tokens[0]!, 'query($id: ID!) { order(id: $id) { buyer { openid } } }', { id: placed.data.placeOrder.order.id })).data.order.buyer.openid;
    const guestId = `device-${crypto.randomUUID()}`;
    await bind(tokens[0]!, { guestId });
    const answers = await Promise.all(Array.from({ length: 10 }, () => bind(tokens[0]!, { openid, guestId })));
    expect(answers.every((a) => !a.errors)).toBe(true);
    expect(answers.reduce((n, a) => n + a.data.bindBuyer.merged, 0)).toBe(1);
    expect(answers.every((a) => a.data.bindBuyer.buyer.openid === openid && !a.data.bindBuyer.buyer.guest)).toBe(true);
  });
});

describe('the merge saga survives SIGKILL', () => {
  const MERGES = 300;
  let database: Database;
  let drop: () => Promise<void>;
  let databaseUrl: string;
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-keys-'));
  const children: Child[] = [];

  beforeAll(async () => {
    const server = (await createTestDatabase())!;
    databaseUrl = server.url;
    drop = server.drop;
    database = await openPostgres(server.url, 4, 'merge-kill-test');
    await database.migrate('account');
    await database.migrate('order');
    await loadPlatformKeys(keysDir, { create: true });
  }, 120_000);
  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await Promise.all(children.map((child) => child.exited));
    await database?.close();
    await drop?.();
    fs.rmSync(keysDir, { recursive: true, force: true });
  });

  async function startProcess(service: 'account' | 'order', env: Record<string, string> = {}) {
    const port = await freePort();
    const child = runScript('bin/serve.ts', [service], { DATABASE_URL: databaseUrl, PORT: String(port), KEYS_DIR: keysDir, LOG_LEVEL: 'warn', PUBLIC_URL: 'http://127.0.0.1:9', ...env });
    children.push(child);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, child);
    return { child, url: `http://127.0.0.1:${port}/graphql` };
  }

  const progress = async () => {
    const [state] = rows<{ done: number; dangling: number }>(
      await database.db.execute(sql`select (select count(*)::int from account.user_merges where repointed_at is not null) as done,
        (select count(*)::int from "order".orders o join account.users u on u.id = o.buyer_id where u.merged_into is not null) as dangling`),
    );
    return state!;
  };

  test('an account process killed in the middle of re-pointing a backlog of merges: its replacement finishes them all, no order left behind', async () => {
    // A backlog: guests with two orders each, merged into signed-in buyers while no account process ran.
    const merchantId = crypto.randomUUID();
    const pairs: { merged: string; survivor: string }[] = [];
    for (let i = 0; i < MERGES; i++) {
      const [guest, buyer] = await database.db
        .insert(users)
        .values([
          { id: crypto.randomUUID(), nickname: 'Guest', isVirtual: true },
          { id: crypto.randomUUID(), nickname: `Buyer ${i}`, isVirtual: false },
        ])
        .returning();
      pairs.push({ merged: guest!.id, survivor: buyer!.id });
    }
    // Two orders each, written in one statement (only their buyer matters here).
    await database.db.execute(sql`insert into "order".orders (id, merchant_id, number, buyer_id, status, currency, total_amount)
      select gen_random_uuid(), ${merchantId}::uuid, 'SO' || (100000 + row_number() over ()), b.id::uuid, 'PENDING_PAYMENT', 'EUR', 2500
      from jsonb_array_elements_text(${JSON.stringify(pairs.map((p) => p.merged))}::jsonb) as b(id) cross join generate_series(1, 2)`);
    for (const pair of pairs) {
      await database.db.transaction(async (tx) => {
        const locked = await tx.select().from(users).where(inArray(users.id, [pair.merged, pair.survivor])).orderBy(users.id).for('update');
        await mergeUsers(tx, locked.find((u) => u.id === pair.merged)!, locked.find((u) => u.id === pair.survivor)!, new Date());
      });
    }
    expect(await progress()).toEqual({ done: 0, dangling: MERGES * 2 });

    const order = await startProcess('order');
    const first = await startProcess('account', { ORDER_URL: order.url });
    await waitUntil(
      'the first account process to finish some merges',
      async () => {
        if (first.child.process.exitCode !== null) throw new Error(`the account process exited:\n${first.child.output()}`);
        return (await progress()).done >= 20;
      },
      60_000,
    );
    first.child.process.kill('SIGKILL');
    await first.child.exited;

    // Killed in the middle: some merges done, not all; each done one has every order moved.
    const atKill = await progress();
    expect(atKill.done).toBeGreaterThanOrEqual(20);
    expect(atKill.done).toBeLessThan(MERGES);
    const doneMerges = await database.db.select().from(userMerges).where(sql`${userMerges.repointedAt} is not null`);
    const leftBehind = await database.db.select({ n: sql<number>`count(*)::int` }).from(orders).where(inArray(orders.buyerId, doneMerges.map((m) => m.mergedUserId)));
    expect(leftBehind[0]!.n).toBe(0);

    // Its replacement finishes the rest (a merge the killed one had claimed waits out its claim).
    const replacement = await startProcess('account', { ORDER_URL: order.url });
    await waitUntil('every merge to be finished', async () => (await progress()).done === MERGES, 60_000);
    expect(await progress()).toEqual({ done: MERGES, dangling: 0 });
    for (const pair of pairs.slice(0, 25)) {
      const own = await database.db.select({ n: sql<number>`count(*)::int` }).from(orders).where(eq(orders.buyerId, pair.survivor));
      expect(own[0]!.n).toBe(2);
    }
    replacement.child.process.kill('SIGTERM');
    await replacement.child.exited;
  }, 180_000);
});
