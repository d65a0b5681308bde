/**
 * Message-channel scenarios of `npm run bench` (`BENCH_ONLY=channel` runs only these), against the
 * stack run.ts started (gateway with DATABASE_URL, so it serves subscriptions):
 *
 * d. burst: 1,000 WebSocket subscribers on one gateway, each `orderEvents { id cursor type order { id number status } }`,
 *    receive a burst of order events; latency from commit to receipt. Two shapes: 1,000 merchants
 *    with one subscriber each (one event per merchant in the burst), and fan-out: 100 merchants with
 *    10 apps each subscribed (one event per merchant, ten deliveries each).
 * e. sustained: 100 subscribers (100 merchants), events produced at fixed rates for BENCH_DURATION
 *    seconds per rate; delivered events/s and latency, acknowledging as they go.
 * f. backlog: one subscriber catching up BENCH_BACKLOG_EVENTS (default 100,000) events from its
 *    cursor, acknowledging every 200 events.
 *
 * Events of d and e are real state changes: `payOrder` mutations (PENDING_PAYMENT → PAID: one
 * transaction with the order, its history and its outbox row, then NOTIFY), sent straight to the
 * order subgraph with a context token as the gateway would forward them, so that the gateway under
 * test spends its CPU on delivery only. The backlog of f is bulk-inserted into the order outbox in
 * one transaction (with the ordering lock and the NOTIFY the outbox writer takes), for the merchant's
 * real orders.
 *
 * Latency "from commit": the event's `occurred_at` is taken by the order subgraph before its
 * transaction (so this counts the transaction too: an upper bound); the bench also gives the
 * latency from the moment the mutation's response arrived (after the commit: a lower bound).
 * Every run checks that every committed event reached every subscriber of its merchant, exactly the
 * committed ones; a lost or foreign event fails the run.
 */
import crypto from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { openPostgres, type Database } from '../core/db.js';
import type { PlatformKeys } from '../core/keys.js';
import { CONTEXT_TOKEN_HEADER, createContextSigner, mintAccessToken } from '../core/tokens.js';
import { DEMO_APP_KEY, type DemoSeed } from '../demo/seed.js';
import { createAccountStore } from '../subgraphs/account/store.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { createOrderStore } from '../subgraphs/order/store.js';

export interface ChannelBenchContext {
  dbUrl: string;
  keys: PlatformKeys;
  publicUrl: string;
  gatewayUrl: string;
  /** The order subgraph's GraphQL URL (events are produced there). */
  orderUrl: string;
  seed: DemoSeed;
  pids: Record<string, number | undefined>;
  /** Seconds per sustained rate (BENCH_DURATION). */
  duration: number;
  cpuMs(pid: number | undefined): number;
  report(result: Record<string, unknown>): void;
  /** What the gateway printed (warnings and errors), for failures. */
  gatewayOutput(): string;
}

const env = process.env;
const BURSTS = Number(env.BENCH_CHANNEL_BURSTS ?? 3);
const RATES = (env.BENCH_CHANNEL_RATES ?? '50,100,200,300').split(',').map(Number).filter((n) => n > 0);
const BACKLOG_EVENTS = Number(env.BENCH_BACKLOG_EVENTS ?? 100_000);
/** Concurrent payOrder mutations while producing a burst. */
const PRODUCERS = Number(env.BENCH_CHANNEL_PRODUCERS ?? 16);
/** How long every event may take to arrive before the run fails. */
const DELIVERY_DEADLINE_MS = Number(env.BENCH_CHANNEL_DEADLINE_MS ?? 120_000);
const SHAPES = (env.BENCH_CHANNEL_SHAPES ?? 'merchants,fanout,sustained,backlog').split(',');
/** Scales the subscriber counts down for quick iterations (1: the documented shapes). */
const SCALE = Number(env.BENCH_CHANNEL_SCALE ?? 1);
const scaled = (n: number) => Math.max(1, Math.round(n * SCALE));

