/**
 * The passport's pages: merchant staff sign in, then review what the app asks for and approve or
 * deny. Plain HTML forms that work without JavaScript, in the portal's look (look.ts). Every page
 * forbids framing (clickjacking), loads styles only from the platform (no inline style or script), and
 * every form carries a CSRF token bound to the interaction, on top of oidc-provider's SameSite
 * interaction cookie. Only the scopes the app's permission packages grant now can be consented to.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import type Provider from 'oidc-provider';
import { readBody } from '../../../core/http.js';
import { schemaDir } from '../../../core/paths.js';
import type { AccountStore } from '../store.js';
import type { BuyerAccounts } from '../buyers.js';
import type { SendBuyerMail } from '../buyer-mail.js';
import { createBuyerInteractions, isBuyerAccount, isBuyerSignIn } from './buyer-interactions.js';
import type { ClientInfo } from './client-info.js';
import { escapeHtml } from './html.js';
import { STYLESHEET_PATH, buttonForm, page, serveStylesheet } from './look.js';

/** Who the consent page says is approving: the signed-in staff member and the shop they act for. */
export interface SignedInStaff {
  name: string;
  email: string;
  merchantName: string;
}

export interface InteractionOptions {
  provider: Provider;
  accounts: AccountStore;
  audience: string;
  clientInfo(clientId: string): Promise<ClientInfo | undefined>;
  /**
   * Sign CSRF tokens (the first) and verify them (any): derived from the passport's cookie keys,
   * which every replica reads from KEYS_DIR, so a form one replica rendered can be posted to another
   * and survives a restart; rotating the cookie keys rotates these too.
   */
  csrfKeys: Buffer[];
  /** Buyers signing in to apps (buyer-interactions.ts): their accounts, their email, and what follows a sign-in. */
  buyers: { accounts: BuyerAccounts; sendMail: SendBuyerMail; signedIn(userId: string, client: ClientInfo): Promise<void> };
}

const SANDBOX_REFUSAL = 'This app is still in sandbox: only test merchants may authorize it until the platform has reviewed and released it';

const SECURITY_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  // No form-action: a form's answer redirects to the app's redirect URI, on another origin.
  'content-security-policy': "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

const scopeDescriptions = new Map(
  (JSON.parse(fs.readFileSync(path.join(schemaDir, 'scopes.json'), 'utf8')) as { name: string; description: string }[]).map((s) => [s.name, s.description]),
);

function send(res: http.ServerResponse, status: number, html: string) {
  res.writeHead(status, SECURITY_HEADERS);
  res.end(html);
}

