/**
 * g. memory: `npm start` as a user runs it (a child process tree on a fresh DATA_DIR, the demo seeded)
 * under a steady mixed load, with its resident memory sampled throughout.
 *
 * The load is open-loop: BENCH_MEMORY_RPS (50) requests per second are sent on schedule, whatever
 * the answers take, to the demo app's three merchants in turn: the ISV order page, an order with its
 * history, the product list, a product, the merchant, and mutations (placeOrder, payOrder of an
 * order it placed, shipOrder of one it paid). One graphql-ws subscription per merchant receives its
 * order events (the order entity resolved with each) and acknowledges every 20 events or 2 s. Before
 * the load, the SKUs it orders from get a large stock (setStock), so no order fails for want of it.
 *
 * Every BENCH_MEMORY_SAMPLE_SECONDS (5) it reads VmRSS (/proc/<pid>/status) of the node process that
 * runs the platform and of the whole tree (npm and its shell included). The run lasts
 * BENCH_MEMORY_SECONDS (600). Any error fails the run: a non-2xx answer, a GraphQL error, a request
 * that could not be sent on schedule, a subscription that ended or failed, an event not received.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { connectWs, requestOver } from './ws-client.js';
import { loadPlatformKeys } from '../core/keys.js';
import { mintAccessToken, mintOperatorToken } from '../core/tokens.js';
import { freePort } from '../tests/helpers/processes.js';
import { launchNpmStart } from './npm-start.js';
import { DEMO_OPERATOR_ID } from '../demo/seed.js';
import { processTreeRssKb, rssKb } from './process-memory.js';

const env = process.env;
/** A request still unanswered after this long counts as an error (the load is open-loop). */
const REQUEST_TIMEOUT_MS = 30_000;
/** More requests than this in flight: the platform is not keeping up, and the rest of a tick is an error. */
const MAX_IN_FLIGHT = 500;
const ACK_EVERY_EVENTS = 20;
const ACK_EVERY_MS = 2_000;

const QUERIES = {
  orderPage: 'query OrderPage { orders(first: 20) { edges { node { number status total { amount currency } lines { quantity product { title } } buyer { nickname } merchant { name } } } } }',
  order: 'query Order($id: ID!) { order(id: $id) { number status statusHistory { from to at } lines { quantity skuCode unitPrice { amount currency } } shipment { carrier } } }',
  productList: 'query Products { products(first: 20) { nodes { id title status category skus { code stock price { amount currency } } } } }',
  product: 'query Product($id: ID!) { product(id: $id) { title status skus { id code stock price { amount currency } } } }',
  merchant: 'query Merchant { merchant { name } }',
  placeOrder: 'mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id number status total { amount currency } } } }',
  payOrder: 'mutation Pay($id: ID!) { payOrder(input: { orderId: $id }) { order { id status } } }',
  shipOrder: 'mutation Ship($id: ID!, $tracking: String!) { shipOrder(input: { orderId: $id, carrier: "UPS", trackingNumber: $tracking }) { order { id status } } }',
  onShelf: 'query OnShelf { products(first: 100, filter: { status: [ON_SHELF] }) { nodes { id skus { id } } } }',
  setStock: 'mutation Stock($id: ID!) { setStock(input: { skuId: $id, stock: 100000000 }) { sku { id stock } } }',
  subscription: 'subscription MemoryBench { orderEvents { id cursor type order { id number status } } }',
  acknowledge: 'mutation Ack($upTo: MessageCursor!) { acknowledgeMessages(upTo: $upTo) { acknowledgedCursor } }',
  reset: 'mutation Reset($at: DateTime!) { resetMessageCursor(to: { time: $at, topics: [ORDERS] }) { acknowledgedCursor } }',
};

/** How often each kind of request is sent, out of 100. Payments and shipments fall back to placing an order when none is waiting. */
const MIX: [kind: RequestKind, weight: number][] = [
  ['orderPage', 35],
  ['order', 10],
  ['productList', 18],
  ['product', 10],
  ['merchant', 2],
  ['placeOrder', 12],
  ['payOrder', 9],
  ['shipOrder', 4],
];
type RequestKind = 'orderPage' | 'order' | 'productList' | 'product' | 'merchant' | 'placeOrder' | 'payOrder' | 'shipOrder';

interface MerchantLoad {
  merchantId: string;
  token: string;
  skuIds: string[];
  productIds: string[];
  orderIds: string[];
  pending: string[];
  paid: string[];
  /** Order events its mutations committed, by order id and type. */
  produced: Set<string>;
  subscriber?: Subscriber;
}

