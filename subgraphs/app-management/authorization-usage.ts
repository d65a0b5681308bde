/**
 * What app-management adds to a merchant's authorization of an app (the account service's
 * AppAuthorization entity): the app's developer and description, and when the app last called for
 * that merchant, from the call report. The gateway reaches these fields only through an
 * authorization the account service let the caller see (an operator, the merchant's staff, or the
 * merchant's console app), so they are read here without a second visibility check; they say
 * nothing about the app beyond what its consent page shows, and about its calls only for that merchant.
 */
import DataLoader from 'dataloader';
import { eq, inArray, sql } from 'drizzle-orm';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import { forbidden } from '../../core/errors.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import { apps, callReports, developers } from './tables.js';

/** The reference the gateway sends: the authorization's id with the account service's fields it requires. */
interface AuthorizationReference {
  id: string;
  appKey?: string;
  merchantId?: string;
}

interface AuthorizedApp {
  description: string;
  developerName: string;
}

/** How far back a last use is looked for: the call report's retention (the gateway purges older rows). */
const LAST_USE_WINDOW_DAYS = 90;

const rowsOf = <T>(result: unknown): T[] => (result as { rows?: T[] }).rows ?? (result as T[]);

export function createAuthorizationUsageStore(db: Db, clock: Clock) {
  return {
    /** Each app's description and its developer's name (a company developer's company name), by key. */
    async appsByKeys(keys: readonly string[]): Promise<Map<string, AuthorizedApp>> {
      if (!keys.length) return new Map();
      const rows = await db
        .select({ key: apps.key, description: apps.description, name: developers.name, companyName: developers.companyName })
        .from(apps)
        .innerJoin(developers, eq(developers.id, apps.developerId))
        .where(inArray(apps.key, [...keys]));
      return new Map(rows.map((row) => [row.key, { description: row.description, developerName: row.companyName ?? row.name }]));
    },

    /**
     * The newest minute of the call report per app and merchant, in one statement: one index lookup
     * per pair (call_reports_app_merchant_minute_idx answers each max() from its last entry),
     * however many calls the app made. Pairs without a call in the retention window are left out.
     */
    async lastUse(pairs: readonly { appKey: string; merchantId: string }[]): Promise<Map<string, Date>> {
      if (!pairs.length) return new Map();
      const since = new Date(clock.now() - LAST_USE_WINDOW_DAYS * 86_400_000);
      const keys = sql.join(
        pairs.map((p) => sql`(${p.appKey}::text, ${p.merchantId}::text)`),
        sql`, `,
      );
      const result = await db.execute(sql`
        select k.app_key, k.merchant_id,
          (select max(c.minute) from ${callReports} c where c.app_id = a.id and c.merchant_id = k.merchant_id and c.minute >= ${since.toISOString()}::timestamptz) as last_used_at
        from (values ${keys}) as k(app_key, merchant_id)
        join ${apps} a on a.key = k.app_key`);
      const used = new Map<string, Date>();
      for (const row of rowsOf<{ app_key: string; merchant_id: string; last_used_at: Date | string | null }>(result)) {
        if (row.last_used_at !== null) used.set(pairKey(row.app_key, row.merchant_id), new Date(row.last_used_at));
      }
      return used;
    },
  };
}

export type AuthorizationUsageStore = ReturnType<typeof createAuthorizationUsageStore>;

const pairKey = (appKey: string, merchantId: string) => `${appKey}\u0000${merchantId}`;

export function createAuthorizationUsageLoaders(store: AuthorizationUsageStore) {
  return {
    authorizedApp: new DataLoader<string, AuthorizedApp | null>(async (keys) => {
      const byKey = await store.appsByKeys(keys);
      return keys.map((key) => byKey.get(key) ?? null);
    }),
    /** Keyed by pairKey(appKey, merchantId): every authorization of a page in one statement. */
    lastUse: new DataLoader<string, Date | null>(async (keys) => {
      const used = await store.lastUse(
        keys.map((key) => {
          const [appKey, merchantId] = key.split('\u0000') as [string, string];
          return { appKey, merchantId };
        }),
      );
      return keys.map((key) => used.get(key) ?? null);
    }),
  };
}

export type AuthorizationUsageLoaders = ReturnType<typeof createAuthorizationUsageLoaders>;

type Context = SubgraphContext<AuthorizationUsageLoaders>;

/** Who reaches authorizations (the type's scopes say the same; this is the resolvers' own check of the principal). */
function mayReadAuthorizations(caller: Caller): void {
  if (caller.kind === 'operator' || caller.kind === 'staff' || (caller.kind === 'app' && caller.merchantId)) return;
  throw forbidden("A merchant's authorizations are read by its staff, its console app, or operators");
}

/** A field the gateway fetched from the account service for this one (its @requires). */
function required(ref: AuthorizationReference, field: 'appKey' | 'merchantId'): string {
  const value = ref[field];
  if (value === undefined) throw forbidden('An authorization is reached through the account service');
  return value;
}

export const authorizationUsageResolvers = {
  AppAuthorization: {
    __resolveReference: (ref: AuthorizationReference) => ref,
    developerName: async (ref: AuthorizationReference, _: unknown, ctx: Context) => {
      mayReadAuthorizations(ctx.caller);
      return (await ctx.loaders.authorizedApp.load(required(ref, 'appKey')))?.developerName ?? null;
    },
    appDescription: async (ref: AuthorizationReference, _: unknown, ctx: Context) => {
      mayReadAuthorizations(ctx.caller);
      return (await ctx.loaders.authorizedApp.load(required(ref, 'appKey')))?.description ?? null;
    },
    lastUsedAt: (ref: AuthorizationReference, _: unknown, ctx: Context) => {
      mayReadAuthorizations(ctx.caller);
      return ctx.loaders.lastUse.load(pairKey(required(ref, 'appKey'), required(ref, 'merchantId')));
    },
  },
};
