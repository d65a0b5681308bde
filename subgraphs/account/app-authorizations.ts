/**
 * An app's authorizations by merchant, for operators (`App.authorizations`), and what every
 * AppAuthorization shows of its merchant (`merchantName`), however it was reached: an app's list,
 * a merchant's (`Merchant.authorizedApps`, `merchantAuthorizations`) or a revocation's answer.
 */
import DataLoader from 'dataloader';
import { desc, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { Caller } from '../../core/caller.js';
import type { Db } from '../../core/db.js';
import { badInput, forbidden } from '../../core/errors.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import { merchantAuthorizations, merchants, type MerchantAuthorizationRow } from './tables.js';

/** Authorizations `App.authorizations(first)` lists at most. */
export const MAX_APP_AUTHORIZATIONS = 200;

/** An authorization with its merchant's name when the statement that read it joined it. */
export type AuthorizationWithMerchant = MerchantAuthorizationRow & { merchantName?: string };

export function createAppAuthorizationStore(db: Db) {
  return {
    /** The newest `first` authorizations of each app (revoked ones included), each with its merchant's name, in one statement. */
    async newestOfApps(appKeys: readonly string[], first: number): Promise<AuthorizationWithMerchant[]> {
      if (!appKeys.length) return [];
      const ranked = db
        .select({
          ...getTableColumns(merchantAuthorizations),
          merchantName: sql<string>`${merchants.name}`.as('merchant_name'),
          rank: sql<number>`row_number() over (partition by ${merchantAuthorizations.appKey} order by ${merchantAuthorizations.authorizedAt} desc, ${merchantAuthorizations.grantId})`.as('rank'),
        })
        .from(merchantAuthorizations)
        .innerJoin(merchants, eq(merchants.id, merchantAuthorizations.merchantId))
        .where(inArray(merchantAuthorizations.appKey, [...appKeys]))
        .as('ranked');
      const rows = await db.select().from(ranked).where(sql`${ranked.rank} <= ${first}`).orderBy(desc(ranked.authorizedAt), ranked.grantId);
      return rows.map(({ rank: _rank, ...row }) => row);
    },

    async merchantNames(ids: readonly string[]): Promise<Map<string, string>> {
      const wellFormed = ids.filter(v.isWellFormedId);
      if (!wellFormed.length) return new Map();
      const rows = await db.select({ id: merchants.id, name: merchants.name }).from(merchants).where(inArray(merchants.id, wellFormed));
      return new Map(rows.map((row) => [row.id, row.name]));
    },

    async byGrantIds(grantIds: readonly string[]): Promise<MerchantAuthorizationRow[]> {
      return grantIds.length ? db.select().from(merchantAuthorizations).where(inArray(merchantAuthorizations.grantId, [...grantIds])) : [];
    },
  };
}

export type AppAuthorizationStore = ReturnType<typeof createAppAuthorizationStore>;

/** Whether the caller may see this merchant's authorizations: operators any, the merchant's staff and console app their own. */
function mayRead(caller: Caller, merchantId: string): boolean {
  return caller.kind === 'operator' || ((caller.kind === 'staff' || caller.kind === 'app') && !!caller.merchantId && caller.merchantId === merchantId);
}

export function createAppAuthorizationLoaders(store: AppAuthorizationStore, caller: Caller) {
  return {
    /** Keyed by `first` and the app key (one `first` per field in a query: one statement for every app of a page). */
    authorizationsOfApp: new DataLoader<string, AuthorizationWithMerchant[]>(async (keys) => {
      const byFirst = new Map<number, string[]>();
      for (const key of keys) {
        const [first, appKey] = splitKey(key);
        byFirst.set(first, [...(byFirst.get(first) ?? []), appKey]);
      }
      const rows = (await Promise.all([...byFirst].map(([first, appKeys]) => store.newestOfApps(appKeys, first)))).flat();
      return keys.map((key) => {
        const [first, appKey] = splitKey(key);
        return rows.filter((row) => row.appKey === appKey).slice(0, first);
      });
    }),
    merchantName: new DataLoader<string, string | null>(async (ids) => {
      const names = await store.merchantNames(ids);
      return ids.map((id) => names.get(id) ?? null);
    }),
    /** An authorization as another subgraph refers to it, only if the caller may see it. */
    authorization: new DataLoader<string, MerchantAuthorizationRow | null>(async (grantIds) => {
      const byId = new Map((await store.byGrantIds(grantIds)).map((row) => [row.grantId, row]));
      return grantIds.map((id) => {
        const row = byId.get(id);
        return row && mayRead(caller, row.merchantId) ? row : null;
      });
    }),
  };
}

const splitKey = (key: string): [number, string] => {
  const at = key.indexOf(':');
  return [Number(key.slice(0, at)), key.slice(at + 1)];
};

export type AppAuthorizationLoaders = ReturnType<typeof createAppAuthorizationLoaders>;

type Context = SubgraphContext<AppAuthorizationLoaders>;

export const appAuthorizationResolvers = {
  App: {
    authorizations: (app: { key: string }, args: { first: number }, ctx: Context) => {
      if (ctx.caller.kind !== 'operator') throw forbidden("Only operators see an app's authorizations by merchant");
      const first = args.first;
      if (!Number.isInteger(first) || first < 1 || first > MAX_APP_AUTHORIZATIONS) throw badInput(`first must be from 1 to ${MAX_APP_AUTHORIZATIONS}`, 'first');
      return ctx.loaders.authorizationsOfApp.load(`${first}:${app.key}`);
    },
  },
  AppAuthorization: {
    __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.authorization.load(ref.id),
    merchantName: async (row: AuthorizationWithMerchant, _: unknown, ctx: Context) => row.merchantName ?? (await ctx.loaders.merchantName.load(row.merchantId)) ?? '',
  },
};
