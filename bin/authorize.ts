/**
 * `npm run authorize -- [--scope "orders:read merchant:read"] [--app KEY --secret SECRET] [--url URL]
 *   [--redirect-uri http://127.0.0.1/callback] [--timeout 300] [--no-open] [--json]`
 *
 * The OAuth authorization-code flow with PKCE as a native app runs it (RFC 8252): a listener on a
 * loopback port receives the redirect, so nobody copies a code that expires in 60 s out of a
 * browser's address bar. It builds the authorize URL (code, PKCE S256, state), opens it in a browser
 * when there is one and prints it in any case, waits for the merchant's staff to sign in and approve,
 * checks `state`, exchanges the code with the PKCE verifier (openid-client) and prints the tokens.
 *
 * Defaults come from DATA_DIR/demo.json, which `npm start` writes when it seeds the demo: the
 * platform's URL (as it was started: PORT, PUBLIC_URL), the demo app's key and secret, its
 * registered loopback redirect URI and the scopes its packages grant. `--app` and `--secret` name
 * another app (then `--scope` is needed); `--url` another platform. A registered loopback redirect
 * URI without a port gets an ephemeral one (the passport lets the port vary for apps whose redirect
 * URIs are all loopback ones, RFC 8252 §7.3); one with a port is listened on at that port.
 *
 * Progress goes to stderr; the result (shell lines to paste, or JSON with --json) to stdout.
 */
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeJwt } from 'jose';
import open from 'open';
import * as oauth from 'openid-client';
import { loadConfig } from '../core/config.js';
import { systemClock } from '../core/clock.js';
import type { DemoInfo } from '../platform/index.js';
import { escapeHtml } from '../subgraphs/account/passport/html.js';

const USAGE = `usage: npm run authorize -- [--scope "SCOPE ..."] [--app KEY --secret SECRET] [--url URL]
       [--redirect-uri http://127.0.0.1/callback] [--timeout SECONDS] [--no-open] [--json]`;

/** Long enough to sign in and read the consent page; the passport's sign-in itself lasts 10 minutes. */
const DEFAULT_TIMEOUT_SECONDS = 300;

class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** What the flow needs: who the client is, where the platform is, and what to ask for. */
interface AuthorizeSettings {
  platformUrl: string;
  appKey: string;
  appSecret: string;
  scope: string;
  /** The registered loopback redirect URI; without a port, the listener's ephemeral port is put in. */
  redirectUri: URL;
  timeoutSeconds: number;
  openBrowser: boolean;
  json: boolean;
  /** The demo's staff sign-in, shown to the newcomer when the demo app is the one authorized. */
  staffLogin?: { email: string; password: string | null };
}

function readSettings(): AuthorizeSettings {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        scope: { type: 'string' },
        app: { type: 'string' },
        secret: { type: 'string' },
        url: { type: 'string' },
        'redirect-uri': { type: 'string' },
        timeout: { type: 'string', default: String(DEFAULT_TIMEOUT_SECONDS) },
        'no-open': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new CommandError(`${(error as Error).message}\n${USAGE}`, 2);
  }
  if (values.help) throw new CommandError(USAGE, 0);
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 3600) throw new CommandError('--timeout must be a whole number of seconds from 1 to 3600', 2);

  const config = loadConfig();
  const demoFile = path.join(config.dataDir, 'demo.json');
  const demo = fs.existsSync(demoFile) ? (JSON.parse(fs.readFileSync(demoFile, 'utf8')) as DemoInfo) : undefined;
  const usesDemoApp = !values.app || values.app === demo?.appKey;
  if (!demo && !values.app) {
    throw new CommandError(
      `No demo.json in ${config.dataDir}. \`npm start\` writes it when it seeds the demo data set (the embedded default):\n` +
        '  start the platform first (with the same DATA_DIR), then run npm run authorize again;\n' +
        `  or name another app: npm run authorize -- --app KEY --secret SECRET --scope "..." [--url ${config.publicUrl}]`,
    );
  }
  const appSecret = values.secret ?? (usesDemoApp ? demo?.appSecret : undefined);
  if (!appSecret) {
    throw new CommandError(
      usesDemoApp
        ? `${demoFile} has no appSecret (only the start that seeded the demo knows it). Pass --secret, or start again with an empty DATA_DIR to seed a new demo.`
        : '--secret is needed with --app',
      2,
    );
  }
  const scope = values.scope ?? (usesDemoApp ? demo?.scope : undefined);
  if (!scope?.trim()) throw new CommandError('--scope is needed with --app (the scopes to ask the merchant for, space-separated)', 2);

  const redirectUri = parseLoopbackRedirect(values['redirect-uri'] ?? (usesDemoApp ? demo?.redirectUri : undefined) ?? 'http://127.0.0.1/callback');
  return {
    // demo.json names the URL the platform was last started with (its PORT or PUBLIC_URL).
    platformUrl: (values.url ?? demo?.graphqlUrl.replace(/\/graphql$/, '') ?? config.publicUrl).replace(/\/$/, ''),
    appKey: values.app ?? demo!.appKey,
    appSecret,
    scope: scope.trim(),
    redirectUri,
    timeoutSeconds,
    openBrowser: !values['no-open'],
    json: values.json,
    ...(usesDemoApp && demo ? { staffLogin: demo.staffLogin } : {}),
  };
}

