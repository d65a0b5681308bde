/** Resolvers of the app-management subgraph. */
import { badInput, forbidden } from '../../core/errors.js';
import { pageSize, toConnection } from '../../core/pagination.js';
import { scopeSetOf } from '../../core/permissions.js';
import { scalarResolvers } from '../../core/scalars.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import { catalogFor, type CatalogField } from './api-catalog.js';
import type { MessageCrypto } from '../../messages/crypto.js';
import type { AppManagementLoaders } from './loaders.js';
import { appLevelCaller, operatorActor } from './callers.js';
import { appsCursor, auditCursor, requestsCursor, type AppFilter, type AppManagementStore, type AuditFilter } from './store.js';
import type { AppRow, AuditLogRow, PackageGrantRow, PackageRequestRow, PermissionPackageRow } from './tables.js';

type Context = SubgraphContext<AppManagementLoaders>;

export function createAppManagementResolvers(store: AppManagementStore, catalog: CatalogField[], messageKeys: Pick<MessageCrypto, 'rotate'>) {
  return {
    DateTime: scalarResolvers.DateTime,
    Query: {
      viewerApp: (_: unknown, __: unknown, ctx: Context) => (ctx.caller.kind === 'app' ? ctx.loaders.app.load(ctx.caller.appKey) : null),
      scopes: async (_: unknown, __: unknown, ctx: Context) => [...(await ctx.loaders.scopeCatalog.load('all')).values()],
      permissionPackages: () => store.listPackages(),
      apiCatalog: async (_: unknown, __: unknown, ctx: Context) => {
        const held = scopeSetOf(ctx.caller);
        const scopeRows = [...(await ctx.loaders.scopeCatalog.load('all')).values()];
        return { fields: catalogFor(catalog, held), scopes: scopeRows.map((scope) => ({ scope, held: held.has(scope.name) })) };
      },
      app: (_: unknown, args: { key: string }, ctx: Context) => {
        operatorActor(ctx.caller);
        return ctx.loaders.app.load(args.key);
      },
      apps: async (_: unknown, args: AppFilter & { first?: number | null; after?: string | null }, ctx: Context) => {
        operatorActor(ctx.caller);
        const limit = pageSize(args.first);
        const filter: AppFilter = { search: args.search, status: args.status };
        return { ...toConnection(await store.listApps({ ...filter, limit, after: args.after }), limit, appsCursor, !!args.after), totalCount: () => store.countApps(filter) };
      },
      packageRequests: async (_: unknown, args: { status: PackageRequestRow['status']; first?: number | null; after?: string | null }, ctx: Context) => {
        operatorActor(ctx.caller);
        const limit = pageSize(args.first);
        return {
          ...toConnection(await store.listRequests({ status: args.status, limit, after: args.after }), limit, requestsCursor, !!args.after),
          totalCount: () => store.countRequests(args.status),
        };
      },
      auditLog: async (_: unknown, args: { filter?: AuditFilter | null; first?: number | null; after?: string | null }, ctx: Context) => {
        operatorActor(ctx.caller);
        const limit = pageSize(args.first);
        const filter = args.filter ?? {};
        return { ...toConnection(await store.listAudit({ filter, limit, after: args.after }), limit, auditCursor, !!args.after), totalCount: () => store.countAudit(filter) };
      },
      appAccess: (_: unknown, args: { key: string }, ctx: Context) => {
        if (ctx.caller.kind !== 'system') throw forbidden('Internal');
        return store.appAccess(args.key);
      },
      oauthClient: (_: unknown, args: { key: string }, ctx: Context) => {
        if (ctx.caller.kind !== 'system') throw forbidden('Internal');
        return store.oauthClient(args.key);
      },
    },
    Mutation: {
      requestPermissionPackage: (_: unknown, { input }: { input: { packageId: string; message?: string | null } }, ctx: Context) => {
        return store.requestPackage(appLevelCaller(ctx.caller, 'Packages are requested'), input);
      },
      rotateAppSecret: (_: unknown, args: { graceHours: number }, ctx: Context) => {
        return store.rotateSecret(appLevelCaller(ctx.caller, 'An app rotates its own secret'), args.graceHours);
      },
      rotateMessageKey: (_: unknown, args: { appKey: string; reason?: string | null }, ctx: Context) => {
        if (args.reason && args.reason.length > 1000) throw badInput('reason: at most 1,000 characters', 'reason');
        return store.rotateMessageKey(operatorActor(ctx.caller), args.appKey, messageKeys, args.reason ?? null);
      },
      setAppStatus: (_: unknown, { input }: { input: { appKey: string; status: AppRow['status']; reason: string } }, ctx: Context) =>
        store.setAppStatus(operatorActor(ctx.caller), input),
      createPermissionPackage: (_: unknown, { input }: { input: Parameters<AppManagementStore['createPermissionPackage']>[1] }, ctx: Context) =>
        store.createPermissionPackage(operatorActor(ctx.caller), input),
      updatePermissionPackage: (_: unknown, { input }: { input: Parameters<AppManagementStore['updatePermissionPackage']>[1] }, ctx: Context) =>
        store.updatePermissionPackage(operatorActor(ctx.caller), input),
      grantPermissionPackage: (_: unknown, { input }: { input: { appKey: string; packageId: string; reason: string } }, ctx: Context) =>
        store.grantPackage(operatorActor(ctx.caller), input),
      revokePermissionPackage: (_: unknown, { input }: { input: { appKey: string; packageId: string; reason: string } }, ctx: Context) =>
        store.revokePackage(operatorActor(ctx.caller), input),
      approvePackageRequest: (_: unknown, { input }: { input: { requestId: string; reason: string } }, ctx: Context) =>
        store.decideRequest(operatorActor(ctx.caller), input, 'APPROVED'),
      rejectPackageRequest: (_: unknown, { input }: { input: { requestId: string; reason: string } }, ctx: Context) =>
        store.decideRequest(operatorActor(ctx.caller), input, 'REJECTED'),
    },
    App: {
      __resolveReference: (ref: { key: string }, ctx: Context) => ctx.loaders.app.load(ref.key),
      developer: (app: AppRow, _: unknown, ctx: Context) => ctx.loaders.developer.load(app.developerId),
      grantedPackages: (app: AppRow, _: unknown, ctx: Context) => ctx.loaders.grantsOfApp.load(app.id),
      grantedScopes: async (app: AppRow, _: unknown, ctx: Context) => {
        const grants = await ctx.loaders.grantsOfApp.load(app.id);
        const packages = await ctx.loaders.permissionPackage.loadMany(grants.map((g) => g.packageId));
        return [...new Set(packages.flatMap((p) => (p && !(p instanceof Error) ? p.scopes : [])))].sort();
      },
      packageRequests: (app: AppRow, _: unknown, ctx: Context) => ctx.loaders.requestsOfApp.load(app.id),
    },
    Developer: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.developer.load(ref.id),
    },
    PermissionPackage: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.permissionPackage.load(ref.id),
      scopes: async (pkg: PermissionPackageRow, _: unknown, ctx: Context) => {
        const scopeCatalog = await ctx.loaders.scopeCatalog.load('all');
        return pkg.scopes.map((name) => scopeCatalog.get(name) ?? { name, description: '' });
      },
    },
    PackageGrant: {
      package: (grant: PackageGrantRow, _: unknown, ctx: Context) => ctx.loaders.permissionPackage.load(grant.packageId),
    },
    PackageRequest: {
      app: (request: PackageRequestRow, _: unknown, ctx: Context) => ctx.loaders.appById.load(request.appId),
      package: (request: PackageRequestRow, _: unknown, ctx: Context) => ctx.loaders.permissionPackage.load(request.packageId),
    },
    AuditLogEntry: {
      details: (entry: AuditLogRow) => JSON.stringify(entry.details),
    },
  };
}
