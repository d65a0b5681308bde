/**
 * App status and violations: operators record violations with a penalty (warning, flow-limit
 * reduction, suspension); suspension and reinstatement bite on the gateway within its app access
 * cache, for queries and open subscriptions alike; reinstatement restores the status the suspension
 * replaced; the app and operators read violations and status history; every change is audited.
 */
import crypto from 'node:crypto';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { activeFlowLimitPercent } from '../subgraphs/app-management/violations.js';
import { adjustableClock } from './helpers/clock.js';
import { merchantWithOrder } from './helpers/factories.js';
import { enrolOperator, type EnrolledOperator } from './helpers/operator.js';
import { connectWs, subscribeWs } from './helpers/messages.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
/** Moved past the gateway's app access cache and penalties' ends instead of sleeping them out. */
const clock = adjustableClock();
let store: ReturnType<typeof createAppManagementStore>;
let operator: string;
let cacheMs: number;

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  cacheMs = t.platform.config.appAccessCacheMs;
  store = createAppManagementStore(t.platform.database.db);
  await store.createOperator({ email: 'ops@portico.example', name: 'Olga Ops', password: 'a long operator password' });
  operator = await operatorToken();
});
afterAll(() => t?.stop());

/** A fresh operator token (an hour's lifetime on the platform's clock). */
/** Enrolled in the console (TOTP) once; each token takes a fresh code. */
let ops: EnrolledOperator | undefined;
async function operatorToken(): Promise<string> {
  ops ??= await enrolOperator(t, 'ops@portico.example', 'a long operator password', clock);
  return ops.token();
}

/** An app of its own in `status`, holding orders:read and messages:orders; its app-level token. */
async function newApp(status: 'SANDBOX' | 'LIVE' = 'LIVE') {
  const key = `app_viol_${crypto.randomBytes(4).toString('hex')}`;
  const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'Violating ISV', email: `${key}@example.com`, verificationStatus: 'VERIFIED' });
  const { app } = await store.createApp({ key, name: key, developerId: developer.id, status });
  const pkg = await store.createPackage({ name: `${key} package`, description: 'test', tier: 'FREE', scopes: ['orders:read', 'messages:orders'] });
  await store.grantPackage('system:tests', { appKey: key, packageId: pkg.id, reason: 'test' });
  return { key, id: app.id, token: await t.token({ merchantId: null, appKey: key, scopes: ['orders:read'] }) };
}

const RECORD = `mutation($in: RecordAppViolationInput!) {
  recordAppViolation(input: $in) { id kind note evidence penalty flowLimitPercent penaltyEndsAt penaltyActive recordedBy }
}`;
const VIOLATION_FIELDS = 'id kind note evidence penalty flowLimitPercent penaltyEndsAt penaltyActive recordedAt recordedBy';
const HISTORY_FIELDS = 'from to reason actor at';

async function record(input: Record<string, unknown>) {
  return t.gql(operator, RECORD, { in: input });
}

const viewer = (token: string) => t.gql(token, `{ viewerApp { key status violations { ${VIOLATION_FIELDS} } statusHistory { ${HISTORY_FIELDS} } } }`);
const asOperator = (key: string) => t.gql(operator, `query($key: String!) { app(key: $key) { key status violations { ${VIOLATION_FIELDS} } statusHistory { ${HISTORY_FIELDS} } } }`, { key });

