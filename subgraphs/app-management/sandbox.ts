/**
 * The sandbox as the developer sees it: its state (App.sandbox), resetting it, and an access token of
 * the app for its sandbox merchant (for the portal's explorer), minted by the account service where
 * the platform's access-token keys are; and the OAuth authorize URL real merchants are sent to.
 */
import type { Db } from '../../core/db.js';
import { conflict } from '../../core/errors.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import { audit } from './audit.js';
import { developerOf } from './callers.js';
import { ownApp } from './developer-apps.js';
import type { InternalCall } from './internal-client.js';
import { grantedScopesOf, sandboxGrantIdOf, sandboxMerchantNameOf, type SandboxProvisioner } from './sandbox-provisioner.js';
import type { AppRow } from './tables.js';

type Context = SubgraphContext<unknown>;

/** The authorize URL of an app: the first redirect URI, the scopes it holds, PKCE and state left for the app to fill in. */
export function authorizeUrlOf(publicUrl: string, app: AppRow, scopes: readonly string[]): string | null {
  const redirectUri = app.redirectUris[0];
  if (!redirectUri) return null;
  const query = [
    'response_type=code',
    `client_id=${encodeURIComponent(app.key)}`,
    `redirect_uri=${encodeURIComponent(redirectUri)}`,
    `scope=${encodeURIComponent(scopes.join(' '))}`,
    // Placeholders, on purpose not URL-encoded so they stand out: the app makes a fresh pair per authorization.
    'code_challenge=<S256 code challenge>',
    'code_challenge_method=S256',
    'state=<random state>',
  ];
  return `${publicUrl.replace(/\/$/, '')}/oauth/authorize?${query.join('&')}`;
}

export function createSandboxResolvers(deps: { db: Db; call: InternalCall; provisioner: SandboxProvisioner; publicUrl: string }) {
  const { db, call, provisioner } = deps;
  return {
    Mutation: {
      resetSandbox: async (_: unknown, args: { appKey: string }, ctx: Context) => {
        const developerId = developerOf(ctx.caller);
        const app = await ownApp(db, developerId, args.appKey);
        const reset = await provisioner.reset(app);
        await audit(db, { actor: `developer:${developerId}`, action: 'app.sandbox_reset', targetType: 'app', targetId: app.key, details: { merchantId: reset.sandboxMerchantId, state: reset.sandboxState } });
        return reset;
      },
      issueSandboxToken: async (_: unknown, args: { appKey: string }, ctx: Context) => {
        const developerId = developerOf(ctx.caller);
        const app = await ownApp(db, developerId, args.appKey);
        if (app.sandboxState !== 'READY' || !app.sandboxMerchantId) {
          throw conflict(`The app's sandbox is ${app.sandboxState}${app.sandboxState === 'FAILED' ? ': reset it' : ''}`, { sandboxState: app.sandboxState });
        }
        const scopes = await grantedScopesOf(db, app.id);
        const { issueSandboxAccessToken: token } = await call<{ issueSandboxAccessToken: { accessToken: string; expiresAt: string } }>(
          'account',
          'mutation Token($appKey: String!, $merchantId: String!, $grantId: String!, $scopes: [String!]!) { issueSandboxAccessToken(appKey: $appKey, merchantId: $merchantId, grantId: $grantId, scopes: $scopes) { accessToken expiresAt } }',
          { appKey: app.key, merchantId: app.sandboxMerchantId, grantId: sandboxGrantIdOf(app.key), scopes },
        );
        await audit(db, { actor: `developer:${developerId}`, action: 'app.sandbox_token_issued', targetType: 'app', targetId: app.key, details: { merchantId: app.sandboxMerchantId, scopes, expiresAt: token.expiresAt } });
        return { accessToken: token.accessToken, expiresAt: new Date(token.expiresAt), merchantId: app.sandboxMerchantId, scopes };
      },
    },
    App: {
      sandbox: (app: AppRow) => ({
        merchantId: app.sandboxMerchantId,
        merchantName: app.sandboxMerchantId ? sandboxMerchantNameOf(app.name) : null,
        state: app.sandboxState,
        error: app.sandboxError,
        resetAt: app.sandboxResetAt,
      }),
      authorizeUrl: async (app: AppRow) => authorizeUrlOf(deps.publicUrl, app, await grantedScopesOf(db, app.id)),
    },
  };
}
