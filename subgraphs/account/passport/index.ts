/**
 * The passport's HTTP routes inside the account service: oidc-provider's endpoints (/oauth/*,
 * discovery) and the sign-in and consent pages (/interaction/*). The gateway proxies them from the
 * platform's public origin and adds its own context token, which this service reuses to look up
 * clients in app-management for the duration of that request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';
import type http from 'node:http';
import { GraphQLError } from 'graphql';
import type { Db } from '../../../core/db.js';
import type { PlatformKeys } from '../../../core/keys.js';
import type { Logger } from '../../../core/logger.js';
import { CONTEXT_TOKEN_HEADER } from '../../../core/tokens.js';
import type { AccountStore } from '../store.js';
import type { BuyerAccounts } from '../buyers.js';
import type { SendBuyerMail } from '../buyer-mail.js';
import { BUYER_SCOPES } from './buyer-interactions.js';
import type { ClientInfo } from './client-info.js';
import { createInteractions } from './interactions.js';
import { createPassport, type BuyerIdentities, type ClientSecrets } from './provider.js';

export interface OAuthClientRecord extends ClientInfo {
  redirectUris: string[];
  secretHash: string;
  previousSecretHash: string | null;
  previousSecretExpiresAt: string | null;
}

export interface PassportRouteOptions {
  db: Db;
  accounts: AccountStore;
  keys: PlatformKeys;
  issuer: string;
  audience: string;
  scopes: string[];
  appManagementUrl(): string;
  logger: Logger;
  /** Buyers signing in to apps: their accounts and email, their identifiers, and the bind-or-login that follows. */
  buyers: { accounts: BuyerAccounts; sendMail: SendBuyerMail; identities: BuyerIdentities; signedIn(userId: string, client: ClientInfo): Promise<void> };
}

const PASSPORT_ROUTE = /^\/(oauth\/|interaction\/|\.well-known\/(openid-configuration|oauth-authorization-server)$)/;
/** oidc-provider requires a client_secret in secret-based client metadata; ours are compared as hashes instead. */
const SECRET_PLACEHOLDER = crypto.randomBytes(24).toString('base64url');

/**
 * A loopback redirect URI of a native app (RFC 8252 §7.3): http on a loopback IP literal. An app
 * whose redirect URIs are all such is a native client, and oidc-provider then lets the port of a
 * request's redirect URI vary (the app listens on whatever port is free). `localhost` is left out
 * (§8.3: a resolver may send it elsewhere), so its URIs are matched exactly, port included.
 */
const isLoopback = (uri: string) => {
  const url = URL.parse(uri);
  return url?.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === '[::1]');
};

export function createPassportRoutes(options: PassportRouteOptions) {
  const requestScope = new AsyncLocalStorage<{ contextToken: string; clients: Map<string, Promise<OAuthClientRecord | undefined>> }>();

  function lookupClient(key: string): Promise<OAuthClientRecord | undefined> {
    const scope = requestScope.getStore();
    if (!scope) throw new Error('client lookup outside a passport request');
    let found = scope.clients.get(key);
    if (!found) {
      found = (async () => {
        const response = await fetch(options.appManagementUrl(), {
          method: 'POST',
          headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: scope.contextToken },
          body: JSON.stringify({
            query: `query Client($key: String!) { oauthClient(key: $key) { key name status redirectUris developerName grantedScopes
              packages { name scopes } secretHash previousSecretHash previousSecretExpiresAt } }`,
            variables: { key },
          }),
        });
        const body = (await response.json()) as { data?: { oauthClient: OAuthClientRecord | null }; errors?: { message: string }[] };
        if (body.errors?.length || !body.data) throw new GraphQLError(`client lookup failed: ${body.errors?.[0]?.message ?? response.status}`);
        return body.data.oauthClient ?? undefined;
      })();
      scope.clients.set(key, found);
    }
    return found;
  }

  const provider = createPassport({
    issuer: options.issuer,
    audience: options.audience,
    privateJwks: options.keys.privateJwks,
    cookieKeys: options.keys.cookieKeys,
    db: options.db,
    scopes: options.scopes,
    accessTokenTtl: 3600,
    logger: options.logger,
    buyers: options.buyers.identities,
    clients: {
      async find(clientId) {
        const app = await lookupClient(clientId);
        // A suspended app is no client at all: it cannot authorize, exchange or refresh.
        if (!app || app.status === 'SUSPENDED') return undefined;
        return {
          client_id: app.key,
          client_secret: SECRET_PLACEHOLDER,
          client_name: app.name,
          redirect_uris: app.redirectUris,
          application_type: app.redirectUris.length && app.redirectUris.every(isLoopback) ? 'native' : 'web',
          // An app without redirect URIs (a server-to-server integration) can only use client credentials.
          grant_types: app.redirectUris.length ? ['authorization_code', 'refresh_token', 'client_credentials'] : ['client_credentials'],
          response_types: app.redirectUris.length ? ['code'] : [],
          token_endpoint_auth_method: 'client_secret_basic',
          id_token_signed_response_alg: 'ES256',
          // An app that signs buyers in sees each by its own openid (provider.ts pairwiseIdentifier).
          ...(app.redirectUris.length ? { subject_type: 'pairwise', sector_identifier_uri: `https://apps.portico.invalid/${app.key}` } : {}),
          // Any app with a redirect URI may sign buyers in (openid, profile); API scopes only as its packages grant.
          scope: [...app.grantedScopes, ...(app.redirectUris.length ? BUYER_SCOPES : [])].join(' '),
          portico_app_name: app.name,
          portico_developer: app.developerName,
          portico_packages: app.packages,
        };
      },
    },
    async secretsOf(clientId): Promise<ClientSecrets | undefined> {
      const app = await lookupClient(clientId);
      if (!app) return undefined;
      return {
        current: app.secretHash,
        ...(app.previousSecretHash && app.previousSecretExpiresAt ? { previous: { hash: app.previousSecretHash, expiresAt: new Date(app.previousSecretExpiresAt) } } : {}),
      };
    },
  });
  const interactions = createInteractions({
    provider,
    accounts: options.accounts,
    audience: options.audience,
    csrfKeys: options.keys.cookieKeys.map((key) => crypto.createHmac('sha256', key).update('portico passport csrf v1').digest()),
    clientInfo: (key) => lookupClient(key),
    buyers: { accounts: options.buyers.accounts, sendMail: options.buyers.sendMail, signedIn: options.buyers.signedIn },
  });
  const callback = provider.callback();

  return async function handlePassport(req: http.IncomingMessage, res: http.ServerResponse, route: string, contextToken: string): Promise<boolean> {
    if (!PASSPORT_ROUTE.test(route)) return false;
    await requestScope.run({ contextToken, clients: new Map() }, async () => {
      if (route.startsWith('/interaction/')) {
        await interactions(req, res, route);
        return;
      }
      await new Promise<void>((resolve) => {
        res.on('finish', resolve);
        res.on('close', resolve);
        callback(req, res);
      });
    });
    return true;
  };
}
