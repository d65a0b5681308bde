/**
 * The developer portal in a real browser (Debian's Chromium driven by playwright-core), against one
 * platform whose email goes to a real SMTP server in this process: a newcomer's whole journey (sign
 * up, the verification email, sign in, create an app and copy its secret, the sandbox, a query in
 * the explorer that returns orders, the call in the report, a package request, a re-push of a
 * message), with axe-core on every page (no serious or critical violation), a screenshot of each
 * under test-artifacts/portal/, no Content-Security-Policy violation, and each page's first load
 * timed by the browser's navigation timing.
 *
 * It runs in the PGlite run only (jest.config.js): the portal talks to the public API and never to
 * the database, so a second run on the PostgreSQL server would time the same pages again.
 */
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { buildPortalInChild, portalBuildStale } from '../bin/build-web.js';
import { describeViolations, launchChromium, openPortalTab, timingTable, type PortalTab } from './helpers/chromium.js';
import { connectWs, subscribeWs, type Collector } from './helpers/messages.js';
import { startTestPlatform, waitUntil, type TestPlatform } from './helpers/platform.js';

interface ReceivedMail {
  to: string[];
  subject: string;
  text: string;
}

/** A message's text part, decoded (nodemailer sends long lines quoted-printable). */
function textOf(raw: string): { subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  let body = raw.slice(split + 4);
  const encoding = /^content-transfer-encoding:\s*(\S+)/im.exec(headers)?.[1]?.toLowerCase();
  if (encoding === 'quoted-printable') body = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  if (encoding === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { subject: /^subject:\s*(.*)$/im.exec(headers)?.[1] ?? '', text: body };
}

/** A real SMTP server in this process: what the platform sends lands in `inbox`. */
async function startSmtpServer(): Promise<{ url: string; inbox: ReceivedMail[]; stop(): Promise<void> }> {
  const inbox: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), ...textOf(Buffer.concat(chunks).toString('utf8')) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, inbox, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let t: TestPlatform;
let browser: Browser;
let tab: PortalTab;
let origin: string;
const violations: Record<string, string[]> = {};
const journey = {
  email: `newcomer-${Date.now()}@example.com`,
  password: 'a long enough passphrase',
  appKey: '',
  secret: '',
  sandboxToken: '',
};

/** axe-core and a screenshot of the page as it is now, kept for the accessibility test's assertion. */
async function check(name: string) {
  violations[name] = describeViolations(await tab.check(name));
}

beforeAll(async () => {
  // CI builds the portal at `npm ci`; here too when web/ changed since (or it was never built).
  const [mail] = await Promise.all([startSmtpServer(), portalBuildStale() ? buildPortalInChild() : undefined]);
  smtp = mail;
  t = await startTestPlatform({ seed: true, extraEnv: { SMTP_URL: smtp.url, MAIL_FROM: 'Portico <portal@example.com>' } });
  origin = new URL(t.url).origin;
  browser = await launchChromium();
  tab = await openPortalTab(browser, origin);
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await smtp?.stop();
});

describe('the portal as served', () => {
  test('index.html: a fresh CSP nonce per response, no inline script, no caching; the app answers every /portal path', async () => {
    const [first, second, deep] = await Promise.all([fetch(`${origin}/portal/`), fetch(`${origin}/portal/`), fetch(`${origin}/portal/apps/some-app/settings`)]);
    const policy = first.headers.get('content-security-policy')!;
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).not.toContain('unsafe-eval');
    const nonce = /'nonce-([^']+)'/.exec(policy)![1]!;
    expect(second.headers.get('content-security-policy')).not.toContain(nonce);
    const html = await first.text();
    expect(html).toContain(`nonce="${nonce}"`);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file
    expect(first.headers.get('cache-control')).toBe('no-cache');
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');
    expect(first.headers.get('referrer-policy')).toBe('no-referrer');
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="root"></div>');

    const script = /<script[^>]*src="([^"]+)"/.exec(html)![1]!;
    const asset = await fetch(`${origin}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${origin}/portal/assets/not-a-chunk.js`)).status).toBe(404);
    // Nothing outside the build is served, however the path is spelled.
    for (const escape of ['/portal/..%2f..%2fpackage.json', '/portal/%2e%2e/%2e%2e/package.json', '/portal/assets/..%2f..%2f..%2fpackage.json']) {
      const answer = await fetch(`${origin}${escape}`);
      expect(await answer.text()).not.toContain('"dependencies"');
    }
    expect((await fetch(`${origin}/portal/`, { method: 'POST' })).status).toBe(405);
  });
});