/** Only loopback IP literals: RFC 8252 §8.3 advises against `localhost`, which a resolver may send elsewhere. */
function parseLoopbackRedirect(value: string): URL {
  const url = URL.parse(value);
  if (!url || url.protocol !== 'http:' || !['127.0.0.1', '[::1]'].includes(url.hostname) || url.search || url.hash) {
    throw new CommandError(`--redirect-uri must be a loopback one such as http://127.0.0.1/callback (got ${value})`, 2);
  }
  return url;
}

/** Listens on the redirect URI's loopback address: its own port when it names one, else an ephemeral one. */
async function listenOnLoopback(redirectUri: URL): Promise<{ server: http.Server; redirectUri: string }> {
  const server = http.createServer();
  const host = redirectUri.hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new CommandError(error.code === 'EADDRINUSE' ? `Port ${redirectUri.port} of ${host} is in use: stop what listens there, or register a loopback redirect URI without a port` : error.message)),
    );
    server.listen(Number(redirectUri.port || 0), host, resolve);
  });
  const actual = new URL(redirectUri);
  actual.port = String((server.address() as net.AddressInfo).port);
  return { server, redirectUri: actual.href };
}

/** The page the browser shows once the redirect is received: the rest happens in the terminal. */
function resultPage(title: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Portico</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d2433}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p>You can close this tab and go back to the terminal.</p></body></html>`;
}

interface ReceivedRedirect {
  url: URL;
  /** Answers the browser that brought the redirect. */
  reply(status: number, html: string): void;
}

/** Waits for the browser to come back to the redirect URI's path, or fails after the timeout. */
function receiveRedirect(server: http.Server, redirectUri: string, timeoutSeconds: number): Promise<ReceivedRedirect> {
  const expectedPath = new URL(redirectUri).pathname;
  return new Promise((resolve, reject) => {
    const timer = systemClock.setTimeout(() => {
      reject(
        new CommandError(
          `No redirect came back within ${timeoutSeconds} s, so nothing was authorized. Run npm run authorize again (--timeout SECONDS gives more time).`,
        ),
      );
    }, timeoutSeconds * 1000);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const url = new URL(req.url ?? '/', redirectUri);
      // Browsers also ask for /favicon.ico and the like; only the redirect itself counts, once.
      if (req.method !== 'GET' || url.pathname !== expectedPath || !server.listening) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
        return;
      }
      systemClock.clearTimeout(timer);
      server.close();
      resolve({
        url,
        reply: (status, html) => {
          res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' }).end(html);
        },
      });
    });
  });
}

function describeFailure(error: unknown, platformUrl: string): string {
  if (error instanceof oauth.AuthorizationResponseError) {
    return error.error === 'access_denied' ? `Not authorized: ${error.error_description ?? 'the merchant denied it'}.` : `The passport answered ${error.error}: ${error.error_description ?? ''}`;
  }
  if (error instanceof oauth.ResponseBodyError) return `The token endpoint answered ${error.error}: ${error.error_description ?? ''}`;
  // openid-client says what it found wrong in the redirect in the cause of its "invalid response".
  const detail = (error as { cause?: unknown }).cause instanceof Error ? ((error as { cause: Error }).cause.message) : (error as Error).message;
  if (detail.includes('"state"')) return `Refused a redirect whose "state" is not the one this command sent (${detail}): it belongs to no authorization started here, so its code was not used.`;
  return `${detail} (platform ${platformUrl})`;
}

async function discover(settings: AuthorizeSettings): Promise<oauth.Configuration> {
  const server = new URL(settings.platformUrl);
  try {
    return await oauth.discovery(server, settings.appKey, undefined, oauth.ClientSecretBasic(settings.appSecret), server.protocol === 'http:' ? { execute: [oauth.allowInsecureRequests] } : {});
  } catch (error) {
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
    if (cause?.code === 'ECONNREFUSED' || cause?.code === 'ENOTFOUND') {
      throw new CommandError(`Portico is not answering at ${settings.platformUrl}. Start it first with \`npm start\` (same DATA_DIR and PORT) in another terminal, then run npm run authorize again.`);
    }
    throw new CommandError(`Could not read the passport's discovery document at ${settings.platformUrl}: ${(error as Error).message}`);
  }
}

