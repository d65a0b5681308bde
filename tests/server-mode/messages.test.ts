/**
 * The message channel in its production shape: each service its own process on one PostgreSQL
 * server, two gateway processes. Events committed by the order subgraph reach a subscriber on either
 * gateway (LISTEN/NOTIFY); a gateway killed with SIGKILL while events flow loses nothing; a subgraph
 * killed in the middle of mutations leaves no change without its event and no event without its change.
 */
import fs from 'node:fs';
import { sql } from 'drizzle-orm';
import os from 'node:os';
import path from 'node:path';
import { SUBGRAPH_NAMES } from '../../core/config.js';
import { openPostgres } from '../../core/db.js';
import { loadPlatformKeys } from '../../core/keys.js';
import { mintAccessToken } from '../../core/tokens.js';
import { createAccountStore } from '../../subgraphs/account/store.js';
import { createAppManagementStore } from '../../subgraphs/app-management/store.js';
import { ADDRESS, CREATE_PRODUCT } from '../helpers/factories.js';
import { ACKNOWLEDGE, connectWs, subscribeWs } from '../helpers/messages.js';
import { ALL_SCOPES, createTestDatabase, postGraphQL } from '../helpers/platform.js';
import { freePort, runScript, waitForHttp, type Child } from '../helpers/processes.js';

const SUB = 'subscription { orderEvents(types: [CREATED]) { id cursor attempt reason order { id } } }';

