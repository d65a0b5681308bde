/**
 * Message-channel scenarios of `npm run bench` (`BENCH_ONLY=channel` runs only these), against the
 * stack run.ts started (the gateway has DATABASE_URL, so it serves subscriptions). Every subscriber
 * is its own graphql-ws client on its own WebSocket, token per app and merchant, subscribed to
 * `orderEvents { id cursor type order { id number status } }` (`order` resolves through the order
 * subgraph for every push).
 *
 * d. burst: 1,000 subscribers on one gateway receive a burst of order events. Two shapes:
 *    1,000 merchants with one subscriber each (one event per merchant), and fan-out: 100 merchants
 *    with 10 apps subscribed each (one event per merchant, ten deliveries of it). Each burst is made
 *    two ways, alternated after BENCH_CHANNEL_WARMUP (3) warm-up bursts of each: real `payOrder` mutations (PENDING_PAYMENT → PAID:
 *    order, history and outbox row in one transaction, then NOTIFY), sent straight to the order
 *    subgraph with a context token as the gateway would forward them, BENCH_CHANNEL_PRODUCERS (16)
 *    at a time, so that the gateway under test spends its CPU on delivery only; and the same number
 *    of events committed in ONE transaction into the order outbox (what a true burst is: the order
 *    subgraph alone cannot commit 1,000 payments at once on this machine). Consumers acknowledge
 *    once each after every burst.
 * e. sustained: 100 subscribers (100 merchants, one app), events produced open-loop at each rate of
 *    BENCH_CHANNEL_RATES for BENCH_DURATION seconds, each event its own transaction into the order
 *    outbox (BENCH_CHANNEL_PRODUCER=api: payOrder mutations instead, which the order subgraph caps
 *    lower); delivered events/s and latency; consumers acknowledge every 200 events and at least
 *    every BENCH_CHANNEL_ACK_MS (5 s).
 * f. backlog: one subscriber catches up BENCH_BACKLOG_EVENTS (100,000) events, bulk-inserted in one
 *    transaction for a seed merchant's 110 real orders, from its cursor, acknowledging every 200.
 *
 * Outbox writes by the bench take what core/outbox.ts takes: the per-merchant ordering lock, the
 * rows, one NOTIFY per merchant with its last position, in the same transaction.
 *
 * Latency "from commit": `occurred_at` is taken before the commit (by the order subgraph for
 * payOrder, clock_timestamp() at insert for the outbox writes), so latency from it is an upper
 * bound (it includes the transaction); the lines also give the latency from the moment the producer
 * saw the commit done (mutation response, COMMIT returned), a lower bound. Same machine, same clock.
 *
 * Every round checks that every committed event reached every subscriber of its merchant, and only
 * those: a lost, foreign or failed event fails the run (duplicates are counted, allowed by the
 * at-least-once contract).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Client } from 'graphql-ws';
import pg from 'pg';
import { connectWs, requestOver } from './ws-client.js';
import { openPostgres, type Database } from '../core/db.js';
import { encodeOutboxNotification as outboxNotification } from '../messages/notifications.js';
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
/**
 * Warm-up bursts of each producer before the measured ones (reported apart, not counted): the
 * services' code is not yet optimized by V8 after one (in the first sessions' runs the order
 * subgraph spent 150-190 ms of CPU on each of the two bursts after a single warm-up, 70-90 ms on the
 * later ones; the gateway likewise), so with one the measured figures were partly those of a start.
 */
const WARM_UP_BURSTS = Number(env.BENCH_CHANNEL_WARMUP ?? 3);
const RATES = (env.BENCH_CHANNEL_RATES ?? '100,200,400,800').split(',').map(Number).filter((n) => n > 0);
/** Who produces the sustained events: `sql` (one transaction per event into the outbox) or `api` (payOrder). */
const PRODUCER = env.BENCH_CHANNEL_PRODUCER ?? 'sql';
const BACKLOG_EVENTS = Number(env.BENCH_BACKLOG_EVENTS ?? 100_000);
/** Concurrent payOrder mutations while producing a burst. */
const PRODUCERS = Number(env.BENCH_CHANNEL_PRODUCERS ?? 16);
/** How long every event may take to arrive before the run fails. */
const DELIVERY_DEADLINE_MS = Number(env.BENCH_CHANNEL_DEADLINE_MS ?? 120_000);
/** Which burst producers run (both by default, alternated): `payOrder`, `one-transaction`. */
const BURST_KINDS = (env.BENCH_CHANNEL_BURST_KINDS ?? 'payOrder,one-transaction').split(',');
const SHAPES = (env.BENCH_CHANNEL_SHAPES ?? 'merchants,fanout,sustained,backlog').split(',');
/** Scales the subscriber counts down for quick iterations (1: the documented shapes). */
const SCALE = Number(env.BENCH_CHANNEL_SCALE ?? 1);
const scaled = (n: number) => Math.max(1, Math.round(n * SCALE));

