/**
 * The console's operations pages (packages, offline APIs, traffic, announcements, audit log) send
 * the GraphQL documents in web/src/console/pages/{packages,apis,traffic,announcements,audit}: here
 * each one runs, as written there, against a real platform as an operator, in the order an operator
 * clicks through the pages, and does what its button says (an app's token gains a granted scope, a
 * field taken offline answers API_OFFLINE, the audit log has the reason). A document added to those
 * pages and not run here fails the last test. The pages' small pure helpers are tested beside.
 */
import crypto from 'node:crypto';
import React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import ReactMarkdown from 'react-markdown';
import { mintOperatorToken } from '../core/tokens.js';
import { CALL_REPORT_FLUSH_MS } from '../gateway/call-reports.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { findDocuments } from '../web/scripts/operation-types.js';
import { safeMarkdownUrl } from '../web/src/lib/markdown-links.js';
import { windowState } from '../web/src/console/pages/apis/window.js';
import { fieldsByScope } from '../web/src/console/pages/packages/catalog.js';
import { prettyDetails } from '../web/src/console/pages/audit/details.js';
import { pointsOf, presetRange, PRESETS, rangeProblem } from '../web/src/console/pages/traffic/series.js';
import { adjustableClock } from './helpers/clock.js';
import { createMerchant } from './helpers/factories.js';
import { startTestPlatform, TEST_APP_KEY, waitUntil, type GraphQLResponse, type TestPlatform } from './helpers/platform.js';

const PAGES = /^src\/console\/pages\/(packages|apis|traffic|announcements|audit)\//;
const documents = new Map(
  findDocuments()
    .filter((d) => PAGES.test(d.file))
    .map((d) => [/^\s*(?:query|mutation) (\w+)/.exec(d.source)![1]!, d.source]),
);
const ran = new Set<string>();

const clock = adjustableClock();
let t: TestPlatform;
let operatorId: string;
let appKey: string;
const operator = () => mintOperatorToken(t.platform.keys, { issuer: t.platform.config.publicUrl, audience: t.platform.config.apiAudience, operatorId, clock });
const pastAccessCache = () => clock.advance(t.platform.config.appAccessCacheMs + 1);

/** Runs one of the pages' documents by its operation name, as the operator; fails on any error. */
async function page<T = Record<string, any>>(name: string, variables?: Record<string, unknown>): Promise<T> {
  const source = documents.get(name);
  if (!source) throw new Error(`no document ${name} in the console's operations pages`);
  ran.add(name);
  const res: GraphQLResponse<T> = await t.gql<T>(await operator(), source, variables);
  if (res.errors?.length) throw new Error(`${name}: ${JSON.stringify(res.errors)}`);
  return res.data!;
}

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  const store = createAppManagementStore(t.platform.database.db);
  operatorId = (await store.createOperator({ email: `ops-${crypto.randomUUID()}@portico.example`, name: 'Page Tester', password: 'correct horse battery staple' })).id;
  appKey = `app_${crypto.randomBytes(5).toString('hex')}`;
  const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'Pages ISV', email: `${appKey}@example.com`, verificationStatus: 'VERIFIED' });
  await store.createApp({ key: appKey, name: 'Pages app', developerId: developer.id, status: 'LIVE' });
});
afterAll(() => t.stop());

