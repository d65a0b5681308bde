/**
 * Call reports over real HTTP against a real database: the gateway counts every call of an app
 * (executed or refused, with its code), writes per-minute rows in batches on its flush timer, and
 * the app (app-level token) and operators read them back; rows past 90 days are purged.
 */
import type { CallStats } from '../subgraphs/app-management/call-reports.js';
import crypto from 'node:crypto';
import { INTERNAL_SCOPE } from '../core/caller.js';
import { LATENCY_BOUNDS_MS, LATENCY_BUCKETS, latencyBucket } from '../core/latency-histogram.js';
import { CONTEXT_TOKEN_HEADER, createContextSigner } from '../core/tokens.js';
import { CALL_REPORT_FLUSH_MS } from '../gateway/call-reports.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { adjustableClock } from './helpers/clock.js';
import { ALL_SCOPES, TEST_APP_KEY, startTestPlatform, waitUntil, type TestPlatform } from './helpers/platform.js';
import { mintTestOperatorToken } from './helpers/operator.js';

const clock = adjustableClock();
let t: TestPlatform;
const SANDBOX_APP = 'app_report_sandbox';

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  const apps = createAppManagementStore(t.platform.database.db);
  const developer = await apps.createDeveloper({ kind: 'COMPANY', name: 'Sandbox ISV', email: `sandbox-${crypto.randomUUID()}@example.com`, verificationStatus: 'VERIFIED' });
  await apps.createApp({ key: SANDBOX_APP, name: 'Sandbox app', developerId: developer.id, status: 'SANDBOX' });
}, 60_000);
afterAll(() => t?.stop());

const operatorToken = () =>
  mintTestOperatorToken(t, { clock });

const STATS = 'calls errors errorRate errorsByCode { code calls } latency { p50 p95 p99 mean } requestedCost actualCost';
const APP_REPORT = `query Report($key: String!, $from: DateTime!, $to: DateTime!) {
  app(key: $key) { callReport(from: $from, to: $to, granularity: HOUR) {
    total { ${STATS} } periods { start stats { calls } } operations { operationName documentHash stats { ${STATS} } }
  } }
}`;

type Stats = CallStats;
interface Report {
  total: Stats;
  periods: { start: string; stats: { calls: number } }[];
  operations: { operationName: string; documentHash: string; stats: Stats }[];
}

const range = () => ({ from: new Date(clock.now() - 3_600_000).toISOString(), to: new Date(clock.now() + 3_600_000).toISOString() });

/** An app's report as an operator reads it (operators' own calls are not in any app's report). */
async function reportOf(appKey: string): Promise<Report> {
  const res = await t.gql<{ app: { callReport: Report } }>(await operatorToken(), APP_REPORT, { key: appKey, ...range() });
  expect(res.errors).toBeUndefined();
  return res.data!.app.callReport;
}

/** Lets the gateway's flush timer fire now, and waits until the report shows `calls` calls. */
async function flushedUntil(appKey: string, calls: number): Promise<Report> {
  await clock.advance(CALL_REPORT_FLUSH_MS);
  let report: Report | undefined;
  await waitUntil(`${calls} calls in ${appKey}'s report`, async () => (report = await reportOf(appKey)).total.calls >= calls);
  return report!;
}

async function timedCall(token: string, body: string): Promise<{ status: number; ms: number; json: any }> {
  const started = performance.now();
  const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
  const json = await response.json();
  return { status: response.status, ms: performance.now() - started, json };
}

