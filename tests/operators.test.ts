/** Operators: their own sign-in and tokens, permission packages, grants, requests and the audit log. */
import crypto from 'node:crypto';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { createMerchant } from './helpers/factories.js';
import { adjustableClock } from './helpers/clock.js';
import { enrolOperator, type EnrolledOperator } from './helpers/operator.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
/** Moved past the gateway's access cache instead of sleeping it out. */
const clock = adjustableClock();
let store: ReturnType<typeof createAppManagementStore>;
const password = 'correct horse battery staple';
/** Signed in to the console once, where they enrolled TOTP; their tokens need a code. */
let ops: EnrolledOperator;

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  store = createAppManagementStore(t.platform.database.db);
  await store.createOperator({ email: 'ops@portico.example', name: 'Olga Ops', password });
  ops = await enrolOperator(t, 'ops@portico.example', password, clock);
});
afterAll(() => t.stop());

function signIn(email: string, pass: string, second: { code: string } | { recoveryCode: string } = { code: '000000' }) {
  return fetch(new URL('/auth/operator/token', t.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: pass, ...second }) });
}

const operatorToken = () => ops.token();

describe('operator sign-in', () => {
  test('right credentials and a TOTP code give an operator token; wrong ones an OAuth-style invalid_grant', async () => {
    const ok = await signIn('OPS@portico.example', password, await ops.nextCode());
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(await ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    for (const [email, pass] of [['ops@portico.example', 'wrong password'], ['nobody@portico.example', password]] as const) {
      const res = await signIn(email, pass, await ops.nextCode());
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'invalid_grant', error_description: 'Wrong email or password' });
    }
    const malformed = await fetch(new URL('/auth/operator/token', t.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(malformed.status).toBe(400);
    // The password alone is not enough.
    const withoutCode = await fetch(new URL('/auth/operator/token', t.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ops@portico.example', password }) });
    expect(withoutCode.status).toBe(400);
  });

  test('wrong passwords sent all at once lock the account like one after another: no failure is lost, no lock undone', async () => {
    await store.createOperator({ email: 'burst@portico.example', name: 'Burst', password });
    const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn('burst@portico.example', `guess ${i}`)));
    expect(guesses.every((r) => r.status === 401)).toBe(true);
    const rightOne = await signIn('burst@portico.example', password);
    expect(rightOne.status).toBe(429);
    expect(await rightOne.json()).toMatchObject({ error: 'account_locked', error_description: expect.stringMatching(/Too many failed sign-ins/) });
  });

  test('five failures in a row lock the account, even against the right password', async () => {
    await store.createOperator({ email: 'lock@portico.example', name: 'Locked', password });
    for (let i = 0; i < 5; i++) expect((await signIn('lock@portico.example', `guess ${i}`)).status).toBe(401);
    const locked = await signIn('lock@portico.example', password);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await locked.json()) as { error_description: string }).error_description).toMatch(/Too many failed sign-ins/);
  });

  test('an operator token reads no merchant data', async () => {
    const token = await operatorToken();
    const res = await t.gql(token, '{ orders { totalCount } }');
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('permission packages', () => {
  test('create, grant, request, approve, reject, revoke: each takes effect and is in the audit log', async () => {
    const op = await operatorToken();
    const key = `app_${crypto.randomBytes(5).toString('hex')}`;
    const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'ERP Co', email: `${key}@example.com` });
    await store.createApp({ key, name: 'ERP', developerId: developer.id, status: 'LIVE' });
    const merchant = await createMerchant(t);
    const appToken = await t.token({ merchantId: merchant.id, appKey: key, scopes: ['orders:read', 'products:read'] });

    const created = await t.gql(op, 'mutation($in: CreatePermissionPackageInput!) { createPermissionPackage(input: $in) { id name tier scopes { name } } }', {
      in: { name: `Orders ${key}`, description: 'Read orders', tier: 'FREE', scopes: ['orders:read'] },
    });
    expect(created.errors).toBeUndefined();
    const ordersPkg = created.data!.createPermissionPackage;
    const badScope = await t.gql(op, 'mutation($in: CreatePermissionPackageInput!) { createPermissionPackage(input: $in) { id } }', {
      in: { name: `Bad ${key}`, description: 'x', tier: 'PAID', scopes: ['orders:everything'] },
    });
    expect(badScope.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'scopes' });

    // Nothing granted yet: the app can read nothing.
    expect((await t.gql(appToken, '{ orders { totalCount } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const grant = await t.gql(op, 'mutation($in: PackageGrantInput!) { grantPermissionPackage(input: $in) { id reason package { name } } }', {
      in: { appKey: key, packageId: ordersPkg.id, reason: 'Signed contract #42' },
    });
    expect(grant.data?.grantPermissionPackage).toMatchObject({ reason: 'Signed contract #42', package: { name: `Orders ${key}` } });
    const twice = await t.gql(op, 'mutation($in: PackageGrantInput!) { grantPermissionPackage(input: $in) { id } }', { in: { appKey: key, packageId: ordersPkg.id, reason: 'again' } });
    expect(twice.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    await clock.advance(t.platform.config.appAccessCacheMs + 1); // past the gateway's access cache
    expect((await t.gql(appToken, '{ orders { totalCount } }')).errors).toBeUndefined();

    // The developer asks for a catalog package with the app's own token (client credentials, no
    // merchant); a token a merchant authorized may not. Operators decide.
    const appLevel = await t.token({ merchantId: null, appKey: key, scopes: [] });
    const catalogPkg = (await t.gql(op, 'mutation($in: CreatePermissionPackageInput!) { createPermissionPackage(input: $in) { id } }', {
      in: { name: `Catalog ${key}`, description: 'Read products', tier: 'PAID', scopes: ['products:read'] },
    })).data!.createPermissionPackage;
    const asMerchant = await t.gql(appToken, 'mutation($in: RequestPermissionPackageInput!) { requestPermissionPackage(input: $in) { id } }', { in: { packageId: catalogPkg.id } });
    expect(asMerchant.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const requested = await t.gql(appLevel, 'mutation($in: RequestPermissionPackageInput!) { requestPermissionPackage(input: $in) { id status app { key } } }', {
      in: { packageId: catalogPkg.id, message: 'We sync stock' },
    });
    expect(requested.data?.requestPermissionPackage).toMatchObject({ status: 'PENDING', app: { key } });
    const duplicate = await t.gql(appLevel, 'mutation($in: RequestPermissionPackageInput!) { requestPermissionPackage(input: $in) { id } }', { in: { packageId: catalogPkg.id } });
    expect(duplicate.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const pending = await t.gql(op, '{ packageRequests(first: 100) { nodes { id message app { key } package { name } } } }');
    expect(pending.data?.packageRequests.nodes).toEqual(expect.arrayContaining([{ id: requested.data!.requestPermissionPackage.id, message: 'We sync stock', app: { key }, package: { name: `Catalog ${key}` } }]));
    expect((await t.gql(appToken, '{ products { totalCount } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const approved = await t.gql(op, 'mutation($in: DecidePackageRequestInput!) { approvePackageRequest(input: $in) { status decisionReason } }', {
      in: { requestId: requested.data!.requestPermissionPackage.id, reason: 'Verified ISV' },
    });
    expect(approved.data?.approvePackageRequest).toEqual({ status: 'APPROVED', decisionReason: 'Verified ISV' });
    const decideAgain = await t.gql(op, 'mutation($in: DecidePackageRequestInput!) { rejectPackageRequest(input: $in) { status } }', {
      in: { requestId: requested.data!.requestPermissionPackage.id, reason: 'changed my mind' },
    });
    expect(decideAgain.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    await clock.advance(t.platform.config.appAccessCacheMs + 1);
    expect((await t.gql(appToken, '{ products { totalCount } }')).errors).toBeUndefined();

    const seen = await t.gql(appToken, '{ viewerApp { grantedScopes grantedPackages { package { name } } packageRequests { status } } }');
    expect(seen.data?.viewerApp).toEqual({
      grantedScopes: ['orders:read', 'products:read'],
      grantedPackages: [{ package: { name: `Orders ${key}` } }, { package: { name: `Catalog ${key}` } }],
      packageRequests: [{ status: 'APPROVED' }],
    });

    const revoked = await t.gql(op, 'mutation($in: PackageGrantInput!) { revokePermissionPackage(input: $in) { revokedAt revokeReason } }', {
      in: { appKey: key, packageId: ordersPkg.id, reason: 'Contract ended' },
    });
    expect(revoked.data?.revokePermissionPackage.revokeReason).toBe('Contract ended');

    const log = await t.gql<{ auditLog: { nodes: { actor: string; action: string; targetId: string; reason: string | null; details: string }[] } }>(
      op,
      '{ auditLog(first: 100) { nodes { actor action targetId reason details } } }',
    );
    const mine = log.data!.auditLog.nodes.filter((e) => e.targetId === key || e.details.includes(key) || e.details.includes(ordersPkg.id) || e.details.includes(catalogPkg.id));
    expect(mine.map((e) => e.action).reverse()).toEqual(['package.created', 'package.granted', 'package.created', 'request.created', 'request.approved', 'package.granted', 'package.revoked']);
    const operatorActions = mine.filter((e) => e.action !== 'request.created');
    for (const entry of operatorActions) expect(entry.actor).toMatch(/^operator:[0-9a-f-]{36}$/);
    expect(mine.find((e) => e.action === 'package.revoked')?.reason).toBe('Contract ended');
  });

  test('granting a package directly answers a pending request for it; a status already set is a CONFLICT that records nothing', async () => {
    const op = await operatorToken();
    const key = `app_${crypto.randomBytes(5).toString('hex')}`;
    const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'WMS Co', email: `${key}@example.com` });
    await store.createApp({ key, name: 'WMS', developerId: developer.id, status: 'LIVE' });
    const pkg = (await t.gql(op, 'mutation($in: CreatePermissionPackageInput!) { createPermissionPackage(input: $in) { id } }', {
      in: { name: `Stock ${key}`, description: 'Read products', tier: 'FREE', scopes: ['products:read'] },
    })).data!.createPermissionPackage;
    const appLevel = await t.token({ merchantId: null, appKey: key, scopes: [] });
    const requested = (await t.gql(appLevel, 'mutation($in: RequestPermissionPackageInput!) { requestPermissionPackage(input: $in) { id } }', { in: { packageId: pkg.id } })).data!
      .requestPermissionPackage;
    const granted = await t.gql(op, 'mutation($in: PackageGrantInput!) { grantPermissionPackage(input: $in) { id } }', { in: { appKey: key, packageId: pkg.id, reason: 'Partner deal' } });
    expect(granted.errors).toBeUndefined();
    const pending = await t.gql<{ packageRequests: { nodes: { id: string }[] } }>(op, '{ packageRequests(first: 100) { nodes { id } } }');
    expect(pending.data!.packageRequests.nodes.map((r) => r.id)).not.toContain(requested.id);
    const answered = await t.gql(appLevel, '{ viewerApp { packageRequests { id status decisionReason } } }');
    expect(answered.data?.viewerApp.packageRequests).toEqual([{ id: requested.id, status: 'APPROVED', decisionReason: 'granted directly: Partner deal' }]);

    const entries = async () => (await t.gql<{ auditLog: { nodes: { targetId: string }[] } }>(op, '{ auditLog(first: 100) { nodes { targetId } } }')).data!.auditLog.nodes.filter((e) => e.targetId === key).length;
    const before = await entries();
    const again = await t.gql(op, 'mutation($in: SetAppStatusInput!) { setAppStatus(input: $in) { status } }', { in: { appKey: key, status: 'LIVE', reason: 'release' } });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentStatus: 'LIVE' });
    expect(await entries()).toBe(before);
  });

  test('package requests page through the whole queue, oldest first, with a total; a forged cursor is BAD_USER_INPUT', async () => {
    const op = await operatorToken();
    const pkg = (await t.gql(op, 'mutation($in: CreatePermissionPackageInput!) { createPermissionPackage(input: $in) { id } }', {
      in: { name: `Queue ${crypto.randomBytes(4).toString('hex')}`, description: 'x', tier: 'FREE', scopes: ['products:read'] },
    })).data!.createPermissionPackage;
    const mine: string[] = [];
    for (let i = 0; i < 3; i++) {
      const key = `app_${crypto.randomBytes(5).toString('hex')}`;
      const developer = await store.createDeveloper({ kind: 'COMPANY', name: `Queue ${i}`, email: `${key}@example.com` });
      await store.createApp({ key, name: `Queue ${i}`, developerId: developer.id, status: 'LIVE' });
      const appLevel = await t.token({ merchantId: null, appKey: key, scopes: [] });
      mine.push((await t.gql(appLevel, 'mutation($in: RequestPermissionPackageInput!) { requestPermissionPackage(input: $in) { id } }', { in: { packageId: pkg.id } })).data!.requestPermissionPackage.id);
    }
    const PAGE = 'query($after: String) { packageRequests(first: 2, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }';
    const seen: string[] = [];
    let after: string | null = null;
    let total = 0;
    for (let pages = 0; pages < 1000; pages++) {
      const page: any = (await t.gql(op, PAGE, { after })).data!.packageRequests;
      total = page.totalCount;
      seen.push(...page.nodes.map((n: { id: string }) => n.id));
      if (!page.pageInfo.hasNextPage) break;
      expect(page.nodes).toHaveLength(2);
      after = page.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => mine.includes(id))).toEqual(mine); // all of them, oldest first
    const forged = await t.gql(op, PAGE, { after: 'not-a-cursor' });
    expect(forged.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // The other operator lists count too.
    const totals: any = (await t.gql(op, '{ apps(first: 1) { totalCount } auditLog(first: 1) { totalCount } }')).data;
    expect(totals.apps.totalCount).toBeGreaterThanOrEqual(3);
    expect(totals.auditLog.totalCount).toBeGreaterThanOrEqual(1);
  });

  test('updating a package changes what every app holding it may do, with the reason audited', async () => {
    const op = await operatorToken();
    const key = `app_${crypto.randomBytes(5).toString('hex')}`;
    const developer = await store.createDeveloper({ kind: 'INDIVIDUAL', name: 'Solo', email: `${key}@example.com` });
    await store.createApp({ key, name: 'Solo', developerId: developer.id, status: 'LIVE' });
    const pkg = await store.createPackage({ name: `Growing ${key}`, description: 'x', tier: 'FREE', scopes: ['orders:read'] });
    await store.grantPackage('operator:seed', { appKey: key, packageId: pkg.id, reason: 'start' });
    const merchant = await createMerchant(t);
    const appToken = await t.token({ merchantId: merchant.id, appKey: key, scopes: ['orders:read', 'merchant:read'] });
    expect((await t.gql(appToken, '{ merchant { name } }')).data).toEqual({ merchant: null });
    const updated = await t.gql(op, 'mutation($in: UpdatePermissionPackageInput!) { updatePermissionPackage(input: $in) { scopes { name } } }', {
      in: { id: pkg.id, scopes: ['orders:read', 'merchant:read'], reason: 'Shop profile is free now' },
    });
    expect(updated.data?.updatePermissionPackage.scopes.map((s: { name: string }) => s.name)).toEqual(['merchant:read', 'orders:read']);
    await clock.advance(t.platform.config.appAccessCacheMs + 1);
    expect((await t.gql(appToken, '{ merchant { name } }')).data?.merchant?.name).toBe(merchant.name);
  });

  test('operators see any app; an app sees only itself', async () => {
    const op = await operatorToken();
    const list = await t.gql(op, '{ apps(first: 100) { nodes { key developer { name } } } }');
    expect(list.errors).toBeUndefined();
    expect(list.data!.apps.nodes.map((a: { key: string }) => a.key)).toContain('app_test');
    const appToken = await t.token({ merchantId: null });
    const other = await t.gql(appToken, '{ app(key: "app_test") { key } }');
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
