/** Resolvers of the app-management subgraph. */
import { scalarResolvers } from '../../core/scalars.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import type { AppManagementLoaders } from './loaders.js';
import type { AppManagementStore } from './store.js';
import type { AppRow, PermissionPackageRow } from './tables.js';

type Context = SubgraphContext<AppManagementLoaders>;

export function createAppManagementResolvers(store: AppManagementStore) {
  return {
    DateTime: scalarResolvers.DateTime,
    Query: {
      viewerApp: (_: unknown, __: unknown, ctx: Context) => ctx.loaders.app.load(ctx.caller.appKey),
      scopes: async (_: unknown, __: unknown, ctx: Context) => [...(await ctx.loaders.scopeCatalog.load('all')).values()],
      permissionPackages: () => store.listPackages(),
    },
    App: {
      __resolveReference: (ref: { key: string }, ctx: Context) => ctx.loaders.app.load(ref.key),
      developer: (app: AppRow, _: unknown, ctx: Context) => ctx.loaders.developer.load(app.developerId),
    },
    Developer: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.developer.load(ref.id),
    },
    PermissionPackage: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.permissionPackage.load(ref.id),
      scopes: async (pkg: PermissionPackageRow, _: unknown, ctx: Context) => {
        const catalog = await ctx.loaders.scopeCatalog.load('all');
        return pkg.scopes.map((name) => catalog.get(name) ?? { name, description: '' });
      },
    },
  };
}
