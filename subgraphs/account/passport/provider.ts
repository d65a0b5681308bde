/**
 * The passport: the platform's OAuth 2.0 authorization server, oidc-provider configured for this
 * API. Authorization code with PKCE (S256, required for every client), refresh tokens that rotate,
 * client credentials for app-level tokens; no implicit or password grant. Access tokens are RFC 9068
 * JWTs for API_AUDIENCE, signed with the platform's access-token key, so the gateway verifies them as
 * it verifies every token. Clients are app-management's apps; their secrets exist only as scrypt
 * hashes, so secret comparison is done against those hashes.
 *
 * Buyers sign in to apps with OpenID Connect (scope `openid`, plus `profile`): the ID token's `sub`
 * is the buyer's openid for that app (a pairwise subject: oidc-provider's pairwiseIdentifier, which
 * leaves a merchant's id as it is), its `unionid` claim the buyer's unionid for the app's developer;
 * their access token is an opaque one for the userinfo endpoint only, never one for the API.
 */
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Db } from '../../../core/db.js';
import { verifySecret } from '../../../core/secrets.js';
import type { Logger } from '../../../core/logger.js';
import { createOidcAdapter, extendGrant, type ClientDirectory } from './adapter.js';
import { escapeHtml } from './html.js';
import { isBuyerAccount, isBuyerSignIn, userIdOfAccount } from './buyer-interactions.js';

/** What the passport asks of the identity work for a buyer signing in to an app. */
export interface BuyerIdentities {
  /** The buyer's openid for the app (minted the first time); undefined for a buyer that is gone. */
  openidOf(userId: string, appKey: string): Promise<string | undefined>;
  /** The claims about the buyer for the app (its developer's unionid, the name); undefined if gone. */
  claimsOf(userId: string, appKey: string): Promise<{ unionid: string; nickname: string } | undefined>;
}

export interface ClientSecrets {
  current: string;
  previous?: { hash: string; expiresAt: Date };
}

export interface PassportOptions {
  issuer: string;
  audience: string;
  privateJwks: JWK[];
  cookieKeys: string[];
  db: Db;
  clients: ClientDirectory;
  /** The secret hashes of a client, for client authentication. */
  secretsOf(clientId: string): Promise<ClientSecrets | undefined>;
  /** Every scope of the catalog. */
  scopes: string[];
  /** Access-token lifetime in seconds (at most 7200). */
  accessTokenTtl: number;
  logger: Logger;
  buyers: BuyerIdentities;
}

/** Claim that ties an access token to the merchant's authorization, so revoking it reaches the gateway. */
export const GRANT_CLAIM = 'portico_grant';

/** How long a merchant's authorization lasts without a refresh; each refresh starts it again. */
const GRANT_TTL_SECONDS = 30 * 24 * 3600;

