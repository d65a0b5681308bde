/**
 * What the account service does for developers' sandboxes (app-management asks, as the system, over
 * HTTP): an app's sandbox merchant, a test merchant named after the app, with generated buyers and
 * its authorization of the app (the consent record a real merchant gives on the passport's page);
 * access tokens of the app for it, minted here where the platform's access-token keys are; and the
 * authorizations of an app by the merchants its developer looks at (names, when given).
 */
import { v5 as uuidv5 } from 'uuid';
import { and, desc, eq, inArray } from 'drizzle-orm';
import { systemClock, type Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import { forbidden, notFound } from '../../core/errors.js';
import type { PlatformKeys } from '../../core/keys.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import { mintAccessToken } from '../../core/tokens.js';
import * as v from '../../core/validate.js';
import { recordEvents } from '../../messages/outbox.js';
import { merchantAuthorizations, merchants, outboxEvents, users } from './tables.js';

/** A sandbox token lives as long as the portal's explorer needs one at a time. */
export const SANDBOX_TOKEN_TTL_SECONDS = 3600;
/** Buyers each sandbox gets. */
const SANDBOX_BUYERS = 8;
const BUYERS_NAMESPACE = '5d3f0c2a-8e41-4b7a-9c1e-6a2b4d8f0e13';
const NICKNAMES = ['maple', 'river', 'kite', 'ember', 'pebble', 'sparrow', 'juniper', 'cobalt'];
/**
 * The sandbox authorization dates from before any generated data (the product and order services
 * lay their data out over the last 20 days): the app's message stream of its sandbox starts before
 * them, so the generated events are there to subscribe to, re-push and replay.
 */
const AUTHORIZED_BEFORE_MS = 21 * 86_400_000;

export interface ProvisionSandboxMerchantInput {
  merchantId: string;
  name: string;
  contactEmail: string;
  appKey: string;
  appName: string;
  grantId: string;
  scopes: string[];
}

export function createSandboxAccounts(db: Db, options: { keys: PlatformKeys; issuer: string; audience: string; clock?: Clock }) {
  const clock = options.clock ?? systemClock;
  return {
    /**
     * The merchant (created, or renamed after the app), its buyers (ids derived from the merchant's,
     * so a second run finds them) and the authorization (upserted with these scopes, active again if
     * it was revoked), in one transaction.
     */
    async provisionSandboxMerchant(input: ProvisionSandboxMerchantInput): Promise<{ merchantId: string; buyerIds: string[] }> {
      const merchantId = v.id(input.merchantId, 'merchantId');
      const name = v.text(input.name, 'name', { max: 200 });
      const now = new Date(clock.now());
      const since = new Date(now.getTime() - AUTHORIZED_BEFORE_MS);
      const buyers = Array.from({ length: SANDBOX_BUYERS }, (_, i) => ({
        id: uuidv5(`${merchantId}:buyer:${i}`, BUYERS_NAMESPACE),
        nickname: `${NICKNAMES[i % NICKNAMES.length]}_${merchantId.slice(0, 4)}${i}`,
      }));
      await db.transaction(async (tx) => {
        const [existing] = await tx.select({ id: merchants.id, isTest: merchants.isTest }).from(merchants).where(eq(merchants.id, merchantId)).for('update');
        // Never turn a real merchant into a sandbox (ids are derived from app keys; this is the guard).
        if (existing && !existing.isTest) throw forbidden('Not a test merchant');
        if (existing) {
          await tx.update(merchants).set({ name, updatedAt: now }).where(eq(merchants.id, merchantId));
        } else {
          await tx.insert(merchants).values({ id: merchantId, name, contactEmail: v.text(input.contactEmail, 'contactEmail', { max: 320 }), isTest: true, createdAt: since, updatedAt: now });
          await recordEvents(tx, outboxEvents, [
            { merchantId, aggregateType: 'merchant', aggregateId: merchantId, type: 'merchant.registered', occurredAt: now, payload: { merchantId, name } },
          ]);
        }
        await tx.insert(users).values(buyers.map((b) => ({ ...b, createdAt: now }))).onConflictDoNothing();
        await tx
          .insert(merchantAuthorizations)
          .values({ grantId: input.grantId, merchantId, appKey: input.appKey, appName: input.appName, scopes: input.scopes, authorizedBy: null, authorizedAt: since })
          .onConflictDoUpdate({
            target: merchantAuthorizations.grantId,
            set: { appName: input.appName, scopes: input.scopes, revokedAt: null, revokedBy: null },
          });
      });
      return { merchantId, buyerIds: buyers.map((b) => b.id) };
    },

    /** A token under the sandbox authorization, whose scopes are brought in step with what the app holds now. */
    async issueSandboxAccessToken(input: { appKey: string; merchantId: string; grantId: string; scopes: string[] }): Promise<{ accessToken: string; expiresAt: Date }> {
      const [authorization] = await db
        .select({ merchantId: merchantAuthorizations.merchantId, appKey: merchantAuthorizations.appKey, isTest: merchants.isTest })
        .from(merchantAuthorizations)
        .innerJoin(merchants, eq(merchants.id, merchantAuthorizations.merchantId))
        .where(eq(merchantAuthorizations.grantId, input.grantId));
      if (!authorization || authorization.appKey !== input.appKey || authorization.merchantId !== input.merchantId) throw notFound('Sandbox authorization', input.grantId);
      if (!authorization.isTest) throw forbidden('Sandbox tokens are for test merchants only');
      await db
        .update(merchantAuthorizations)
        .set({ scopes: input.scopes, revokedAt: null, revokedBy: null })
        .where(eq(merchantAuthorizations.grantId, input.grantId));
      const issuedAt = clock.now();
      const accessToken = await mintAccessToken(options.keys, {
        issuer: options.issuer,
        audience: options.audience,
        appKey: input.appKey,
        merchantId: input.merchantId,
        scope: input.scopes.join(' '),
        grantId: input.grantId,
        ttlSeconds: SANDBOX_TOKEN_TTL_SECONDS,
        clock,
      });
      return { accessToken, expiresAt: new Date(Math.floor(issuedAt / 1000) * 1000 + SANDBOX_TOKEN_TTL_SECONDS * 1000) };
    },

    /** Each named merchant's newest authorization of the app, with the merchant's name. */
    async appMerchantAuthorizations(appKey: string, merchantIds: readonly string[]) {
      const wellFormed = [...new Set(merchantIds.filter(v.isWellFormedId))];
      if (!wellFormed.length) return [];
      const rows = await db
        .select({
          merchantId: merchantAuthorizations.merchantId,
          merchantName: merchants.name,
          grantId: merchantAuthorizations.grantId,
          authorizedAt: merchantAuthorizations.authorizedAt,
          revokedAt: merchantAuthorizations.revokedAt,
        })
        .from(merchantAuthorizations)
        .innerJoin(merchants, eq(merchants.id, merchantAuthorizations.merchantId))
        .where(and(eq(merchantAuthorizations.appKey, appKey), inArray(merchantAuthorizations.merchantId, wellFormed)))
        .orderBy(desc(merchantAuthorizations.authorizedAt));
      const newest = new Map<string, (typeof rows)[number]>();
      for (const row of rows) if (!newest.has(row.merchantId)) newest.set(row.merchantId, row);
      return [...newest.values()].map((r) => ({ merchantId: r.merchantId, merchantName: r.merchantName, grantId: r.grantId, authorizedAt: r.authorizedAt, active: r.revokedAt === null }));
    },
  };
}

export type SandboxAccounts = ReturnType<typeof createSandboxAccounts>;

const internalOnly = (ctx: SubgraphContext<unknown>) => {
  if (ctx.caller.kind !== 'system') throw forbidden('Internal');
};

export function createSandboxAccountResolvers(sandbox: SandboxAccounts) {
  return {
    Query: {
      appMerchantAuthorizations: (_: unknown, args: { appKey: string; merchantIds: string[] }, ctx: SubgraphContext<unknown>) => {
        internalOnly(ctx);
        return sandbox.appMerchantAuthorizations(args.appKey, args.merchantIds);
      },
    },
    Mutation: {
      provisionSandboxMerchant: (_: unknown, args: { input: ProvisionSandboxMerchantInput }, ctx: SubgraphContext<unknown>) => {
        internalOnly(ctx);
        return sandbox.provisionSandboxMerchant(args.input);
      },
      issueSandboxAccessToken: (_: unknown, args: { appKey: string; merchantId: string; grantId: string; scopes: string[] }, ctx: SubgraphContext<unknown>) => {
        internalOnly(ctx);
        return sandbox.issueSandboxAccessToken(args);
      },
    },
  };
}
