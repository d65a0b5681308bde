/** Per-request DataLoaders of the account subgraph. */
import DataLoader from 'dataloader';
import type { Caller } from '../../core/caller.js';
import { forbidden } from '../../core/errors.js';
import type { AppDirectory } from './app-directory.js';
import type { createIdentityReads } from './identities.js';
import type { AccountStore } from './store.js';
import type { MerchantAuthorizationRow, MerchantRow, UserRow } from './tables.js';

export function createAccountLoaders(store: AccountStore, caller: Caller, identities: { reads: ReturnType<typeof createIdentityReads>; apps: AppDirectory }) {
  /** The calling app and its developer: openids and unionids exist for apps only. */
  let callingApp: Promise<{ appKey: string; developerId: string }> | undefined;
  const app = () =>
    (callingApp ??= (async () => {
      if (caller.kind !== 'app') throw forbidden("Buyers' openids and unionids are an app's");
      const developerId = await identities.apps.developerOf(caller.appKey);
      if (!developerId) throw forbidden('Unknown app');
      return { appKey: caller.appKey, developerId };
    })());
  const identity = new DataLoader<string, { openid: string; unionid: string }>(async (userIds) => {
    const byUser = await identities.reads.identities(userIds, await app(), caller.merchantId);
    return userIds.map((id) => byUser.get(id) ?? new Error('no identifiers for this buyer'));
  });
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
    /**
     * Buyers are only reachable through references other subgraphs hold (their id is never exposed)
     * and by their identifiers; a merged buyer loads as the one it was merged into.
     */
    user: new DataLoader<string, UserRow | null>(async (ids) => {
      if (!caller.merchantId) return ids.map(() => null);
      const byId = await identities.reads.survivingUsers(ids);
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
    /**
     * Buyers as `user` loads them, with their identifiers for the calling app read in the same
     * statement (a reference whose selection asks for them: resolvers.ts); primes `identity`.
     */
    userWithIdentity: new DataLoader<string, UserRow | null>(async (ids) => {
      if (!caller.merchantId) return ids.map(() => null);
      const byId = await identities.reads.usersWithIdentities(ids, await app(), caller.merchantId);
      for (const { user, openid, unionid } of byId.values()) identity.prime(user.id, { openid, unionid });
      return ids.map((id) => byId.get(id.toLowerCase())?.user ?? null);
    }),
    /**
     * Each buyer's openid for the calling app and unionid for its developer: one query for a page
     * of buyers, whichever of the two it selects (minted the first time the app sees a buyer).
     */
    identity,
    callingApp: app,
  };
}

export type AccountLoaders = ReturnType<typeof createAccountLoaders>;