const ORDER_EVENTS = 'subscription BenchOrders { orderEvents { id cursor type order { id number status } } }';
const ACKNOWLEDGE = 'mutation BenchAck($upTo: MessageCursor!) { acknowledgeMessages(upTo: $upTo) { acknowledgedCursor } }';
const RESET = 'mutation BenchReset($at: DateTime!) { resetMessageCursor(to: { time: $at, topics: [ORDERS] }) { acknowledgedCursor } }';
const PAY = 'mutation BenchPay($id: ID!) { payOrder(input: { orderId: $id }) { order { id status } } }';
const SCOPE = 'orders:read messages:orders';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number) => Math.round(n * 100) / 100;

/** Runs fn over items with at most `limit` at a time. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! : NaN);
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted.at(-1) ?? NaN, samples: sorted.length };
}

interface OrderEventMessage {
  data?: { orderEvents?: { id: string; cursor: string; type: string; order: { id: string; number: string; status: string } | null } } | null;
  errors?: { message: string }[];
}

/** One WebSocket connection (one token: one app acting for one merchant) with one orderEvents subscription. */
class Subscriber {
  readonly client: Client;
  /** Event id → receipt time (ms since epoch), since the last startRound(). */
  round = new Map<string, number>();
  /** Every event id ever received, to count duplicates across rounds. */
  private seen = new Set<string>();
  duplicates = 0;
  received = 0;
  problems: string[] = [];
  lastCursor: string | undefined;
  unacked = 0;
  lastAckAt = Date.now();
  acks = 0;
  ackEvery = Infinity;
  /** Called on each new event (after it was counted). */
  onEvent: ((id: string, at: number) => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private acking: Promise<void> | undefined;

  constructor(
    readonly appKey: string,
    readonly merchantId: string,
    token: string,
    url: string,
  ) {
    this.client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: true,
      retryAttempts: 0,
      shouldRetry: () => false,
    });
  }

  /** A query or mutation over this connection. */
  request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let result: { data?: unknown; errors?: unknown[] } | undefined;
      this.client.subscribe(
        { query, variables },
        {
          next: (r) => (result = r as typeof result),
          error: (e) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
          complete: () => (result?.errors?.length || !result?.data ? reject(new Error(`${query.slice(0, 40)}: ${JSON.stringify(result)}`)) : resolve(result.data as T)),
        },
      );
    });
  }

  subscribe() {
    this.unsubscribe = this.client.subscribe(
      { query: ORDER_EVENTS },
      {
        next: (message) => this.onMessage(message as OrderEventMessage),
        error: (error) => this.problems.push(`subscription failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`),
        complete: () => this.problems.push('subscription completed by the server'),
      },
    );
  }

  private onMessage(message: OrderEventMessage) {
    const at = Date.now();
    const event = message.data?.orderEvents;
    if (message.errors?.length || !event) {
      this.problems.push(`error result: ${JSON.stringify(message).slice(0, 300)}`);
      return;
    }
    if (!event.order) this.problems.push(`event ${event.id}: order is null`);
    this.received++;
    this.lastCursor = event.cursor;
    this.unacked++;
    if (this.seen.has(event.id)) {
      this.duplicates++;
      return;
    }
    this.seen.add(event.id);
    this.round.set(event.id, at);
    if (this.unacked >= this.ackEvery) void this.ack();
    this.onEvent?.(event.id, at);
  }

  startRound() {
    this.round = new Map();
  }

  /** Acknowledges up to the last event received (one acknowledgement at a time). */
  async ack(): Promise<void> {
    if (this.acking) return this.acking;
    if (!this.lastCursor || !this.unacked) return;
    const cursor = this.lastCursor;
    this.unacked = 0;
    this.lastAckAt = Date.now();
    this.acking = this.request(ACKNOWLEDGE, { upTo: cursor })
      .then(() => {
        this.acks++;
      })
      .catch((error: unknown) => {
        this.problems.push(`acknowledgement failed: ${(error as Error).message}`);
      })
      .finally(() => {
        this.acking = undefined;
      });
    return this.acking;
  }

  async close() {
    await this.acking;
    this.unsubscribe?.();
    await this.client.dispose();
  }
}

