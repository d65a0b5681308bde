/**
 * `npm run bench`: load scenarios against the platform in its production shape (gateway and four
 * subgraphs, one process each) on the PostgreSQL server, with the demo data set.
 * Prints one JSON line per scenario and keeps the whole report in bench/report.json.
 *
 * Database: BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres;
 * a fresh database is created for the run and dropped after it.
 * BENCH_DURATION (seconds per scenario, default 10) and BENCH_CONNECTIONS (default 10) tune it.
 * BENCH_ONLY=b runs only the order page; BENCH_ONLY=i only the access controls' cost, BENCH_ONLY=j only
 * the order page with shipments and cases against today's, BENCH_ONLY=k only buyers' identities (the
 * order page with openids against it without, bind-or-login sign-ins per second) (each replaces its previous result in
 * bench/report.json); BENCH_ONLY=channel only the message-channel scenarios
 * (bench/channel.ts, with their own BENCH_CHANNEL_* and BENCH_BACKLOG_EVENTS knobs).
 * g-memory (bench/memory.ts) and h-start (bench/start.ts) run `npm start` itself, as a user does
 * (embedded PGlite, the demo seeded): BENCH_ONLY=memory is the platform's resident memory under a
 * steady mixed load (BENCH_MEMORY_SECONDS, 600; BENCH_MEMORY_RPS, 50), BENCH_ONLY=start how long a
 * first start and a restart take (BENCH_START_ROUNDS, 3). Alone, they need neither the build nor
 * the PostgreSQL server, and their result replaces their previous one in bench/report.json.
 * BENCH_PROFILE=<gateway|order|product|account|app-management>[,…] writes a V8 CPU profile of each named
 * service to bench/.tmp/ (open it in Chrome DevTools) to see where its time goes.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { SUBGRAPH_NAMES, type SubgraphName } from '../core/config.js';
import { openPostgres } from '../core/db.js';
import { loadPlatformKeys } from '../core/keys.js';
import { createLogger } from '../core/logger.js';
import { CONTEXT_TOKEN_HEADER, createContextSigner, mintAccessToken } from '../core/tokens.js';
import { DEMO_APP_KEY, seedDemo } from '../demo/seed.js';
import { prepareDatabase } from '../platform/index.js';
import { freePort, runScript, waitForHttp, type Child } from '../tests/helpers/processes.js';
import { runAccessControlScenario } from './access-controls.js';
import { runIdentityScenarios } from './identities.js';
import { resultOf, type ScenarioResult } from './scenario-result.js';
import { postgresCpuMs, runChannelScenarios } from './channel.js';
import { runMemoryScenario } from './memory.js';
import { LIFECYCLE_ORDER_PAGE, ORDER_PAGE, runOrderLifecyclePage } from './order-lifecycle-page.js';
import { runStartScenario } from './start.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const profiled = (process.env.BENCH_PROFILE ?? '').split(',').filter(Boolean);
/** BENCH_NODE_FLAGS: extra node flags for every service, to try runtime settings side by side. */
const extraFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
/** BENCH_GATEWAY_ENV: extra environment for the gateway (`NAME=value NAME=value`), to compare its options side by side. */
const gatewayEnv = Object.fromEntries(
  (process.env.BENCH_GATEWAY_ENV ?? '')
    .split(' ')
    .filter((pair) => pair.indexOf('=') > 0)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const profileFlags = (service: string) => [...extraFlags, ...(profiled.includes(service) ? ['--cpu-prof', `--cpu-prof-dir=${path.join(benchDir, '.tmp')}`] : [])];
const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';


/** Runs autocannon against one URL with a fixed GraphQL body; fails the run if any response is not a clean 200. */
export async function load(scenario: string, target: string, url: string, headers: Record<string, string>, body: string, seconds = duration): Promise<ScenarioResult> {
  const options = { url, method: 'POST' as const, headers: { 'content-type': 'application/json', ...headers }, body, connections, pipelining: 1 };
  await autocannon({ ...options, duration: Math.min(3, seconds) }); // warm-up: JIT, pools, plan cache
  return resultOf(scenario, target, connections, seconds, await autocannon({ ...options, duration: seconds, expectBody: undefined }));
}

async function checkedQuery(url: string, headers: Record<string, string>, body: string) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const json = (await response.json()) as { errors?: unknown; data?: unknown };
  if (!response.ok || json.errors) throw new Error(`bench query failed before load: ${JSON.stringify(json).slice(0, 500)}`);
  return json;
}