export interface MemorySample {
  /** Seconds since the load began (negative: before it, during setup). */
  s: number;
  rssMb: number;
  treeRssMb: number;
}

/** One subscription of one merchant over its own graphql-ws connection, acknowledging as it goes. */
class Subscriber {
  readonly client: Client;
  received = new Set<string>();
  deliveries = 0;
  acknowledgements = 0;
  problems: string[] = [];
  private lastCursor: string | undefined;
  private unacked = 0;
  private lastAck = Date.now();
  private acking: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(url: string, token: string) {
    this.client = connectWs(url, token);
  }

  /** A query or mutation over this connection. */
  request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    return requestOver<T>(this.client, query, variables);
  }

  subscribe() {
    this.unsubscribe = this.client.subscribe(
      { query: QUERIES.subscription },
      {
        next: (message) => {
          const event = (message.data as { orderEvents?: { id: string; cursor: string; type: string; order: { id: string } | null } } | undefined)?.orderEvents;
          if (message.errors?.length || !event?.order) {
            this.problems.push(`event: ${JSON.stringify(message).slice(0, 300)}`);
            return;
          }
          this.deliveries++;
          this.received.add(`${event.order.id}:${event.type}`);
          this.lastCursor = event.cursor;
          if (++this.unacked >= ACK_EVERY_EVENTS) void this.acknowledge();
        },
        error: (error) => this.problems.push(`subscription failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`),
        complete: () => this.problems.push('subscription completed by the server'),
      },
    );
    this.timer = setInterval(() => {
      if (Date.now() - this.lastAck >= ACK_EVERY_MS) void this.acknowledge();
    }, 500);
  }

  /** Acknowledges up to the last event received, one acknowledgement at a time. */
  acknowledge(): Promise<void> {
    if (this.acking || !this.lastCursor || !this.unacked) return this.acking ?? Promise.resolve();
    const upTo = this.lastCursor;
    this.unacked = 0;
    this.lastAck = Date.now();
    this.acking = this.request(QUERIES.acknowledge, { upTo })
      .then(
        () => void this.acknowledgements++,
        (error: unknown) => void this.problems.push(`acknowledgement failed: ${(error as Error).message}`),
      )
      .finally(() => (this.acking = undefined));
    return this.acking;
  }

  async close() {
    clearInterval(this.timer);
    await this.acknowledge();
    this.unsubscribe?.();
    await this.client.dispose();
  }
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);
const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);