export function createPassport(options: PassportOptions): Provider {
  const accessTokenTtl = Math.min(options.accessTokenTtl, 7200);
  const configuration: Configuration = {
    adapter: createOidcAdapter(options.db, options.clients) as unknown as Configuration['adapter'],
    jwks: { keys: options.privateJwks as never },
    routes: {
      authorization: '/oauth/authorize',
      token: '/oauth/token',
      revocation: '/oauth/revoke',
      introspection: '/oauth/introspect',
      jwks: '/oauth/jwks',
      userinfo: '/oauth/me',
      end_session: '/oauth/logout',
      pushed_authorization_request: '/oauth/par',
      code_verification: '/oauth/device',
      device_authorization: '/oauth/device/auth',
      backchannel_authentication: '/oauth/backchannel',
      registration: '/oauth/register',
      challenge: '/oauth/challenge',
    },
    scopes: [...options.scopes, 'offline_access', 'openid', 'profile'],
    // The unionid is part of `openid` itself: every app that signs a buyer in may recognize them
    // across its developer's apps. Claims of the granted scopes go in the ID token too.
    claims: { openid: ['sub', 'unionid'], profile: ['nickname', 'name'] },
    conformIdTokenClaims: false,
    // Apps that sign buyers in are pairwise clients: the subject each sees is its own openid.
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: async (_ctx, accountId, client) => {
      if (!isBuyerAccount(accountId)) return accountId;
      const openid = await options.buyers.openidOf(userIdOfAccount(accountId), client.clientId);
      if (!openid) throw new errors.InvalidGrant('the buyer is gone');
      return openid;
    },
    // The sector of a pairwise client is the app itself (its openids), never fetched from a URI.
    sectorIdentifierUriValidate: () => false,
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    extraClientMetadata: { properties: ['portico_app_name', 'portico_developer', 'portico_packages'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Sender-constrained tokens (RFC 9449): a token request with a DPoP proof gets a token bound to
      // the proof's key (cnf.jkt, token_type DPoP), which the gateway accepts only with a fresh proof
      // by that key. The proof's htu is the public URL: the gateway's proxy forwards the public host
      // and protocol, and the provider trusts them (provider.proxy). Proof ids are kept by the adapter.
      dPoP: { enabled: true },
      // A client introspects and revokes only its own tokens: another app's token is inactive to it,
      // and revoking one is refused (oidc-provider's default lets a confidential client introspect any token).
      introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId !== client.clientId) throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          return true;
        },
      },
      // For buyers' sign-ins: their access token is good for this endpoint only.
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // A buyer's sign-in gets no API token: only the userinfo endpoint's.
        defaultResource: (ctx: KoaContextWithOIDC) => (isBuyerSignIn(ctx.oidc.params?.scope) ? undefined : options.audience) as string,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: KoaContextWithOIDC, resource: string) => {
          if (resource !== options.audience) throw new errors.InvalidTarget(`unknown resource; use ${options.audience}`);
          return { scope: options.scopes.join(' '), audience: options.audience, accessTokenTTL: accessTokenTtl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        },
      },
    },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // An app's authorization lasts until the merchant revokes it (or 30 days without a refresh), not
    // as long as the staff member's browser session: oidc-provider ends codes and refresh tokens
    // with the session unless offline_access was granted, which would stop every integration's
    // refresh an hour after the sign-in.
    expiresWithSession: async () => false,
    extraTokenClaims: async (_ctx, token) => ('grantId' in token && token.grantId ? { [GRANT_CLAIM]: token.grantId } : undefined),
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      AuthorizationCode: 60,
      RefreshToken: 30 * 24 * 3600,
      Grant: GRANT_TTL_SECONDS,
      Interaction: 600,
      IdToken: 3600,
      Session: 3600,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: {
      keys: options.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    findAccount: async (ctx, sub) => {
      if (!isBuyerAccount(sub)) return { accountId: sub, claims: async () => ({ sub }) };
      const clientId = ctx.oidc.client?.clientId;
      const claims = clientId ? await options.buyers.claimsOf(userIdOfAccount(sub), clientId) : undefined;
      if (clientId && !claims) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...(claims ? { unionid: claims.unionid, nickname: claims.nickname, name: claims.nickname } : {}) }) };
    },
    loadExistingGrant: async (ctx) => {
      // Every authorization asks the merchant again unless this session already consented for this client.
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><meta charset="utf-8"><title>Authorization error</title><h1>Authorization error</h1><p>${escapeHtml(String(out.error_description ?? out.error))}</p>`;
    },
  };
  const provider = new Provider(options.issuer, configuration);
  provider.proxy = true;

  // A refresh keeps the authorization alive: without this the grant would end 30 days after the
  // merchant's consent however often the app refreshed, and every refresh after that would fail.
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grant = ctx.oidc.entities.Grant;
    if (ctx.oidc.params?.grant_type !== 'refresh_token' || !grant?.jti) return;
    extendGrant(options.db, grant.jti, GRANT_TTL_SECONDS).catch((error: unknown) =>
      options.logger.warn({ err: error }, 'passport: an authorization could not be extended after a refresh; the next refresh tries again'),
    );
  });

  // Secrets are stored only as scrypt hashes: compare against the current one, or the previous one
  // while its grace period lasts (both constant-time).
  provider.Client.prototype.compareClientSecret = async function compareClientSecret(this: { clientId: string }, actual: string) {
    const secrets = await options.secretsOf(this.clientId);
    if (!secrets) return false;
    if (await verifySecret(actual, secrets.current)) return true;
    return !!secrets.previous && secrets.previous.expiresAt > new Date() && (await verifySecret(actual, secrets.previous.hash));
  } as never;
  return provider;
}