interface CommittedEvent {
  id: string;
  merchantId: string;
  orderId: string;
  occurredAt: number;
}

export async function runChannelScenarios(ctx: ChannelBenchContext): Promise<void> {
  const database = await openPostgres(ctx.dbUrl, 8, 'bench-channel');
  const sqlPool = new pg.Pool({ connectionString: ctx.dbUrl, max: 2, application_name: 'bench-channel-sql' });
  const signContext = createContextSigner(ctx.keys.context, 3600);
  const open: Subscriber[] = [];
  try {
    const setup = createSetup(database);
    const mint = (appKey: string, merchantId: string) =>
      mintAccessToken(ctx.keys, { issuer: ctx.publicUrl, audience: 'urn:portico:api', appKey, merchantId, scope: SCOPE, ttlSeconds: 7200 });

    /** Opens subscribers after resetting each stream to `at` (past the setup's own events). */
    async function openSubscribers(streams: { appKey: string; merchantId: string }[], at: Date): Promise<Subscriber[]> {
      const subscribers = await mapLimit(streams, 20, async ({ appKey, merchantId }) => {
        const subscriber = new Subscriber(appKey, merchantId, await mint(appKey, merchantId), ctx.gatewayUrl);
        open.push(subscriber);
        await subscriber.request(RESET, { at: at.toISOString() });
        subscriber.subscribe();
        return subscriber;
      });
      return subscribers;
    }

    async function closeAll(subscribers: Subscriber[]) {
      await Promise.all(subscribers.map((s) => s.close()));
      for (const s of subscribers) open.splice(open.indexOf(s), 1);
    }

    const maxPosition = async () => Number((await sqlPool.query<{ p: string }>('select coalesce(max(position), 0) as p from "order".outbox_events')).rows[0]!.p);
    const committedAfter = async (position: number): Promise<CommittedEvent[]> =>
      (
        await sqlPool.query<{ id: string; merchant_id: string; aggregate_id: string; at: string }>(
          `select id, merchant_id, aggregate_id, (extract(epoch from occurred_at) * 1000)::float8 as at from "order".outbox_events where position > $1 order by position`,
          [position],
        )
      ).rows.map((r) => ({ id: r.id, merchantId: r.merchant_id, orderId: r.aggregate_id, occurredAt: Number(r.at) }));

    /** payOrder on the order subgraph (a real state change: order, history, outbox row, NOTIFY). Returns when its response arrived. */
    async function payOrder(merchantId: string, orderId: string): Promise<number> {
      const contextToken = await signContext({ kind: 'app', merchantId, appKey: DEMO_APP_KEY, scopes: ['orders:read', 'orders:write'] });
      const response = await fetch(ctx.orderUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: contextToken },
        body: JSON.stringify({ query: PAY, variables: { id: orderId } }),
      });
      const json = (await response.json()) as { errors?: unknown; data?: { payOrder?: { order?: { status?: string } } } };
      if (!response.ok || json.errors || json.data?.payOrder?.order?.status !== 'PAID') throw new Error(`payOrder failed: ${JSON.stringify(json).slice(0, 300)}`);
      return Date.now();
    }

    /** Waits until every subscriber received every committed event of its merchant; fails the run otherwise. */
    async function awaitDelivery(subscribers: Subscriber[], events: CommittedEvent[], label: string) {
      const byMerchant = new Map<string, CommittedEvent[]>();
      for (const e of events) {
        const list = byMerchant.get(e.merchantId);
        if (list) list.push(e);
        else byMerchant.set(e.merchantId, [e]);
      }
      const missingOf = (s: Subscriber) => (byMerchant.get(s.merchantId) ?? []).filter((e) => !s.round.has(e.id));
      const deadline = Date.now() + DELIVERY_DEADLINE_MS;
      for (;;) {
        const problems = subscribers.filter((s) => s.problems.length);
        if (problems.length) throw new Error(`${label}: ${problems.length} subscribers failed, e.g. ${problems[0]!.problems.slice(0, 3).join('; ')}\n${tail(ctx.gatewayOutput())}`);
        const waiting = subscribers.filter((s) => missingOf(s).length);
        if (!waiting.length) break;
        if (Date.now() > deadline) {
          const missing = waiting.reduce((n, s) => n + missingOf(s).length, 0);
          throw new Error(
            `${label}: LOST EVENTS: ${missing} deliveries of ${events.length} committed events never arrived at ${waiting.length} subscribers within ${DELIVERY_DEADLINE_MS} ms ` +
              `(e.g. ${waiting[0]!.appKey}/${waiting[0]!.merchantId} missing ${missingOf(waiting[0]!).slice(0, 3).map((e) => e.id).join(', ')})\n${tail(ctx.gatewayOutput())}`,
          );
        }
        await sleep(20);
      }
      // Exactly the committed events: nothing foreign, nothing from another merchant.
      for (const s of subscribers) {
        const expected = new Set((byMerchant.get(s.merchantId) ?? []).map((e) => e.id));
        const foreign = [...s.round.keys()].filter((id) => !expected.has(id));
        if (foreign.length) throw new Error(`${label}: ${s.appKey}/${s.merchantId} received ${foreign.length} events that were not committed for it in this round (e.g. ${foreign[0]})`);
      }
    }

    const cpu = () => ctx.cpuMs(ctx.pids.gateway);
    const otherCpu = () => Object.fromEntries(Object.entries(ctx.pids).map(([name, pid]) => [name, ctx.cpuMs(pid)]));

    // d: bursts ------------------------------------------------------------------------------------
    const burstShapes = [
      { name: 'merchants', target: `${scaled(1000)}-merchants-1-subscriber-each`, merchants: scaled(1000), apps: 1 },
      { name: 'fanout', target: `${scaled(100)}-merchants-10-apps-each`, merchants: scaled(100), apps: 10 },
    ].filter((s) => SHAPES.includes(s.name));
    for (const shape of burstShapes) {
      const merchants = await setup.merchants(shape.merchants);
      const apps = await setup.apps(shape.apps);
      const orders = await setup.pendingOrders(merchants, BURSTS + 1);
      const at = new Date(Date.now() + 1);
      const streams = merchants.flatMap((merchantId) => apps.map((appKey) => ({ appKey, merchantId })));
      const openedAt = Date.now();
      const cpuBeforeOpen = cpu();
      const subscribers = await openSubscribers(streams, at);
      const openMs = Date.now() - openedAt;
      const openCpuMs = cpu() - cpuBeforeOpen;
      // Idle cost of the open subscriptions (token re-checks every 2 s).
      const idleBefore = cpu();
      await sleep(4000);
      const idleCpuShare = (cpu() - idleBefore) / 4000;

      const rounds: { latencies: number[]; fromResponse: number[]; spanMs: number; lastReceiptMs: number; cpuPerDeliveryMs: number; cpuPerDeliveryAllMs: number }[] = [];
      let duplicates = 0;
      for (let burst = 0; burst <= BURSTS; burst++) {
        for (const s of subscribers) s.startRound();
        const start = await maxPosition();
        const cpuBefore = cpu();
        const allBefore = otherCpu();
        const responses = new Map<string, number>();
        const t0 = Date.now();
        await mapLimit(merchants, PRODUCERS, async (merchantId) => {
          const orderId = orders.get(merchantId)![burst]!;
          responses.set(orderId, await payOrder(merchantId, orderId));
        });
        const spanMs = Date.now() - t0;
        const events = await committedAfter(start);
        if (events.length !== merchants.length) throw new Error(`burst: ${events.length} events committed for ${merchants.length} payments`);
        await awaitDelivery(subscribers, events, `d-channel-burst/${shape.target}`);
        const occurred = new Map(events.map((e) => [e.id, e]));
        const latencies: number[] = [];
        const fromResponse: number[] = [];
        let lastReceipt = 0;
        for (const s of subscribers) {
          for (const [id, receivedAt] of s.round) {
            const e = occurred.get(id)!;
            latencies.push(receivedAt - e.occurredAt);
            fromResponse.push(receivedAt - responses.get(e.orderId)!);
            lastReceipt = Math.max(lastReceipt, receivedAt);
          }
        }
        const deliveries = latencies.length;
        const allAfter = otherCpu();
        const allCpu = Object.keys(allAfter).reduce((sum, k) => sum + (allAfter[k]! - allBefore[k]!), 0);
        rounds.push({ latencies, fromResponse, spanMs, lastReceiptMs: lastReceipt - t0, cpuPerDeliveryMs: (cpu() - cpuBefore) / deliveries, cpuPerDeliveryAllMs: allCpu / deliveries });
        // Consumers acknowledge what they applied (after the burst, as one acknowledgement each).
        await mapLimit(subscribers, 50, (s) => s.ack());
        await sleep(1000);
      }
      duplicates = subscribers.reduce((n, s) => n + s.duplicates, 0);
      const problems = subscribers.flatMap((s) => s.problems);
      if (problems.length) throw new Error(`d-channel-burst/${shape.target}: ${problems.slice(0, 3).join('; ')}`);
      await closeAll(subscribers);

      const [cold, ...measured] = rounds;
      const all = measured.flatMap((r) => r.latencies);
      const allFromResponse = measured.flatMap((r) => r.fromResponse);
      const latency = percentiles(all);
      const lower = percentiles(allFromResponse);
      ctx.report({
        scenario: 'd-channel-burst',
        target: shape.target,
        subscribers: subscribers.length,
        merchants: merchants.length,
        subscribersPerMerchant: apps.length,
        eventsPerBurst: merchants.length,
        deliveriesPerBurst: merchants.length * apps.length,
        bursts: measured.length,
        producers: PRODUCERS,
        burstCommitSpanMs: measured.map((r) => r.spanMs),
        lastReceiptAfterFirstCommitMs: measured.map((r) => r.lastReceiptMs),
        p50: latency.p50,
        p90: latency.p90,
        p99: latency.p99,
        max: latency.max,
        p50FromResponse: lower.p50,
        p99FromResponse: lower.p99,
        perBurstP99: measured.map((r) => percentiles(r.latencies).p99),
        coldBurstP99: cold ? percentiles(cold.latencies).p99 : null,
        lost: 0,
        duplicates,
        gatewayCpuPerDeliveryMs: round(measured.reduce((a, r) => a + r.cpuPerDeliveryMs, 0) / measured.length),
        allServicesCpuPerDeliveryMs: round(measured.reduce((a, r) => a + r.cpuPerDeliveryAllMs, 0) / measured.length),
        openSubscribersMs: openMs,
        gatewayCpuPerSubscribeMs: round(openCpuMs / subscribers.length),
        idleGatewayCpuShare: round(idleCpuShare),
        targetP99Ms: 250,
      });
    }

    // e: sustained -------------------------------------------------------------------------------
    if (SHAPES.includes('sustained')) {
      const merchants = await setup.merchants(scaled(100));
      const perMerchant = Math.ceil((RATES.reduce((a, r) => a + r, 0) * ctx.duration) / merchants.length) + 1;
      const orders = await setup.pendingOrders(merchants, perMerchant);
      const subscribers = await openSubscribers(
        merchants.map((merchantId) => ({ appKey: DEMO_APP_KEY, merchantId })),
        new Date(Date.now() + 1),
      );
      // Consumers acknowledge every 200 events, and at least every second.
      for (const s of subscribers) s.ackEvery = 200;
      const ackTimer = setInterval(() => {
        const now = Date.now();
        for (const s of subscribers) if (s.unacked && now - s.lastAckAt >= 1000) void s.ack();
      }, 100);
      const nextOrder = new Map(merchants.map((m) => [m, 0]));
      try {
        await sleep(2000);
        for (const rate of RATES) {
          for (const s of subscribers) s.startRound();
          const start = await maxPosition();
          const cpuBefore = cpu();
          const responses = new Map<string, number>();
          let inWindow = 0;
          let windowEnd = Infinity;
          const t0 = Date.now();
          for (const s of subscribers) s.onEvent = (_id, at) => void (at <= windowEnd && inWindow++);
          // Open loop: issue what is due every 5 ms, at most 64 outstanding (beyond that the producer falls behind).
          let issued = 0;
          let outstanding = 0;
          let failed: unknown;
          const total = rate * ctx.duration;
          const inflight = new Set<Promise<void>>();
          while (issued < total && !failed) {
            const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate) + 1);
            while (issued < due && outstanding < 64) {
              const merchantId = merchants[issued % merchants.length]!;
              const index = nextOrder.get(merchantId)!;
              nextOrder.set(merchantId, index + 1);
              const orderId = orders.get(merchantId)![index]!;
              issued++;
              outstanding++;
              const p: Promise<void> = payOrder(merchantId, orderId)
                .then((at) => void responses.set(orderId, at))
                .catch((error: unknown) => void (failed = error))
                .finally(() => {
                  outstanding--;
                  inflight.delete(p);
                });
              inflight.add(p);
            }
            await sleep(5);
          }
          await Promise.all(inflight);
          if (failed) throw failed;
          const producedMs = Date.now() - t0;
          windowEnd = Date.now();
          const events = await committedAfter(start);
          if (events.length !== total) throw new Error(`sustained: ${events.length} events committed for ${total} payments`);
          await awaitDelivery(subscribers, events, `e-channel-sustained/${rate}`);
          const drainMs = Date.now() - windowEnd;
          for (const s of subscribers) s.onEvent = undefined;
          const occurred = new Map(events.map((e) => [e.id, e]));
          const latencies: number[] = [];
          const fromResponse: number[] = [];
          let lastReceipt = 0;
          for (const s of subscribers) {
            for (const [id, receivedAt] of s.round) {
              const e = occurred.get(id)!;
              latencies.push(receivedAt - e.occurredAt);
              fromResponse.push(receivedAt - responses.get(e.orderId)!);
              lastReceipt = Math.max(lastReceipt, receivedAt);
            }
          }
          const latency = percentiles(latencies);
          const lower = percentiles(fromResponse);
          ctx.report({
            scenario: 'e-channel-sustained',
            target: `${rate}-events-per-second`,
            subscribers: subscribers.length,
            merchants: merchants.length,
            durationSeconds: ctx.duration,
            offeredRate: rate,
            committed: events.length,
            committedPerSecond: round(events.length / (producedMs / 1000)),
            deliveredInWindowPerSecond: round(inWindow / (producedMs / 1000)),
            deliveredPerSecond: round(latencies.length / ((lastReceipt - t0) / 1000)),
            drainAfterLastCommitMs: drainMs,
            p50: latency.p50,
            p90: latency.p90,
            p99: latency.p99,
            max: latency.max,
            p50FromResponse: lower.p50,
            p99FromResponse: lower.p99,
            lost: 0,
            duplicates: subscribers.reduce((n, s) => n + s.duplicates, 0),
            acknowledgements: subscribers.reduce((n, s) => n + s.acks, 0),
            gatewayCpuPerDeliveryMs: round((cpu() - cpuBefore) / latencies.length),
          });
          await sleep(1000);
        }
      } finally {
        clearInterval(ackTimer);
      }
      await mapLimit(subscribers, 50, (s) => s.ack());
      const problems = subscribers.flatMap((s) => s.problems);
      if (problems.length) throw new Error(`e-channel-sustained: ${problems.slice(0, 3).join('; ')}`);
      await closeAll(subscribers);
    }

    // f: backlog ----------------------------------------------------------------------------------
    if (SHAPES.includes('backlog')) {
      const merchantId = ctx.seed.merchantIds[0]!;
      const token = await mint(DEMO_APP_KEY, merchantId);
      const subscriber = new Subscriber(DEMO_APP_KEY, merchantId, token, ctx.gatewayUrl);
      open.push(subscriber);
      // The stream starts after everything the seed wrote.
      await subscriber.request(RESET, { at: new Date(Date.now() + 1).toISOString() });
      const start = await maxPosition();
      const insertStarted = Date.now();
      await insertBacklog(sqlPool, merchantId, BACKLOG_EVENTS);
      const insertMs = Date.now() - insertStarted;
      const ids = new Set((await sqlPool.query<{ id: string }>('select id from "order".outbox_events where position > $1 and merchant_id = $2', [start, merchantId])).rows.map((r) => r.id));
      if (ids.size !== BACKLOG_EVENTS) throw new Error(`backlog: ${ids.size} events inserted, ${BACKLOG_EVENTS} wanted`);

      subscriber.ackEvery = 200;
      let firstAt = 0;
      let lastAt = 0;
      const progress: number[] = [];
      subscriber.onEvent = (_id, at) => {
        firstAt ||= at;
        lastAt = at;
      };
      const cpuBefore = cpu();
      const allBefore = otherCpu();
      const t0 = Date.now();
      subscriber.subscribe();
      const deadline = t0 + Math.max(DELIVERY_DEADLINE_MS, BACKLOG_EVENTS * 20);
      let lastCount = 0;
      let lastProgressAt = Date.now();
      while (subscriber.round.size < BACKLOG_EVENTS) {
        if (subscriber.problems.length) throw new Error(`f-channel-backlog: ${subscriber.problems.slice(0, 3).join('; ')}\n${tail(ctx.gatewayOutput())}`);
        const now = Date.now();
        if (subscriber.round.size !== lastCount) {
          lastCount = subscriber.round.size;
          lastProgressAt = now;
        }
        if (now > deadline || now - lastProgressAt > 60_000) {
          throw new Error(`f-channel-backlog: LOST EVENTS or stalled: ${subscriber.round.size} of ${BACKLOG_EVENTS} received after ${now - t0} ms\n${tail(ctx.gatewayOutput())}`);
        }
        if (progress.length < Math.floor((now - t0) / 10_000)) {
          progress.push(subscriber.round.size);
          if (env.BENCH_VERBOSE) console.error(`backlog: ${subscriber.round.size} after ${now - t0} ms`);
        }
        await sleep(50);
      }
      await subscriber.ack();
      const missing = [...ids].filter((id) => !subscriber.round.has(id));
      const foreign = [...subscriber.round.keys()].filter((id) => !ids.has(id));
      if (missing.length || foreign.length) throw new Error(`f-channel-backlog: ${missing.length} events lost, ${foreign.length} foreign`);
      const seconds = (lastAt - t0) / 1000;
      const allAfter = otherCpu();
      ctx.report({
        scenario: 'f-channel-backlog',
        target: '1-subscriber',
        subscribers: 1,
        events: BACKLOG_EVENTS,
        distinctOrders: Number((await sqlPool.query<{ n: string }>('select count(*) as n from "order".orders where merchant_id = $1', [merchantId])).rows[0]!.n),
        acknowledgeEvery: 200,
        insertMs,
        firstEventMs: firstAt - t0,
        catchUpSeconds: round(seconds),
        eventsPerSecond: round(BACKLOG_EVENTS / seconds),
        receivedPer10s: progress.map((n, i) => n - (progress[i - 1] ?? 0)),
        lost: 0,
        duplicates: subscriber.duplicates,
        acknowledgements: subscriber.acks,
        gatewayCpuPerEventMs: round((cpu() - cpuBefore) / BACKLOG_EVENTS),
        cpuPerEventMs: Object.fromEntries(Object.keys(allAfter).map((k) => [k, round((allAfter[k]! - allBefore[k]!) / BACKLOG_EVENTS)])),
      });
      await subscriber.close();
      open.splice(open.indexOf(subscriber), 1);
    }
  } finally {
    await Promise.allSettled(open.map((s) => s.close()));
    await sqlPool.end();
    await database.close();
  }
}