describe("a newcomer's journey", () => {
  test('signs up as a company and is asked to check their email', async () => {
    const { page } = tab;
    await tab.load('/portal/', 'sign-in (first visit)');
    expect(new URL(page.url()).pathname).toBe('/portal/sign-in');
    await check('sign-in');

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create your developer account' }).waitFor();
    await page.getByLabel('A company').check();
    await page.getByLabel('Your name').fill('Nia Newcomer');
    await page.getByLabel('Company name').fill('Newcomer Apps Ltd.');
    await page.getByLabel('Email').fill(journey.email);
    await page.getByLabel(/^Password/).fill('too short');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByText('Too short: at least 12 characters.').waitFor();
    await check('sign-up');
    await page.getByLabel(/^Password/).fill(journey.password);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    expect(await page.getByText(journey.email).count()).toBeGreaterThan(0);
    await check('check-your-email');
  });

  test('opens the verification link from the email the SMTP server received, and signs in', async () => {
    const { page } = tab;
    await waitUntil('the verification email', async () => smtp.inbox.some((m) => m.to.includes(journey.email)));
    const mail = smtp.inbox.find((m) => m.to.includes(journey.email))!;
    const link = /https?:\/\/\S+\/portal\/verify\?token=[A-Za-z0-9_%-]+/.exec(mail.text)?.[0];
    expect(link).toBeDefined();
    expect(new URL(link!).origin).toBe(origin);

    await tab.load(new URL(link!).pathname + new URL(link!).search, 'verify');
    await page.getByText('Your email is verified').waitFor();
    await check('verify');
    await page.getByRole('link', { name: 'Sign in' }).click();

    await page.getByLabel('Email').fill(journey.email);
    await page.getByLabel(/^Password/).fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
    await page.getByLabel(/^Password/).fill(journey.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your apps' }).waitFor();
    await page.getByText('No apps yet').waitFor();
    expect(await page.getByTestId('signed-in-developer').textContent()).toContain('Nia Newcomer');
    // The session is a cookie the page cannot read; only the CSRF token is readable, and nothing is in storage.
    const cookies = await tab.context.cookies(origin);
    expect(cookies.find((c) => c.name === 'portico_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(await page.evaluate('document.cookie')).not.toContain('portico_session');
    expect(await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })')).not.toMatch(/csrf|session|secret/i);
    await check('apps-empty');
  });

  test('creates an app and copies its secret, shown once, which works at the token endpoint', async () => {
    const { page } = tab;
    await page.getByRole('link', { name: 'Create your first app' }).click();
    await page.getByRole('heading', { name: 'Create an app' }).waitFor();
    await check('create-app');
    await page.getByLabel('Name').fill('Newcomer Orders');
    await page.getByLabel('Description').fill('Fulfils the merchant’s paid orders.');
    await page.getByRole('combobox', { name: 'Redirect URIs' }).fill('http://127.0.0.1:8976/callback');
    await page.getByRole('combobox', { name: 'Redirect URIs' }).press('Enter');
    await page.getByRole('button', { name: 'Create the app' }).click();
    await page.getByRole('heading', { name: 'Newcomer Orders is created' }).waitFor({ timeout: 60_000 });

    journey.appKey = (await page.getByTestId('app-key').first().textContent())!.trim();
    const shown = (await page.getByTestId('app-secret').textContent())!.trim();
    await page.getByRole('button', { name: 'Copy the secret' }).click();
    journey.secret = (await page.evaluate('navigator.clipboard.readText()')) as string;
    expect(journey.secret).toBe(shown);
    await check('app-created-secret');

    const token = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${journey.appKey}:${journey.secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(token.status).toBe(200);

    await page.getByLabel('I have stored the secret somewhere safe').check();
    await page.getByRole('button', { name: "Go to the app's sandbox" }).click();
    await page.getByRole('heading', { name: 'Sandbox merchant' }).waitFor();
    // Gone for good: the app's pages never show it again.
    expect(await page.content()).not.toContain(journey.secret);
  });

  test("the app's sandbox hands out a sandbox token and the authorize URL for real merchants", async () => {
    const { page } = tab;
    await tab.load(`/portal/apps/${journey.appKey}/sandbox`, 'app: sandbox');
    await page.getByText('Ready', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Get a sandbox token' }).click();
    journey.sandboxToken = (await page.getByTestId('sandbox-token').textContent())!.trim();
    expect(journey.sandboxToken.split('.')).toHaveLength(3);
    const authorizeUrl = new URL((await page.getByTestId('authorize-url').textContent())!.trim());
    expect(authorizeUrl.pathname).toBe('/oauth/authorize');
    expect(authorizeUrl.searchParams.get('client_id')).toBe(journey.appKey);
    expect(authorizeUrl.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:8976/callback');
    await check('app-sandbox');
  });

  test('runs a query in the explorer against the sandbox that returns orders', async () => {
    const { page } = tab;
    await tab.load(`/portal/apps/${journey.appKey}/explorer`, 'app: explorer');
    const graphiql = page.getByTestId('graphiql');
    // GraphiQL's editor (CodeMirror, its own chunks) may come up after its Execute button: run the
    // query once the editor holds it, not an empty document.
    await graphiql.locator('.graphiql-query-editor').filter({ hasText: 'query SandboxOrders' }).waitFor({ timeout: 30_000 });
    await graphiql.getByRole('button', { name: /^Execute query/ }).click();
    const response = graphiql.locator('.graphiql-response');
    await response.filter({ hasText: '"nodes"' }).waitFor({ timeout: 30_000 }).catch(async (error: unknown) => {
      await tab.screenshot('failed-app-explorer');
      throw new Error(`${(error as Error).message}\nThe explorer's answer: ${(await response.textContent().catch(() => null)) ?? '(none)'}`);
    });
    const answer = (await response.textContent())!;
    expect(answer).toContain('"orders"');
    expect(answer).toMatch(/"number": "[^"]+"/);
    expect(answer).not.toContain('"errors"');
    await check('app-explorer');
  });

  test('sees the call just made in the call report', async () => {
    const { page } = tab;
    await tab.load(`/portal/apps/${journey.appKey}/calls`, 'app: call report');
    // The gateway writes what it counted every few seconds (CALL_REPORT_FLUSH_MS): refresh until it is there.
    const row = page.getByRole('row').filter({ hasText: 'SandboxOrders' });
    for (let attempt = 0; !(await row.count()) && attempt < 20; attempt++) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await row.waitFor({ timeout: 1000 }).catch(() => undefined);
    }
    await row.waitFor().catch(async (error: unknown) => {
      await tab.screenshot('failed-app-call-report');
      throw error;
    });
    await check('app-call-report');
  });

  test('requests a permission package from the catalog and sees it pending', async () => {
    const { page } = tab;
    await tab.load(`/portal/apps/${journey.appKey}/packages`, 'app: packages');
    await page.getByRole('heading', { name: 'Catalog', exact: true }).waitFor();
    // The first package the app does not hold yet (a new app holds every FREE one).
    const request = page.getByRole('button', { name: /^Request / }).first();
    const packageName = (await request.getAttribute('aria-label'))!.replace(/^Request /, '');
    await request.click();
    const dialog = page.getByRole('dialog', { name: `Request ${packageName}` });
    await dialog.getByLabel('Why the app needs it').fill('Shipping labels need the buyer’s address.');
    await check('app-packages-request');
    await dialog.getByRole('button', { name: 'Send the request' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const row = page.getByTestId('package-request').filter({ hasText: packageName });
    await row.getByText('pending').waitFor();
    await check('app-packages');
    // Taken back before operators decide: withdrawn, and the package can be asked for again.
    await row.getByRole('button', { name: `Withdraw the request for ${packageName}` }).click();
    await row.getByText('withdrawn').waitFor();
    await page.getByRole('button', { name: `Request ${packageName}` }).waitFor();
  });

  test('re-pushes a message from the delivery records', async () => {
    const { page } = tab;
    // The app subscribes to its sandbox's order events and ships a paid order: one message, not acknowledged.
    const client = connectWs(t.url, journey.sandboxToken);
    let events: Collector | undefined;
    try {
      events = subscribeWs(client, 'subscription { orderEvents { id type reason attempt order { id number } } }');
      const paid = (await t.gql<{ orders: { nodes: { id: string }[] } }>(journey.sandboxToken, '{ orders(first: 1, filter: { status: [PAID] }) { nodes { id } } }')).data!.orders.nodes[0]!;
      const shipped = await t.gql(journey.sandboxToken, 'mutation($id: ID!) { shipOrder(input: { orderId: $id, carrier: "SF", trackingNumber: "SF123" }) { order { status } } }', { id: paid.id });
      expect(shipped.errors).toBeUndefined();
      // The sandbox's generated orders came with their events: the subscription gets those too, oldest first.
      const shippedEvent = () => events!.received.find((r) => r.data?.orderEvents?.order?.id === paid.id && r.data.orderEvents.type === 'SHIPPED');
      await waitUntil('the SHIPPED event on the subscription', async () => !!shippedEvent());
      const messageId = shippedEvent()!.data!.orderEvents.id as string;

      await tab.load(`/portal/apps/${journey.appKey}/messages`, 'app: messages');
      const record = page.getByTestId('message-record').filter({ hasText: messageId });
      await record.waitFor().catch(async (error: unknown) => {
        await tab.screenshot('failed-app-messages');
        throw error;
      });
      await check('app-messages');
      await record.getByRole('button', { name: `Re-push message ${messageId}` }).click();
      await page.getByTestId('repush-result').filter({ hasText: '1 message(s) queued' }).waitFor();
      await waitUntil('the manual push on the subscription', async () => events!.received.some((r) => r.data?.orderEvents?.id === messageId && r.data.orderEvents.reason === 'MANUAL'));

      // Reset push: the cursor goes back to a time, and the stream counts what comes after it again.
      const reset = page.getByRole('form', { name: 'Reset the cursor' });
      await reset.getByLabel('Replay everything that happened at or after').fill('2020-01-01T00:00');
      await reset.getByRole('button', { name: 'Reset the cursor' }).click();
      await reset.getByText('Reset: the next subscription replays from there.').waitFor();
    } finally {
      events?.stop();
      await client.dispose();
    }
  });

  test('rotates the secret in the settings: the new one works, and the old one for the grace period', async () => {
    const { page } = tab;
    await tab.load(`/portal/apps/${journey.appKey}/settings`, 'app: settings');
    await page.getByRole('heading', { name: 'Details and redirect URIs' }).waitFor();
    await check('app-settings');
    await page.getByRole('button', { name: 'Rotate the secret' }).click();
    await page.getByRole('button', { name: 'Yes, rotate it' }).click();
    const rotated = (await page.getByTestId('app-secret').textContent())!.trim();
    expect(rotated).not.toBe(journey.secret);
    const tokenWith = (secret: string) =>
      fetch(`${origin}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${journey.appKey}:${secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
    expect((await tokenWith(rotated)).status).toBe(200);
    expect((await tokenWith(journey.secret)).status).toBe(200);
    expect((await tokenWith(`${rotated}x`)).status).toBe(401);
  });

  test('submits the app for review with notes and sees the review pending', async () => {
    const { page } = tab;
    await tab.load(`/portal/apps/${journey.appKey}/review`, 'app: review');
    await page.getByLabel('Notes for the reviewer').fill('Ships paid orders; try it on the sandbox.');
    await check('app-review');
    await page.getByRole('button', { name: 'Submit for review' }).click();
    const review = page.getByRole('table', { name: 'Reviews' }).getByRole('row').filter({ hasText: 'Ships paid orders' });
    await review.getByText('pending').waitFor();
    await page.getByText('A review is pending').waitFor();
  });

  test('every other page renders', async () => {
    const { page } = tab;
    await tab.load(`/portal/apps/${journey.appKey}/usage`, 'app: limits and usage');
    await page.getByRole('heading', { name: 'Today' }).waitFor();
    await check('app-limits-and-usage');
    await tab.load('/portal/apps', 'apps');
    await page.getByRole('link', { name: 'Newcomer Orders' }).waitFor();
    await check('apps');
    await tab.load('/portal/announcements', 'announcements');
    await page.getByRole('article').first().waitFor();
    await check('announcements');
    await tab.load('/portal/reference', 'reference');
    await check('reference');

    // On a phone: the navigation folds behind the menu button.
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await tab.load('/portal/apps', 'apps (phone)');
      await page.getByRole('button', { name: 'Open navigation' }).click();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Announcements' }).waitFor();
      await check('apps-phone-navigation');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});

describe('signing out and a forgotten password', () => {
  test('signs out, resets the password from the emailed link and signs in with the new one, by keyboard', async () => {
    const { page } = tab;
    // A second tab of the portal, left open on the app.
    const other = await tab.context.newPage();
    await other.goto(`/portal/apps/${journey.appKey}/review`);
    await other.getByRole('tab', { name: 'Limits & usage' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to the developer portal' }).waitFor();
    expect((await tab.context.cookies(origin)).find((c) => c.name === 'portico_session')).toBeUndefined();

    // Its next call finds the session gone, and it goes to the sign-in page rather than showing errors.
    await other.getByRole('tab', { name: 'Limits & usage' }).click();
    await other.getByRole('heading', { name: 'Sign in to the developer portal' }).waitFor();
    await other.close();

    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(journey.email);
    await check('forgot-password');
    await page.getByRole('button', { name: 'Email me a reset link' }).click();
    await page.getByText('Check your email').waitFor();
    await waitUntil('the password-reset email', async () => smtp.inbox.some((m) => m.to.includes(journey.email) && /reset-password\?token=/.test(m.text)));
    const link = new URL(/https?:\/\/\S+\/portal\/reset-password\?token=[A-Za-z0-9_%-]+/.exec(smtp.inbox.filter((m) => m.to.includes(journey.email)).at(-1)!.text)![0]);

    await tab.load(link.pathname + link.search, 'reset password');
    const newPassword = 'another long passphrase';
    await page.getByLabel(/^New password/).fill(newPassword);
    await page.getByLabel(/^Repeat the new password/).fill(newPassword);
    await check('reset-password');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('Your new password is set').waitFor();
    await page.getByRole('link', { name: 'Sign in' }).click();
    // With the keyboard alone: the email field, Tab to the password, Enter.
    await page.getByLabel('Email').focus();
    await page.keyboard.type(journey.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(newPassword);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Your apps' }).waitFor();
  });
});

describe('across every page', () => {
  test('no serious or critical accessibility violation (axe-core)', () => {
    expect(Object.keys(violations).length).toBeGreaterThan(10);
    expect(Object.fromEntries(Object.entries(violations).filter(([, found]) => found.length))).toEqual({});
  });

  test('nothing the Content-Security-Policy blocked, no error in the console', () => {
    expect(tab.cspViolations).toEqual([]);
    // The browser logs each refused request; those the journey provokes (no session yet, a wrong password) are expected.
    expect(tab.errors.filter((error) => !/^Failed to load resource: the server responded with a status of 40[01] /.test(error))).toEqual([]);
  });

  test('each first load under 1 s by the navigation timing', () => {
    console.log(`Portal first loads (ms from navigation start; JavaScript over the wire):\n${timingTable(tab.timings)}`);
    expect(tab.timings.length).toBeGreaterThan(5);
    for (const timing of tab.timings) expect({ page: timing.page, load: timing.load < 1000 }).toEqual({ page: timing.page, load: true });
  });
});
