/**
 * The passport pages' frame, in the developer portal's look: the platform's logo and name above one
 * card, and one stylesheet (passport.css) the passport serves itself, so the pages need no inline
 * style or script (their CSP allows styles from the platform's origin only) and work without
 * JavaScript. The logo is the portal's own file (web/public/logo.svg), inlined as markup.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { projectRoot, subgraphDir } from '../../../core/paths.js';
import { escapeHtml } from './html.js';

export const PLATFORM_NAME = 'Portico';
/** Under /interaction/, which the gateway already forwards to the passport; no interaction id has a dot. */
export const STYLESHEET_PATH = '/interaction/passport.css';

const stylesheet = fs.readFileSync(path.join(subgraphDir('account'), 'passport', 'passport.css'));
/** The stylesheet's version in its URL: a changed stylesheet is a new URL, so browsers may keep one for a year. */
const stylesheetVersion = crypto.createHash('sha256').update(stylesheet).digest('base64url').slice(0, 12);

/** The portal's logo, decorative beside the platform's name (the name is the text). */
const logo = (() => {
  try {
    const svg = fs.readFileSync(path.join(projectRoot, 'web', 'public', 'logo.svg'), 'utf8').trim();
    return svg.replace(/\s(role|aria-label)="[^"]*"/g, '').replace('<svg ', '<svg aria-hidden="true" focusable="false" ');
  } catch {
    return '';
  }
})();

/** A whole page: the brand, then the body in the card. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${PLATFORM_NAME}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}?v=${stylesheetVersion}">
</head><body><div class="frame">
<header class="brand">${logo}<span class="brand-name">${PLATFORM_NAME}</span><span class="brand-part">Authorization</span></header>
<main class="card">${body}</main>
</div></body></html>`;
}

/** A form that is one button: posts the CSRF token to `action`. */
export function buttonForm(action: string, csrf: string, label: string, kind: 'primary' | 'secondary'): string {
  return `<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit" class="button button-${kind}">${escapeHtml(label)}</button></form>`;
}

export function serveStylesheet(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 });
    res.end();
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/css; charset=utf-8',
    'cache-control': 'public, max-age=31536000, immutable',
    'x-content-type-options': 'nosniff',
    'content-length': stylesheet.length,
  });
  res.end(req.method === 'GET' ? stylesheet : undefined);
}