describe('call reports', () => {
  test('a report counts exactly the calls made: per operation, refusals with their code, latency percentiles consistent with what clients saw', async () => {
    const merchantId = crypto.randomUUID();
    const token = await t.token({ merchantId });
    const clientMs: number[] = [];
    let actualCost = 0;
    for (let i = 0; i < 5; i++) {
      const call = await timedCall(token, JSON.stringify({ query: 'query ReportViewer { viewerApp { key } }' }));
      expect(call.json.errors).toBeUndefined();
      clientMs.push(call.ms);
      actualCost += call.json.extensions?.cost?.actualQueryCost ?? 0;
    }
    for (let i = 0; i < 3; i++) {
      const call = await timedCall(token, JSON.stringify({ query: 'query ReportScopes { scopes { name } }' }));
      expect(call.json.errors).toBeUndefined();
      clientMs.push(call.ms);
      actualCost += call.json.extensions?.cost?.actualQueryCost ?? 0;
    }
    // Refused: a body that is not JSON (before execution, 400), and a document that does not validate.
    for (let i = 0; i < 2; i++) {
      const call = await timedCall(token, '{"query": ');
      expect(call.json.errors[0].extensions.code).toBe('BAD_REQUEST');
      clientMs.push(call.ms);
    }
    for (let i = 0; i < 2; i++) {
      const call = await timedCall(token, JSON.stringify({ query: 'query ReportBroken { viewerApp { noSuchField } }' }));
      expect(call.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      clientMs.push(call.ms);
    }

    // Refused by flow control once its cost is known: more than the whole bucket.
    const costly = await timedCall(token, JSON.stringify({ query: 'query ReportCostly { products(first: 100) { nodes { skus { id attributes { name } } } } }' }));
    expect(costly.json.errors[0].extensions.code).toBe('MAX_COST_EXCEEDED');
    clientMs.push(costly.ms);

    const report = await flushedUntil(TEST_APP_KEY, 13);
    expect(actualCost).toBeGreaterThan(0);
    expect(report.total).toMatchObject({ calls: 13, errors: 5, errorRate: 5 / 13, actualCost });
    expect(report.total.errorsByCode).toEqual(expect.arrayContaining([{ code: 'BAD_REQUEST', calls: 2 }, { code: 'GRAPHQL_VALIDATION_FAILED', calls: 2 }, { code: 'MAX_COST_EXCEEDED', calls: 1 }]));
    expect(report.total.errorsByCode).toHaveLength(3);
    expect(report.operations.find((op) => op.operationName === 'ReportCostly')!.stats).toMatchObject({ calls: 1, errorsByCode: [{ code: 'MAX_COST_EXCEEDED', calls: 1 }], actualCost: 0 });
    const byName = new Map(report.operations.map((op) => [op.operationName, op]));
    expect(byName.get('ReportViewer')!.stats).toMatchObject({ calls: 5, errors: 0 });
    expect(byName.get('ReportScopes')!.stats).toMatchObject({ calls: 3, errors: 0 });
    expect(byName.get('ReportBroken')!.stats).toMatchObject({ calls: 2, errors: 2, errorsByCode: [{ code: 'GRAPHQL_VALIDATION_FAILED', calls: 2 }] });
    // Refused before the document was read: no name, no hash.
    expect(byName.get('')).toMatchObject({ documentHash: '', stats: { calls: 2, errorsByCode: [{ code: 'BAD_REQUEST', calls: 2 }] } });
    expect(byName.get('ReportViewer')!.documentHash).toBe(crypto.createHash('sha256').update('query ReportViewer { viewerApp { key } }').digest('hex'));
    expect(report.operations.reduce((sum, op) => sum + op.stats.calls, 0)).toBe(13);
    expect(report.periods.reduce((sum, p) => sum + p.stats.calls, 0)).toBe(13);

    // The gateway's latency is within what each client waited: the percentiles read from the
    // histogram are ordered and no higher than the bucket of the slowest client-side call.
    const { p50, p95, p99, mean } = report.total.latency;
    expect(p50).not.toBeNull();
    expect(p50!).toBeGreaterThan(0);
    expect(p50!).toBeLessThanOrEqual(p95!);
    expect(p95!).toBeLessThanOrEqual(p99!);
    const slowest = Math.max(...clientMs);
    const bucketTop = LATENCY_BOUNDS_MS[latencyBucket(slowest)] ?? Infinity;
    expect(p99!).toBeLessThanOrEqual(bucketTop);
    expect(mean!).toBeLessThanOrEqual(slowest);
    const sorted = [...clientMs].sort((a, b) => a - b);
    expect(p50!).toBeLessThanOrEqual(LATENCY_BOUNDS_MS[latencyBucket(sorted[Math.ceil(sorted.length / 2) - 1]!)] ?? Infinity);
  });

  test("a known app's refusal by a pipeline stage is in its report with the stage's code; operators see top apps and error rates", async () => {
    const token = await t.token({ merchantId: crypto.randomUUID(), appKey: SANDBOX_APP, scopes: ['orders:read'] });
    for (let i = 0; i < 3; i++) {
      const res = await t.gql(token, 'query SandboxOrders { orders(first: 1) { totalCount } }');
      expect(res.status).toBe(403);
      expect(res.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    }
    const report = await flushedUntil(SANDBOX_APP, 3);
    expect(report.total).toMatchObject({ calls: 3, errors: 3, errorRate: 1, errorsByCode: [{ code: 'FORBIDDEN', calls: 3 }] });

    const platform = await t.gql<{ platformCallReport: { total: Stats; periods: { stats: Stats }[]; byErrorRate: { app: { key: string }; stats: Stats }[]; byCalls: { app: { key: string }; stats: Stats }[] } }>(
      await operatorToken(),
      `query Platform($from: DateTime!, $to: DateTime!) { platformCallReport(from: $from, to: $to, granularity: HOUR) {
        total { calls errors } periods { stats { calls errorRate } }
        byErrorRate: topApps(by: ERROR_RATE, first: 1) { app { key } stats { calls errorRate } }
        byCalls: topApps(by: CALLS, first: 5) { app { key } stats { calls } }
      } }`,
      range(),
    );
    expect(platform.errors).toBeUndefined();
    const { total, byErrorRate, byCalls, periods } = platform.data!.platformCallReport;
    expect(byErrorRate).toEqual([{ app: { key: SANDBOX_APP }, stats: { calls: 3, errorRate: 1 } }]);
    expect(byCalls.map((a) => a.app.key)).toEqual(expect.arrayContaining([TEST_APP_KEY, SANDBOX_APP]));
    expect(total.calls).toBe(byCalls.reduce((sum, a) => sum + a.stats.calls, 0));
    expect(periods.reduce((sum, p) => sum + p.stats.calls, 0)).toBe(total.calls);
  });

  test('the app reads its own report with its app-level token holding reports:read; a merchant token of the app, a token without reports:read, or another app, is refused', async () => {
    const query = `query Own($from: DateTime!, $to: DateTime!) { viewerApp { key callReport(from: $from, to: $to) { total { calls } } } }`;
    const own = await t.gql<{ viewerApp: { key: string; callReport: { total: { calls: number } } } }>(await t.token({ merchantId: null }), query, range());
    expect(own.errors).toBeUndefined();
    expect(own.data!.viewerApp.callReport.total.calls).toBeGreaterThanOrEqual(12);

    const merchant = await t.gql(await t.token({ merchantId: crypto.randomUUID(), scopes: ALL_SCOPES }), query, range());
    expect(merchant.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(merchant.errors![0]!.message).toMatch(/client credentials/);

    // Reports are what the reports:read scope (the Reports package) grants.
    const withoutReports = await t.gql(await t.token({ merchantId: null, scopes: ALL_SCOPES.filter((s) => s !== 'reports:read') }), query, range());
    expect(withoutReports.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(withoutReports.errors![0]!.message).toMatch(/reports:read/);
  });

  test('rows of the same minute and key add up, bucket by bucket; one bad row refuses the whole batch', async () => {
    const sign = createContextSigner(t.platform.keys.context, 60, clock);
    const system = { kind: 'system', merchantId: null, appKey: 'portico-gateway', scopes: [INTERNAL_SCOPE] } as const;
    const record = async (rows: object[]) => {
      const res = await fetch(t.platform.subgraphs['app-management'].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: await sign(system) },
        body: JSON.stringify({ query: 'mutation($rows: [CallReportRowInput!]!) { recordCallReports(rows: $rows) }', variables: { rows } }),
      });
      return (await res.json()) as { data?: { recordCallReports: number } | null; errors?: { message: string; extensions: Record<string, unknown> }[] };
    };
    const minute = new Date(Math.floor(clock.now() / 60_000) * 60_000).toISOString();
    const buckets = (at: number, calls: number) => Array.from({ length: LATENCY_BUCKETS }, (_, i) => (i === at ? calls : 0));
    // 10 calls in the 5-10 ms bucket, then 10 in the 100-150 ms bucket, as two gateways' flushes of one minute.
    const row = { minute, appKey: SANDBOX_APP, merchantId: '', operationName: 'Upserted', documentHash: 'h'.repeat(64), outcome: 'OK', requestedCost: 7, actualCost: 5 };
    expect((await record([{ ...row, calls: 10, latencyMsSum: 80, latencyBuckets: buckets(3, 10) }])).data).toEqual({ recordCallReports: 1 });
    expect((await record([{ ...row, calls: 10, latencyMsSum: 1200, latencyBuckets: buckets(9, 10) }])).data).toEqual({ recordCallReports: 1 });
    const op = (await reportOf(SANDBOX_APP)).operations.find((o) => o.operationName === 'Upserted')!;
    expect(op.stats).toMatchObject({ calls: 20, requestedCost: 14, actualCost: 10, latency: { mean: 64 } });
    // Half the calls at most 10 ms, half in (100, 150]: p50 is the top of the lower half, p95 near 150.
    expect(op.stats.latency.p50).toBe(10);
    expect(op.stats.latency.p95).toBe(145);

    const bad = await record([
      { ...row, operationName: 'NotWritten', calls: 1, latencyMsSum: 1, latencyBuckets: buckets(0, 1) },
      { ...row, operationName: 'NotWritten', calls: 2, latencyMsSum: 1, latencyBuckets: buckets(0, 1) },
    ]);
    expect(bad.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rows[1].latencyBuckets' });
    expect((await reportOf(SANDBOX_APP)).operations.find((o) => o.operationName === 'NotWritten')).toBeUndefined();

    // Only the gateway itself may write.
    const asApp = await t.gql(await t.token({ merchantId: null }), 'mutation($rows: [CallReportRowInput!]!) { recordCallReports(rows: $rows) }', { rows: [] });
    expect(asApp.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  test('bad ranges are BAD_USER_INPUT naming the argument', async () => {
    const op = await operatorToken();
    const now = clock.now();
    const backwards = await t.gql(op, `{ app(key: "${TEST_APP_KEY}") { callReport(from: "${new Date(now).toISOString()}", to: "${new Date(now - 1000).toISOString()}") { total { calls } } } }`);
    expect(backwards.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    const tooLong = await t.gql(op, `{ platformCallReport(from: "${new Date(now - 40 * 86_400_000).toISOString()}", to: "${new Date(now).toISOString()}", granularity: HOUR) { total { calls } } }`);
    expect(tooLong.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect(tooLong.errors![0]!.message).toMatch(/31 days/);
  });

  test('rows older than 90 days are purged by the gateway\'s hourly job', async () => {
    const before = await reportOf(TEST_APP_KEY);
    expect(before.total.calls).toBeGreaterThan(0);
    const startOfTest = clock.now();
    // 91 days on: the purge (first a minute after start, then hourly) deletes every row so far.
    await clock.advance(91 * 86_400_000);
    const op = await operatorToken();
    const old = { from: new Date(startOfTest - 3_600_000).toISOString(), to: new Date(startOfTest + 3_600_000).toISOString() };
    await waitUntil('the old rows purged', async () => {
      const res = await t.gql<{ app: { callReport: Report } }>(op, APP_REPORT, { key: TEST_APP_KEY, ...old });
      if (res.data?.app.callReport.total.calls === 0) return true;
      // A flush of calls counted before the jump may have landed after that purge: the next one takes it.
      await clock.advance(3_600_000);
      return false;
    });
  });
});
