/**
 * Per-request DataLoaders of the app-management subgraph. Visibility is enforced here: an app sees
 * itself, its developer, its grants and requests; operators see every app.
 */
import DataLoader from 'dataloader';
import type { Caller } from '../../core/caller.js';
import type { AppManagementStore } from './store.js';
import type { AppRow, DeveloperRow, PackageGrantRow, PackageRequestRow, PermissionPackageRow, ScopeRow } from './tables.js';

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row]);
  return groups;
}

export function createAppManagementLoaders(store: AppManagementStore, caller: Caller) {
  const isOperator = caller.kind === 'operator';
  // A developer sees their own apps (the portal), as an app sees itself.
  const isDeveloperOf = (app: AppRow) => caller.kind === 'developer' && !!caller.developerId && app.developerId === caller.developerId;
  const visible = (app: AppRow | undefined) => (app && (isOperator || (caller.kind === 'app' && app.key === caller.appKey) || isDeveloperOf(app)) ? app : null);
  /** The calling app, loaded at most once per request. */
  const ownApp = new DataLoader<string, AppRow | null>(async (keys) => {
    const byKey = new Map((await store.appsByKeys(keys)).map((a) => [a.key, a]));
    return keys.map((k) => byKey.get(k) ?? null);
  });
  return {
    app: new DataLoader<string, AppRow | null>(async (keys) => {
      const byKey = new Map((await store.appsByKeys(keys)).map((a) => [a.key, a]));
      return keys.map((k) => visible(byKey.get(k)));
    }),
    appById: new DataLoader<string, AppRow | null>(async (ids) => {
      const byId = new Map((await store.appsByIds(ids)).map((a) => [a.id, a]));
      return ids.map((id) => visible(byId.get(id)));
    }),
    developer: new DataLoader<string, DeveloperRow | null>(async (ids) => {
      if (caller.kind === 'developer') {
        const byId = new Map((await store.developersByIds(ids.filter((id) => id === caller.developerId))).map((d) => [d.id, d]));
        return ids.map((id) => byId.get(id) ?? null);
      }
      const own = isOperator ? undefined : await ownApp.load(caller.appKey);
      const allowed = isOperator ? ids : ids.filter((id) => id === own?.developerId);
      const byId = new Map((await store.developersByIds(allowed)).map((d) => [d.id, d]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    /** Callers reach these only through an app they may see. */
    grantsOfApp: new DataLoader<string, PackageGrantRow[]>(async (appIds) => {
      const groups = groupBy(await store.activeGrantsOfApps(appIds), (g) => g.appId);
      return appIds.map((id) => groups.get(id) ?? []);
    }),
    requestsOfApp: new DataLoader<string, PackageRequestRow[]>(async (appIds) => {
      const groups = groupBy(await store.requestsOfApps(appIds), (r) => r.appId);
      return appIds.map((id) => groups.get(id) ?? []);
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