describe('permission packages', () => {
  test('create a package from the catalog, grant it to an app (its token gains the scope), change it with a reason, revoke it', async () => {
    const catalog = await page('ConsolePackages');
    expect(catalog.scopes.map((s: { name: string }) => s.name)).toContain('orders:read');
    // The editor shows beside each scope the fields it opens: orders:read opens Query.orders.
    expect(fieldsByScope(catalog.apiCatalog.fields).get('orders:read')).toContain('Query.orders');

    const { createPermissionPackage: pkg } = await page('ConsoleCreatePackage', { input: { name: `Orders ${appKey}`, description: 'Read orders', tier: 'FREE', scopes: ['orders:read'] } });
    expect((await page('ConsolePackages')).permissionPackages.map((p: { id: string }) => p.id)).toContain(pkg.id);

    const merchant = await createMerchant(t);
    const appToken = await t.token({ merchantId: merchant.id, appKey, scopes: ['orders:read'] });
    expect((await t.gql(appToken, '{ orders { totalCount } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const found = await page('ConsoleAppGrants', { search: appKey });
    expect(found.apps.nodes.map((a: { key: string }) => a.key)).toContain(appKey);
    await page('ConsoleGrantPackageToApp', { input: { appKey, packageId: pkg.id, reason: 'Signed contract' } });
    await pastAccessCache();
    expect((await t.gql(appToken, '{ orders { totalCount } }')).errors).toBeUndefined();
    const held = (await page('ConsoleAppGrants', { search: appKey })).apps.nodes.find((a: { key: string }) => a.key === appKey);
    expect(held.grantedPackages).toEqual([expect.objectContaining({ reason: 'Signed contract', revokedAt: null, package: expect.objectContaining({ id: pkg.id }) })]);

    const { updatePermissionPackage: updated } = await page('ConsoleUpdatePackage', { input: { id: pkg.id, name: `Orders ${appKey}`, description: 'Read orders and products', tier: 'PAID', scopes: ['orders:read', 'products:read'], reason: 'Bundle products' } });
    expect(updated).toMatchObject({ tier: 'PAID', scopes: [{ name: 'orders:read' }, { name: 'products:read' }] });

    await page('ConsoleRevokePackageFromApp', { input: { appKey, packageId: pkg.id, reason: 'Contract ended' } });
    await pastAccessCache();
    expect((await t.gql(appToken, '{ orders { totalCount } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const log = await page('ConsoleAuditLog', { filter: { targetType: 'permission_package', targetId: pkg.id }, first: 50, after: null });
    expect(log.auditLog.nodes).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'package.updated', reason: 'Bundle products', actor: `operator:${operatorId}` })]));
  });

  test('the request queue: a pending request is approved (granted) or rejected, each with the reason the developer reads', async () => {
    const { createPermissionPackage: wanted } = await page('ConsoleCreatePackage', { input: { name: `Products ${appKey}`, description: 'Read products', tier: 'FREE', scopes: ['products:read'] } });
    const { createPermissionPackage: other } = await page('ConsoleCreatePackage', { input: { name: `Buyers ${appKey}`, description: 'Read buyers', tier: 'PAID', scopes: ['users:read'] } });
    const appLevel = await t.token({ merchantId: null, appKey, scopes: [] });
    const ask = (packageId: string) => t.gql(appLevel, 'mutation($in: RequestPermissionPackageInput!) { requestPermissionPackage(input: $in) { id } }', { in: { packageId, message: 'We sync stock' } });
    const first = (await ask(wanted.id)).data!.requestPermissionPackage.id;
    const second = (await ask(other.id)).data!.requestPermissionPackage.id;

    const queue = await page('ConsolePackageRequests', { status: 'PENDING', after: null });
    expect(queue.packageRequests.nodes.filter((r: { app: { key: string } }) => r.app.key === appKey).map((r: { id: string; message: string }) => [r.id, r.message])).toEqual([
      [first, 'We sync stock'],
      [second, 'We sync stock'],
    ]);
    expect((await page('ConsoleApprovePackageRequest', { input: { requestId: first, reason: 'Verified ISV' } })).approvePackageRequest).toMatchObject({ status: 'APPROVED', decisionReason: 'Verified ISV' });
    expect((await page('ConsoleRejectPackageRequest', { input: { requestId: second, reason: 'Paid tier needs a contract' } })).rejectPackageRequest).toMatchObject({ status: 'REJECTED' });
    const rejected = await page('ConsolePackageRequests', { status: 'REJECTED', after: null });
    expect(rejected.packageRequests.nodes).toEqual(expect.arrayContaining([expect.objectContaining({ id: second, decisionReason: 'Paid tier needs a contract' })]));
  });
});

describe('offline APIs', () => {
  test('a coordinate from the catalog taken offline for one app answers API_OFFLINE to it alone, is listed, and comes back', async () => {
    const fields = (await page('ConsoleApiFields')).apiCatalog.fields.map((f: { coordinate: string }) => f.coordinate);
    expect(fields).toContain('Query.products');
    const merchant = await createMerchant(t);
    const token = await t.token({ merchantId: merchant.id });
    // The form's app picker finds the app by its key.
    expect((await page('ConsoleAppChoices', { search: TEST_APP_KEY })).apps.nodes.map((a: { key: string }) => a.key)).toContain(TEST_APP_KEY);

    const { takeApiOffline: taken } = await page('ConsoleTakeApiOffline', { input: { coordinate: 'Query.products', appKeys: [TEST_APP_KEY], reason: 'Reindexing' } });
    expect(taken.active).toBe(true);
    await pastAccessCache();
    const refused = await t.gql(token, '{ products(first: 1) { totalCount } }');
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'API_OFFLINE' } });
    expect((await page('ConsoleOfflineApis', { includeEnded: false })).offlineApis).toEqual([
      expect.objectContaining({ id: taken.id, coordinate: 'Query.products', appKeys: [TEST_APP_KEY], reason: 'Reindexing', takenBy: `operator:${operatorId}` }),
    ]);

    // A window ahead is planned, not offline.
    const ahead = new Date(clock.now() + 3_600_000).toISOString();
    const { takeApiOffline: planned } = await page('ConsoleTakeApiOffline', { input: { coordinate: 'Mutation.cancelOrder', reason: 'Migration', startsAt: ahead } });
    expect(windowState(planned, clock.now())).toBe('PLANNED');

    await page('ConsoleBringApiOnline', { input: { id: taken.id, reason: 'Done' } });
    await page('ConsoleBringApiOnline', { input: { id: planned.id, reason: 'Cancelled' } });
    await pastAccessCache();
    expect((await t.gql(token, '{ products(first: 1) { totalCount } }')).errors).toBeUndefined();
    expect((await page('ConsoleOfflineApis', { includeEnded: false })).offlineApis).toEqual([]);
    const ended = (await page('ConsoleOfflineApis', { includeEnded: true })).offlineApis.find((a: { id: string }) => a.id === taken.id);
    expect(ended).toMatchObject({ restoreReason: 'Done', restoredBy: `operator:${operatorId}` });
    expect(windowState(ended, clock.now())).toBe('BROUGHT_BACK');
  });
});

