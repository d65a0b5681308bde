/**
 * The passport's pages for buyers signing in to an app with OpenID Connect (an authorization request
 * whose scope has `openid`): sign in, or register with an email whose code is sent to it, then
 * consent to the app knowing them by its own openid (and their name, with `profile`). Separate from
 * the merchant staff's pages (interactions.ts), in the same look, plain forms without JavaScript,
 * each with the interaction's CSRF token. A buyer sign-in grants OpenID scopes only: never an API
 * scope, so a buyer's tokens reach the userinfo endpoint and nothing of the API.
 */
import type http from 'node:http';
import type Provider from 'oidc-provider';
import { PorticoError } from '../../../core/errors.js';
import type { BuyerAccounts } from '../buyers.js';
import { VERIFICATION_MINUTES } from '../buyers.js';
import type { SendBuyerMail } from '../buyer-mail.js';
import { escapeHtml } from './html.js';
import type { ClientInfo } from './client-info.js';
import { buttonForm, page } from './look.js';

/** The passport account of a buyer is `buyer:<user id>`; a merchant's is the merchant id. */
export const BUYER_ACCOUNT_PREFIX = 'buyer:';
export const isBuyerAccount = (accountId: string | undefined) => !!accountId?.startsWith(BUYER_ACCOUNT_PREFIX);
export const userIdOfAccount = (accountId: string) => accountId.slice(BUYER_ACCOUNT_PREFIX.length);
/** The OpenID scopes a buyer consents to; anything else a buyer sign-in asks for is not granted. */
export const BUYER_SCOPES = ['openid', 'profile'] as const;

/** An authorization request is a buyer's sign-in when it asks for `openid`. */
export const isBuyerSignIn = (scope: unknown) => String(scope ?? '').split(' ').includes('openid');

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface BuyerInteractionOptions {
  provider: Provider;
  buyers: BuyerAccounts;
  sendMail: SendBuyerMail;
  csrfFor(uid: string): string;
  /** Once a buyer consented to an app: the one bind-or-login entry recognizes and links them. */
  signedIn(userId: string, client: ClientInfo): Promise<void>;
  send(res: http.ServerResponse, status: number, html: string): void;
}

