/**
 * The console's developers and apps pages in a real browser (Debian's Chromium, as the portal's
 * test), on the demo platform (seeded: a developer waiting for verification, apps with a week of
 * calls, merchants' authorizations). The operator signs in over HTTP (TOTP enrolment, as a script
 * would) and the browser carries that session's cookies; the sign-in pages, the review queue and the
 * journey across front ends are tests/console-browser.test.ts's. Here: each page and tab of the
 * developers and apps renders its data and passes axe-core, and an action of each kind (a reason
 * dialog that refuses an empty reason, a developer's verification, an override of an app's limits, a
 * violation with a penalty) changes what the API then answers. Screenshots in
 * test-artifacts/console-pages/. PGlite run only, as every browser test (jest.config.js).
 */
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { buildPortalInChild, portalBuildStale } from '../bin/build-web.js';
import { DEMO_PENDING_DEVELOPER_EMAIL } from '../demo/console.js';
import { DEMO_APP_KEY } from '../demo/seed.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { describeViolations, launchChromium, openPortalTab, type PortalTab } from './helpers/chromium.js';
import { signUpDeveloper } from './helpers/developer.js';
import { consoleGraphQL, enrolOperator, type EnrolledOperator } from './helpers/operator.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

const ARTIFACTS = path.resolve('test-artifacts', 'console-pages');

let t: TestPlatform;
let browser: Browser;
let tab: PortalTab;
let origin: string;
let operator: EnrolledOperator;
const violations: Record<string, string[]> = {};

async function check(name: string) {
  violations[name] = describeViolations(await tab.check(name));
}

/** A failing wait keeps a screenshot of the page it failed on. */
async function waitOrShoot<T>(name: string, wait: Promise<T>): Promise<T> {
  return wait.catch(async (error: unknown) => {
    await tab.screenshot(`failed-${name}`);
    throw error;
  });
}

const gql = <T = Record<string, any>>(query: string, variables?: Record<string, unknown>) => consoleGraphQL(t, operator.session)<T>(query, variables);