/** What each subscriber selects: `entity` (the order, resolved through the order subgraph for every push) or `event` (the event's own fields only). */
const SELECTION = env.BENCH_CHANNEL_SELECTION === 'event' ? 'event' : 'entity';
const ORDER_EVENTS =
  SELECTION === 'entity'
    ? 'subscription BenchOrders { orderEvents { id cursor type order { id number status } } }'
    : 'subscription BenchOrders { orderEvents { id cursor type status } }';
const ACKNOWLEDGE = 'mutation BenchAck($upTo: MessageCursor!) { acknowledgeMessages(upTo: $upTo) { acknowledgedCursor } }';
const RESET = 'mutation BenchReset($at: DateTime!) { resetMessageCursor(to: { time: $at, topics: [ORDERS] }) { acknowledgedCursor } }';
const PAY = 'mutation BenchPay($id: ID!) { payOrder(input: { orderId: $id }) { order { id status } } }';
const SCOPE = 'orders:read messages:orders';

/** Sustained: consumers acknowledge every 200 events, and at least this often (ms). */
const ACK_MS = Number(env.BENCH_CHANNEL_ACK_MS ?? 5000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * CPU time of the whole machine so far (/proc/stat, clock ticks): was the box saturated? `busy` is
 * what ran on this VM (steal excluded); `steal` is time the host gave our vCPUs to someone else
 * while they had work (this is a shared VM: a burst slowed by the host shows here, not in `busy`).
 */
function machineCpu(): { busy: number; steal: number; total: number } {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const steal = fields[7] ?? 0;
    return { busy: total - fields[3]! - fields[4]! - steal, steal, total };
  } catch {
    return { busy: NaN, steal: NaN, total: NaN };
  }
}

/**
 * CPU time (ms) of the PostgreSQL server so far: every postgres process (backends of every database
 * on the server, and its own processes), plus what the postmaster's exited children used (cutime,
 * cstime), so that a backend closing between two readings does not take its time with it.
 */
export function postgresCpuMs(): number {
  let ticks = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      const fields = fs.readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]); // utime stime cutime cstime
    } catch {
      /* gone */
    }
  }
  return (ticks * 1000) / 100; // clock ticks (USER_HZ 100)
}

/**
 * CPU time (ms) so far of each PostgreSQL process of the bench's database and of the server's own
 * processes (WAL writer, checkpointer...), keyed by pid, with its client's application_name (the
 * services name their pools: portico-gateway, portico-order, portico-gateway-listen...) or its
 * backend type. Compared per pid between two readings, so that a burst's server time can be split by
 * who asked for it.
 */
