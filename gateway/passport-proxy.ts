/**
 * The passport lives in the account service; clients reach it on the platform's public origin.
 * The gateway forwards its routes (discovery, /oauth/*, /interaction/*) as they are, adding the
 * forwarded host and protocol (so oidc-provider builds public URLs) and its own context token (the
 * account service serves these routes to the gateway only).
 */
import http from 'node:http';
import type { Caller } from '../core/caller.js';
import { INTERNAL_SCOPE } from '../core/caller.js';
import { HttpError, readBody, sendJson } from '../core/http.js';
import { CONTEXT_TOKEN_HEADER } from '../core/tokens.js';
import { clientIdOf, type ClientAuthenticationGuard } from './failed-authentication.js';

export const PASSPORT_PATHS = /^\/(oauth\/|interaction\/|\.well-known\/(openid-configuration|oauth-authorization-server)$)/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
/** Passport requests are forms and token requests: small. */
const MAX_PASSPORT_BODY_BYTES = 64 * 1024;
/** An account service that has not answered in this long has failed the request. */
const UPSTREAM_TIMEOUT_MS = 15_000;
const SYSTEM_CALLER: Caller = { kind: 'system', merchantId: null, appKey: 'portico-gateway', scopes: [INTERNAL_SCOPE] };
/** The passport's endpoints where a client authenticates with its secret (a scrypt check each). */
const CLIENT_AUTHENTICATING = /^\/oauth\/(token|introspect|revoke)$/;

export interface PassportProxyOptions {
  accountUrl: string;
  publicUrl: string;
  signContext(caller: Caller): Promise<string>;
  /** Limits failed client authentication per address and client (gateway/failed-authentication.ts). */
  clientAuthentication?: ClientAuthenticationGuard;
  /** The client's address (core/client-address.ts, with TRUSTED_PROXIES). */
  clientAddress?(req: http.IncomingMessage): string;
}

export function createPassportProxy(options: PassportProxyOptions) {
  const target = new URL(options.accountUrl);
  const publicOrigin = new URL(options.publicUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  return async function proxyPassport(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // The body is read (bounded) before the account service is called: a slow or endless client
    // holds only its own connection, never one of the pool's.
    const body = await readBody(req, MAX_PASSPORT_BODY_BYTES);
    // A client's secret is checked (hashed) only while its failures and its address's are few.
    let authenticated: ((ok: boolean) => void) | undefined;
    if (options.clientAuthentication && req.method === 'POST' && CLIENT_AUTHENTICATING.test((req.url ?? '').split('?')[0]!)) {
      const address = options.clientAddress ? options.clientAddress(req) : (req.socket.remoteAddress ?? '');
      try {
        authenticated = await options.clientAuthentication.attempt(address, clientIdOf(req, body));
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        // The token endpoint speaks OAuth (RFC 6749 5.2): an error code and its description.
        sendJson(res, error.status, { error: error.code.toLowerCase(), error_description: error.message }, { ...error.headers, 'cache-control': 'no-store' });
        return;
      }
    }
    const named = new Set(String(req.headers.connection ?? '').toLowerCase().split(',').map((h) => h.trim()).filter(Boolean));
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name) && !named.has(name) && name !== 'content-length' && name !== CONTEXT_TOKEN_HEADER && !name.startsWith('x-forwarded-')) headers[name] = value;
    }
    if (body.length || req.method === 'POST') headers['content-length'] = Buffer.byteLength(body);
    headers['x-forwarded-host'] = publicOrigin.host;
    headers['x-forwarded-proto'] = publicOrigin.protocol.replace(':', '');
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    headers[CONTEXT_TOKEN_HEADER] = await options.signContext(SYSTEM_CALLER);
    await new Promise<void>((resolve, reject) => {
      const upstream = http.request(
        { protocol: target.protocol, hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
        (response) => {
          authenticated?.(response.statusCode !== 401);
          const out: http.OutgoingHttpHeaders = {};
          for (const [name, value] of Object.entries(response.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
          res.writeHead(response.statusCode ?? 502, out);
          response.pipe(res);
          response.on('end', resolve);
          response.on('error', reject);
        },
      );
      upstream.setTimeout(UPSTREAM_TIMEOUT_MS, () => upstream.destroy(new Error('the passport did not answer in time')));
      upstream.on('error', reject);
      // The client went away: stop waiting for the account service.
      res.once('close', () => {
        if (!res.writableFinished) upstream.destroy();
        resolve();
      });
      upstream.end(body);
    });
  };
}
