/**
 * The gateway's web front ends as served (gateway/portal.ts), over real HTTP against a build laid
 * out as web/vite.config.ts writes it: the portal at /portal, the operator console at /console and
 * the merchant page at /merchant, each its own index.html for any of its paths, with a fresh CSP
 * nonce and the same security headers; their shared chunks only under /portal/assets.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createPortal, frontEndPageAt } from '../gateway/portal.js';

let server: http.Server;
let origin: string;
let buildDir: string;

const page = (name: string) =>
  `<!doctype html><html><head><meta property="csp-nonce" nonce="PORTICO_CSP_NONCE"><script type="module" src="/portal/assets/${name}-abc.js" nonce="PORTICO_CSP_NONCE"></script></head><body><div id="root" data-front-end="${name}"></div></body></html>`;

beforeAll(async () => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-web-'));
  fs.mkdirSync(path.join(buildDir, 'assets'));
  fs.mkdirSync(path.join(buildDir, 'console'));
  fs.mkdirSync(path.join(buildDir, 'merchant'));
  fs.writeFileSync(path.join(buildDir, 'index.html'), page('portal'));
  fs.writeFileSync(path.join(buildDir, 'console', 'index.html'), page('console'));
  fs.writeFileSync(path.join(buildDir, 'merchant', 'index.html'), page('merchant'));
  fs.writeFileSync(path.join(buildDir, 'assets', 'console-abc.js'), 'export {};');
  const serve = createPortal({ buildDir });
  server = http.createServer((req, res) => {
    const route = (req.url ?? '/').split('?')[0]!;
    if (frontEndPageAt(route)) return serve(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(buildDir, { recursive: true, force: true });
});

const frontEndOf = (html: string) => /data-front-end="(\w+)"/.exec(html)?.[1];

test.each([
  ['/portal', 'portal'],
  ['/portal/apps/some-app/settings', 'portal'],
  ['/console', 'console'],
  ['/console/', 'console'],
  ['/console/apps/app_1/limits?tab=x', 'console'],
  ['/console/sign-in', 'console'],
  ['/merchant', 'merchant'],
  ['/merchant/apps', 'merchant'],
])('%s is the %s page, with a fresh nonce in its CSP and no caching', async (route, frontEnd) => {
  const [first, second] = await Promise.all([fetch(`${origin}${route}`), fetch(`${origin}${route}`)]);
  expect(first.status).toBe(200);
  const html = await first.text();
  expect(frontEndOf(html)).toBe(frontEnd);
  const policy = first.headers.get('content-security-policy')!;
  expect(policy).toContain("script-src 'self'");
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).not.toContain('unsafe-inline');
  const nonce = /'nonce-([^']+)'/.exec(policy)![1]!;
  expect(html).toContain(`nonce="${nonce}"`);
  expect(html).not.toContain('PORTICO_CSP_NONCE');
  expect(second.headers.get('content-security-policy')).not.toContain(nonce);
  expect(first.headers.get('cache-control')).toBe('no-cache');
  expect(first.headers.get('x-frame-options')).toBe('DENY');
  expect(first.headers.get('referrer-policy')).toBe('no-referrer');
});

test("the console's chunks are served under /portal/assets; the console's and merchant page's paths never serve files", async () => {
  const asset = await fetch(`${origin}/portal/assets/console-abc.js`);
  expect(asset.status).toBe(200);
  expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  // A file path under /console is the console's route, not the file (nothing outside its page leaks).
  for (const route of ['/console/assets/console-abc.js', '/console/..%2findex.html', '/merchant/..%2f..%2fpackage.json']) {
    const answer = await fetch(`${origin}${route}`);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await answer.text()).not.toContain('"dependencies"');
  }
  // The portal's own paths never serve another front end's page as a file.
  expect(frontEndOf(await (await fetch(`${origin}/portal/console/index.html`)).text())).toBe('portal');
});

test('prefixes that only start alike are not a front end', () => {
  expect(frontEndPageAt('/consoles')).toBeUndefined();
  expect(frontEndPageAt('/merchants/x')).toBeUndefined();
  expect(frontEndPageAt('/portal-x')).toBeUndefined();
  expect(frontEndPageAt('/console')?.name).toBe('operator console');
});

test('a front end not built yet answers 503 with what to run', async () => {
  fs.rmSync(path.join(buildDir, 'merchant', 'index.html'));
  try {
    const answer = await fetch(`${origin}/merchant/`);
    expect(answer.status).toBe(503);
    expect(await answer.text()).toContain('merchant page is not built yet');
  } finally {
    fs.writeFileSync(path.join(buildDir, 'merchant', 'index.html'), page('merchant'));
  }
});

test('only GET and HEAD', async () => {
  expect((await fetch(`${origin}/console/`, { method: 'POST' })).status).toBe(405);
  expect((await fetch(`${origin}/console/`, { method: 'HEAD' })).status).toBe(200);
});
