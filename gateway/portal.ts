/**
 * The web front ends' static files (web/, built by Vite into web/dist), on the same origin as
 * /graphql and /auth/*: the developer portal at /portal, the operator console at /console and the
 * merchant page at /merchant. Every file of the build (the three share their hashed chunks) is under
 * /portal; any other path under a front end's prefix is that single-page app's own route and gets
 * its index.html. Hashed assets are cached for a year, an index.html never (a deploy shows at the
 * next load).
 *
 * Content-Security-Policy: scripts only from this origin, no inline script at all. Styles from this
 * origin plus the <style> tags Mantine injects at run time (its CSS variables and responsive style
 * props), which carry a nonce fresh for each index.html: Vite writes a placeholder into every tag
 * it emits and into a meta tag (`html.cspNonce`), replaced here; the app hands the same nonce to
 * Mantine (`getStyleNonce`). Style attributes React sets go through the CSSOM, which CSP does not
 * govern, so no 'unsafe-inline' is needed anywhere.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { projectRoot } from '../core/paths.js';

export const PORTAL_PATH = '/portal';
export const CONSOLE_PATH = '/console';
export const MERCHANT_PATH = '/merchant';
/** The built front ends; `npm run build:web` (run by `npm ci` and by `npm start` when missing) writes it. */
export const portalBuildDir = path.join(projectRoot, 'web', 'dist');

/** A front end: where it is served, its page in the build (web/vite.config.ts's inputs) and its name in messages. */
export interface FrontEndPage {
  path: string;
  index: string;
  name: string;
}

export const FRONT_END_PAGES: readonly FrontEndPage[] = [
  { path: PORTAL_PATH, index: 'index.html', name: 'developer portal' },
  { path: CONSOLE_PATH, index: path.join('console', 'index.html'), name: 'operator console' },
  { path: MERCHANT_PATH, index: path.join('merchant', 'index.html'), name: 'merchant page' },
];

/** The front end a request path is for (its prefix, or anything under it), or undefined. */
export const frontEndPageAt = (route: string): FrontEndPage | undefined =>
  FRONT_END_PAGES.find((page) => route === page.path || route.startsWith(`${page.path}/`));
/** The placeholder web/vite.config.ts writes where each response's nonce goes. */
const NONCE_PLACEHOLDER = 'PORTICO_CSP_NONCE';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.js', '.css', '.svg', '.json', '.html', '.map', '.txt']);

export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** For the files themselves (an SVG opened on its own may not run anything). */
const ASSET_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox";

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  // The verify and reset pages carry one-time tokens in their address: never sent on as a referrer.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

interface Asset {
  body: Buffer;
  gzip: Buffer | undefined;
  etag: string;
  contentType: string;
}

/** Serves /portal, /console, /merchant and everything under them. */
export function createPortal(options: { buildDir?: string } = {}) {
  const root = options.buildDir ?? portalBuildDir;
  // Hashed assets never change under their name: each is read (and compressed) once.
  const assets = new Map<string, Asset>();

  const readAsset = (file: string): Asset | undefined => {
    const cached = assets.get(file);
    if (cached) return cached;
    let body: Buffer;
    try {
      if (!fs.statSync(file).isFile()) return undefined;
      body = fs.readFileSync(file);
    } catch {
      return undefined;
    }
    const ext = path.extname(file);
    const asset: Asset = {
      body,
      gzip: COMPRESSIBLE.has(ext) && body.length > 1024 ? zlib.gzipSync(body, { level: 6 }) : undefined,
      etag: `"${body.length.toString(36)}-${fs.statSync(file).mtimeMs.toString(36)}"`,
      contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
    };
    assets.set(file, asset);
    return asset;
  };

  const sendIndex = (req: http.IncomingMessage, res: http.ServerResponse, page: FrontEndPage) => {
    let html: string;
    try {
      html = fs.readFileSync(path.join(root, page.index), 'utf8');
    } catch {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '10', ...SECURITY_HEADERS });
      res.end(`The ${page.name} is not built yet: \`npm start\` builds it when missing, or run \`npm run build:web\`.\n`);
      return;
    }
    const nonce = randomBytes(18).toString('base64');
    const body = Buffer.from(html.replaceAll(NONCE_PLACEHOLDER, nonce));
    res.writeHead(200, {
      'content-type': CONTENT_TYPES['.html']!,
      'content-length': body.length,
      'cache-control': 'no-cache',
      'content-security-policy': contentSecurityPolicy(nonce),
      ...SECURITY_HEADERS,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
      res.end('Method not allowed\n');
      return;
    }
    const route = (req.url ?? '/').split('?')[0]!;
    const page = frontEndPageAt(route) ?? FRONT_END_PAGES[0]!;
    // The console's and merchant page's paths are all their own routes: their files are under /portal.
    if (page.path !== PORTAL_PATH) return sendIndex(req, res, page);
    let relative: string;
    try {
      relative = decodeURIComponent(route.slice(PORTAL_PATH.length));
    } catch {
      relative = '/';
    }
    const file = path.resolve(root, `.${path.posix.normalize(`/${relative}`)}`);
    const inside = file.startsWith(root + path.sep);
    const asset = inside && path.basename(file) !== 'index.html' ? readAsset(file) : undefined;
    if (!asset) {
      // A missing hashed asset is a 404 (an old page asking for a chunk of a previous build), not the app.
      if (relative.startsWith('/assets/')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS });
        res.end('Not found\n');
        return;
      }
      return sendIndex(req, res, page);
    }
    const immutable = relative.startsWith('/assets/');
    const headers: http.OutgoingHttpHeaders = {
      'content-type': asset.contentType,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=3600',
      etag: asset.etag,
      vary: 'accept-encoding',
      'content-security-policy': ASSET_POLICY,
      ...SECURITY_HEADERS,
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gzip = asset.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? asset.gzip! : asset.body;
    res.writeHead(200, { ...headers, 'content-length': body.length, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