test('events reach subscribers on any gateway; kill -9 of the serving gateway or of the order subgraph loses nothing', async () => {
  const database = (await createTestDatabase())!;
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-keys-'));
  const children: Child[] = [];
  const db = await openPostgres(database.url, 2, 'test');
  try {
    const keys = await loadPlatformKeys(keysDir, { create: true });
    const ports = Object.fromEntries(await Promise.all(SUBGRAPH_NAMES.map(async (n) => [n, await freePort()] as const)));
    const [portA, portB] = [await freePort(), await freePort()];
    const common = {
      KEYS_DIR: keysDir,
      LOG_LEVEL: 'warn',
      PUBLIC_URL: `http://127.0.0.1:${portA}`,
      DATABASE_URL: database.url,
      MESSAGE_ACK_TIMEOUT_MS: '60000',
      ORDER_URL: `http://127.0.0.1:${ports.order}/graphql`,
      PRODUCT_URL: `http://127.0.0.1:${ports.product}/graphql`,
      ACCOUNT_URL: `http://127.0.0.1:${ports.account}/graphql`,
      APP_MANAGEMENT_URL: `http://127.0.0.1:${ports['app-management']}/graphql`,
    };
    const serve = async (service: string, port: number) => {
      const child = runScript('bin/serve.ts', [service], { ...common, PORT: String(port) });
      children.push(child);
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, child);
      return child;
    };
    const subgraphs: Record<string, Child> = {};
    for (const name of SUBGRAPH_NAMES) subgraphs[name] = await serve(name, ports[name]!);
    await serve('gateway', portA);
    let gatewayB = await serve('gateway', portB);
    const apiA = `http://127.0.0.1:${portA}/graphql`;
    const apiB = `http://127.0.0.1:${portB}/graphql`;

    const merchant = await createAccountStore(db.db).createMerchant({ name: 'Channel Shop', contactEmail: 'channel@example.com' });
    const apps = createAppManagementStore(db.db);
    const developer = await apps.createDeveloper({ kind: 'COMPANY', name: 'ERP vendor', email: 'erp@example.com' });
    await apps.createApp({ key: 'app_erp', name: 'ERP', developerId: developer.id, status: 'LIVE' });
    const pkg = await apps.createPackage({ name: 'Everything', description: 'test', tier: 'FREE', scopes: ALL_SCOPES });
    await apps.grantPackage('system:tests', { appKey: 'app_erp', packageId: pkg.id, reason: 'test' });
    const token = await mintAccessToken(keys, { issuer: common.PUBLIC_URL, audience: 'urn:portico:api', appKey: 'app_erp', merchantId: merchant.id, scope: ALL_SCOPES.join(' ') });
    const created = await postGraphQL<any>(apiA, token, CREATE_PRODUCT, { input: { title: 'Kettle', skus: [{ code: 'K-1', price: { amount: 2500, currency: 'EUR' }, stock: 100_000 }] } });
    const skuId = created.data.createProduct.product.skus[0].id;
    await postGraphQL(apiA, token, 'mutation($id: ID!) { changeProductStatus(input: { id: $id, status: ON_SHELF }) { product { id } } }', { id: created.data.createProduct.product.id });
    let placed = 0;
    const place = async (api: string) => {
      const res = await postGraphQL<any>(api, token, 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } } }', {
        input: { idempotencyKey: `o-${placed++}-${Math.random()}`, lines: [{ skuId, quantity: 1 }], shippingAddress: ADDRESS },
      });
      return res;
    };

    // 1. Scale-out: committed through gateway A's subgraphs, pushed by gateway B.
    let client = connectWs(apiB, token);
    let sub = subscribeWs(client, SUB);
    await new Promise((r) => setTimeout(r, 500));
    const first = await place(apiA);
    const [pushed] = await sub.waitFor(1);
    expect(pushed!.data!.orderEvents.order.id).toBe(first.data.placeOrder.order.id);

    // 2. Orders keep coming while gateway B, serving the subscription, is killed with SIGKILL.
    const acknowledged = new Set<string>();
    let lastAcked: string | undefined;
    const ackEvery = async (live: { data?: any }[]) => {
      // What was received when acknowledging; more may arrive while the acknowledgement is on its way.
      const received = [...live];
      const last = received.at(-1)?.data?.orderEvents;
      if (!last || last.cursor === lastAcked) return;
      await postGraphQL(apiA, token, ACKNOWLEDGE, { upTo: last.cursor });
      for (const r of received) acknowledged.add(r.data!.orderEvents.id);
      lastAcked = last.cursor;
    };
    let producing = true;
    const producer = (async () => {
      while (producing) await place(apiA);
    })();
    await sub.waitFor(10, 20_000);
    await ackEvery(sub.received);
    // A few more arrive and are not acknowledged: they must come again after the kill.
    await sub.waitFor(sub.received.length + 3, 20_000);
    const beforeKill = [...sub.received];
    gatewayB.process.kill('SIGKILL');
    await gatewayB.exited;
    await new Promise((r) => setTimeout(r, 500));
    gatewayB = await serve('gateway', portB);
    await Promise.resolve(client.dispose()).catch(() => {});
    // The subscriber reconnects with nothing: it resumes after its acknowledged cursor.
    client = connectWs(apiB, token);
    sub = subscribeWs(client, SUB);
    await sub.waitFor(5, 20_000);

    // 3. The order subgraph is killed with SIGKILL in the middle of mutations, then restarted.
    subgraphs.order!.process.kill('SIGKILL');
    await subgraphs.order!.exited;
    subgraphs.order = await serve('order', ports.order!);
    await new Promise((r) => setTimeout(r, 1000));
    producing = false;
    await producer;

    // Every committed order has its event and every event its order.
    const orphans = await db.db.execute(
      sql.raw(`select (select count(*) from "order".orders o where not exists (select 1 from "order".outbox_events e where e.aggregate_id = o.id::text and e.type = 'order.created'))::int as changes_without_event,
              (select count(*) from "order".outbox_events e where e.type = 'order.created' and not exists (select 1 from "order".orders o where o.id::text = e.aggregate_id))::int as events_without_change`),
    );
    expect(((orphans as unknown as { rows: unknown[] }).rows ?? orphans)[0]).toEqual({ changes_without_event: 0, events_without_change: 0 });

    // Every committed event reached the subscriber; the only duplicates are of unacknowledged ones.
    const committed = await db.db.execute(sql`select id from "order".outbox_events where merchant_id = ${merchant.id} and type = 'order.created' order by position`);
    const committedIds = ((committed as unknown as { rows: { id: string }[] }).rows ?? committed).map((r: { id: string }) => r.id);
    expect(committedIds.length).toBeGreaterThan(15);
    // Wait for every committed event, not for a count: re-deliveries of unacknowledged events also count.
    const deliveredIds = () => [...beforeKill, ...sub.received].map((r) => r.data!.orderEvents.id as string);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !sub.completed && committedIds.some((id: string) => !deliveredIds().includes(id))) await new Promise((r) => setTimeout(r, 100));
    expect(sub.error).toBeUndefined();
    expect([...new Set(deliveredIds())].sort()).toEqual([...committedIds].sort());
    const afterRestart = sub.received.map((r) => r.data!.orderEvents.id as string);
    for (const id of afterRestart) if (beforeKill.some((r) => r.data!.orderEvents.id === id)) expect(acknowledged.has(id)).toBe(false);
    // A message pushed before the kill comes again as what it is: a REPLAY (its push was marked
    // before it was sent, whether or not the killed gateway had written its record).
    const again = sub.received.map((r) => r.data!.orderEvents).filter((e) => beforeKill.some((r) => r.data!.orderEvents.id === e.id));
    expect(again.length).toBeGreaterThanOrEqual(3);
    for (const event of again) expect({ id: event.id, reason: event.reason }).toEqual({ id: event.id, reason: 'REPLAY' });
    // In order: what came after the restart follows commit order.
    expect(afterRestart.filter((id, i) => afterRestart.indexOf(id) === i)).toEqual(committedIds.filter((id) => afterRestart.includes(id)));

    await client.dispose();
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGTERM');
    await Promise.all(children.map((c) => c.exited));
  } finally {
    await db.close();
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    fs.rmSync(keysDir, { recursive: true, force: true });
    await database.drop();
  }
}, 240_000);
