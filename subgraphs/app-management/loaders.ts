/** Per-request DataLoaders of the app-management subgraph. */
import DataLoader from 'dataloader';
import type { Caller } from '../../core/caller.js';
import type { AppManagementStore } from './store.js';
import type { AppRow, DeveloperRow, PermissionPackageRow, ScopeRow } from './tables.js';

export function createAppManagementLoaders(store: AppManagementStore, caller: Caller) {
  /** The calling app, loaded at most once per request. */
  const ownApp = new DataLoader<string, AppRow | null>(async (keys) => {
    const byKey = new Map((await store.appsByKeys(keys)).map((a) => [a.key, a]));
    return keys.map((k) => byKey.get(k) ?? null);
  });
  return {
    /** An app sees only itself. */
    app: new DataLoader<string, AppRow | null>(async (keys) => {
      const own = await ownApp.load(caller.appKey);
      return keys.map((k) => (own && k === own.key ? own : null));
    }),
    /** A developer is visible to that developer's own app only. */
    developer: new DataLoader<string, DeveloperRow | null>(async (ids) => {
      const own = await ownApp.load(caller.appKey);
      const visible = own ? ids.filter((id) => id === own.developerId) : [];
      const byId = new Map((await store.developersByIds(visible)).map((d) => [d.id, d]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    /** The public catalog of permission packages. */
    permissionPackage: new DataLoader<string, PermissionPackageRow | null>(async (ids) => {
      const byId = new Map((await store.packagesByIds(ids)).map((p) => [p.id, p]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
    /** The scope catalog, read once per request. */
    scopeCatalog: new DataLoader<'all', Map<string, ScopeRow>>(async (keys) => {
      const catalog = new Map((await store.listScopes()).map((s) => [s.name, s]));
      return keys.map(() => catalog);
    }),
  };
}

export type AppManagementLoaders = ReturnType<typeof createAppManagementLoaders>;
