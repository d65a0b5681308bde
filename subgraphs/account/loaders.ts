/** Per-request DataLoaders of the account subgraph. */
import DataLoader from 'dataloader';
import type { Caller } from '../../core/caller.js';
import type { AccountStore } from './store.js';
import type { MerchantRow, UserRow } from './tables.js';

export function createAccountLoaders(store: AccountStore, caller: Caller) {
  return {
    /** A caller only ever sees its own merchant; any other id loads as null. */
    merchant: new DataLoader<string, MerchantRow | null>(async (ids) => {
      const own = caller.merchantId;
      const visible = own ? ids.filter((id) => id.toLowerCase() === own) : [];
      const byId = new Map((await store.merchantsByIds(visible)).map((m) => [m.id, m]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
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
