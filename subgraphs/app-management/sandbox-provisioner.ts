/**
 * Provisioning an app's sandbox: its own test merchant with generated data in every subgraph that
 * owns some, and the merchant's authorization of the app. Each subgraph writes its own part in bulk,
 * in one transaction, through an internal operation (account: the merchant, buyers and authorization;
 * product: the catalog; order: the orders), asked over HTTP as the system (internal-client.ts). Four
 * calls in all, about a second.
 *
 * Idempotent: the merchant's id and the authorization's grant id are derived from the app key, and
 * the catalog and orders replace what the merchant had, so provisioning again (resetSandbox, or after
 * a failure) ends in the same state. The app records where it stands: PROVISIONING, then READY, or
 * FAILED with what went wrong (the developer reads it in App.sandbox and resets to try again).
 */
import { and, eq, isNull, ne, or, lt } from 'drizzle-orm';
import { v5 as uuidv5 } from 'uuid';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import { PorticoError, conflict } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { InternalCall } from './internal-client.js';
import { apps, packageGrants, permissionPackages, type AppRow } from './tables.js';

const NAMESPACE = '3e7a9c15-62d4-4b8f-a0c3-5f1e8d2b7a46';
/** A provisioning that has not finished in this long was interrupted (the process stopped): a reset may start over. */
const STALE_PROVISIONING_MS = 2 * 60_000;
/** A READY sandbox is reset at most this often: each reset rewrites a few hundred rows in three services. */
export const SANDBOX_RESET_INTERVAL_MS = 10_000;

/** The app's sandbox merchant: the same id for the same app, every time. */
export const sandboxMerchantIdOf = (appKey: string) => uuidv5(`sandbox-merchant:${appKey}`, NAMESPACE);
/** The passport grant id of the sandbox merchant's authorization of the app. */
export const sandboxGrantIdOf = (appKey: string) => `sandbox_${appKey}`;
export const sandboxMerchantNameOf = (appName: string) => `${appName} (sandbox)`;

/** The scopes the app's active grants give now. */
export async function grantedScopesOf(db: Db, appId: string): Promise<string[]> {
  const rows = await db
    .select({ scopes: permissionPackages.scopes })
    .from(packageGrants)
    .innerJoin(permissionPackages, eq(permissionPackages.id, packageGrants.packageId))
    .where(and(eq(packageGrants.appId, appId), isNull(packageGrants.revokedAt)));
  return [...new Set(rows.flatMap((r) => r.scopes))].sort();
}

interface SandboxSku {
  id: string;
  productId: string;
  productTitle: string;
  code: string;
  priceAmount: number;
  currency: string;
}