async function postgresCpuByPid(pool: pg.Pool): Promise<Map<number, { name: string; ms: number }>> {
  const { rows } = await pool.query<{ pid: number; name: string }>(
    `select pid, case when datname = current_database() and application_name <> '' then application_name else backend_type end as name
     from pg_stat_activity where datname = current_database() or datname is null`,
  );
  const out = new Map<number, { name: string; ms: number }>();
  for (const { pid, name } of rows) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(pid, { name, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** PostgreSQL CPU (ms) between two readings of postgresCpuByPid, per client name (processes in both readings only). */
function postgresCpuByClient(before: Map<number, { name: string; ms: number }>, after: Map<number, { name: string; ms: number }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, { name, ms }] of after) {
    const then = before.get(pid);
    if (then) out[name] = (out[name] ?? 0) + ms - then.ms;
  }
  return out;
}

/**
 * CPU time (ms) of one thread of a process so far: a process's main thread has the process's id
 * (its JavaScript runs there; V8's GC helpers and a gateway's record worker are other threads).
 */
function threadCpuMs(pid: number | undefined, tid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** Measures a stretch: the machine's busy and stolen shares (of all cores) and this bench process's CPU share (of one core). */
function stretch() {
  const machine = machineCpu();
  const own = process.cpuUsage();
  const start = Date.now();
  return () => {
    const m = machineCpu();
    const used = process.cpuUsage(own);
    const total = m.total - machine.total;
    return { machineCpuBusy: round((m.busy - machine.busy) / total), machineCpuStolen: round((m.steal - machine.steal) / total), benchClientCpuShare: round((used.user + used.system) / 1000 / Math.max(1, Date.now() - start)) };
  };
}
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
  const ms = (n: number | undefined) => (n === undefined ? NaN : Math.round(n * 10) / 10);
  return { p50: ms(at(50)), p90: ms(at(90)), p99: ms(at(99)), max: ms(sorted.at(-1)), samples: sorted.length };
}

interface OrderEventMessage {
  data?: { orderEvents?: { id: string; cursor: string; type: string; order?: { id: string; number: string; status: string } | null } } | null;
  errors?: { message: string }[];
}

/**
 * What all subscribers received since the last startRound(), and the problems they met: waiting for
 * a burst polls these two numbers, not every subscriber (the bench shares the machine with what it
 * measures, so its own bookkeeping during a burst must cost next to nothing).
 */
const tally = { received: 0, problems: 0 };

/** One WebSocket connection (one token: one app acting for one merchant) with one orderEvents subscription. */
class Subscriber {
  readonly client: Client;
  /** Event id → receipt time (ms since epoch), since the last startRound(). */
  round = new Map<string, number>();
  /** Every event id ever received, to count duplicates across rounds. */
  private seen = new Set<string>();
  duplicates = 0;
  received = 0;
  readonly problems = {
    list: [] as string[],
    push(problem: string) {
      tally.problems++;
      this.list.push(problem);
    },
  };
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
    this.client = connectWs(url, token);
  }

  /** A query or mutation over this connection. */
  request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    return requestOver<T>(this.client, query, variables);
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
    if (SELECTION === 'entity' && !event.order) this.problems.push(`event ${event.id}: order is null`);
    this.received++;
    this.lastCursor = event.cursor;
    this.unacked++;
    if (this.seen.has(event.id)) {
      this.duplicates++;
      return;
    }
    this.seen.add(event.id);
    this.round.set(event.id, at);
    tally.received++;
    if (this.unacked >= this.ackEvery) void this.ack();
    this.onEvent?.(event.id, at);
  }

  /** A new round: its receipts, and the tally's count, start from nothing. */
  startRound() {
    this.round = new Map();
    tally.received = 0;
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
  /** `occurred_at`: taken when the event was written, before the rest of its transaction. */
  occurredAt: number;
  /**
   * The last moment known before the commit: for the outbox producers, the database clock after the
   * transaction's last statement, just before COMMIT; for payOrder (whose transaction the order
   * subgraph runs), `occurred_at`. Latency from here is an upper bound.
   */
  commitIssuedAt: number;
  /** When the producer saw the commit done (mutation response, or COMMIT returned): a lower bound. */
  committedAt: number;
}

/**
 * Commit-to-receipt latencies of one round: from just before COMMIT (upper bound), from the
 * producer's commit (lower bound), and from `occurred_at` (the upper bound of sessions before
 * 2026-12-01, which also counted the rest of the producer's transaction).
 */
function latenciesOf(subscribers: Subscriber[], events: CommittedEvent[]) {
  const byId = new Map(events.map((e) => [e.id, e]));
  const upper: number[] = [];
  const lower: number[] = [];
  const fromOccurred: number[] = [];
  let lastReceipt = 0;
  for (const s of subscribers) {
    for (const [id, receivedAt] of s.round) {
      const e = byId.get(id)!;
      upper.push(receivedAt - e.commitIssuedAt);
      lower.push(receivedAt - e.committedAt);
      fromOccurred.push(receivedAt - e.occurredAt);
      lastReceipt = Math.max(lastReceipt, receivedAt);
    }
  }
  return { upper, lower, fromOccurred, lastReceipt };
}

