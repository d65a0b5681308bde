/**
 * What the operator console and the merchant page show on a first start (issue 34): an app of a
 * third developer waiting for review (notes, a pending package request), a developer waiting for
 * verification, the merchants' authorizations of the demo apps, and seven days of call history for
 * those apps, so the console's charts, top apps and review queue have something in them.
 *
 * The call history is generated from a fixed seed and laid out before the clock at seeding (the
 * hours ending at the current one), aggregated per hour (a row's `minute` is its hour's first
 * minute: reports sum rows per hour or day, so hourly rows read back as the gateways' would), and
 * written in one statement.
 */
import crypto from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import { v5 as uuidv5 } from 'uuid';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { LATENCY_BUCKETS, latencyBucket } from '../core/latency-histogram.js';
import { merchantAuthorizations } from '../subgraphs/account/tables.js';
import { createAppReviewStore } from '../subgraphs/app-management/app-reviews.js';
import type { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { apps as appsTable } from '../subgraphs/app-management/tables.js';

const NAMESPACE = '6e4f1c2a-93b7-4d58-a0e1-7c5d2b9f8e34';
const demoId = (name: string) => uuidv5(name, NAMESPACE);

/** The app in the review queue, of a developer who has no other. */
export const DEMO_REVIEW_APP_KEY = 'app_demo_cedar_labels';
export const DEMO_REVIEW_APP_NAME = 'Cedar Shipping Labels';
export const DEMO_REVIEW_NOTES =
  'Prints carrier labels for paid orders and writes the tracking number back when the parcel is handed over. ' +
  'Try it on the sandbox: ship any PAID order. We ask for Buyer details for the address on the label.';
/** The developer who signed up and waits for an operator to verify them. */
export const DEMO_PENDING_DEVELOPER_EMAIL = 'priya@pinecrest.example';

/** Days of call history, ending at the clock's current hour. */
export const DEMO_HISTORY_DAYS = 7;
const HOUR = 3_600_000;

type AppStore = ReturnType<typeof createAppManagementStore>;

/** mulberry32, as demo/seed.ts: a small seeded PRNG, so every seed makes the same history. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An operation an app calls, as the gateway counts it. */
interface Operation {
  name: string;
  /** Share of the app's calls. */
  share: number;
  /** Cost points per call (requested; actual is what the answer really touched). */
  cost: number;
  /** Median latency in ms; latencies are log-normal around it. */
  medianMs: number;
  /** Codes of the client errors it answers now and then, and how often (per call). */
  errors: { code: string; rate: number }[];
}

/** An app's traffic for one merchant: calls per hour at the daily peak, and what it calls. */
interface Stream {
  appKey: string;
  merchant: number;
  peakPerHour: number;
  operations: Operation[];
  /** Share of calls refused THROTTLED at busy hours (the bucket runs dry). */
  throttledAtPeak: number;
  /** Office hours only (an app still being tried out). */
  daytimeOnly?: boolean;
}

const SYNC_ORDERS: Operation = { name: 'SyncOrders', share: 0.55, cost: 32, medianMs: 38, errors: [{ code: 'BAD_USER_INPUT', rate: 0.002 }] };
const SHIP_ORDER: Operation = { name: 'ShipOrder', share: 0.2, cost: 10, medianMs: 55, errors: [{ code: 'CONFLICT', rate: 0.02 }, { code: 'NOT_FOUND', rate: 0.004 }] };
const UPDATE_STOCK: Operation = { name: 'UpdateStock', share: 0.25, cost: 6, medianMs: 24, errors: [{ code: 'BAD_USER_INPUT', rate: 0.01 }] };

const STREAMS = (keys: { erp: string; storefront: string; crm: string; labels: string }): Stream[] => [
  ...[0, 1, 2].map((merchant) => ({ appKey: keys.erp, merchant, peakPerHour: [420, 260, 150][merchant]!, operations: [SYNC_ORDERS, SHIP_ORDER, UPDATE_STOCK], throttledAtPeak: merchant === 0 ? 0.03 : 0 })),
  {
    appKey: keys.storefront,
    merchant: 0,
    peakPerHour: 900,
    throttledAtPeak: 0.01,
    operations: [
      { name: 'ProductPage', share: 0.7, cost: 14, medianMs: 18, errors: [{ code: 'NOT_FOUND', rate: 0.01 }] },
      { name: 'PlaceOrder', share: 0.1, cost: 25, medianMs: 95, errors: [{ code: 'BAD_USER_INPUT', rate: 0.03 }, { code: 'CONFLICT', rate: 0.01 }] },
      { name: 'BuyerProfile', share: 0.2, cost: 8, medianMs: 22, errors: [] },
    ],
  },
  ...[0, 1].map((merchant) => ({
    appKey: keys.crm,
    merchant,
    peakPerHour: [300, 120][merchant]!,
    throttledAtPeak: 0,
    operations: [
      { name: 'CustomerOrders', share: 0.6, cost: 40, medianMs: 70, errors: [{ code: 'BAD_USER_INPUT', rate: 0.005 }] },
      { name: 'BuyerContacts', share: 0.3, cost: 20, medianMs: 45, errors: [{ code: 'FORBIDDEN', rate: 0.01 }] },
      { name: 'OrderEventsAck', share: 0.1, cost: 2, medianMs: 9, errors: [] },
    ],
  })),
  {
    appKey: keys.labels,
    merchant: 0,
    peakPerHour: 40,
    throttledAtPeak: 0,
    daytimeOnly: true,
    operations: [
      { name: 'PaidOrders', share: 0.7, cost: 18, medianMs: 30, errors: [{ code: 'BAD_USER_INPUT', rate: 0.04 }] },
      { name: 'ShipOrder', share: 0.3, cost: 10, medianMs: 60, errors: [{ code: 'CONFLICT', rate: 0.05 }] },
    ],
  },
];

/** One call report row as the table holds it (app by id). */
export interface DemoCallRow {
  minute: string;
  app_id: string;
  merchant_id: string;
  operation_name: string;
  document_hash: string;
  outcome: string;
  calls: number;
  latency_ms_sum: number;
  latency_buckets: number[];
  requested_cost: number;
  actual_cost: number;
}

/**
 * Seven days of hourly call report rows for the demo apps: a daily curve (quiet nights, busy
 * afternoons UTC, quieter weekends), client errors, THROTTLED refusals at the busiest hours, an
 * afternoon when the CRM app ran into its bucket, and a day it used up its quota
 * (QUOTA_EXCEEDED until midnight UTC). Refused calls are counted as the gateway counts them: no
 * operation, no cost, a few ms.
 */
export function planCallHistory(now: number, apps: { erp: string; storefront: string; crm: string; labels: string }, appIds: Map<string, string>, merchantIds: readonly string[]): DemoCallRow[] {
  const next = random(20261207);
  const lastHour = Math.floor(now / HOUR) * HOUR;
  const firstHour = lastHour - DEMO_HISTORY_DAYS * 24 * HOUR;
  const streams = STREAMS(apps);
  /** The CRM app's bad afternoon and its quota day, counted back from today. */
  const burstDay = Math.floor(lastHour / (24 * HOUR)) - 2;
  const quotaDay = Math.floor(lastHour / (24 * HOUR)) - 4;
  const hashOf = (appKey: string, operation: string) => crypto.createHash('sha256').update(`query ${operation} # ${appKey}`).digest('hex');
  /** Latency ~ log-normal around the median (Box-Muller), never under a ms. */
  const latency = (medianMs: number, sigma = 0.55) => Math.max(0.5, medianMs * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())));
  const rows: DemoCallRow[] = [];
  const add = (hour: number, stream: Stream, operation: string, outcome: string, calls: number, medianMs: number, cost: { requested: number; actual: number }) => {
    if (calls <= 0) return;
    const buckets = new Array<number>(LATENCY_BUCKETS).fill(0);
    let sum = 0;
    for (let i = 0; i < calls; i++) {
      const ms = latency(medianMs);
      sum += ms;
      buckets[latencyBucket(ms)]!++;
    }
    rows.push({
      minute: new Date(hour).toISOString(),
      app_id: appIds.get(stream.appKey)!,
      merchant_id: merchantIds[stream.merchant]!,
      operation_name: operation,
      document_hash: operation ? hashOf(stream.appKey, operation) : '',
      outcome,
      calls,
      latency_ms_sum: Math.round(sum * 10) / 10,
      latency_buckets: buckets,
      requested_cost: calls * cost.requested,
      actual_cost: calls * cost.actual,
    });
  };

  for (let hour = firstHour; hour < lastHour; hour += HOUR) {
    const date = new Date(hour);
    const hourOfDay = date.getUTCHours();
    const day = Math.floor(hour / (24 * HOUR));
    const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
    // Quiet from midnight to 6, rising to a peak at 14 h, falling in the evening.
    const curve = Math.max(0.08, Math.sin((Math.PI * (hourOfDay - 5)) / 18)) * (weekend ? 0.55 : 1);
    for (const stream of streams) {
      if (stream.daytimeOnly && (weekend || hourOfDay < 8 || hourOfDay > 18)) continue;
      const crm = stream.appKey === apps.crm;
      const calls = Math.round(stream.peakPerHour * curve * (0.8 + 0.4 * next()));
      // The CRM app's quota ran out at 15 h on its quota day: every later call of the day refused.
      if (crm && day === quotaDay && hourOfDay >= 15) {
        add(hour, stream, '', 'QUOTA_EXCEEDED', calls, 2, { requested: 0, actual: 0 });
        continue;
      }
      const burst = crm && stream.merchant === 0 && day === burstDay && hourOfDay >= 13 && hourOfDay <= 16;
      const throttleShare = burst ? 0.35 : curve > 0.85 ? stream.throttledAtPeak : 0;
      const throttled = Math.round(calls * throttleShare * (burst ? 3 : 1));
      add(hour, stream, '', 'THROTTLED', throttled, 1.5, { requested: 0, actual: 0 });
      const answered = burst ? calls * 3 - throttled : calls - throttled;
      for (const operation of stream.operations) {
        let ok = Math.round(answered * operation.share);
        for (const error of operation.errors) {
          // Expected errors, with their noise: some hours have none.
          const failed = Math.floor(ok * error.rate * 2 * next() + next() * 0.6);
          add(hour, stream, operation.name, error.code, failed, operation.medianMs * 0.6, { requested: operation.cost, actual: 1 });
          ok -= failed;
        }
        // Now and then the platform itself failed a call.
        if (next() < 0.01) {
          add(hour, stream, operation.name, 'INTERNAL_SERVER_ERROR', 1, operation.medianMs * 4, { requested: operation.cost, actual: 0 });
          ok -= 1;
        }
        add(hour, stream, operation.name, 'OK', ok, operation.medianMs, { requested: operation.cost, actual: Math.max(1, Math.round(operation.cost * 0.7)) });
      }
    }
  }
  return rows;
}