export function createInteractions(options: InteractionOptions) {
  const { provider } = options;
  const csrfWith = (key: Buffer, uid: string) => crypto.createHmac('sha256', key).update(uid).digest('base64url');
  const csrfFor = (uid: string) => csrfWith(options.csrfKeys[0]!, uid);
  const csrfValid = (uid: string, token: unknown) => {
    const actual = Buffer.from(typeof token === 'string' ? token : '');
    let valid = false;
    for (const key of options.csrfKeys) {
      const expected = Buffer.from(csrfWith(key, uid));
      if (actual.length === expected.length && crypto.timingSafeEqual(actual, expected)) valid = true;
    }
    return valid;
  };

  const buyerInteraction = createBuyerInteractions({ provider, buyers: options.buyers.accounts, sendMail: options.buyers.sendMail, signedIn: options.buyers.signedIn, csrfFor, send });

  /** Whether this merchant may not authorize the app: it is in SANDBOX and the merchant is not a test one. */
  async function sandboxedFor(client: ClientInfo, merchantId: string | undefined): Promise<boolean> {
    return client.status === 'SANDBOX' && !(merchantId && (await options.accounts.merchantIsTest(merchantId)));
  }

  function sandboxPage(uid: string, client: ClientInfo, staff: SignedInStaff | undefined) {
    return page(
      'Not available yet',
      `<h1>${escapeHtml(client.name)} is not available to ${staff ? escapeHtml(staff.merchantName) : 'your shop'} yet</h1>
<p>${SANDBOX_REFUSAL}.</p>
<div class="actions">${buttonForm(`/interaction/${uid}/abort`, csrfFor(uid), 'Back to the app', 'primary')}</div>`,
    );
  }

  function loginPage(uid: string, client: ClientInfo | undefined, error?: string) {
    return page(
      'Sign in',
      `<h1>Sign in to authorize ${escapeHtml(client?.name ?? 'an app')}</h1>
<p class="muted">With your shop's staff account.${client ? ` The app is made by ${escapeHtml(client.developerName)}.` : ''}</p>
${error ? `<p class="alert" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login" id="sign-in">
<input type="hidden" name="csrf" value="${csrfFor(uid)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions"><button type="submit" class="button button-primary">Sign in</button></div></form>
<div class="actions stacked">${buttonForm(`/interaction/${uid}/abort`, csrfFor(uid), 'Cancel and go back to the app', 'secondary')}</div>`,
    );
  }

  /** Each scope as what it lets the app do, its name beneath for those who know the API. */
  function scopeItem(scope: string) {
    const description = scopeDescriptions.get(scope);
    return `<li>${description ? `${escapeHtml(description)} <code>${escapeHtml(scope)}</code>` : `<code>${escapeHtml(scope)}</code>`}</li>`;
  }

  function consentPage(uid: string, client: ClientInfo, staff: SignedInStaff | undefined, consentable: string[], unavailable: string[]) {
    const packages = client.packages.filter((p) => p.scopes.some((s) => consentable.includes(s)));
    const shop = staff ? escapeHtml(staff.merchantName) : 'your shop';
    return page(
      'Authorize',
      `<h1>${escapeHtml(client.name)} wants to act for ${shop}</h1>
${staff ? `<p class="who">Signed in as <strong>${escapeHtml(staff.name)}</strong> (${escapeHtml(staff.email)}), staff of <strong>${shop}</strong>.</p>` : ''}
<p class="muted">Made by ${escapeHtml(client.developerName)} · app key <code>${escapeHtml(client.key)}</code></p>
${consentable.length ? `<h2>If you approve, it may</h2><ul class="scopes">${consentable.map(scopeItem).join('')}</ul>` : '<p class="alert">It asks for nothing this app may be granted.</p>'}
${packages.length ? `<p class="muted">Permission packages: ${packages.map((p) => escapeHtml(p.name)).join(', ')}</p>` : ''}
${unavailable.length ? `<h2>Not available to this app, so not granted</h2><ul class="scopes unavailable">${unavailable.map(scopeItem).join('')}</ul>` : ''}
<p class="muted">You can revoke this at any time.</p>
<div class="actions">${buttonForm(`/interaction/${uid}/abort`, csrfFor(uid), 'Deny', 'secondary')}${consentable.length ? buttonForm(`/interaction/${uid}/confirm`, csrfFor(uid), 'Approve', 'primary') : ''}</div>`,
    );
  }

  /** The staff member the session signed in (their id is kept as the session's acr), with their shop. */
  async function signedInStaff(details: Awaited<ReturnType<Provider['interactionDetails']>>): Promise<SignedInStaff | undefined> {
    const merchantId = details.session?.accountId;
    const staffId = (details.session as { acr?: string } | undefined)?.acr;
    return merchantId && staffId ? options.accounts.staffOfMerchant(staffId, merchantId) : undefined;
  }

  /** What the request asks for that the app may be granted now, and what it may not. */
  function consentScopes(details: Awaited<ReturnType<Provider['interactionDetails']>>, client: ClientInfo) {
    const missing = (details.prompt.details as { missingResourceScopes?: Record<string, string[]> }).missingResourceScopes?.[options.audience] ?? [];
    const requested = missing.length ? missing : String(details.params.scope ?? '').split(' ').filter(Boolean);
    const granted = new Set(client.grantedScopes);
    return { consentable: requested.filter((s) => granted.has(s)), unavailable: requested.filter((s) => !granted.has(s)) };
  }

  return async function handleInteraction(req: http.IncomingMessage, res: http.ServerResponse, route: string): Promise<boolean> {
    if (route === STYLESHEET_PATH) {
      serveStylesheet(req, res);
      return true;
    }
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort|register|verify))?$/.exec(route);
    if (!match) return false;
    const [, uid, action] = match as unknown as [string, string, string | undefined];
    let details: Awaited<ReturnType<Provider['interactionDetails']>>;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      send(res, 400, page('Expired', '<h1>This sign-in has expired</h1><p>Go back to the app and start again.</p>'));
      return true;
    }
    if (details.uid !== uid) {
      send(res, 400, page('Invalid', '<h1>This sign-in does not match your browser session</h1>'));
      return true;
    }
    const client = await options.clientInfo(String(details.params.client_id));

    // A buyer signing in to an app (OpenID Connect) has pages of its own.
    if (isBuyerSignIn(details.params.scope)) {
      if (!client) {
        send(res, 400, page('Unknown app', '<h1>This app is not available</h1>'));
        return true;
      }
      if (req.method !== (action ? 'POST' : 'GET')) {
        send(res, 405, page('Not allowed', '<h1>Not allowed</h1>'));
        return true;
      }
      const form = action ? new URLSearchParams(await readBody(req, 10_000)) : undefined;
      if (form && !csrfValid(uid, form.get('csrf'))) {
        send(res, 403, page('Refused', '<h1>Refused</h1><p>The form was not sent from this page. Go back to the app and start again.</p>'));
        return true;
      }
      await buyerInteraction(req, res, uid, action, details, client, form);
      return true;
    }
    if (isBuyerAccount(details.session?.accountId) || action === 'register' || action === 'verify') {
      send(res, 403, page('Signed in as a buyer', "<h1>This browser is signed in to the passport as a buyer</h1><p>A shop's staff member authorizes apps from a browser session of their own.</p>"));
      return true;
    }

    if (req.method === 'GET' && !action) {
      if (details.prompt.name === 'login') send(res, 200, loginPage(uid, client));
      else if (client && (await sandboxedFor(client, details.session?.accountId))) send(res, 403, sandboxPage(uid, client, await signedInStaff(details)));
      else if (client) {
        const { consentable, unavailable } = consentScopes(details, client);
        send(res, 200, consentPage(uid, client, await signedInStaff(details), consentable, unavailable));
      } else send(res, 400, page('Unknown app', '<h1>This app is not available</h1>'));
      return true;
    }
    if (req.method !== 'POST' || !action) {
      send(res, 405, page('Not allowed', '<h1>Not allowed</h1>'));
      return true;
    }
    const form = new URLSearchParams(await readBody(req, 10_000));
    if (!csrfValid(uid, form.get('csrf'))) {
      send(res, 403, page('Refused', '<h1>Refused</h1><p>The form was not sent from this page. Go back to the app and start again.</p>'));
      return true;
    }

    if (action === 'abort') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The merchant did not authorize the app' }, { mergeWithLastSubmission: false });
      return true;
    }
    if (action === 'login') {
      if (details.prompt.name !== 'login') {
        send(res, 400, page('Invalid', '<h1>Already signed in</h1>'));
        return true;
      }
      const outcome = await options.accounts.staffSignIn(form.get('email') ?? '', form.get('password') ?? '');
      if (!outcome.ok) {
        const message = outcome.reason === 'locked' ? 'Too many failed sign-ins. Try again in a few minutes.' : 'Wrong email or password.';
        send(res, 401, loginPage(uid, client, message));
        return true;
      }
      await provider.interactionFinished(req, res, { login: { accountId: outcome.merchantId, amr: ['pwd'], acr: outcome.staffId } }, { mergeWithLastSubmission: false });
      return true;
    }
    // confirm
    if (details.prompt.name !== 'consent' || !client || !details.session?.accountId) {
      send(res, 400, page('Invalid', '<h1>Nothing to approve</h1>'));
      return true;
    }
    const { consentable } = consentScopes(details, client);
    if (!consentable.length) {
      send(res, 400, page('Nothing to approve', '<h1>Nothing this app may be granted was asked for</h1>'));
      return true;
    }
    const merchantId = details.session.accountId;
    if (await sandboxedFor(client, merchantId)) {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: SANDBOX_REFUSAL }, { mergeWithLastSubmission: false });
      return true;
    }
    // The grant this browser session already holds for the app (gone if it was revoked meanwhile: a new one then).
    const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId: merchantId, clientId: client.key });
    // oidc-provider asks consent for requested scopes both as such and for the API resource: record both,
    // and only ever what the app may be granted.
    const missingOIDC = ((details.prompt.details as { missingOIDCScope?: string[] }).missingOIDCScope ?? []).filter((s) => consentable.includes(s) || s === 'offline_access');
    if (missingOIDC.length) grant.addOIDCScope(missingOIDC.join(' '));
    grant.addResourceScope(options.audience, consentable.join(' '));
    const grantId = await grant.save();
    const staffId = (details.session as { acr?: string }).acr ?? null;
    // What the merchant's console shows is everything the grant now holds: what was approved before and now.
    const scopes = (grant.getResourceScope(options.audience) ?? '').split(' ').filter(Boolean);
    await options.accounts.recordAuthorization({ grantId, merchantId, appKey: client.key, appName: client.name, scopes, authorizedBy: staffId && /^[0-9a-f-]{36}$/.test(staffId) ? staffId : null });
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return true;
  };
}
