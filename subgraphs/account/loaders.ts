/** Per-request DataLoaders of the account subgraph. */
import DataLoader from 'dataloader';
import type { Caller } from '../../core/caller.js';
import type { AccountStore } from './store.js';
import type { MerchantAuthorizationRow, MerchantRow, UserRow } from './tables.js';

export function createAccountLoaders(store: AccountStore, caller: Caller) {
  return {
    /** A caller only ever sees its own merchant; any other id loads as null. */
    merchant: new DataLoader<string, MerchantRow | null>(async (ids) => {
      const own = caller.merchantId;
      const visible = own ? ids.filter((id) => id.toLowerCase() === own) : [];
      const byId = new Map((await store.merchantsByIds(visible)).map((m) => [m.id, m]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
    /** A merchant's authorizations: its own, for its console; any, for operators. */
    authorizationsOfMerchant: new DataLoader<string, MerchantAuthorizationRow[]>(async (merchantIds) => {
      const visible = merchantIds.filter((id) => caller.kind === 'operator' || id === caller.merchantId);
      const rows = await store.authorizationsOfMerchants(visible);
      return merchantIds.map((id) => rows.filter((r) => r.merchantId === id));
    }),
    /** Buyers are only reachable through references other subgraphs hold (their id is never exposed). */
    user: new DataLoader<string, UserRow | null>(async (ids) => {
      if (!caller.merchantId) return ids.map(() => null);
      const byId = new Map((await store.usersByIds(ids)).map((u) => [u.id, u]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
  };
}

export type AccountLoaders = ReturnType<typeof createAccountLoaders>;