/** The node flags `npm run serve` uses (package.json): a larger young generation, fewer GC pauses. */
const SERVE_NODE_FLAGS = ['--min-semi-space-size=32', '--max-semi-space-size=64'];

/**
 * BENCH_BASELINE=<another checkout, built (npm run build), node_modules installed or linked>: with
 * BENCH_ONLY=b, a second stack runs that checkout's build over the same data, and the order page is
 * measured on both, alternated, so that a change is compared side by side on this noisy machine.
 * BENCH_PAGE=lifecycle compares the page with shipments and cases selected (scenario j's) instead;
 * BENCH_BASELINE_PAGE (BENCH_PAGE unless set) is the page the baseline serves, to compare the page
 * with shipments and cases against a build from before they existed serving today's page.
 */
const baselineRoot = process.env.BENCH_BASELINE ? path.resolve(process.env.BENCH_BASELINE) : null;

/** Services run from the build, as in production (not through tsx). */
function serve(service: string, env: NodeJS.ProcessEnv, root?: string): Child {
  const script = root ? path.join(root, 'dist/bin/serve.js') : 'dist/bin/serve.js';
  return runScript(script, [service], env, [...SERVE_NODE_FLAGS, ...profileFlags(service)], { typescript: false });
}

/** g and h, on `npm start` itself; the results go into bench/report.json (in place of their previous ones when run alone). */
async function npmStartScenarios(which: 'memory' | 'start' | 'both'): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  if (which !== 'memory') {
    const { measurements, summaries } = await runStartScenario();
    for (const summary of summaries) results.push({ ...summary, scenario: 'h-start', database: 'pglite', runs: measurements.filter((m) => m.target === summary.target) } as unknown as ScenarioResult);
  }
  if (which !== 'start') {
    const memory = { ...(await runMemoryScenario()), database: 'pglite' } as unknown as ScenarioResult;
    const { curve: _curve, ...line } = memory;
    console.log(JSON.stringify(line));
    results.push(memory);
    if (memory.errors || memory.non2xx) throw new Error(`g-memory: ${memory.errors} errors, ${memory.non2xx} non-2xx responses: ${JSON.stringify(memory.firstErrors ?? [])}`);
  }
  return results;
}

function mergeIntoReport(results: ScenarioResult[]) {
  const file = path.join(benchDir, 'report.json');
  const report = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { results: ScenarioResult[] }) : { machine: machine(), results: [] };
  const scenarios = new Set(results.map((r) => r.scenario));
  const measuredAt = new Date().toISOString();
  report.results = [...report.results.filter((r) => !scenarios.has(r.scenario)), ...results.map((r) => ({ ...r, measuredAt }))];
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

const machine = () => ({ cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version });