beforeAll(async () => {
  await (portalBuildStale() ? buildPortalInChild() : undefined);
  t = await startTestPlatform({ seed: true });
  origin = new URL(t.url).origin;
  const password = 'a long operator passphrase';
  const email = `pages-${Date.now()}@portico.example`;
  await createAppManagementStore(t.platform.database.db).createOperator({ email, name: 'Paula Pages', password });
  operator = await enrolOperator(t, email, password);
  browser = await launchChromium();
  tab = await openPortalTab(browser, origin, ARTIFACTS);
  // The browser carries the ACTIVE session enrolment opened (its HttpOnly cookie and the CSRF cookie),
  // and a developer's portal session besides: each front end must name its own session by its own
  // CSRF token, or the console's calls would be the developer's (FORBIDDEN) and the portal's the operator's.
  const developer = await signUpDeveloper(t, { name: 'Dana Both', companyName: 'Both Sides Ltd.' });
  await tab.context.addCookies(
    [operator.session.cookie, developer.session.cookie].flatMap((header) =>
      header.split('; ').map((pair) => {
        const eq = pair.indexOf('=');
        return { name: pair.slice(0, eq), value: pair.slice(eq + 1), url: origin };
      }),
    ),
  );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

describe('developers', () => {
  test('the list searches and filters; a developer waiting for verification is verified with a reason, which their history then shows', async () => {
    const { page } = tab;
    await tab.load('/console/developers', 'developers');
    await waitOrShoot('developers', page.getByRole('table').getByRole('link').first().waitFor());
    await check('developers');
    await page.getByRole('combobox', { name: 'Verification' }).click();
    await page.getByRole('option', { name: 'Pending' }).click();
    const rows = page.getByRole('table').getByRole('row');
    await waitOrShoot('developers-pending', page.getByText(DEMO_PENDING_DEVELOPER_EMAIL).waitFor());
    // Every row left is PENDING (a header row, then the developers).
    await page.waitForFunction(`[...document.querySelectorAll('tbody tr')].every((row) => row.textContent.includes('PENDING'))`);
    expect(await rows.count()).toBeGreaterThan(1);
    await page.getByRole('searchbox', { name: 'Search' }).fill('no developer is called this');
    await waitOrShoot('developers-none', page.getByText('No developer matches').waitFor());
    await check('developers-empty');
    await page.getByRole('searchbox', { name: 'Search' }).fill(DEMO_PENDING_DEVELOPER_EMAIL.split('@')[0]!);
    await page.getByText(DEMO_PENDING_DEVELOPER_EMAIL).waitFor();
    await page.getByRole('table').getByRole('link').first().click();

    await waitOrShoot('developer', page.getByRole('heading', { name: 'Profile' }).waitFor());
    await check('developer');
    await page.getByRole('button', { name: 'Verify' }).click();
    const dialog = page.getByRole('dialog', { name: 'Verify the developer' });
    // No reason, no call.
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.getByText('Give a reason.').waitFor();
    await check('developer-verify-dialog');
    await dialog.getByLabel('Reason').fill('Company registration checked against the public register.');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await waitOrShoot('developer-verified', page.getByRole('cell', { name: 'Company registration checked against the public register.' }).waitFor());
    const developerId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const answer = await gql<{ developer: { verificationStatus: string; history: { action: string; reason: string | null; actor: string }[] } }>(
      'query($id: ID!) { developer(id: $id) { verificationStatus history { action reason actor } } }',
      { id: developerId },
    );
    expect(answer.data!.developer.verificationStatus).toBe('VERIFIED');
    expect(answer.data!.developer.history[0]).toMatchObject({ reason: 'Company registration checked against the public register.' });
    expect(answer.data!.developer.history[0]!.actor).toMatch(/^operator:/);
  });
});

describe('apps', () => {
  test('the list filters by status and opens an app', async () => {
    const { page } = tab;
    await tab.load('/console/apps', 'apps');
    await waitOrShoot('apps', page.getByText(DEMO_APP_KEY).waitFor());
    await check('apps');
    await page.getByRole('combobox', { name: 'Status' }).click();
    await page.getByRole('option', { name: 'Suspended' }).click();
    await waitOrShoot('apps-none-suspended', page.getByText('No app matches').waitFor());
    await page.getByRole('combobox', { name: 'Status' }).click();
    await page.getByRole('option', { name: 'Sandbox' }).click();
    await page.getByText(DEMO_APP_KEY).waitFor();
    await page.getByRole('row', { name: new RegExp(DEMO_APP_KEY) }).getByRole('link').first().click();
    await waitOrShoot('app-overview', page.getByRole('heading', { name: 'Status history' }).waitFor());
    expect(new URL(page.url()).pathname).toBe(`/console/apps/${DEMO_APP_KEY}/overview`);
    await check('app-overview');
  });

  test("the limits tab overrides the app's daily quota, which the API then answers", async () => {
    const { page } = tab;
    await page.getByRole('tab', { name: 'Limits & keys' }).click();
    await waitOrShoot('app-limits', page.getByRole('heading', { name: /In force now/ }).waitFor());
    await check('app-limits');
    await page.getByRole('textbox', { name: 'Daily quota' }).fill('12345');
    await page.getByRole('button', { name: 'Save overrides' }).click();
    const dialog = page.getByRole('dialog', { name: 'Save the overrides' });
    await dialog.getByLabel('Reason').fill('A migration week: more calls agreed with the merchant.');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const answer = await gql<{ app: { flowLimitOverrides: { dailyQuota: number | null; bucketSize: number | null } } }>('query($key: String!) { app(key: $key) { flowLimitOverrides { dailyQuota bucketSize } } }', { key: DEMO_APP_KEY });
    expect(answer.data!.app.flowLimitOverrides).toEqual({ dailyQuota: 12345, bucketSize: null });
    await waitOrShoot('app-limits-saved', page.getByText('12,345').first().waitFor());
  });

  test('the actions tab records a violation that cuts its flow limits, and lifts it', async () => {
    const { page } = tab;
    await page.getByRole('tab', { name: 'Status & violations' }).click();
    await waitOrShoot('app-actions', page.getByRole('button', { name: 'Suspend' }).waitFor());
    await page.getByRole('button', { name: 'Record a violation' }).click();
    const dialog = page.getByRole('dialog', { name: 'Record a violation' });
    await dialog.getByRole('textbox', { name: 'Kind' }).fill('abusive-traffic');
    await dialog.getByRole('combobox', { name: 'Penalty' }).click();
    await page.getByRole('option', { name: 'Cut its flow limits' }).click();
    await dialog.getByRole('textbox', { name: 'Flow limits left (%)' }).fill('25');
    await dialog.getByLabel('Reason').fill('Polled orders every 50 ms for an hour.');
    await check('app-violation-dialog');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await waitOrShoot('app-violation', page.getByRole('cell', { name: /Polled orders every 50 ms/ }).waitFor());
    await check('app-actions');
    const usage = async () => (await gql<{ app: { usage: { flowLimitPercent: number | null } } }>('query($key: String!) { app(key: $key) { usage { flowLimitPercent } } }', { key: DEMO_APP_KEY })).data!.app.usage.flowLimitPercent;
    expect(await usage()).toBe(25);
    await page.getByRole('button', { name: 'Lift penalty' }).click();
    const lift = page.getByRole('dialog', { name: 'Lift the penalty' });
    await lift.getByLabel('Reason').fill('The developer fixed the polling.');
    await lift.getByRole('button', { name: 'Confirm' }).click();
    await lift.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Lift penalty' }).waitFor({ state: 'detached' });
    expect(await usage()).toBeNull();
  });

  test('the packages, authorizations and calls tabs show what the app holds, who authorized it and its calls', async () => {
    const { page } = tab;
    await page.getByRole('tab', { name: 'Packages' }).click();
    await waitOrShoot('app-packages', page.getByRole('heading', { name: 'Packages it holds' }).waitFor());
    const revoke = page.getByRole('button', { name: /^Revoke / }).first();
    const packageName = (await revoke.textContent())!.replace(/^Revoke /, '');
    await check('app-packages');
    // Revoked, then granted again: each through its dialog, each seen in the API's answer.
    await revoke.click();
    const revokeDialog = page.getByRole('dialog', { name: `Revoke ${packageName}` });
    await revokeDialog.getByLabel('Reason').fill('Not used by the app.');
    await revokeDialog.getByRole('button', { name: 'Confirm' }).click();
    await revokeDialog.waitFor({ state: 'hidden' });
    const held = async () =>
      (await gql<{ app: { grantedPackages: { revokedAt: string | null; package: { name: string } }[] } }>('query($key: String!) { app(key: $key) { grantedPackages { revokedAt package { name } } } }', { key: DEMO_APP_KEY })).data!.app.grantedPackages
        .filter((grant) => !grant.revokedAt)
        .map((grant) => grant.package.name);
    expect(await held()).not.toContain(packageName);
    await page.getByRole('combobox', { name: 'Package' }).click();
    await page.getByRole('option', { name: new RegExp(`^${packageName} \\(`) }).click();
    await page.getByRole('button', { name: 'Grant package' }).click();
    const grantDialog = page.getByRole('dialog', { name: `Grant ${packageName}` });
    await grantDialog.getByLabel('Reason').fill('Needed again for the order sync.');
    await check('app-grant-dialog');
    await grantDialog.getByRole('button', { name: 'Confirm' }).click();
    await grantDialog.waitFor({ state: 'hidden' });
    await waitOrShoot('app-package-granted', page.getByRole('button', { name: `Revoke ${packageName}` }).waitFor());
    expect(await held()).toContain(packageName);
    await page.getByRole('tab', { name: 'Authorizations' }).click();
    await waitOrShoot('app-authorizations', page.getByRole('table').getByText('In force').first().waitFor());
    await check('app-authorizations');
    await page.getByRole('tab', { name: 'Calls' }).click();
    // The demo's week of call history: a chart and the operations table.
    await waitOrShoot('app-calls', page.getByRole('heading', { name: 'Operations' }).waitFor());
    await page.locator('.recharts-surface').first().waitFor();
    await check('app-calls');
  });
});

describe('beside a portal session', () => {
  test("the same browser's portal session stays the developer's while the console's is the operator's", async () => {
    const { page } = tab;
    const names = (await tab.context.cookies(origin)).map((cookie) => cookie.name);
    expect(names).toEqual(expect.arrayContaining(['portico_session', 'portico_csrf', 'portico_console', 'portico_console_csrf']));
    await tab.load('/portal/apps', 'portal apps beside the console');
    await waitOrShoot('portal-beside-console', page.getByTestId('signed-in-developer').getByText('Dana Both').waitFor());
    await tab.load('/console/apps', 'console apps beside the portal');
    await waitOrShoot('console-beside-portal', page.getByTestId('signed-in-operator').getByText('Paula Pages').waitFor());
    await page.getByText(DEMO_APP_KEY).waitFor();
  });
});

describe('across every page', () => {
  test('no serious or critical accessibility violation (axe-core)', () => {
    expect(Object.keys(violations).length).toBeGreaterThanOrEqual(10);
    expect(violations).toEqual(Object.fromEntries(Object.keys(violations).map((name) => [name, []])));
  });

  test('nothing the Content-Security-Policy blocked, no error in the console', () => {
    expect(tab.cspViolations).toEqual([]);
    expect(tab.errors).toEqual([]);
  });
});