describe('traffic', () => {
  test("the platform's report counts an app's calls and ranks it; the drill reads its own report; live subscriptions answer", async () => {
    const merchant = await createMerchant(t);
    const token = await t.token({ merchantId: merchant.id });
    for (let i = 0; i < 3; i++) expect((await t.gql(token, '{ products(first: 1) { totalCount } }')).errors).toBeUndefined();
    const range = presetRange(PRESETS[0]!, 'HOUR', clock.now());
    await clock.advance(CALL_REPORT_FLUSH_MS);
    let report: any;
    await waitUntil('the calls in the platform report', async () => {
      report = (await page('ConsolePlatformTraffic', { ...range })).platformCallReport;
      return report.byCalls.some((row: { app: { key: string }; stats: { calls: number } }) => row.app.key === TEST_APP_KEY && row.stats.calls >= 3);
    });
    expect(report.total.calls).toBeGreaterThanOrEqual(3);
    expect(pointsOf(report.periods, range).reduce((sum, p) => sum + p.calls, 0)).toBe(report.total.calls);
    expect(Array.isArray(report.byCost) && Array.isArray(report.byErrors)).toBe(true);

    const drill = (await page('ConsoleAppTraffic', { key: TEST_APP_KEY, ...range })).app;
    expect(drill.callReport.total.calls).toBeGreaterThanOrEqual(3);
    expect(drill.callReport.operations.length).toBeGreaterThan(0);
    expect(drill.usage.dailyQuota).toBeGreaterThan(0);

    const live = (await page('ConsoleLiveSubscriptions')).liveSubscriptions;
    expect(live.total).toBe(0);
    expect(live.apps).toEqual([]);
  });
});

describe('announcements', () => {
  test('a draft for a package holder is written, changed, published now and withdrawn, each listed with its status', async () => {
    const { permissionPackages } = await page('ConsoleAnnouncementPackages');
    expect(permissionPackages.length).toBeGreaterThan(0);
    const target = permissionPackages[0].id;
    const { createAnnouncement: draft } = await page('ConsoleCreateAnnouncement', { input: { title: 'Maintenance', body: 'Orders **pause** at noon. <script>x</script>', packageIds: [target] } });
    expect(draft).toMatchObject({ status: 'DRAFT', publishedAt: null, packages: [{ id: target }], createdBy: `operator:${operatorId}` });
    const { updateAnnouncement: changed } = await page('ConsoleUpdateAnnouncement', { input: { id: draft.id, title: 'Maintenance at noon', body: 'Orders pause.', packageIds: [], publishAt: null } });
    expect(changed).toMatchObject({ title: 'Maintenance at noon', packages: [], status: 'DRAFT' });

    const ahead = new Date(clock.now() + 86_400_000).toISOString();
    const { updateAnnouncement: scheduled } = await page('ConsoleUpdateAnnouncement', { input: { id: draft.id, publishAt: ahead } });
    expect(scheduled.status).toBe('SCHEDULED');
    const { publishAnnouncement: published } = await page('ConsolePublishAnnouncement', { input: { id: draft.id } });
    expect(published.status).toBe('PUBLISHED');
    expect(Date.parse(published.publishedAt)).toBeLessThanOrEqual(clock.now());

    const listed = (await page('ConsoleAnnouncements', { first: 20, after: null })).operatorAnnouncements.nodes.find((a: { id: string }) => a.id === draft.id);
    expect(listed.status).toBe('PUBLISHED');
    const { withdrawAnnouncement: withdrawn } = await page('ConsoleWithdrawAnnouncement', { input: { id: draft.id, reason: 'Wrong date' } });
    expect(withdrawn.status).toBe('WITHDRAWN');

    const log = await page('ConsoleAuditLog', { filter: { targetType: 'announcement', targetId: draft.id }, first: 50, after: null });
    const byOperator = log.auditLog.nodes.filter((e: { actor: string }) => e.actor === `operator:${operatorId}`);
    expect(byOperator.map((e: { action: string }) => e.action)).toEqual(['announcement.withdrawn', 'announcement.published', 'announcement.updated', 'announcement.updated', 'announcement.created']);
    expect(byOperator[0]).toMatchObject({ reason: 'Wrong date' });
  });
});