async function main() {
  if (process.env.BENCH_ONLY === 'memory' || process.env.BENCH_ONLY === 'start') {
    mergeIntoReport(await npmStartScenarios(process.env.BENCH_ONLY));
    return;
  }
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: path.join(benchDir, '..'), stdio: 'inherit' });
  const dbName = `portico_bench_${crypto.randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-bench-keys-'));
  const children: Child[] = [];
  try {
    const keys = await loadPlatformKeys(keysDir, { create: true });
    const database = await openPostgres(dbUrl.toString(), 4, 'bench-seed');
    await prepareDatabase(database);
    // With the key-encryption keys, as npm start seeds: the demo app's secret is sealed, so it can sign requests (scenario i).
    const seed = await seedDemo(database, createLogger('warn'), keys.messageKeks);
    // What an operator gives an app that serves a benchmark's load: a bucket and a quota it does not
    // run out of (the bucket still takes and refunds every request's cost), and an IP allow list
    // that admits this machine only (every request of every scenario is checked against it).
    await database.db.execute(
      sql`update app_management.apps set bucket_size_override = 1000000, restore_rate_override = 100000, daily_quota_override = 1000000000, ip_allow_list = '{127.0.0.1/32}' where key = ${DEMO_APP_KEY}`,
    );
    await database.close();

    const services = [...SUBGRAPH_NAMES, 'gateway'] as const;
    /** Starts gateway and four subgraphs, one process each, on free ports. */
    async function startStack(extraEnv: NodeJS.ProcessEnv = {}, root?: string) {
      const ports = Object.fromEntries(await Promise.all(SUBGRAPH_NAMES.map(async (n) => [n, await freePort()] as const))) as Record<SubgraphName, number>;
      const gatewayPort = await freePort();
      const publicUrl = `http://127.0.0.1:${gatewayPort}`;
      const common = {
        KEYS_DIR: keysDir,
        LOG_LEVEL: 'warn',
        PUBLIC_URL: publicUrl,
        ORDER_URL: `http://127.0.0.1:${ports.order}/graphql`,
        PRODUCT_URL: `http://127.0.0.1:${ports.product}/graphql`,
        ACCOUNT_URL: `http://127.0.0.1:${ports.account}/graphql`,
        APP_MANAGEMENT_URL: `http://127.0.0.1:${ports['app-management']}/graphql`,
        // The demo data set's events are months old: with the 30-day default, the hourly retention
        // purge's first run (a minute after start) would delete thousands of them in the middle of a
        // scenario. It is maintenance, not a scenario: off here (BENCH_GATEWAY_ENV can set it).
        MESSAGE_RETENTION_DAYS: '0',
        ...extraEnv,
      };
      const started: Child[] = [];
      for (const name of SUBGRAPH_NAMES) {
        const child = serve(name, { ...common, DATABASE_URL: dbUrl.toString(), PORT: String(ports[name]) }, root);
        children.push(child);
        started.push(child);
        await waitForHttp(`http://127.0.0.1:${ports[name]}/healthz`, child);
      }
      // The gateway reads the outboxes and keeps the message records: without a database it refuses subscriptions.
      const gateway = serve('gateway', { ...common, ...gatewayEnv, DATABASE_URL: dbUrl.toString(), PORT: String(gatewayPort) }, root);
      children.push(gateway);
      started.push(gateway);
      await waitForHttp(`${publicUrl}/healthz`, gateway);
      const pids = Object.fromEntries(services.map((s, i) => [s, started[i]!.process.pid]));
      return { ports, publicUrl, gatewayUrl: `${publicUrl}/graphql`, pids, gateway };
    }
    const stack = await startStack();
    const { ports, publicUrl, gatewayUrl, pids } = stack;

    const merchantId = seed.merchantIds[0]!;
    const accessToken = await mintAccessToken(keys, { issuer: publicUrl, audience: 'urn:portico:api', appKey: DEMO_APP_KEY, merchantId, scope: seed.scopes.join(' '), ttlSeconds: 7200 });
    // What the gateway would forward: the direct scenario pays no authentication, as a subgraph behind it would.
    const contextToken = await createContextSigner(keys.context, 600)({ kind: 'app', merchantId, appKey: DEMO_APP_KEY, scopes: seed.scopes });
    const auth = { authorization: `Bearer ${accessToken}` };

    const singleSubgraph = JSON.stringify({ query: '{ products(first: 20) { nodes { id title status category skus { code stock price { amount currency } } } } }' });
    const orderPage = JSON.stringify({ query: ORDER_PAGE });
    await checkedQuery(`http://127.0.0.1:${ports.product}/graphql`, { [CONTEXT_TOKEN_HEADER]: contextToken }, singleSubgraph);
    await checkedQuery(gatewayUrl, auth, singleSubgraph);
    await checkedQuery(gatewayUrl, auth, orderPage);

    const results: ScenarioResult[] = [];
    /** Runs a scenario and adds how many CPU milliseconds each service spent per request. */
    const measured = async (run: () => Promise<ScenarioResult>, stackPids: Record<string, number | undefined> = pids) => {
      const before = Object.fromEntries(services.map((s) => [s, cpuMs(stackPids[s])]));
      const postgresBefore = postgresCpuMs();
      const benchBefore = process.cpuUsage();
      const result = await run();
      const total = result.requests + result.requests * (Math.min(3, duration) / duration); // warm-up requests counted approximately
      const benchUsed = process.cpuUsage(benchBefore);
      const cpuPerRequestMs = {
        ...Object.fromEntries(services.map((s) => [s, round((cpuMs(stackPids[s]) - before[s]!) / total)])),
        // Every postgres process of the server (other databases' too), and the load generator itself.
        postgres: round((postgresCpuMs() - postgresBefore) / total),
        bench: round((benchUsed.user + benchUsed.system) / 1000 / total),
      };
      return { ...result, cpuPerRequestMs };
    };
    const report = (r: ScenarioResult) => {
      results.push(r);
      console.log(JSON.stringify(r));
    };
    /** Any error or non-2xx response fails the run, whichever scenarios ran. */
    const failOnErrors = () => {
      for (const r of results) if (r.errors || r.non2xx) throw new Error(`${r.scenario}/${r.target}: ${r.errors} errors, ${r.non2xx} non-2xx responses`);
    };
    /** d, e, f: the message channel, on this stack (after the others: they leave many events behind). */
    const channel = () =>
      runChannelScenarios({
        dbUrl: dbUrl.toString(),
        keys,
        publicUrl,
        gatewayUrl,
        orderUrl: `http://127.0.0.1:${ports.order}/graphql`,
        seed,
        pids,
        duration,
        cpuMs,
        report: (r) => report(r as ScenarioResult),
        gatewayOutput: () => stack.gateway.output(),
      });
    const only = process.env.BENCH_ONLY;
    if (only === 'b' && baselineRoot) {
      const pageBody = (name: string | undefined) => JSON.stringify({ query: name === 'lifecycle' ? LIFECYCLE_ORDER_PAGE : ORDER_PAGE });
      const orderPage = pageBody(process.env.BENCH_PAGE);
      const baselinePage = pageBody(process.env.BENCH_BASELINE_PAGE ?? process.env.BENCH_PAGE);
      const base = await startStack({}, baselineRoot);
      const baseToken = await mintAccessToken(keys, { issuer: base.publicUrl, audience: 'urn:portico:api', appKey: DEMO_APP_KEY, merchantId, scope: seed.scopes.join(' '), ttlSeconds: 7200 });
      const baseAuth = { authorization: `Bearer ${baseToken}` };
      await checkedQuery(base.gatewayUrl, baseAuth, baselinePage);
      const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
      const pairs: { change: ScenarioResult; baseline: ScenarioResult }[] = [];
      const measureChange = () => measured(() => load('b-isv-order-page', 'gateway', gatewayUrl, auth, orderPage));
      const measureBaseline = () => measured(() => load('b-isv-order-page', 'baseline', base.gatewayUrl, baseAuth, baselinePage), base.pids);
      // A warm-up round of each, not counted: the first load on a fresh stack measured far slower.
      await measureChange();
      await measureBaseline();
      for (let i = 0; i < rounds; i++) {
        // Which stack goes first alternates: the first of a pair measured consistently slower.
        const change = i % 2 === 0 ? await measureChange() : undefined;
        const baseline = await measureBaseline();
        const pair = { change: change ?? (await measureChange()), baseline };
        report(pair.change);
        report(pair.baseline);
        pairs.push(pair);
      }
      failOnErrors();
      const ratio = (pick: (r: ScenarioResult) => number) => round(mean(pairs.map((p) => pick(p.change) / pick(p.baseline))));
      const cpuOf = (r: ScenarioResult, service: string) => (r.cpuPerRequestMs as Record<string, number>)[service] ?? NaN;
      console.log(
        JSON.stringify({
          scenario: 'b-isv-order-page',
          target: 'change-vs-baseline',
          baseline: baselineRoot,
          page: process.env.BENCH_PAGE === 'lifecycle' ? 'lifecycle' : 'today',
          baselinePage: (process.env.BENCH_BASELINE_PAGE ?? process.env.BENCH_PAGE) === 'lifecycle' ? 'lifecycle' : 'today',
          rounds,
          p50: ratio((r) => r.p50),
          p99: ratio((r) => r.p99),
          rps: ratio((r) => r.rps),
          cpuPerRequest: Object.fromEntries([...services, 'postgres'].map((s) => [s, ratio((r) => cpuOf(r, s))])),
          cpuPerRequestTotal: ratio((r) => [...services, 'postgres'].reduce((sum, s) => sum + cpuOf(r, s), 0)),
        }),
      );
      return;
    }
    if (only === 'b') {
      report(await measured(() => load('b-isv-order-page', 'gateway', gatewayUrl, auth, orderPage)));
      failOnErrors();
      return;
    }
    if (only === 'channel') {
      await channel();
      return;
    }
    /** i: the order page with every access control on (each request signed) and on a stack with them off. */
    const accessControls = async () => {
      const off = await startStack({ ACCESS_CONTROLS: 'off', PORTICO_BENCHMARK: '1' });
      const offToken = await mintAccessToken(keys, { issuer: off.publicUrl, audience: 'urn:portico:api', appKey: DEMO_APP_KEY, merchantId, scope: seed.scopes.join(' '), ttlSeconds: 7200 });
      const authOff = { authorization: `Bearer ${offToken}` };
      await checkedQuery(off.gatewayUrl, authOff, orderPage);
      const { rounds } = await runAccessControlScenario({
        on: { gatewayUrl, pids },
        off: { gatewayUrl: off.gatewayUrl, pids: off.pids },
        appKey: DEMO_APP_KEY,
        appSecret: seed.appSecret!,
        authOn: auth,
        authOff,
        body: orderPage,
        duration,
        connections,
        rounds: Number(process.env.BENCH_ROUNDS ?? 3),
        measured,
        report,
      });
      failOnErrors();
      const p50On = mean(rounds.map((r) => r.on.p50));
      const p50Off = mean(rounds.map((r) => r.off.p50));
      const gatewayCpu = (r: ScenarioResult) => (r.cpuPerRequestMs as Record<string, number>).gateway ?? NaN;
      const summary = {
        scenario: 'i-access-controls',
        target: 'summary',
        p50On: round(p50On),
        p50Off: round(p50Off),
        p50Overhead: round(p50On / p50Off - 1),
        p50OverheadPerRound: rounds.map((r) => round(r.on.p50 / r.off.p50 - 1)),
        p99On: round(mean(rounds.map((r) => r.on.p99))),
        p99Off: round(mean(rounds.map((r) => r.off.p99))),
        gatewayCpuPerRequestOnMs: round(mean(rounds.map((r) => gatewayCpu(r.on)))),
        gatewayCpuPerRequestOffMs: round(mean(rounds.map((r) => gatewayCpu(r.off)))),
        cpuPerRequestOnMs: round(mean(rounds.map((r) => sumCpu(r.on)))),
        cpuPerRequestOffMs: round(mean(rounds.map((r) => sumCpu(r.off)))),
        targetP50Overhead: 0.1,
      };
      console.log(JSON.stringify(summary));
      results.push(summary as unknown as ScenarioResult);
    };
    if (only === 'i') {
      await accessControls();
      mergeIntoReport(results);
      return;
    }
    /** j: the order page with shipments and cases selected against today's, on this stack, alternated. */
    const lifecyclePage = async () => {
      const rounds = await runOrderLifecyclePage({
        check: async (body) => {
          await checkedQuery(gatewayUrl, auth, body);
        },
        load: (target, body) => load('j-order-lifecycle-page', target, gatewayUrl, auth, body),
        measured: (run) => measured(run),
        report,
        rounds: Number(process.env.BENCH_ROUNDS ?? 3),
      });
      failOnErrors();
      const summary = {
        scenario: 'j-order-lifecycle-page',
        target: 'summary',
        p50Today: round(mean(rounds.map((r) => r.today.p50))),
        p50Lifecycle: round(mean(rounds.map((r) => r.lifecycle.p50))),
        p50Overhead: round(mean(rounds.map((r) => r.lifecycle.p50 / r.today.p50)) - 1),
        p50OverheadPerRound: rounds.map((r) => round(r.lifecycle.p50 / r.today.p50 - 1)),
        p99Today: round(mean(rounds.map((r) => r.today.p99))),
        p99Lifecycle: round(mean(rounds.map((r) => r.lifecycle.p99))),
        cpuPerRequestTodayMs: round(mean(rounds.map((r) => sumCpu(r.today)))),
        cpuPerRequestLifecycleMs: round(mean(rounds.map((r) => sumCpu(r.lifecycle)))),
        targetP50Overhead: 0.1,
      };
      console.log(JSON.stringify(summary));
      results.push(summary as unknown as ScenarioResult);
    };
    if (only === 'j') {
      await lifecyclePage();
      mergeIntoReport(results);
      return;
    }
    /** k: buyers' openids on the order page against the page without them, and bind-or-login sign-ins per second. */
    const identities = async () => {
      const { rounds } = await runIdentityScenarios({
        gatewayUrl,
        auth,
        connections,
        duration,
        check: (body) => checkedQuery(gatewayUrl, auth, body),
        load: (target, body) => load('k-order-page-openids', target, gatewayUrl, auth, body),
        measured: (run) => measured(run),
        report,
        rounds: Number(process.env.BENCH_ROUNDS ?? 3),
      });
      failOnErrors();
      const summary = {
        scenario: 'k-order-page-openids',
        target: 'summary',
        p50Without: round(mean(rounds.map((r) => r.without.p50))),
        p50With: round(mean(rounds.map((r) => r.with.p50))),
        p50Overhead: round(mean(rounds.map((r) => r.with.p50 / r.without.p50)) - 1),
        p50OverheadPerRound: rounds.map((r) => round(r.with.p50 / r.without.p50 - 1)),
        cpuPerRequestWithoutMs: round(mean(rounds.map((r) => sumCpu(r.without)))),
        cpuPerRequestWithMs: round(mean(rounds.map((r) => sumCpu(r.with)))),
        targetP50Overhead: 0.1,
      };
      console.log(JSON.stringify(summary));
      results.push(summary as unknown as ScenarioResult);
    };
    if (only === 'k') {
      await identities();
      mergeIntoReport(results);
      return;
    }
    const direct = await measured(() => load('a-single-subgraph', 'direct', `http://127.0.0.1:${ports.product}/graphql`, { [CONTEXT_TOKEN_HEADER]: contextToken }, singleSubgraph));
    report(direct);
    const viaGateway = await measured(() => load('a-single-subgraph', 'gateway', gatewayUrl, auth, singleSubgraph));
    report({ ...viaGateway, gatewayToDirectP50: round(viaGateway.p50 / direct.p50), gatewayToDirectRps: round(viaGateway.rps / direct.rps), targetP50Ratio: 1.5 });
    const page = await measured(() => load('b-isv-order-page', 'gateway', gatewayUrl, auth, orderPage));
    report({ ...page, targetP99Ms: 100 });

    // c: what field authorization costs. A second stack on the same data with FIELD_AUTHORIZATION=off
    // (benchmark-only), alternated with the first so drift on this shared machine hits both alike.
    const open = await startStack({ FIELD_AUTHORIZATION: 'off', PORTICO_BENCHMARK: '1' });
    const openToken = await mintAccessToken(keys, { issuer: open.publicUrl, audience: 'urn:portico:api', appKey: DEMO_APP_KEY, merchantId, scope: seed.scopes.join(' '), ttlSeconds: 7200 });
    const openAuth = { authorization: `Bearer ${openToken}` };
    await checkedQuery(open.gatewayUrl, openAuth, orderPage);
    const rounds: { on: ScenarioResult; off: ScenarioResult }[] = [];
    for (let round = 0; round < 2; round++) {
      const on = await measured(() => load('c-authorization-cost', 'authorization-on', gatewayUrl, auth, orderPage));
      const off = await measured(() => load('c-authorization-cost', 'authorization-off', open.gatewayUrl, openAuth, orderPage), open.pids);
      rounds.push({ on, off });
      report(on);
      report(off);
    }
    const p50On = mean(rounds.map((r) => r.on.p50));
    const p50Off = mean(rounds.map((r) => r.off.p50));
    const cpuOn = mean(rounds.map((r) => sumCpu(r.on)));
    const cpuOff = mean(rounds.map((r) => sumCpu(r.off)));
    const summary = {
      scenario: 'c-authorization-cost',
      target: 'summary',
      p50On: round(p50On),
      p50Off: round(p50Off),
      p50Overhead: round(p50On / p50Off - 1),
      cpuPerRequestOnMs: round(cpuOn),
      cpuPerRequestOffMs: round(cpuOff),
      cpuOverhead: round(cpuOn / cpuOff - 1),
      targetP50Overhead: 0.15,
    };
    console.log(JSON.stringify(summary));
    results.push(summary as unknown as ScenarioResult);

    failOnErrors();
    await accessControls();
    await lifecyclePage();
    await identities();
    // d, e, f fail the run themselves on a lost, foreign or failed event.
    await channel();
    // g, h: npm start on its embedded database, beside the (idle) stack above.
    results.push(...(await npmStartScenarios('both')));
    fs.writeFileSync(path.join(benchDir, 'report.json'), `${JSON.stringify({ measuredAt: new Date().toISOString(), machine: machine(), database: 'postgresql', results }, null, 2)}\n`);
  } finally {
    for (const child of children) child.process.kill('SIGTERM');
    await Promise.all(children.map((c) => c.exited));
    fs.rmSync(keysDir, { recursive: true, force: true });
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const sumCpu = (r: ScenarioResult) => Object.values((r.cpuPerRequestMs ?? {}) as Record<string, number>).reduce((a, b) => a + b, 0);

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux). */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

await main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
