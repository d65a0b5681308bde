/**
 * `npm run authorize` as a newcomer runs it: the real command as a child process against a real
 * platform, the sign-in and consent driven over HTTP by a browser without JavaScript, the redirect
 * received on the command's loopback listener, and the printed token used at the gateway.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_APP_KEY } from '../demo/seed.js';
import { actionOf, Browser, csrfOf } from './helpers/browser.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from './helpers/platform.js';
import { freePort, runScript, type Child } from './helpers/processes.js';

let t: TestPlatform;
let origin: string;

beforeAll(async () => {
  t = await startTestPlatform({ seed: true });
  origin = t.platform.config.publicUrl;
}, 120_000);
afterAll(() => t.stop());

/** The command with DATA_DIR as `npm start` left it (demo.json names the platform's URL). */
function runAuthorize(args: string[], dataDir = t.dataDir): Child {
  return runScript('bin/authorize.ts', args, { DATA_DIR: dataDir });
}

async function waitForOutput(child: Child, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(child.output());
    if (match) return match;
    if (child.process.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} in the command's output:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What the command prints before it waits: its loopback redirect URI and the authorize URL. */
async function started(child: Child) {
  const [, redirectUri] = await waitForOutput(child, /Waiting for the redirect on (http:\/\/127\.0\.0\.1:\d+\/callback) /);
  const [, authorizeUrl] = await waitForOutput(child, /^ {2}(http:\/\/\S+\/oauth\/authorize\?\S+)$/m);
  return { redirectUri: redirectUri!, authorizeUrl: new URL(authorizeUrl!) };
}

/** The demo's staff member signs in and approves (or denies); the browser then follows the redirect to the command. */
async function signInAndDecide(authorizeUrl: URL, decision: 'confirm' | 'abort') {
  const browser = new Browser(origin);
  const login = await browser.follow(authorizeUrl.href);
  expect(login.status).toBe(200);
  const consent = await browser.follow(actionOf(login.body, 'login'), {
    method: 'POST',
    form: { email: t.platform.demo!.staffLogin.email, password: t.platform.demo!.staffLogin.password!, csrf: csrfOf(login.body) },
  });
  expect(consent.status).toBe(200);
  const landing = await browser.follow(actionOf(consent.body, decision), { method: 'POST', form: { csrf: csrfOf(consent.body) } });
  expect(landing.status).toBe(303);
  const atCommand = await fetch(landing.location!);
  return { consent, landing, atCommand: { status: atCommand.status, body: await atCommand.text() } };
}

describe('npm run authorize', () => {
  test('receives the code on its loopback port, exchanges it with PKCE and prints tokens that work at the gateway', async () => {
    const child = runAuthorize(['--timeout', '60']);
    try {
      const { redirectUri, authorizeUrl } = await started(child);
      const asked = authorizeUrl.searchParams;
      expect(authorizeUrl.origin).toBe(origin);
      expect(asked.get('client_id')).toBe(DEMO_APP_KEY);
      expect(asked.get('redirect_uri')).toBe(redirectUri);
      expect(asked.get('code_challenge_method')).toBe('S256');
      expect(asked.get('code_challenge')).toMatch(/^[\w-]{43}$/);
      expect(asked.get('state')).toMatch(/^[\w-]{20,}$/);
      // The scopes the demo app's packages grant, as demo.json names them.
      expect(asked.get('scope')).toBe(t.platform.demo!.scope);
      expect(asked.get('scope')!.split(' ')).toContain('authorizations:manage');

      const { consent, landing, atCommand } = await signInAndDecide(authorizeUrl, 'confirm');
      expect(consent.body).toContain('wants to act for Northwind Outfitters');
      expect(consent.body).toContain('Signed in as <strong>Nora Northwind</strong> (staff@northwind.example)');
      expect(landing.location!.startsWith(`${redirectUri}?code=`)).toBe(true);
      expect(atCommand.status).toBe(200);
      expect(atCommand.body).toContain('You can close this tab');

      expect(await child.exited).toBe(0);
      const output = child.output();
      expect(output).toContain(`Authorized: ${DEMO_APP_KEY} acts for "Northwind Outfitters" (merchant ${t.platform.demo!.merchantId})`);
      const accessToken = /^export ACCESS_TOKEN='([^']+)'$/m.exec(output)?.[1];
      const refreshToken = /^export REFRESH_TOKEN='([^']+)'$/m.exec(output)?.[1];
      expect(accessToken).toBeDefined();
      expect(refreshToken).toBeDefined();

      // The printed token is the merchant's authorization: its orders, and (authorizations:manage) its authorized apps.
      const res = await postGraphQL<any>(t.url, accessToken!, '{ merchant { name authorizedApps { appKey revokedAt } } orders(first: 1) { totalCount } }');
      expect(res.errors).toBeUndefined();
      expect(res.data.merchant.name).toBe('Northwind Outfitters');
      expect(res.data.orders.totalCount).toBe(110);
      expect(res.data.merchant.authorizedApps).toContainEqual({ appKey: DEMO_APP_KEY, revokedAt: null });

      // And the printed refresh token is the real one.
      const refreshed = await fetch(`${origin}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${DEMO_APP_KEY}:${t.platform.demo!.appSecret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken! }).toString(),
      });
      expect(refreshed.status).toBe(200);
    } finally {
      if (child.process.exitCode === null) child.process.kill('SIGKILL');
    }
  }, 60_000);

  test('--scope asks for less, --json prints the tokens as JSON', async () => {
    const child = runAuthorize(['--scope', 'orders:read', '--json', '--no-open', '--timeout', '60']);
    try {
      const { authorizeUrl } = await started(child);
      expect(authorizeUrl.searchParams.get('scope')).toBe('orders:read');
      const { consent } = await signInAndDecide(authorizeUrl, 'confirm');
      expect(consent.body).toContain('<code>orders:read</code>');
      expect(consent.body).not.toContain('<code>orders:write</code>');
      expect(await child.exited).toBe(0);
      const stdout = child.output().slice(child.output().indexOf('\n{'));
      const result = JSON.parse(stdout) as Record<string, string>;
      expect(result).toMatchObject({ scope: 'orders:read', client_id: DEMO_APP_KEY, merchant_id: t.platform.demo!.merchantId, token_type: expect.stringMatching(/^bearer$/i) });
      const orders = await postGraphQL<any>(t.url, result.access_token!, '{ orders(first: 1) { totalCount } }');
      expect(orders.data).toEqual({ orders: { totalCount: 110 } });
      const merchant = await postGraphQL<any>(t.url, result.access_token!, '{ merchant { name } }');
      expect(merchant.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      if (child.process.exitCode === null) child.process.kill('SIGKILL');
    }
  }, 60_000);

  test('a denial is reported to the browser and the terminal, and the command fails', async () => {
    const child = runAuthorize(['--no-open', '--timeout', '60']);
    try {
      const { authorizeUrl } = await started(child);
      const { atCommand } = await signInAndDecide(authorizeUrl, 'abort');
      expect(atCommand.status).toBe(400);
      expect(atCommand.body).toContain('Not authorized');
      expect(await child.exited).toBe(1);
      expect(child.output()).toContain('Not authorized: The merchant did not authorize the app');
      expect(child.output()).not.toContain('ACCESS_TOKEN');
    } finally {
      if (child.process.exitCode === null) child.process.kill('SIGKILL');
    }
  }, 60_000);

  test('a redirect with another state is refused, and no code is exchanged', async () => {
    const child = runAuthorize(['--no-open', '--timeout', '60']);
    try {
      const { redirectUri } = await started(child);
      const forged = await fetch(`${redirectUri}?code=forged&state=not-the-one-sent&iss=${encodeURIComponent(origin)}`);
      expect(forged.status).toBe(400);
      expect(await child.exited).toBe(1);
      expect(child.output()).toContain('Refused a redirect whose "state" is not the one this command sent');
      expect(child.output()).not.toContain('ACCESS_TOKEN');
    } finally {
      if (child.process.exitCode === null) child.process.kill('SIGKILL');
    }
  }, 60_000);

  test('without a redirect it stops after --timeout with what to do', async () => {
    const child = runAuthorize(['--no-open', '--timeout', '1']);
    expect(await child.exited).toBe(1);
    expect(child.output()).toContain('No redirect came back within 1 s, so nothing was authorized. Run npm run authorize again');
  }, 30_000);

  test('says what to do when the platform is not running or demo.json is missing', async () => {
    const stopped = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-authorize-'));
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-authorize-'));
    try {
      const port = await freePort();
      const demo = JSON.parse(fs.readFileSync(path.join(t.dataDir, 'demo.json'), 'utf8'));
      fs.writeFileSync(path.join(stopped, 'demo.json'), JSON.stringify({ ...demo, graphqlUrl: `http://127.0.0.1:${port}/graphql` }));
      const notRunning = runAuthorize(['--no-open'], stopped);
      expect(await notRunning.exited).toBe(1);
      expect(notRunning.output()).toContain(`Portico is not answering at http://127.0.0.1:${port}. Start it first with \`npm start\``);

      const noDemo = runAuthorize(['--no-open'], empty);
      expect(await noDemo.exited).toBe(1);
      expect(noDemo.output()).toContain(`No demo.json in ${empty}.`);
    } finally {
      fs.rmSync(stopped, { recursive: true, force: true });
      fs.rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);
});
