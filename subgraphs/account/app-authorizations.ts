/**
 * An app's authorizations by merchant, for operators (`App.authorizations`), and what every
 * AppAuthorization shows of its merchant (`merchantName`), however it was reached: an app's list,
 * a merchant's (`Merchant.authorizedApps`, `merchantAuthorizations`) or a revocation's answer.
 */
import DataLoader from 'dataloader';
import { inArray, sql } from 'drizzle-orm';
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

/** A row of the raw statement below (timestamps as the driver gives them: Date or text). */
interface RawAuthorization {
  grant_id: string;
  merchant_id: string;
  app_key: string;
  app_name: string;
  scopes: string[];
  authorized_by: string | null;
  authorized_at: Date | string;
  revoked_at: Date | string | null;
  revoked_by: string | null;
  merchant_name: string;
}

const rowsOf = <T>(result: unknown): T[] => (result as { rows?: T[] }).rows ?? (result as T[]);

export function createAppAuthorizationStore(db: Db) {
  return {
    /**
     * The newest `first` authorizations of each app (revoked ones included), each with its
     * merchant's name, in one statement: per app, the first entries of merchant_authorizations_app_idx
     * from its newest end, however many merchants authorized the app.
     */
    async newestOfApps(appKeys: readonly string[], first: number): Promise<AuthorizationWithMerchant[]> {
      if (!appKeys.length) return [];
      const keys = sql.join(
        appKeys.map((key) => sql`(${key}::text)`),
        sql`, `,
      );
      const result = await db.execute(sql`
        select a.grant_id, a.merchant_id, a.app_key, a.app_name, a.scopes, a.authorized_by, a.authorized_at, a.revoked_at, a.revoked_by, m.name as merchant_name
        from (values ${keys}) as k(app_key)
        cross join lateral (
          select * from ${merchantAuthorizations} ma where ma.app_key = k.app_key
          order by ma.authorized_at desc, ma.grant_id limit ${first}
        ) a
        join ${merchants} m on m.id = a.merchant_id
        order by a.authorized_at desc, a.grant_id`);
      return rowsOf<RawAuthorization>(result).map((row) => ({
        grantId: row.grant_id,
        merchantId: row.merchant_id,
        appKey: row.app_key,
        appName: row.app_name,
        scopes: row.scopes,
        authorizedBy: row.authorized_by,
        authorizedAt: new Date(row.authorized_at),
        revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
        revokedBy: row.revoked_by,
        merchantName: row.merchant_name,
      }));
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