export async function runChannelScenarios(ctx: ChannelBenchContext): Promise<void> {
  const database = await openPostgres(ctx.dbUrl, 8, 'bench-channel');
  /** The bench's own connections for the outbox writes and reads (not the services'). */
  const sqlPool = new pg.Pool({ connectionString: ctx.dbUrl, max: 8, application_name: 'bench-channel-sql' });
  const signContext = createContextSigner(ctx.keys.context, 3600);
  const open: Subscriber[] = [];
  try {
    const setup = createSetup(database);
    // Tokens as the passport issues them: each names the merchant's authorization of the app (its
    // grant), which the gateway re-checks for every request and every open subscription.
    const mint = async (appKey: string, merchantId: string) =>
      mintAccessToken(ctx.keys, { issuer: ctx.publicUrl, audience: 'urn:portico:api', appKey, merchantId, scope: SCOPE, ttlSeconds: 7200, grantId: await setup.authorize(appKey, merchantId) });

    /** Opens subscribers, each after resetting its stream to `at` (past the setup's own events) over its connection. */
    async function openSubscribers(streams: { appKey: string; merchantId: string }[], at: Date): Promise<Subscriber[]> {
      return mapLimit(streams, 20, async ({ appKey, merchantId }) => {
        const subscriber = new Subscriber(appKey, merchantId, await mint(appKey, merchantId), ctx.gatewayUrl);
        open.push(subscriber);
        await subscriber.request(RESET, { at: at.toISOString() });
        subscriber.subscribe();
        return subscriber;
      });
    }

    async function closeAll(subscribers: Subscriber[]) {
      await Promise.all(subscribers.map((s) => s.close()));
      for (const s of subscribers) open.splice(open.indexOf(s), 1);
    }

    const maxPosition = async () => Number((await sqlPool.query<{ p: string }>('select coalesce(max(position), 0) as p from "order".outbox_events')).rows[0]!.p);
    /** The events committed after a position, with the producer's commit times (keyed by event id, or by order id for payOrder). */
    /** Per event id, the database clock just before its transaction's COMMIT (the outbox producers). */
    const commitIssued = new Map<string, number>();
    async function committedAfter(position: number, commits: Map<string, number>): Promise<CommittedEvent[]> {
      const { rows } = await sqlPool.query<{ id: string; merchant_id: string; aggregate_id: string; at: string }>(
        `select id, merchant_id, aggregate_id, (extract(epoch from occurred_at) * 1000)::float8 as at from "order".outbox_events where position > $1 order by position`,
        [position],
      );
      return rows.map((r) => {
        const committedAt = commits.get(r.id) ?? commits.get(r.aggregate_id);
        if (committedAt === undefined) throw new Error(`event ${r.id} was not produced by this round`);
        const occurredAt = Number(r.at);
        return { id: r.id, merchantId: r.merchant_id, orderId: r.aggregate_id, occurredAt, commitIssuedAt: commitIssued.get(r.id) ?? occurredAt, committedAt };
      });
    }

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

    /**
     * Commits order events straight into the order outbox in one transaction, as core/outbox.ts
     * writes them: the per-merchant ordering locks (sorted), the rows, one NOTIFY per merchant with
     * its last position and its events (outboxNotification). Each event names a real order of its merchant. Returns when COMMIT returned.
     * Records, per event, the database clock after the NOTIFYs, just before COMMIT (commitIssued).
     */
    async function commitOutbox(events: { merchantId: string; orderId: string }[], commits: Map<string, number>): Promise<void> {
      const ids = events.map(() => crypto.randomUUID());
      const client = await sqlPool.connect();
      try {
        await client.query('begin');
        await client.query(`select pg_advisory_xact_lock(hashtext('order.outbox'), hashtext(m)) from (select distinct unnest($1::text[]) as m order by 1) x`, [events.map((e) => e.merchantId)]);
        const inserted = await client.query<{ position: string; id: string; merchant_id: string; aggregate_id: string; payload: Record<string, unknown>; occurred_at: Date }>(
          `insert into "order".outbox_events (id, merchant_id, aggregate_type, aggregate_id, type, payload, occurred_at)
           select e.id, e.merchant_id, 'order', e.order_id, 'order.paid',
                  jsonb_build_object('orderId', e.order_id, 'status', 'PAID', 'previousStatus', 'PENDING_PAYMENT'), clock_timestamp()
           from unnest($1::uuid[], $2::uuid[], $3::text[]) as e(id, merchant_id, order_id)
           returning position, id, merchant_id, aggregate_id, payload, occurred_at`,
          [ids, events.map((e) => e.merchantId), events.map((e) => e.orderId)],
        );
        // One NOTIFY per merchant, as core/outbox.ts sends them.
        const byMerchant = new Map<string, Parameters<typeof outboxNotification>[2][number][]>();
        for (const r of inserted.rows) {
          const rows = byMerchant.get(r.merchant_id) ?? [];
          rows.push({ position: Number(r.position), id: r.id, aggregateType: 'order', aggregateId: r.aggregate_id, type: 'order.paid', payload: r.payload, occurredAt: r.occurred_at });
          byMerchant.set(r.merchant_id, rows);
        }
        const notifications = [...byMerchant].map(([merchantId, rows]) => outboxNotification('order', merchantId, rows));
        const notified = await client.query<{ at: number }>(
          `select (extract(epoch from max(t)) * 1000)::float8 as at from (select pg_notify('portico_outbox', n), clock_timestamp() as t from unnest($1::text[]) as n) x`,
          [notifications],
        );
        const issuedAt = Number(notified.rows[0]!.at);
        for (const id of ids) commitIssued.set(id, issuedAt);
        await client.query('commit');
      } catch (error) {
        await client.query('rollback');
        throw error;
      } finally {
        client.release();
      }
      const at = Date.now();
      for (const id of ids) commits.set(id, at);
    }

    /**
     * Waits until every subscriber received every committed event of its merchant; fails the run
     * otherwise. While the deliveries come, it watches only the tally (how many arrived); the
     * committed events are read from the database, and checked one by one, once they have: neither
     * a query nor a scan of the subscribers competes with the deliveries being measured.
     */
    async function awaitDelivery(subscribers: Subscriber[], expectedDeliveries: number, readEvents: () => Promise<CommittedEvent[]>, label: string): Promise<CommittedEvent[]> {
      const deadline = Date.now() + DELIVERY_DEADLINE_MS;
      while (tally.received < expectedDeliveries && !tally.problems && Date.now() <= deadline) await sleep(10);
      const events = await readEvents();
      const byMerchant = new Map<string, CommittedEvent[]>();
      for (const e of events) {
        const list = byMerchant.get(e.merchantId);
        if (list) list.push(e);
        else byMerchant.set(e.merchantId, [e]);
      }
      const missingOf = (s: Subscriber) => (byMerchant.get(s.merchantId) ?? []).filter((e) => !s.round.has(e.id));
      for (;;) {
        const problems = subscribers.filter((s) => s.problems.list.length);
        if (problems.length) throw new Error(`${label}: ${problems.length} subscribers failed, e.g. ${problems[0]!.problems.list.slice(0, 3).join('; ')}\n${tail(ctx.gatewayOutput())}`);
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
      return events;
    }

    const cpu = () => ctx.cpuMs(ctx.pids.gateway);
    /** CPU (ms) so far of each service, of PostgreSQL (all its processes) and of this bench process (the clients and producers). */
    const services = (): Record<string, number> => {
      const own = process.cpuUsage();
      return {
        ...Object.fromEntries(Object.entries(ctx.pids).map(([name, pid]) => [name, ctx.cpuMs(pid)])),
        // The gateway's main thread alone: what a burst's last delivery waits for.
        gatewayMainThread: threadCpuMs(ctx.pids.gateway, ctx.pids.gateway),
        postgres: postgresCpuMs(),
        bench: (own.user + own.system) / 1000,
      };
    };
    const perUnit = (before: Record<string, number>, after: Record<string, number>, n: number) =>
      Object.fromEntries(Object.keys(after).map((k) => [k, round((after[k]! - (before[k] ?? 0)) / n)]));
    const sumOf = (records: Record<string, number>[]) => {
      const out: Record<string, number> = {};
      for (const r of records) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
      return out;
    };

    // d: bursts ------------------------------------------------------------------------------------
    const burstShapes = [
      { name: 'merchants', target: `${scaled(1000)}-merchants-1-subscriber-each`, merchants: scaled(1000), apps: 1 },
      { name: 'fanout', target: `${scaled(100)}-merchants-10-apps-each`, merchants: scaled(100), apps: 10 },
    ].filter((s) => SHAPES.includes(s.name));
    for (const shape of burstShapes) {
      const merchants = await setup.merchants(shape.merchants);
      const apps = await setup.apps(shape.apps);
      const orders = await setup.pendingOrders(merchants, BURSTS + WARM_UP_BURSTS);
      const at = new Date(Date.now() + 1);
      const streams = merchants.flatMap((merchantId) => apps.map((appKey) => ({ appKey, merchantId })));
      const openedAt = Date.now();
      const cpuBeforeOpen = cpu();
      const subscribers = await openSubscribers(streams, at);
      const openMs = Date.now() - openedAt;
      const openCpuMs = cpu() - cpuBeforeOpen;
      // What the open subscriptions cost while nothing happens (each re-checks its token every 2 s).
      await sleep(2000);
      const idleBefore = cpu();
      const idleServicesBefore = services();
      await sleep(4000);
      const idleCpuShare = (cpu() - idleBefore) / 4000;
      // Share of a core each part spends on the open subscriptions (their re-checks ask the account subgraph).
      const idleCpuShares = Object.fromEntries(Object.entries(perUnit(idleServicesBefore, services(), 4000)).filter(([name]) => name !== 'bench'));

      type Round = {
        kind: 'payOrder' | 'one-transaction';
        upper: number[];
        lower: number[];
        fromOccurred: number[];
        spanMs: number;
        lastReceiptMs: number;
        gatewayCpuMs: number;
        cpuMs: Record<string, number>;
        postgresByClient: Record<string, number>;
        deliveries: number;
        machine: { machineCpuBusy: number; machineCpuStolen: number; benchClientCpuShare: number };
      };
      const rounds: Round[] = [];
      // WARM_UP_BURSTS rounds of each kind (reported on their own, not counted), then BURSTS rounds of each kind, alternated.
      const kinds = (['payOrder', 'one-transaction'] as const).filter((kind) => BURST_KINDS.includes(kind));
      const warmUps: Round['kind'][] = Array.from({ length: WARM_UP_BURSTS }, () => kinds).flat();
      const plan: Round['kind'][] = [...warmUps, ...Array.from({ length: BURSTS }, () => kinds).flat()];
      let paid = 0;
      for (const kind of plan) {
        for (const s of subscribers) s.startRound();
        const start = await maxPosition();
        const cpuBefore = cpu();
        const servicesBefore = services();
        const postgresBefore = await postgresCpuByPid(sqlPool);
        const commits = new Map<string, number>();
        const measure = stretch();
        const t0 = Date.now();
        if (env.BENCH_VERBOSE) console.error(`burst ${kind} starts at monotonic ${process.hrtime.bigint() / 1000n} µs`);
        if (kind === 'payOrder') {
          const index = paid++;
          await mapLimit(merchants, PRODUCERS, async (merchantId) => {
            const orderId = orders.get(merchantId)![index]!;
            commits.set(orderId, await payOrder(merchantId, orderId));
          });
        } else {
          await commitOutbox(merchants.map((merchantId) => ({ merchantId, orderId: orders.get(merchantId)![0]! })), commits);
        }
        const spanMs = Date.now() - t0;
        const events = await awaitDelivery(subscribers, subscribers.length, () => committedAfter(start, commits), `d-channel-burst/${shape.target}/${kind}`);
        if (events.length !== merchants.length) throw new Error(`burst: ${events.length} events committed for ${merchants.length} merchants`);
        const machine = measure();
        const { upper, lower, fromOccurred, lastReceipt } = latenciesOf(subscribers, events);
        if (env.BENCH_VERBOSE) {
          const sorted = [...upper].sort((a, b) => a - b);
          const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
          console.error(`burst ${kind}: latency (ms) min ${at(0)} p10 ${at(0.1)} p25 ${at(0.25)} p50 ${at(0.5)} p75 ${at(0.75)} p90 ${at(0.9)} p99 ${at(0.99)} max ${at(1)}`);
          // Receipts per 10 ms since just before COMMIT: how they arrive over the burst (waves, stalls).
          const buckets = new Array<number>(Math.floor(sorted.at(-1)! / 10) + 1).fill(0);
          for (const l of sorted) buckets[Math.max(0, Math.floor(l / 10))]!++;
          console.error(`burst ${kind}: receipts per 10 ms: ${buckets.join(' ')}`);
        }
        const cpuMs = perUnit(servicesBefore, services(), 1);
        const postgresByClient = postgresCpuByClient(postgresBefore, await postgresCpuByPid(sqlPool));
        rounds.push({ kind, upper, lower, fromOccurred, spanMs, lastReceiptMs: lastReceipt - t0, gatewayCpuMs: cpu() - cpuBefore, cpuMs, postgresByClient, deliveries: upper.length, machine });
        // Consumers acknowledge what they applied, once each after the burst.
        await mapLimit(subscribers, 50, (s) => s.ack());
        await sleep(1000);
      }
      const problems = subscribers.flatMap((s) => s.problems.list);
      if (problems.length) throw new Error(`d-channel-burst/${shape.target}: ${problems.slice(0, 3).join('; ')}`);
      const duplicates = subscribers.reduce((n, s) => n + s.duplicates, 0);
      await closeAll(subscribers);

      const cold = rounds.slice(0, warmUps.length);
      const measured = rounds.slice(warmUps.length);
      for (const kind of kinds) {
        const mine = measured.filter((r) => r.kind === kind);
        const latency = percentiles(mine.flatMap((r) => r.upper));
        const lower = percentiles(mine.flatMap((r) => r.lower));
        const fromOccurred = percentiles(mine.flatMap((r) => r.fromOccurred));
        const deliveries = mine.reduce((n, r) => n + r.deliveries, 0);
        ctx.report({
          scenario: 'd-channel-burst',
          target: `${shape.target}/${kind}`,
          subscribers: subscribers.length,
          merchants: merchants.length,
          subscribersPerMerchant: apps.length,
          eventsPerBurst: merchants.length,
          deliveriesPerBurst: merchants.length * apps.length,
          bursts: mine.length,
          producer: kind === 'payOrder' ? `payOrder mutations on the order subgraph, ${PRODUCERS} at a time` : 'one transaction into the order outbox',
          burstCommitSpanMs: mine.map((r) => r.spanMs),
          lastReceiptAfterFirstCommitMs: mine.map((r) => r.lastReceiptMs),
          p50: latency.p50,
          p90: latency.p90,
          p99: latency.p99,
          max: latency.max,
          p50FromCommitReturned: lower.p50,
          p99FromCommitReturned: lower.p99,
          p50FromOccurredAt: fromOccurred.p50,
          p99FromOccurredAt: fromOccurred.p99,
          perBurstP99: mine.map((r) => percentiles(r.upper).p99),
          warmUpBurstsP99: cold.filter((r) => r.kind === kind).map((r) => percentiles(r.upper).p99),
          lost: 0,
          duplicatesAllRounds: duplicates,
          gatewayCpuPerDeliveryMs: round(mine.reduce((a, r) => a + r.gatewayCpuMs, 0) / deliveries),
          cpuPerDeliveryMs: perUnit({}, sumOf(mine.map((r) => r.cpuMs)), deliveries),
          // Per burst, the CPU the busiest parts spent (ms): a slow burst shows which part it waited on.
          cpuMsPerBurst: Object.fromEntries(['gateway', 'gatewayMainThread', 'order', 'postgres', 'bench'].map((name) => [name, mine.map((r) => Math.round(r.cpuMs[name] ?? NaN))])),
          // PostgreSQL's share of each burst by who asked (application_name, or the server's own process type).
          postgresCpuMsPerBurstByClient: Object.fromEntries(
            [...new Set(mine.flatMap((r) => Object.keys(r.postgresByClient)))]
              .map((name) => [name, mine.map((r) => Math.round(r.postgresByClient[name] ?? 0))] as const)
              .filter(([, values]) => values.some((v) => v > 0))
              .sort(([a], [b]) => a.localeCompare(b)),
          ),
          machineCpuBusy: mine.map((r) => r.machine.machineCpuBusy),
          machineCpuStolen: mine.map((r) => r.machine.machineCpuStolen),
          benchClientCpuShare: mine.map((r) => r.machine.benchClientCpuShare),
          openSubscribersMs: openMs,
          gatewayCpuPerConnectionSetupMs: round(openCpuMs / subscribers.length),
          idleGatewayCpuShare: round(idleCpuShare),
          idleCpuShares,
          targetP99Ms: 250,
        });
      }
    }

    // e: sustained -------------------------------------------------------------------------------
    if (SHAPES.includes('sustained')) {
      const merchants = await setup.merchants(scaled(100));
      const api = PRODUCER === 'api';
      const perMerchant = api ? Math.ceil((RATES.reduce((a, r) => a + r, 0) * ctx.duration) / merchants.length) + 1 : 1;
      const orders = await setup.pendingOrders(merchants, perMerchant);
      const subscribers = await openSubscribers(
        merchants.map((merchantId) => ({ appKey: DEMO_APP_KEY, merchantId })),
        new Date(Date.now() + 1),
      );
      // Consumers acknowledge as they go: every 200 events, and at least every ACK_MS.
      for (const s of subscribers) s.ackEvery = 200;
      const ackTimer = setInterval(() => {
        const now = Date.now();
        for (const s of subscribers) if (s.unacked && now - s.lastAckAt >= ACK_MS) void s.ack();
      }, 100);
      const nextOrder = new Map(merchants.map((m) => [m, 0]));
      try {
        await sleep(2000);
        for (const rate of RATES) {
          for (const s of subscribers) s.startRound();
          const start = await maxPosition();
          const cpuBefore = cpu();
          const servicesBefore = services();
          const commits = new Map<string, number>();
          let inWindow = 0;
          let windowEnd = Infinity;
          for (const s of subscribers) s.onEvent = (_id, at) => void (at <= windowEnd && inWindow++);
          // Open loop: every 5 ms, issue what is due (each event its own transaction), at most 64
          // outstanding (beyond that the producer falls behind, which committedPerSecond shows).
          const total = rate * ctx.duration;
          const measure = stretch();
          let issued = 0;
          let outstanding = 0;
          let failed: unknown;
          const inflight = new Set<Promise<void>>();
          const t0 = Date.now();
          while (issued < total && !failed) {
            const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate) + 1);
            while (issued < due && outstanding < 64) {
              const merchantId = merchants[issued % merchants.length]!;
              issued++;
              outstanding++;
              let produce: Promise<unknown>;
              if (api) {
                const index = nextOrder.get(merchantId)!;
                nextOrder.set(merchantId, index + 1);
                const orderId = orders.get(merchantId)![index]!;
                produce = payOrder(merchantId, orderId).then((at) => commits.set(orderId, at));
              } else {
                produce = commitOutbox([{ merchantId, orderId: orders.get(merchantId)![0]! }], commits);
              }
              const p: Promise<void> = produce
                .then(() => undefined)
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
          windowEnd = Date.now();
          const producedMs = windowEnd - t0;
          const gatewayCpuInWindow = cpu() - cpuBefore;
          const machine = measure();
          const events = await committedAfter(start, commits);
          if (events.length !== total) throw new Error(`sustained: ${events.length} events committed, ${total} produced`);
          // One subscriber per merchant: a delivery per event.
          await awaitDelivery(subscribers, events.length, async () => events, `e-channel-sustained/${rate}`);
          const drainMs = Date.now() - windowEnd;
          for (const s of subscribers) s.onEvent = undefined;
          const { upper, lower, fromOccurred, lastReceipt } = latenciesOf(subscribers, events);
          const latency = percentiles(upper);
          const low = percentiles(lower);
          const occurred = percentiles(fromOccurred);
          ctx.report({
            scenario: 'e-channel-sustained',
            target: `${rate}-events-per-second`,
            subscribers: subscribers.length,
            merchants: merchants.length,
            producer: api ? 'payOrder mutations on the order subgraph' : 'one transaction per event into the order outbox',
            durationSeconds: ctx.duration,
            offeredRate: rate,
            committed: events.length,
            committedPerSecond: round(events.length / (producedMs / 1000)),
            deliveredInWindowPerSecond: round(inWindow / (producedMs / 1000)),
            deliveredPerSecond: round(upper.length / ((lastReceipt - t0) / 1000)),
            drainAfterLastCommitMs: drainMs,
            p50: latency.p50,
            p90: latency.p90,
            p99: latency.p99,
            max: latency.max,
            p50FromCommitReturned: low.p50,
            p99FromCommitReturned: low.p99,
            p99FromOccurredAt: occurred.p99,
            lost: 0,
            duplicates: subscribers.reduce((n, s) => n + s.duplicates, 0),
            acknowledgements: subscribers.reduce((n, s) => n + s.acks, 0),
            acknowledgeEvery: `200 events or ${ACK_MS} ms`,
            gatewayCpuShareWhileProducing: round(gatewayCpuInWindow / producedMs),
            ...machine,
            gatewayCpuPerDeliveryMs: round((cpu() - cpuBefore) / upper.length),
            cpuPerDeliveryMs: perUnit(servicesBefore, services(), upper.length),
          });
          await sleep(1000);
        }
      } finally {
        clearInterval(ackTimer);
      }
      await mapLimit(subscribers, 50, (s) => s.ack());
      const problems = subscribers.flatMap((s) => s.problems.list);
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
      const cpuBefore = services();
      const measure = stretch();
      const t0 = Date.now();
      subscriber.subscribe();
      const deadline = t0 + Math.max(DELIVERY_DEADLINE_MS, BACKLOG_EVENTS * 20);
      let lastCount = 0;
      let lastProgressAt = Date.now();
      while (subscriber.round.size < BACKLOG_EVENTS) {
        if (subscriber.problems.list.length) throw new Error(`f-channel-backlog: ${subscriber.problems.list.slice(0, 3).join('; ')}\n${tail(ctx.gatewayOutput())}`);
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
      const machine = measure();
      const cpuAfter = services();
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
        gatewayCpuShare: round((cpuAfter.gateway! - cpuBefore.gateway!) / (lastAt - t0)),
        ...machine,
        cpuPerEventMs: perUnit(cpuBefore, cpuAfter, BACKLOG_EVENTS),
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
    // Too many events for a NOTIFY to list: it says where the merchant's outbox got to, and gateways read.
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
      const created = await mapLimit(missing, 8, async (i) => (await accounts.createMerchant({ name: `Bench Merchant ${i}`, contactEmail: `bench${i}@merchants.example`, isTest: true })).id);
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
    /** A merchant's authorization of an app, as the passport records it on consent: its grant id. */
    async authorize(appKey: string, merchantId: string): Promise<string> {
      const grantId = `bench_grant_${crypto.randomUUID()}`;
      await accounts.recordAuthorization({ grantId, merchantId, appKey, appName: appKey, scopes: SCOPE.split(' '), authorizedBy: null });
      return grantId;
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