export function createSandboxProvisioner(options: { db: Db; call: InternalCall; clock: Clock; logger: Logger }) {
  const { db, call, clock, logger } = options;

  /** The account service's part: the merchant (named after the app now), its buyers, its authorization of the app. */
  async function provisionMerchant(app: AppRow, merchantId: string): Promise<{ buyerIds: string[] }> {
    const { provisionSandboxMerchant } = await call<{ provisionSandboxMerchant: { buyerIds: string[] } }>(
      'account',
      `mutation Provision($input: ProvisionSandboxMerchantInput!) { provisionSandboxMerchant(input: $input) { buyerIds } }`,
      {
        input: {
          merchantId,
          name: sandboxMerchantNameOf(app.name),
          contactEmail: `sandbox+${app.key}@portico.invalid`,
          appKey: app.key,
          appName: app.name,
          grantId: sandboxGrantIdOf(app.key),
          scopes: await grantedScopesOf(db, app.id),
        },
      },
    );
    return provisionSandboxMerchant;
  }

  async function run(app: AppRow): Promise<AppRow> {
    const merchantId = app.sandboxMerchantId ?? sandboxMerchantIdOf(app.key);
    const started = clock.now();
    let step = 'account';
    try {
      const merchant = await provisionMerchant(app, merchantId);
      step = 'product';
      const { provisionSandboxCatalog: skus } = await call<{ provisionSandboxCatalog: SandboxSku[] }>(
        'product',
        'mutation Catalog($merchantId: String!, $seed: String!) { provisionSandboxCatalog(merchantId: $merchantId, seed: $seed) { id productId productTitle code priceAmount currency } }',
        { merchantId, seed: app.key },
      );
      step = 'order';
      await call('order', 'mutation Orders($input: ProvisionSandboxOrdersInput!) { provisionSandboxOrders(input: $input) }', {
        input: { merchantId, seed: app.key, buyerIds: merchant.buyerIds, skus },
      });
      const [ready] = await db
        .update(apps)
        .set({ sandboxMerchantId: merchantId, sandboxState: 'READY', sandboxError: null, sandboxResetAt: new Date(clock.now()) })
        .where(eq(apps.id, app.id))
        .returning();
      logger.info({ appKey: app.key, merchantId, ms: clock.now() - started }, 'sandbox provisioned');
      return ready!;
    } catch (error) {
      // What the developer reads: the step, and the other service's message when it is one written for clients.
      const why = error instanceof PorticoError ? error.message : 'the service did not answer as expected';
      logger.warn({ err: error, appKey: app.key, step }, 'sandbox provisioning failed');
      const [failed] = await db
        .update(apps)
        .set({ sandboxMerchantId: merchantId, sandboxState: 'FAILED', sandboxError: `Provisioning failed in the ${step} service: ${why}. Reset the sandbox to try again.`.slice(0, 1000) })
        .where(eq(apps.id, app.id))
        .returning();
      return failed!;
    }
  }

  return {
    /** Provisions an app whose state is PROVISIONING (a new app). */
    provision: run,

    /**
     * After the app was renamed: its READY sandbox merchant takes the new name (and the authorization
     * the app's name). Best effort: a failure is logged, and the next reset names it anyway.
     */
    async renamed(app: AppRow): Promise<void> {
      if (app.sandboxState !== 'READY' || !app.sandboxMerchantId) return;
      try {
        await provisionMerchant(app, app.sandboxMerchantId);
      } catch (error) {
        logger.warn({ err: error, appKey: app.key }, 'renaming the sandbox merchant failed');
      }
    },

    /**
     * resetSandbox: deletes the sandbox merchant's data and provisions it again (or for the first
     * time, for an app from before the portal). CONFLICT while another provisioning runs, and within
     * SANDBOX_RESET_INTERVAL_MS of the last one that succeeded.
     */
    async reset(app: AppRow): Promise<AppRow> {
      const sinceReset = app.sandboxState === 'READY' && app.sandboxResetAt ? clock.now() - app.sandboxResetAt.getTime() : Infinity;
      if (sinceReset < SANDBOX_RESET_INTERVAL_MS) {
        throw conflict(`The sandbox was reset moments ago; reset it again in ${Math.ceil((SANDBOX_RESET_INTERVAL_MS - sinceReset) / 1000)} s`, { retryAfterSeconds: Math.ceil((SANDBOX_RESET_INTERVAL_MS - sinceReset) / 1000) });
      }
      const staleBefore = new Date(clock.now() - STALE_PROVISIONING_MS);
      const [claimed] = await db
        .update(apps)
        .set({ sandboxState: 'PROVISIONING', sandboxError: null, sandboxMerchantId: app.sandboxMerchantId ?? sandboxMerchantIdOf(app.key), updatedAt: new Date(clock.now()) })
        .where(and(eq(apps.id, app.id), or(ne(apps.sandboxState, 'PROVISIONING'), lt(apps.updatedAt, staleBefore))))
        .returning();
      if (!claimed) throw conflict('The sandbox is being provisioned; try again in a moment', { sandboxState: 'PROVISIONING' });
      return run(claimed);
    },
  };
}

export type SandboxProvisioner = ReturnType<typeof createSandboxProvisioner>;