/** The shop's name, read with the new token: the first call, and proof that the token works. */
async function shopName(platformUrl: string, accessToken: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${platformUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ query: '{ merchant { name } }' }),
    });
    const body = (await response.json()) as { data?: { merchant?: { name: string } | null } };
    return body.data?.merchant?.name;
  } catch {
    return undefined;
  }
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

async function main(): Promise<void> {
  const settings = readSettings();
  const client = await discover(settings);
  const { server, redirectUri } = await listenOnLoopback(settings.redirectUri);
  try {
    const verifier = oauth.randomPKCECodeVerifier();
    const state = oauth.randomState();
    const authorizeUrl = oauth.buildAuthorizationUrl(client, {
      redirect_uri: redirectUri,
      scope: settings.scope,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const redirect = receiveRedirect(server, redirectUri, settings.timeoutSeconds);
    const login = settings.staffLogin;
    console.error(
      [
        `Waiting for the redirect on ${redirectUri} (for ${settings.timeoutSeconds} s).`,
        '',
        settings.openBrowser ? 'Opening this URL in your browser (if none opens, open it yourself):' : 'Open this URL in a browser:',
        `  ${authorizeUrl.href}`,
        '',
        login ? `Sign in as the demo's merchant staff: ${login.email}${login.password ? `, password ${login.password}` : ''}; then approve.` : "Sign in as the merchant's staff and approve.",
      ].join('\n'),
    );
    if (settings.openBrowser) {
      // No browser (a server, a container, CI) is no failure: the URL is printed above.
      await open(authorizeUrl.href).then(
        (child) => child.on('error', () => {}),
        () => {},
      );
    }

    const received = await redirect;
    let tokens: Awaited<ReturnType<typeof oauth.authorizationCodeGrant>>;
    try {
      tokens = await oauth.authorizationCodeGrant(client, received.url, { pkceCodeVerifier: verifier, expectedState: state });
    } catch (error) {
      const message = describeFailure(error, settings.platformUrl);
      received.reply(400, resultPage('Not authorized', message));
      throw new CommandError(message);
    }
    received.reply(200, resultPage('Authorized', `${settings.appKey} received its tokens.`));
    await report(settings, tokens);
  } finally {
    server.close();
  }
}

async function report(settings: AuthorizeSettings, tokens: Awaited<ReturnType<typeof oauth.authorizationCodeGrant>>) {
  const claims = decodeJwt(tokens.access_token);
  const expiresAt = new Date((claims.exp ?? 0) * 1000).toISOString();
  const scope = tokens.scope ?? String(claims.scope ?? '');
  if (settings.json) {
    const result = { access_token: tokens.access_token, refresh_token: tokens.refresh_token ?? null, token_type: tokens.token_type, expires_in: tokens.expires_in, expires_at: expiresAt, scope, merchant_id: claims.sub ?? null, client_id: claims.client_id };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const shop = scope.split(' ').includes('merchant:read') ? await shopName(settings.platformUrl, tokens.access_token) : undefined;
  const graphqlUrl = `${settings.platformUrl}/graphql`;
  console.log(
    [
      '',
      `Authorized: ${settings.appKey} acts for ${shop ? `"${shop}" (merchant ${claims.sub})` : `merchant ${claims.sub}`}.`,
      `It may: ${scope}`,
      `The access token expires at ${expiresAt} (in ${tokens.expires_in ?? '?'} s). The refresh token gets new tokens at ${settings.platformUrl}/oauth/token, once: each use returns the next one.`,
      '',
      'Paste into your shell:',
      `export ACCESS_TOKEN=${shellQuote(tokens.access_token)}`,
      ...(tokens.refresh_token ? [`export REFRESH_TOKEN=${shellQuote(tokens.refresh_token)}`] : []),
      '',
      'Then:',
      `  curl -s ${graphqlUrl} -H "authorization: Bearer $ACCESS_TOKEN" -H 'content-type: application/json' \\`,
      `    -d '{"query":"{ merchant { name } orders(first: 2) { nodes { number status } } }"}'`,
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const exitCode = error instanceof CommandError ? error.exitCode : 1;
    (exitCode === 0 ? console.log : console.error)(error instanceof CommandError ? error.message : `authorize failed: ${(error as Error).message}`);
    process.exit(exitCode);
  },
);