/** The last lines the gateway printed. */
function tail(output: string, lines = 20): string {
  const all = output.trim().split('\n');
  return all.length && all[0] ? `gateway output (last ${Math.min(lines, all.length)} of ${all.length} lines):\n${all.slice(-lines).join('\n')}` : 'gateway printed nothing';
}

/**
 * Inserts a backlog of order events for one merchant in one transaction, as the outbox writer does
 * (core/outbox.ts: the per-merchant ordering lock, then the rows, then one NOTIFY). The events name
 * the merchant's real orders (repeated), so `order { ... }` resolves.
 */
async function insertBacklog(pool: pg.Pool, merchantId: string, count: number) {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(`select pg_advisory_xact_lock(hashtext('order.outbox'), hashtext($1))`, [merchantId]);
    await client.query(
      `insert into "order".outbox_events (id, merchant_id, aggregate_type, aggregate_id, type, payload, occurred_at)
       select gen_random_uuid(), $1::uuid, 'order', o.ids[1 + g % o.n], 'order.paid',
              jsonb_build_object('orderId', o.ids[1 + g % o.n], 'status', 'PAID', 'previousStatus', 'PENDING_PAYMENT'), clock_timestamp()
       from generate_series(0, $2::int - 1) g,
            (select array_agg(id::text order by id) as ids, count(*)::int as n from "order".orders where merchant_id = $1::uuid) o`,
      [merchantId, count],
    );
    await client.query(`select pg_notify('portico_outbox', 'order:' || $1 || ':' || (select max(position) from "order".outbox_events where merchant_id = $1::uuid))`, [merchantId]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

/** Merchants, apps and orders for the scenarios, written through the subgraphs' own stores (as the seed does). */
function createSetup(database: Database) {
  const accounts = createAccountStore(database.db);
  const appStore = createAppManagementStore(database.db);
  const orderStore = createOrderStore(database.db);
  const merchants: string[] = [];
  const apps: string[] = [DEMO_APP_KEY];
  return {
    /** The first n bench merchants (created when missing). */
    async merchants(n: number): Promise<string[]> {
      const missing = Array.from({ length: Math.max(0, n - merchants.length) }, (_, i) => merchants.length + i);
      const created = await mapLimit(missing, 8, async (i) => (await accounts.createMerchant({ name: `Bench Merchant ${i}`, contactEmail: `bench${i}@merchants.example` })).id);
      merchants.push(...created);
      return merchants.slice(0, n);
    },
    /** The demo app and n - 1 more apps holding the same packages (another ERP, a WMS...). */
    async apps(n: number): Promise<string[]> {
      if (apps.length < n) {
        const packages = (await appStore.listPackages()).filter((p) => p.scopes.includes('orders:read') || p.scopes.includes('messages:orders'));
        const developer = await appStore.createDeveloper({ kind: 'COMPANY', name: 'Bench Apps Ltd.', email: `bench-${crypto.randomUUID()}@apps.example`, verificationStatus: 'VERIFIED' });
        while (apps.length < n) {
          const { app } = await appStore.createApp({ key: `app_bench_${apps.length}`, name: `Bench App ${apps.length}`, developerId: developer.id, status: 'LIVE' });
          for (const p of packages) await appStore.grantPackage('system:bench', { appKey: app.key, packageId: p.id, reason: 'bench' });
          apps.push(app.key);
        }
      }
      return apps.slice(0, n);
    },
    /** `perMerchant` orders in PENDING_PAYMENT for each merchant, to be paid by the scenarios. */
    async pendingOrders(merchantIds: string[], perMerchant: number): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>(merchantIds.map((m) => [m, []]));
      const jobs = merchantIds.flatMap((m) => Array.from({ length: perMerchant }, () => m));
      const currency = 'USD';
      await mapLimit(jobs, 8, async (merchantId) => {
        const order = await orderStore.insertOrder(merchantId, {
          lines: [{ productId: crypto.randomUUID(), skuId: crypto.randomUUID(), productTitle: 'Bench Widget', skuCode: 'BENCH-1', quantity: 1, unitPrice: { amount: 1999, currency } }],
          shippingAddress: { name: 'Bench Buyer', phone: null, line1: '1 Bench Street', line2: null, city: 'Seattle', region: 'WA', postalCode: '98101', country: 'US' },
        });
        out.get(merchantId)!.push(order.id);
      });
      return out;
    },
  };
}