/** Runs the scenario; returns its result in the shape of the other scenarios (bench/run.ts), with the memory curve. */
export async function runMemoryScenario(options: { seconds?: number; rps?: number; sampleSeconds?: number; log?: (line: string) => void } = {}) {
  const seconds = options.seconds ?? Number(env.BENCH_MEMORY_SECONDS ?? 600);
  const rps = options.rps ?? Number(env.BENCH_MEMORY_RPS ?? 50);
  const sampleSeconds = options.sampleSeconds ?? Number(env.BENCH_MEMORY_SAMPLE_SECONDS ?? 5);
  const log = options.log ?? ((line: string) => console.error(line));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-memory-bench-'));
  const run = launchNpmStart({ dataDir, port: await freePort() });
  /** Samples with the time they were taken (performance.now()); made relative to the load's start at the end. */
  const samples: (Omit<MemorySample, 's'> & { at: number })[] = [];
  const sample = () => samples.push({ at: performance.now(), rssMb: Math.round(rssKb(run.platformPid()) / 1024), treeRssMb: Math.round(processTreeRssKb(run.child.pid!) / 1024) });
  const merchants: MerchantLoad[] = [];
  try {
    const { readyMs } = await run.ready;
    sample();
    const atReady = samples[0]!;
    log(`memory: npm start ready in ${readyMs} ms, RSS ${atReady.rssMb} MB (tree ${atReady.treeRssMb} MB)`);
    const demo = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo.json'), 'utf8')) as { graphqlUrl: string; appKey: string; merchantId: string; otherMerchantIds: string[]; scope: string };
    const url = demo.graphqlUrl;
    const issuer = new URL(url).origin;
    const keys = await loadPlatformKeys(path.join(dataDir, 'keys'), { create: false });

    // The load is a steady 50 requests a second, more than the demo app's PAID bucket restores (100
    // points a second): as an operator would for an app that needs it, raise its limits first.
    // Signed with the platform's keys as the app tokens below are (the demo operator's sign-in needs a TOTP code), for the demo operator (the gateway refuses tokens of unknown operators).
    const operatorToken = await mintOperatorToken(keys, { issuer, audience: 'urn:portico:api', operatorId: DEMO_OPERATOR_ID });
    await graphql(url, operatorToken, 'mutation ($key: String!) { setAppFlowLimits(input: { appKey: $key, bucketSize: 100000, restoreRate: 20000, reason: "memory benchmark load" }) { key } }', { key: demo.appKey });

    // Setup (not measured as load): tokens, the SKUs to order from with ample stock, subscriptions from now on.
    for (const merchantId of [demo.merchantId, ...demo.otherMerchantIds]) {
      const token = await mintAccessToken(keys, { issuer, audience: 'urn:portico:api', appKey: demo.appKey, merchantId, scope: demo.scope, ttlSeconds: 7200 });
      const shelf = await graphql<{ products: { nodes: { id: string; skus: { id: string }[] }[] } }>(url, token, QUERIES.onShelf);
      const merchant: MerchantLoad = { merchantId, token, skuIds: shelf.products.nodes.flatMap((p) => p.skus.map((s) => s.id)), productIds: shelf.products.nodes.map((p) => p.id), orderIds: [], pending: [], paid: [], produced: new Set() };
      for (const id of merchant.skuIds) await graphql(url, token, QUERIES.setStock, { id });
      const page = await graphql<{ orders: { edges: { node: { id: string } }[] } }>(url, token, 'query { orders(first: 50) { edges { node { id } } } }');
      merchant.orderIds = page.orders.edges.map((e) => e.node.id);
      const subscriber = new Subscriber(url, token);
      await subscriber.request(QUERIES.reset, { at: new Date().toISOString() });
      subscriber.subscribe();
      merchant.subscriber = subscriber;
      merchants.push(merchant);
    }
    sample();
    log(`memory: setup done (${merchants.reduce((n, m) => n + m.skuIds.length, 0)} SKUs stocked, ${merchants.length} subscriptions); ${rps} requests/s for ${seconds} s`);

    // The load, open-loop: on each tick, every request now due is sent.
    const counts = Object.fromEntries(MIX.map(([kind]) => [kind, 0])) as Record<RequestKind, number>;
    const latencies: number[] = [];
    const errors: string[] = [];
    let errorCount = 0;
    let non2xx = 0;
    let sent = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const fail = (message: string) => {
      errorCount++;
      if (errors.length < 20) errors.push(message.slice(0, 300));
    };
    const totalWeight = MIX.reduce((a, [, w]) => a + w, 0);
    const pick = (): RequestKind => {
      let roll = Math.random() * totalWeight;
      for (const [kind, weight] of MIX) if ((roll -= weight) < 0) return kind;
      return MIX[0]![0];
    };
    const send = async (merchant: MerchantLoad) => {
      let kind = pick();
      if (kind === 'payOrder' && !merchant.pending.length) kind = 'placeOrder';
      if (kind === 'shipOrder' && !merchant.paid.length) kind = 'placeOrder';
      counts[kind]++;
      const anyOf = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!;
      const query = QUERIES[kind];
      let variables: Record<string, unknown> | undefined;
      let produced: { orderId?: string; type: string } | undefined;
      switch (kind) {
        case 'order':
          variables = { id: anyOf(merchant.orderIds) };
          break;
        case 'product':
          variables = { id: anyOf(merchant.productIds) };
          break;
        case 'placeOrder': {
          const lines = [...new Set([anyOf(merchant.skuIds), anyOf(merchant.skuIds)])].slice(0, 1 + Math.floor(Math.random() * 2));
          variables = {
            input: {
              idempotencyKey: crypto.randomUUID(),
              lines: lines.map((skuId) => ({ skuId, quantity: 1 })),
              shippingAddress: { name: 'Memory Bench', line1: '1 Load Street', city: 'Seattle', country: 'US' },
            },
          };
          produced = { type: 'CREATED' };
          break;
        }
        case 'payOrder':
          variables = { id: merchant.pending.shift() };
          produced = { orderId: variables.id as string, type: 'PAID' };
          break;
        case 'shipOrder':
          variables = { id: merchant.paid.shift(), tracking: `MB${sent}` };
          produced = { orderId: variables.id as string, type: 'SHIPPED' };
          break;
      }
      const began = performance.now();
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${merchant.token}` },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const body = (await response.json()) as { data?: Record<string, { order?: { id: string; status: string } }>; errors?: unknown[] };
        latencies.push(performance.now() - began);
        if (!response.ok) non2xx++;
        if (!response.ok || body.errors?.length || !body.data) return fail(`${kind}: ${response.status} ${JSON.stringify(body)}`);
        const order = body.data[kind]?.order;
        if (kind === 'placeOrder' && order) {
          merchant.pending.push(order.id);
          merchant.orderIds.push(order.id);
          merchant.produced.add(`${order.id}:CREATED`);
        }
        if (kind === 'payOrder' && order) merchant.paid.push(order.id);
        if (produced?.orderId) merchant.produced.add(`${produced.orderId}:${produced.type}`);
      } catch (error) {
        fail(`${kind}: ${(error as Error).message}`);
      } finally {
        inFlight--;
      }
    };

    const pending = new Set<Promise<void>>();
    const loadStartedAt = performance.now();
    const setupSamples = samples.length;
    let nextSample = loadStartedAt;
    let lastReport = loadStartedAt;
    while (performance.now() - loadStartedAt < seconds * 1000) {
      const now = performance.now();
      const due = Math.floor(((now - loadStartedAt) / 1000) * rps);
      while (sent < due) {
        const merchant = merchants[sent % merchants.length]!;
        sent++;
        if (inFlight >= MAX_IN_FLIGHT) {
          fail('not sent on schedule: too many requests in flight');
          continue;
        }
        const request = send(merchant);
        pending.add(request);
        void request.finally(() => pending.delete(request));
      }
      if (now >= nextSample) {
        sample();
        nextSample += sampleSeconds * 1000;
      }
      if (now - lastReport >= 60_000) {
        lastReport = now;
        const last = samples[samples.length - 1]!;
        log(`memory: ${Math.round((now - loadStartedAt) / 1000)} s, ${sent} sent, ${errorCount} errors, RSS ${last.rssMb} MB (tree ${last.treeRssMb} MB)`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const loadSeconds = (performance.now() - loadStartedAt) / 1000;
    await Promise.all(pending);
    sample();

    // Every event the mutations committed reaches its merchant's subscription (at least once).
    const deadline = Date.now() + 15_000;
    const missing = () => merchants.reduce((n, m) => n + [...m.produced].filter((key) => !m.subscriber!.received.has(key)).length, 0);
    while (missing() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const eventsMissing = missing();
    if (eventsMissing) fail(`${eventsMissing} committed order events did not reach their subscription in 15 s`);
    for (const m of merchants) for (const problem of m.subscriber!.problems) fail(`subscription of ${m.merchantId}: ${problem}`);
    await Promise.all(merchants.map((m) => m.subscriber!.close()));

    const sorted = [...latencies].sort((a, b) => a - b);
    const curve: MemorySample[] = samples.map(({ at, rssMb, treeRssMb }) => ({ s: Math.round((at - loadStartedAt) / 100) / 10, rssMb, treeRssMb }));
    const during = curve.slice(setupSamples);
    const rss = during.map((p) => p.rssMb);
    const tree = during.map((p) => p.treeRssMb);
    const spread = (values: number[]) => ({ min: Math.min(...values), median: median(values), max: Math.max(...values), last: values[values.length - 1]! });
    return {
      scenario: 'g-memory',
      target: 'npm-start',
      connections: maxInFlight,
      durationSeconds: Math.round(loadSeconds),
      offeredRps: rps,
      requests: latencies.length,
      errors: errorCount,
      non2xx,
      rps: Math.round((latencies.length / loadSeconds) * 10) / 10,
      p50: Math.round(percentile(sorted, 50)),
      p90: Math.round(percentile(sorted, 90)),
      p99: Math.round(percentile(sorted, 99)),
      mix: counts,
      subscriptions: merchants.length,
      eventsProduced: merchants.reduce((n, m) => n + m.produced.size, 0),
      eventsDelivered: merchants.reduce((n, m) => n + m.subscriber!.deliveries, 0),
      acknowledgements: merchants.reduce((n, m) => n + m.subscriber!.acknowledgements, 0),
      readyMs,
      rssAtReadyMb: atReady.rssMb,
      rssMb: spread(rss),
      treeRssMb: spread(tree),
      targetRssMb: { afterStart: 500, underLoad: 600 },
      sampleSeconds,
      /** RSS every sampleSeconds; s is seconds from the start of the load (the samples at ready and after the setup are negative). */
      curve,
      ...(errors.length ? { firstErrors: errors } : {}),
    };
  } finally {
    await Promise.all(merchants.map((m) => m.subscriber?.client.dispose()));
    await run.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function graphql<T = unknown>(url: string, token: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (!response.ok || body.errors?.length || !body.data) throw new Error(`memory bench setup: ${query.slice(0, 60)}: ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}