describe('recording violations', () => {
  test('each penalty is recorded and listed, newest first, to operators (with who recorded it) and to the app itself (without)', async () => {
    const app = await newApp();
    const endsAt = new Date(clock.now() + 3_600_000).toISOString();
    const warning = await record({ appKey: app.key, kind: 'scraping', note: 'Crawled every product page', evidence: 'request ids r1, r2', penalty: 'WARNING' });
    expect(warning.errors).toBeUndefined();
    expect(warning.data!.recordAppViolation).toMatchObject({ kind: 'scraping', penalty: 'WARNING', flowLimitPercent: null, penaltyEndsAt: null, penaltyActive: false, recordedBy: expect.stringMatching(/^operator:/) });
    const reduction = await record({ appKey: app.key, kind: 'abusive-traffic', note: 'Bursts at night', penalty: 'FLOW_LIMIT_REDUCTION', flowLimitPercent: 25, penaltyEndsAt: endsAt });
    expect(reduction.data!.recordAppViolation).toMatchObject({ penalty: 'FLOW_LIMIT_REDUCTION', flowLimitPercent: 25, penaltyEndsAt: endsAt, penaltyActive: true });
    const suspension = await record({ appKey: app.key, kind: 'fraud', note: 'Fake orders', penalty: 'SUSPENSION' });
    expect(suspension.data!.recordAppViolation).toMatchObject({ penalty: 'SUSPENSION', penaltyActive: true });

    const seenByOperator = await asOperator(app.key);
    expect(seenByOperator.data!.app.status).toBe('SUSPENDED');
    expect(seenByOperator.data!.app.violations.map((v: { penalty: string }) => v.penalty)).toEqual(['SUSPENSION', 'FLOW_LIMIT_REDUCTION', 'WARNING']);
    expect(seenByOperator.data!.app.violations[2]).toMatchObject({ evidence: 'request ids r1, r2', recordedBy: expect.stringMatching(/^operator:/) });

    // The app reads its own: it is suspended, so only after an operator reinstates it.
    const reinstated = await t.gql(operator, 'mutation($in: ReinstateAppInput!) { reinstateApp(input: $in) { status } }', { in: { appKey: app.key, reason: 'Fraud ruled out' } });
    expect(reinstated.data).toEqual({ reinstateApp: { status: 'LIVE' } });
    await clock.advance(cacheMs + 1);
    const seenByApp = await viewer(app.token);
    expect(seenByApp.errors).toBeUndefined();
    expect(seenByApp.data!.viewerApp.violations).toHaveLength(3);
    expect(seenByApp.data!.viewerApp.violations.every((v: { recordedBy: string | null }) => v.recordedBy === null)).toBe(true);
    expect(seenByApp.data!.viewerApp.violations[0]).toMatchObject({ kind: 'fraud', note: 'Fake orders', penalty: 'SUSPENSION', penaltyActive: false });
    expect(seenByApp.data!.viewerApp.violations[1]).toMatchObject({ penalty: 'FLOW_LIMIT_REDUCTION', penaltyActive: true });
  });

  test('bad input is refused with BAD_USER_INPUT naming the field, and nothing is written', async () => {
    const app = await newApp();
    const base = { appKey: app.key, kind: 'spam', note: 'Sent spam' };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, penalty: 'FLOW_LIMIT_REDUCTION' }, 'flowLimitPercent'],
      [{ ...base, penalty: 'FLOW_LIMIT_REDUCTION', flowLimitPercent: 100 }, 'flowLimitPercent'],
      [{ ...base, penalty: 'FLOW_LIMIT_REDUCTION', flowLimitPercent: 0 }, 'flowLimitPercent'],
      [{ ...base, penalty: 'FLOW_LIMIT_REDUCTION', flowLimitPercent: 50, penaltyEndsAt: new Date(clock.now() - 1000).toISOString() }, 'penaltyEndsAt'],
      [{ ...base, penalty: 'WARNING', flowLimitPercent: 50 }, 'flowLimitPercent'],
      [{ ...base, penalty: 'SUSPENSION', penaltyEndsAt: new Date(clock.now() + 60_000).toISOString() }, 'penaltyEndsAt'],
      [{ ...base, penalty: 'WARNING', kind: '  ' }, 'kind'],
      [{ ...base, penalty: 'WARNING', note: 'x'.repeat(2001) }, 'note'],
    ];
    for (const [input, field] of cases) {
      const res = await record(input);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect((await record({ ...base, appKey: 'app_nobody', penalty: 'WARNING' })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const after = await asOperator(app.key);
    expect(after.data!.app).toMatchObject({ status: 'LIVE', violations: [], statusHistory: [] });
  });

  test('only operators record violations and reinstate apps', async () => {
    const app = await newApp();
    const byApp = await t.gql(app.token, RECORD, { in: { appKey: app.key, kind: 'x', note: 'x', penalty: 'WARNING' } });
    expect(byApp.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const reinstate = await t.gql(app.token, 'mutation { reinstateApp(input: { appKey: "x", reason: "x" }) { status } }');
    expect(reinstate.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  test('a flow-limit reduction is active until its end or until lifted; the lowest active percentage is what flow control applies', async () => {
    const app = await newApp();
    const db = t.platform.database.db;
    expect(await activeFlowLimitPercent(db, app.id, new Date(clock.now()))).toBeNull();
    const hour = await record({ appKey: app.key, kind: 'bursts', note: 'An hour at half', penalty: 'FLOW_LIMIT_REDUCTION', flowLimitPercent: 50, penaltyEndsAt: new Date(clock.now() + 3_600_000).toISOString() });
    const open = await record({ appKey: app.key, kind: 'bursts', note: 'Until lifted', penalty: 'FLOW_LIMIT_REDUCTION', flowLimitPercent: 80 });
    expect(open.data!.recordAppViolation).toMatchObject({ penaltyEndsAt: null, penaltyActive: true });
    expect(await activeFlowLimitPercent(db, app.id, new Date(clock.now()))).toBe(50);

    await clock.advance(3_600_000 + 1000);
    operator = await operatorToken();
    const later = await asOperator(app.key);
    const byId = new Map(later.data!.app.violations.map((v: { id: string }) => [v.id, v]));
    expect(byId.get(hour.data!.recordAppViolation.id)).toMatchObject({ penaltyActive: false });
    expect(await activeFlowLimitPercent(db, app.id, new Date(clock.now()))).toBe(80);

    const LIFT = 'mutation($in: LiftViolationPenaltyInput!) { liftViolationPenalty(input: $in) { penaltyActive penaltyEndsAt } }';
    const lifted = await t.gql(operator, LIFT, { in: { violationId: open.data!.recordAppViolation.id, reason: 'Traffic fixed' } });
    expect(lifted.data!.liftViolationPenalty.penaltyActive).toBe(false);
    expect(Date.parse(lifted.data!.liftViolationPenalty.penaltyEndsAt)).toBeLessThanOrEqual(clock.now());
    expect(await activeFlowLimitPercent(db, app.id, new Date(clock.now()))).toBeNull();
    expect((await t.gql(operator, LIFT, { in: { violationId: open.data!.recordAppViolation.id, reason: 'again' } })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await t.gql(operator, LIFT, { in: { violationId: hour.data!.recordAppViolation.id, reason: 'ended' } })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });
});

describe('suspension and reinstatement', () => {
  test('a suspension by violation refuses the app\'s queries with APP_SUSPENDED once the gateway\'s cache lapses, and reinstatement admits them again', async () => {
    const app = await newApp();
    const query = () => t.gql(app.token, '{ viewerApp { key } }');
    expect((await query()).data).toEqual({ viewerApp: { key: app.key } });
    expect((await record({ appKey: app.key, kind: 'fraud', note: 'Fake orders', penalty: 'SUSPENSION' })).errors).toBeUndefined();
    await clock.advance(cacheMs + 1);
    const refused = await query();
    expect(refused.status).toBe(403);
    expect(refused.errors?.[0]?.extensions?.code).toBe('APP_SUSPENDED');
    expect(refused.errors?.[0]?.message).toMatch(/suspended/);

    await t.gql(operator, 'mutation($in: ReinstateAppInput!) { reinstateApp(input: $in) { status } }', { in: { appKey: app.key, reason: 'Appeal accepted' } });
    await clock.advance(cacheMs + 1);
    expect((await query()).data).toEqual({ viewerApp: { key: app.key } });
  });

  test('an open graphql-ws subscription ends with APP_SUSPENDED within APP_ACCESS_CACHE_MS of the suspension', async () => {
    const app = await newApp();
    const { merchant } = await merchantWithOrder(t);
    const client = connectWs(t.url, await t.token({ merchantId: merchant.id, appKey: app.key, scopes: ['orders:read', 'messages:orders'] }));
    const subscription = subscribeWs(client, 'subscription { orderEvents { type } }');
    // The order placed before is pushed first: the subscription is open.
    expect((await subscription.waitFor(1))[0]!.data).toEqual({ orderEvents: { type: 'CREATED' } });
    const suspendedAt = Date.now();
    await t.gql(operator, 'mutation($in: SetAppStatusInput!) { setAppStatus(input: $in) { status } }', { in: { appKey: app.key, status: 'SUSPENDED', reason: 'Leaked buyer data' } });
    // Real time: the gateway keeps an app's access half of APP_ACCESS_CACHE_MS and re-checks an open
    // subscription every half of it, so it ends within APP_ACCESS_CACHE_MS (plus the lookup's own time).
    await subscription.waitForEnd(cacheMs + 1000);
    const tookMs = Date.now() - suspendedAt;
    console.log(`subscription ended ${tookMs} ms after the suspension`);
    const last = subscription.received.at(-1)!.errors![0]!;
    expect(last.extensions!.code).toBe('APP_SUSPENDED');
    expect(last.message).toMatch(/suspended/);
    expect(tookMs).toBeLessThan(cacheMs + 500);
    await client.dispose();
  });

  test('reinstatement restores the status the suspension replaced: LIVE to LIVE, SANDBOX to SANDBOX; reinstating an app that is not suspended is a CONFLICT', async () => {
    const REINSTATE = 'mutation($in: ReinstateAppInput!) { reinstateApp(input: $in) { status } }';
    const SET = 'mutation($in: SetAppStatusInput!) { setAppStatus(input: $in) { status } }';
    const live = await newApp('LIVE');
    const sandbox = await newApp('SANDBOX');
    expect((await t.gql(operator, SET, { in: { appKey: live.key, status: 'SUSPENDED', reason: 'Spam' } })).data).toEqual({ setAppStatus: { status: 'SUSPENDED' } });
    expect((await record({ appKey: sandbox.key, kind: 'spam', note: 'Spam in sandbox', penalty: 'SUSPENSION' })).errors).toBeUndefined();
    expect((await store.appByKey(live.key))!.statusBeforeSuspension).toBe('LIVE');
    expect((await store.appByKey(sandbox.key))!.statusBeforeSuspension).toBe('SANDBOX');

    expect((await t.gql(operator, REINSTATE, { in: { appKey: live.key, reason: 'Fixed' } })).data).toEqual({ reinstateApp: { status: 'LIVE' } });
    expect((await t.gql(operator, REINSTATE, { in: { appKey: sandbox.key, reason: 'Fixed' } })).data).toEqual({ reinstateApp: { status: 'SANDBOX' } });
    expect((await store.appByKey(live.key))!.statusBeforeSuspension).toBeNull();
    const again = await t.gql(operator, REINSTATE, { in: { appKey: live.key, reason: 'Twice' } });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentStatus: 'LIVE' });
    // A second violation against a suspended app is recorded; the suspension stands as it was.
    await t.gql(operator, SET, { in: { appKey: live.key, status: 'SUSPENDED', reason: 'Spam again' } });
    expect((await record({ appKey: live.key, kind: 'spam', note: 'More spam', penalty: 'SUSPENSION' })).errors).toBeUndefined();
    expect((await t.gql(operator, REINSTATE, { in: { appKey: live.key, reason: 'Fixed again' } })).data).toEqual({ reinstateApp: { status: 'LIVE' } });
  });

  test('every status change is in the app\'s status history (actor for operators only) and in the audit log with actor and reason', async () => {
    const app = await newApp('SANDBOX');
    await t.gql(operator, 'mutation($in: SetAppStatusInput!) { setAppStatus(input: $in) { status } }', { in: { appKey: app.key, status: 'LIVE', reason: 'Reviewed' } });
    const violation = await record({ appKey: app.key, kind: 'fraud', note: 'Fake orders', penalty: 'SUSPENSION' });
    const violationId = violation.data!.recordAppViolation.id;
    await t.gql(operator, 'mutation($in: ReinstateAppInput!) { reinstateApp(input: $in) { status } }', { in: { appKey: app.key, reason: 'Appeal accepted' } });

    const history = (await asOperator(app.key)).data!.app.statusHistory;
    expect(history.map((h: { from: string; to: string; reason: string }) => [h.from, h.to, h.reason])).toEqual([
      ['SUSPENDED', 'LIVE', 'Appeal accepted'],
      ['LIVE', 'SUSPENDED', `violation ${violationId} (fraud): Fake orders`],
      ['SANDBOX', 'LIVE', 'Reviewed'],
    ]);
    expect(history.every((h: { actor: string }) => /^operator:/.test(h.actor))).toBe(true);
    await clock.advance(cacheMs + 1);
    const own = (await viewer(app.token)).data!.viewerApp.statusHistory;
    expect(own.map((h: { to: string }) => h.to)).toEqual(['LIVE', 'SUSPENDED', 'LIVE']);
    expect(own.every((h: { actor: string | null }) => h.actor === null)).toBe(true);

    const audit = await t.gql(operator, '{ auditLog(first: 50) { nodes { actor action targetId reason details } } }');
    const entries = audit.data!.auditLog.nodes.filter((e: { targetId: string; action: string }) => e.targetId === app.key && e.action.startsWith('app.'));
    expect(entries.map((e: { action: string; reason: string }) => [e.action, e.reason])).toEqual([
      ['app.status_changed', 'Appeal accepted'],
      ['app.status_changed', `violation ${violationId} (fraud): Fake orders`],
      ['app.violation_recorded', 'Fake orders'],
      ['app.status_changed', 'Reviewed'],
    ]);
    expect(entries.every((e: { actor: string }) => /^operator:/.test(e.actor))).toBe(true);
    expect(JSON.parse(entries[2].details)).toMatchObject({ violationId, kind: 'fraud', penalty: 'SUSPENSION' });
    expect(JSON.parse(entries[0].details)).toEqual({ from: 'SUSPENDED', to: 'LIVE' });
  });
});