describe('audit log', () => {
  test('filters narrow it, and pages follow one another without repeating an entry', async () => {
    const all = await page('ConsoleAuditLog', { filter: null, first: 2, after: null });
    expect(all.auditLog.totalCount).toBeGreaterThan(4);
    const next = await page('ConsoleAuditLog', { filter: null, first: 2, after: all.auditLog.pageInfo.endCursor });
    const ids = [...all.auditLog.nodes, ...next.auditLog.nodes].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(4);
    // The grant by hand and the one approving the request, and nothing else.
    const mine = await page('ConsoleAuditLog', { filter: { actor: `operator:${operatorId}`, action: 'package.granted', targetType: 'app', targetId: appKey }, first: 50, after: null });
    expect(mine.auditLog.totalCount).toBe(2);
    expect(mine.auditLog.nodes.every((e: { action: string; targetId: string }) => e.action === 'package.granted' && e.targetId === appKey)).toBe(true);
    const byHand = mine.auditLog.nodes.find((e: { reason: string }) => e.reason === 'Signed contract');
    expect(prettyDetails(byHand.details)).toMatch(/\n {2}"packageName"/);
  });

  test('every document of the operations pages ran above', () => {
    expect(documents.size).toBeGreaterThan(15);
    expect([...documents.keys()].filter((name) => !ran.has(name))).toEqual([]);
  });
});

describe('the pages’ helpers', () => {
  test('announcement links keep http(s) and paths on the platform, and lose any other scheme', () => {
    for (const kept of ['https://portico.example/docs', 'HTTP://example.com', '/portal/reference', 'reference/Order', '#quotas', '?q=1']) expect(safeMarkdownUrl(kept)).toBe(kept);
    for (const dropped of ['javascript:alert(1)', ' JavaScript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<b>', 'vbscript:x', 'mailto:a@b.c', '//evil.example/x']) expect(safeMarkdownUrl(dropped)).toBe('');
  });

  test('Markdown renders without any HTML from the text and with only safe links', () => {
    const html = renderToStaticMarkup(
      React.createElement(ReactMarkdown, { urlTransform: safeMarkdownUrl }, 'Hi <img src=x onerror=alert(1)> **there** [a](javascript:alert(1)) [b](https://portico.example)\n\n<script>alert(1)</script>'),
    );
    // HTML in the text stays text (escaped), and the javascript: link keeps no target.
    expect(html).not.toMatch(/<img|<script|javascript:/i);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('<a href="">a</a>');
    expect(html).toContain('<strong>there</strong>');
    expect(html).toContain('href="https://portico.example"');
    expect(html).toContain('&lt;script&gt;');
  });

  test('ranges: a preset ends at the current period; too long or backwards ranges are named before asking', () => {
    const now = Date.parse('2026-12-07T10:20:00Z');
    expect(presetRange(PRESETS[0]!, 'HOUR', now)).toEqual({ from: '2026-12-06T11:00:00.000Z', to: '2026-12-07T11:00:00.000Z', granularity: 'HOUR' });
    expect(rangeProblem({ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', granularity: 'HOUR' })).toMatch(/31 days/);
    expect(rangeProblem({ from: '2026-03-01T00:00:00Z', to: '2026-01-01T00:00:00Z', granularity: 'DAY' })).toMatch(/after the start/);
    expect(rangeProblem({ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', granularity: 'DAY' })).toBeUndefined();
    const stats = (calls: number, codes: Record<string, number>) => ({ calls, errors: 0, errorRate: 0, errorsByCode: Object.entries(codes).map(([code, n]) => ({ code, calls: n })), latency: { p50: 5, p95: 9, p99: 12, mean: 6 }, requestedCost: 0, actualCost: 0 });
    const points = pointsOf([{ start: '2026-12-07T08:00:00.000Z', stats: stats(7, { THROTTLED: 2, QUOTA_EXCEEDED: 1 }) }], { from: '2026-12-07T06:00:00.000Z', to: '2026-12-07T10:00:00.000Z', granularity: 'HOUR' });
    expect(points.map((p) => [p.calls, p.throttled, p.quotaExceeded, p.p95])).toEqual([
      [0, 0, 0, null],
      [0, 0, 0, null],
      [7, 2, 1, 9],
      [0, 0, 0, null],
    ]);
  });
});