/** Writes the planned history in one statement (a JSON document of rows: no limit on bound parameters). */
async function writeCallHistory(db: Db, rows: DemoCallRow[]) {
  if (!rows.length) return;
  await db.execute(sql`
    insert into app_management.call_reports
      (minute, app_id, merchant_id, operation_name, document_hash, outcome, calls, latency_ms_sum, latency_buckets, requested_cost, actual_cost)
    select minute, app_id, merchant_id, operation_name, document_hash, outcome, calls, latency_ms_sum, latency_buckets, requested_cost, actual_cost
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(
      minute timestamptz, app_id uuid, merchant_id text, operation_name text, document_hash text, outcome text,
      calls integer, latency_ms_sum double precision, latency_buckets integer[], requested_cost bigint, actual_cost bigint)`);
}

export interface DemoConsole {
  reviewApp: { key: string; secret: string };
  callRows: number;
}

/**
 * The console's demo: the review queue, a developer to verify, the merchants' authorizations, and
 * the call history. `packageIds` are the demo catalog's, in demo/seed.ts's order (0: Order
 * management, which the new app holds; 1: Buyer details, which it asks for).
 */
export async function seedDemoConsole(
  db: Db,
  apps: AppStore,
  input: { clock: Clock; merchantIds: readonly string[]; staffId: string; packageIds: readonly string[]; redirectUri: string; appKeys: { erp: string; storefront: string; crm: string } },
): Promise<DemoConsole> {
  const now = input.clock.now();

  // The review queue: a third developer's app, tried out in SANDBOX, submitted with notes, asking for Buyer details.
  const cedar = await apps.createDeveloper({ id: demoId('developer:cedar'), kind: 'COMPANY', name: 'Cedar Logistics Software', email: 'dev@cedar-logistics.example', verificationStatus: 'VERIFIED' });
  const { app, secret } = await apps.createApp({ id: demoId('app:cedar-labels'), key: DEMO_REVIEW_APP_KEY, name: DEMO_REVIEW_APP_NAME, developerId: cedar.id, status: 'SANDBOX', redirectUris: [input.redirectUri] });
  await db.update(appsTable).set({ description: 'Carrier labels and tracking numbers for paid orders, from the merchant’s own printer.' }).where(eq(appsTable.id, app.id));
  await apps.grantPackage('system:demo-seed', { appKey: app.key, packageId: input.packageIds[0]!, reason: 'FREE package of a new app' });
  await apps.requestPackage(app.key, { packageId: input.packageIds[1]!, message: 'The label needs the buyer’s name and shipping address.' }, `developer:${cedar.id}`);
  await createAppReviewStore(db, input.clock).submit(cedar.id, { appKey: app.key, notes: DEMO_REVIEW_NOTES });
  // Signed up, not verified yet: the developers page's first decision.
  await apps.createDeveloper({ id: demoId('developer:pinecrest'), kind: 'INDIVIDUAL', name: 'Priya Raman', email: DEMO_PENDING_DEVELOPER_EMAIL });

  // What the merchants authorized, so /merchant and an app's authorizations list something.
  // Grants of the demo, without passport tokens behind them: revoking one works as for any other.
  const day = 24 * HOUR;
  const authorizations = [
    { appKey: input.appKeys.erp, appName: 'Acme ERP Sync', merchant: 0, scopes: ['orders:read', 'orders:write', 'products:read', 'inventory:write', 'merchant:read'], daysAgo: 60 },
    { appKey: input.appKeys.erp, appName: 'Acme ERP Sync', merchant: 1, scopes: ['orders:read', 'orders:write', 'products:read', 'inventory:write'], daysAgo: 45 },
    { appKey: input.appKeys.erp, appName: 'Acme ERP Sync', merchant: 2, scopes: ['orders:read', 'orders:write', 'inventory:write'], daysAgo: 21 },
    { appKey: input.appKeys.storefront, appName: 'Acme Storefront', merchant: 0, scopes: ['products:read', 'orders:write', 'users:read'], daysAgo: 30 },
    { appKey: input.appKeys.crm, appName: 'Bluebird CRM', merchant: 0, scopes: ['orders:read', 'orders:read_pii', 'users:read', 'messages:orders'], daysAgo: 14 },
    { appKey: input.appKeys.crm, appName: 'Bluebird CRM', merchant: 1, scopes: ['orders:read', 'users:read'], daysAgo: 9 },
  ];
  await db.insert(merchantAuthorizations).values(
    authorizations.map((a) => ({
      grantId: `demo-${a.appKey}-${a.merchant}`,
      merchantId: input.merchantIds[a.merchant]!,
      appKey: a.appKey,
      appName: a.appName,
      scopes: a.scopes,
      authorizedBy: a.merchant === 0 ? input.staffId : null,
      authorizedAt: new Date(now - a.daysAgo * day),
    })),
  );

  const appKeys = { ...input.appKeys, labels: app.key };
  const appIds = new Map((await db.select({ id: appsTable.id, key: appsTable.key }).from(appsTable).where(inArray(appsTable.key, Object.values(appKeys)))).map((r) => [r.key, r.id]));
  const rows = planCallHistory(now, appKeys, appIds, input.merchantIds);
  await writeCallHistory(db, rows);
  return { reviewApp: { key: app.key, secret }, callRows: rows.length };
}
