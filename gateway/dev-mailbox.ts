/**
 * GET /dev/mailbox: the local mailbox (email kept instead of sent, without SMTP_URL), newest first,
 * as a plain HTML page, so a newcomer running `npm start` can open the verification link.
 *
 * It shows one-time links that open accounts, so it exists only where nobody else can reach it or it
 * is meant for development: without SMTP_URL, and either NODE_ENV is not `production` or both HOST
 * and PUBLIC_URL are loopback addresses (npm start's defaults). Anywhere else it is 404.
 */
import type http from 'node:http';
import type { Config } from '../core/config.js';
import { HttpError } from '../core/http.js';
import type { InternalClient } from './upstream/internal-client.js';

export const DEV_MAILBOX_PATH = '/dev/mailbox';
const SHOWN = 50;
const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

/** Whether the mailbox page exists under this configuration (see above). */
export function devMailboxEnabled(config: Pick<Config, 'mail' | 'nodeEnv' | 'host' | 'publicUrl'>): boolean {
  if (config.mail.smtpUrl) return false;
  if (config.nodeEnv !== 'production') return true;
  return LOOPBACK.has(config.host) && LOOPBACK.has(new URL(config.publicUrl).hostname);
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

interface LocalMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  sentAt: string;
}

export function createDevMailbox(deps: { callSubgraph: InternalClient; appManagementUrl: string; config: Pick<Config, 'mail' | 'nodeEnv' | 'host' | 'publicUrl'> }) {
  const enabled = devMailboxEnabled(deps.config);
  const origin = new URL(deps.config.publicUrl).origin;
  // Links to the platform itself become clickable; nothing else in a message is markup.
  const ownLink = new RegExp(`${origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[^\\s<>"']*`, 'g');
  const render = (mail: LocalMail) => {
    const body = escapeHtml(mail.text).replace(ownLink, (url) => `<a href="${url}">${url}</a>`);
    return `<article><h2>${escapeHtml(mail.subject)}</h2><p class="meta">To ${escapeHtml(mail.to)} · ${escapeHtml(mail.sentAt)}</p><pre>${body}</pre></article>`;
  };
  return async function devMailbox(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!enabled) throw new HttpError(404, 'Not found', 'NOT_FOUND');
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'Use GET', 'BAD_REQUEST', { allow: 'GET, HEAD' });
    const { localMailbox } = await deps.callSubgraph<{ localMailbox: LocalMail[] }>(deps.appManagementUrl, 'query Mailbox($first: Int!) { localMailbox(first: $first) { id to subject text sentAt } }', { first: SHOWN });
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local mailbox · Portico</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1a1b1e}article{border:1px solid #dee2e6;border-radius:8px;padding:1rem;margin:1rem 0}h2{font-size:1.1rem;margin:0}.meta{color:#495057;font-size:.9rem}pre{white-space:pre-wrap;word-break:break-word;font:inherit}</style>
</head><body><main><h1>Local mailbox</h1>
<p>Email the platform would have sent (no <code>SMTP_URL</code> is set), newest first; the last ${SHOWN} are shown. This page exists only in development.</p>
${localMailbox.length ? localMailbox.map(render).join('\n') : '<p>No email yet.</p>'}
</main></body></html>`;
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : html);
  };
}