export function createBuyerInteractions(options: BuyerInteractionOptions) {
  const { provider, buyers, csrfFor, send } = options;

  function signInPage(uid: string, client: ClientInfo, error?: string) {
    return page(
      'Sign in',
      `<h1>Sign in to ${escapeHtml(client.name)}</h1>
<p class="muted">With your Portico buyer account. ${escapeHtml(client.name)} is made by ${escapeHtml(client.developerName)}.</p>
${error ? `<p class="alert" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login" id="sign-in">
<input type="hidden" name="csrf" value="${csrfFor(uid)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions"><button type="submit" class="button button-primary">Sign in</button></div></form>
<h2>No account yet?</h2>
<form method="post" action="/interaction/${uid}/register" id="register">
<input type="hidden" name="csrf" value="${csrfFor(uid)}">
<label for="new-name">Your name</label><input id="new-name" name="name" type="text" autocomplete="nickname" maxlength="64" required>
<label for="new-email">Email</label><input id="new-email" name="email" type="email" autocomplete="email" required>
<label for="new-password">Password (at least 10 characters)</label><input id="new-password" name="password" type="password" autocomplete="new-password" minlength="10" required>
<div class="actions"><button type="submit" class="button button-secondary">Create an account</button></div></form>
<div class="actions stacked">${buttonForm(`/interaction/${uid}/abort`, csrfFor(uid), 'Cancel and go back to the app', 'secondary')}</div>`,
    );
  }

  function verifyPage(uid: string, email: string, error?: string) {
    return page(
      'Check your email',
      `<h1>Check your email</h1>
<p>We sent a code to <strong>${escapeHtml(email)}</strong>. It works for ${VERIFICATION_MINUTES} minutes.</p>
${error ? `<p class="alert" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/verify" id="verify">
<input type="hidden" name="csrf" value="${csrfFor(uid)}">
<input type="hidden" name="email" value="${escapeHtml(email)}">
<label for="code">Code</label><input id="code" name="code" type="text" autocomplete="one-time-code" required>
<div class="actions"><button type="submit" class="button button-primary">Verify and sign in</button></div></form>`,
    );
  }

  function consentPage(uid: string, client: ClientInfo, buyer: { name: string; email: string } | undefined, scopes: string[]) {
    return page(
      'Sign in',
      `<h1>Sign in to ${escapeHtml(client.name)}?</h1>
${buyer ? `<p class="who">Signed in as <strong>${escapeHtml(buyer.name)}</strong> (${escapeHtml(buyer.email)}).</p>` : ''}
<p class="muted">Made by ${escapeHtml(client.developerName)} · app key <code>${escapeHtml(client.key)}</code></p>
<h2>If you continue, it will know</h2>
<ul class="scopes"><li>An identifier of you for this app alone (not your email) <code>openid</code></li>${scopes.includes('profile') ? '<li>Your name <code>profile</code></li>' : ''}</ul>
<p class="muted">Orders you placed in this app as a guest are kept with your account.</p>
<div class="actions">${buttonForm(`/interaction/${uid}/abort`, csrfFor(uid), 'Cancel', 'secondary')}${buttonForm(`/interaction/${uid}/confirm`, csrfFor(uid), 'Continue', 'primary')}</div>`,
    );
  }

  const mixedSessionPage = () =>
    page('Signed in as staff', "<h1>This browser is signed in to the passport as a shop's staff member</h1><p>A buyer signs in from a browser session of their own. Go back to the app and start again in another browser profile.</p>");

  const requestedScopes = (details: Details) => BUYER_SCOPES.filter((s) => String(details.params.scope ?? '').split(' ').includes(s));

  async function finishSignIn(req: http.IncomingMessage, res: http.ServerResponse, userId: string) {
    await provider.interactionFinished(req, res, { login: { accountId: `${BUYER_ACCOUNT_PREFIX}${userId}`, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
  }

  return async function handleBuyer(req: http.IncomingMessage, res: http.ServerResponse, uid: string, action: string | undefined, details: Details, client: ClientInfo, form: URLSearchParams | undefined): Promise<void> {
    const sessionAccount = details.session?.accountId;
    // A session that signed in a merchant's staff member is not a buyer's: refuse rather than mix them.
    if (sessionAccount && !isBuyerAccount(sessionAccount)) {
      send(res, 403, mixedSessionPage());
      return;
    }
    if (!action) {
      if (details.prompt.name === 'login') send(res, 200, signInPage(uid, client));
      else send(res, 200, consentPage(uid, client, sessionAccount ? await buyers.profile(userIdOfAccount(sessionAccount)) : undefined, requestedScopes(details)));
      return;
    }
    const field = (name: string) => form?.get(name) ?? '';
    if (action === 'abort') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The buyer did not sign in' }, { mergeWithLastSubmission: false });
      return;
    }
    if (action === 'login' || action === 'register' || action === 'verify') {
      if (details.prompt.name !== 'login') {
        send(res, 400, page('Invalid', '<h1>Already signed in</h1>'));
        return;
      }
      if (action === 'login') {
        const outcome = await buyers.signIn(field('email'), field('password'));
        if (outcome.ok) return finishSignIn(req, res, outcome.userId);
        if (outcome.reason === 'unverified') return send(res, 401, verifyPage(uid, field('email'), 'Verify your email first: enter the code we sent.'));
        return send(res, 401, signInPage(uid, client, outcome.reason === 'locked' ? 'Too many failed sign-ins. Try again in a few minutes.' : 'Wrong email or password.'));
      }
      if (action === 'register') {
        try {
          const { code } = await buyers.register({ email: field('email'), name: field('name'), password: field('password') });
          await options.sendMail({ to: field('email'), subject: `Your Portico code: ${code}`, text: `Your code to finish creating your Portico account is ${code}. It works for ${VERIFICATION_MINUTES} minutes.\n\nIf you did not ask for it, ignore this email.` });
          return send(res, 200, verifyPage(uid, field('email')));
        } catch (error) {
          if (error instanceof PorticoError) return send(res, 400, signInPage(uid, client, error.message));
          throw error;
        }
      }
      const outcome = await buyers.verify(field('email'), field('code'));
      if (outcome.ok) return finishSignIn(req, res, outcome.userId);
      return send(res, 401, verifyPage(uid, field('email'), outcome.reason === 'locked' ? 'Too many wrong codes. Try again in a few minutes.' : 'That code is wrong or has expired.'));
    }
    // confirm
    if (details.prompt.name !== 'consent' || !isBuyerAccount(sessionAccount)) {
      send(res, 400, page('Invalid', '<h1>Nothing to confirm</h1>'));
      return;
    }
    const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId: sessionAccount!, clientId: client.key });
    grant.addOIDCScope(requestedScopes(details).join(' '));
    const grantId = await grant.save();
    await options.signedIn(userIdOfAccount(sessionAccount!), client);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };
}
