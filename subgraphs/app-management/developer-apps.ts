/**
 * A developer's own apps: create (in SANDBOX, with the FREE packages and a sandbox of its own),
 * edit, and the app-token operations a developer may also do for their app by naming it (rotate the
 * secret, the IP allow list, the signing key, package requests and their withdrawal).
 *
 * Every operation acts on the signed-in developer's own apps only: another developer's app is
 * NOT_FOUND, exactly as a key that does not exist, so keys cannot be probed. Changes are audited
 * under `developer:<id>`.
 */
import crypto from 'node:crypto';
import { and, asc, count, desc, eq } from 'drizzle-orm';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { Db, Executor } from '../../core/db.js';
import { badInput, conflict, forbidden, notFound } from '../../core/errors.js';
import { sealAppSecret } from '../../core/app-secret-seal.js';
import { generateSecret, hashSecret } from '../../core/secrets.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import type { Kek } from '../../core/sealing.js';
import { recordEvents } from '../../messages/outbox.js';
import { audit } from './audit.js';
import { developerOf } from './callers.js';
import type { IpAllowListStore } from './ip-allow-list.js';
import { normalizeAllowList } from './ip-allow-list.js';
import type { AppManagementLoaders } from './loaders.js';
import type { SandboxProvisioner } from './sandbox-provisioner.js';
import { sandboxMerchantIdOf } from './sandbox-provisioner.js';
import { ed25519PublicKey, type SigningStore } from './signing.js';
import type { AppManagementStore } from './store.js';
import { apps, developers, outboxEvents, packageGrants, packageRequests, permissionPackages, type AppRow, type PackageRequestRow } from './tables.js';

/** Apps one developer may hold: more than any real ISV needs in a sandbox, few enough that a script cannot mint sandboxes by the thousand. */
export const MAX_APPS_PER_DEVELOPER = 20;
export const MAX_REDIRECT_URIS = 10;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Redirect URIs as the passport matches them (exactly): absolute https URIs, or http on a loopback
 * address (a native or development client, RFC 8252 §7.3); no fragment, no credentials.
 */
export function normalizeRedirectUris(uris: readonly string[]): string[] {
  if (uris.length > MAX_REDIRECT_URIS) throw badInput(`At most ${MAX_REDIRECT_URIS} redirect URIs`, 'redirectUris');
  const normalized = uris.map((raw) => {
    const text = v.text(raw, 'redirectUris', { max: 2000 });
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw badInput(`Redirect URI "${text}" is not an absolute URI`, 'redirectUris');
    }
    if (url.hash || text.includes('#')) throw badInput(`Redirect URI "${text}" has a fragment`, 'redirectUris');
    if (url.username || url.password) throw badInput(`Redirect URI "${text}" carries credentials`, 'redirectUris');
    if (url.protocol === 'https:') return text;
    if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return text;
    throw badInput(`Redirect URI "${text}" must be https (or http on 127.0.0.1, [::1] or localhost)`, 'redirectUris');
  });
  return [...new Set(normalized)];
}

/** The developer's app by key, locked when inside a transaction that changes it; NOT_FOUND for anyone else's. */
export async function ownApp(tx: Executor, developerId: string, appKey: string, options: { lock?: boolean } = {}): Promise<AppRow> {
  const query = tx.select().from(apps).where(and(eq(apps.key, appKey), eq(apps.developerId, developerId)));
  const [app] = options.lock ? await query.for('update') : await query;
  if (!app) throw notFound('App', appKey);
  return app;
}

export interface CreateAppInput {
  name: string;
  description?: string | null;
  redirectUris?: string[] | null;
  ipAllowList?: string[] | null;
  signingPublicKey?: string | null;
}

export function createDeveloperAppStore(db: Db, keks: readonly Kek[], clock: Clock) {
  return {
    /** Registers the app with its FREE packages, audited; the sandbox is provisioned afterwards (sandbox-provisioner.ts). */
    async createApp(developerId: string, input: CreateAppInput): Promise<{ app: AppRow; secret: string }> {
      const name = v.text(input.name, 'name', { max: 100 });
      const description = v.optionalText(input.description, 'description', 2000) ?? '';
      const redirectUris = normalizeRedirectUris(input.redirectUris ?? []);
      const ipAllowList = normalizeAllowList(input.ipAllowList ?? []);
      const signingPublicKey = input.signingPublicKey ? ed25519PublicKey(input.signingPublicKey) : null;
      const key = `app_${crypto.randomBytes(10).toString('hex')}`;
      const secret = generateSecret();
      const secretHash = await hashSecret(secret);
      const now = new Date(clock.now());
      const actor = `developer:${developerId}`;
      const app = await db.transaction(async (tx) => {
        // The developer's row locked: two creations at once count each other against the limit.
        const [developer] = await tx.select().from(developers).where(eq(developers.id, developerId)).for('update');
        if (!developer || developer.disabledAt) throw forbidden('This developer account cannot create apps');
        if (!developer.emailVerifiedAt) throw forbidden('Verify your email address before creating apps');
        if (developer.verificationStatus === 'REJECTED') throw forbidden('Operators rejected this developer account; it cannot create apps');
        const [held] = await tx.select({ n: count() }).from(apps).where(eq(apps.developerId, developerId));
        if ((held?.n ?? 0) >= MAX_APPS_PER_DEVELOPER) throw conflict(`A developer holds at most ${MAX_APPS_PER_DEVELOPER} apps`, { limit: MAX_APPS_PER_DEVELOPER });
        const [row] = await tx
          .insert(apps)
          .values({
            id: crypto.randomUUID(),
            key,
            name,
            description,
            developerId,
            status: 'SANDBOX',
            redirectUris,
            ipAllowList,
            signingPublicKey,
            secretHash,
            secretSealed: keks.length ? sealAppSecret(keks, key, secret) : null,
            sandboxMerchantId: sandboxMerchantIdOf(key),
            sandboxState: 'PROVISIONING',
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        // A new app holds every FREE package, so its sandbox answers at once; PAID ones are requested.
        const free = await tx.select().from(permissionPackages).where(eq(permissionPackages.tier, 'FREE')).orderBy(asc(permissionPackages.name));
        if (free.length) {
          await tx.insert(packageGrants).values(free.map((p) => ({ id: crypto.randomUUID(), appId: row!.id, packageId: p.id, grantedBy: 'system:developer-portal', reason: 'FREE packages come with every new app', grantedAt: now })));
        }
        await audit(tx, {
          actor,
          action: 'app.created',
          targetType: 'app',
          targetId: key,
          details: { name, redirectUris, ipAllowList, signingPublicKey, freePackages: free.map((p) => p.name) },
        });
        await recordEvents(tx, outboxEvents, [{ merchantId: null, aggregateType: 'app', aggregateId: key, type: 'app.registered', payload: { appKey: key, developerId } }]);
        return row!;
      });
      return { app, secret };
    },

    /** Name, description, redirect URIs: each given field replaces the old value. */
    async updateApp(developerId: string, input: { appKey: string; name?: string | null; description?: string | null; redirectUris?: string[] | null }): Promise<AppRow> {
      const change: Partial<Pick<AppRow, 'name' | 'description' | 'redirectUris'>> = {};
      if (input.name !== undefined && input.name !== null) change.name = v.text(input.name, 'name', { max: 100 });
      if (input.description !== undefined && input.description !== null) change.description = v.optionalText(input.description, 'description', 2000) ?? '';
      if (input.redirectUris !== undefined && input.redirectUris !== null) change.redirectUris = normalizeRedirectUris(input.redirectUris);
      if (!Object.keys(change).length) throw badInput('Give at least one of name, description and redirectUris');
      return db.transaction(async (tx) => {
        const before = await ownApp(tx, developerId, input.appKey, { lock: true });
        const [row] = await tx.update(apps).set({ ...change, updatedAt: new Date(clock.now()) }).where(eq(apps.id, before.id)).returning();
        await audit(tx, {
          actor: `developer:${developerId}`,
          action: 'app.updated',
          targetType: 'app',
          targetId: before.key,
          details: { before: Object.fromEntries(Object.keys(change).map((k) => [k, before[k as keyof typeof change]])), after: change },
        });
        return row!;
      });
    },

    async appsOfDeveloper(developerId: string): Promise<AppRow[]> {
      return db.select().from(apps).where(eq(apps.developerId, developerId)).orderBy(desc(apps.createdAt), desc(apps.id));
    },

    /** A pending request of the developer's app becomes WITHDRAWN; anyone else's is NOT_FOUND; a decided one CONFLICT. */
    async withdrawPackageRequest(developerId: string, requestId: string): Promise<PackageRequestRow> {
      if (!v.isWellFormedId(requestId)) throw notFound('Package request', requestId);
      return db.transaction(async (tx) => {
        const [found] = await tx
          .select({ request: packageRequests, appKey: apps.key })
          .from(packageRequests)
          .innerJoin(apps, eq(apps.id, packageRequests.appId))
          .where(and(eq(packageRequests.id, requestId.toLowerCase()), eq(apps.developerId, developerId)))
          .for('update');
        if (!found) throw notFound('Package request', requestId);
        if (found.request.status !== 'PENDING') throw conflict(`The request was already ${found.request.status.toLowerCase()}`, { status: found.request.status });
        const [row] = await tx
          .update(packageRequests)
          .set({ status: 'WITHDRAWN', decidedAt: new Date(clock.now()), decidedBy: `developer:${developerId}` })
          .where(eq(packageRequests.id, found.request.id))
          .returning();
        await audit(tx, { actor: `developer:${developerId}`, action: 'request.withdrawn', targetType: 'package_request', targetId: row!.id, details: { appKey: found.appKey, packageId: row!.packageId } });
        return row!;
      });
    },
  };
}

export type DeveloperAppStore = ReturnType<typeof createDeveloperAppStore>;

type Context = SubgraphContext<AppManagementLoaders>;
type Resolver = (parent: unknown, args: any, ctx: Context, info: unknown) => unknown;

/**
 * For a developer caller: the app they name, theirs (NOT_FOUND otherwise), and the audit actor.
 * Any other caller goes on to the app-token version of the operation.
 */
async function namedOwnApp(db: Db, caller: Caller, appKey: string | null | undefined): Promise<{ app: AppRow; actor: string }> {
  const developerId = developerOf(caller);
  if (!appKey) throw badInput('Name the app (appKey)', 'appKey');
  return { app: await ownApp(db, developerId, appKey), actor: `developer:${developerId}` };
}

export function createDeveloperAppResolvers(deps: {
  db: Db;
  store: DeveloperAppStore;
  apps: AppManagementStore;
  signing: SigningStore;
  ipAllowList: IpAllowListStore;
  sandbox: SandboxProvisioner;
  /** The app-token versions of the operations a developer may also call (rotateAppSecret and the rest), taken over for developer callers. */
  appTokenMutations: Record<'rotateAppSecret' | 'registerSigningKey' | 'setIpAllowList' | 'requestPermissionPackage', Resolver>;
}) {
  const { db, store, sandbox } = deps;
  /**
   * A developer caller gets the developer version; any other goes on to the app-token version, which
   * acts on the calling app itself: naming another app there is FORBIDDEN rather than ignored.
   */
  const forDeveloper =
    (name: keyof typeof deps.appTokenMutations, developerVersion: Resolver): Resolver =>
    (parent, args, ctx, info) => {
      if (ctx.caller.kind === 'developer') return developerVersion(parent, args, ctx, info);
      const { appKey, input } = args as { appKey?: string | null; input?: { appKey?: string | null } };
      const named = appKey ?? input?.appKey;
      if (named && ctx.caller.kind === 'app' && named !== ctx.caller.appKey) throw forbidden('An app token acts on its own app only');
      return deps.appTokenMutations[name](parent, args, ctx, info);
    };
  return {
    Query: {
      developerApp: async (_: unknown, args: { key: string }, ctx: Context) => ownApp(db, developerOf(ctx.caller), args.key),
    },
    Mutation: {
      createApp: async (_: unknown, { input }: { input: CreateAppInput }, ctx: Context) => {
        const { app, secret } = await store.createApp(developerOf(ctx.caller), input);
        // Provisioned before the answer (a second or so), so the sandbox is READY when the developer sees the app.
        return { app: await sandbox.provision(app), secret };
      },
      updateApp: async (_: unknown, { input }: { input: Parameters<DeveloperAppStore['updateApp']>[1] }, ctx: Context) => {
        const updated = await store.updateApp(developerOf(ctx.caller), input);
        if (input.name !== undefined && input.name !== null) await sandbox.renamed(updated);
        return updated;
      },
      withdrawPackageRequest: (_: unknown, args: { id: string }, ctx: Context) => store.withdrawPackageRequest(developerOf(ctx.caller), args.id),
      rotateAppSecret: forDeveloper('rotateAppSecret', async (_, args: { graceHours: number; appKey?: string | null }, ctx) => {
        const { app, actor } = await namedOwnApp(db, ctx.caller, args.appKey);
        return deps.apps.rotateSecret(app.key, args.graceHours, actor);
      }),
      registerSigningKey: forDeveloper('registerSigningKey', async (_, args: { publicKey: string; appKey?: string | null }, ctx) => {
        const { app, actor } = await namedOwnApp(db, ctx.caller, args.appKey);
        return deps.signing.registerSigningKey(app.key, args.publicKey, actor);
      }),
      setIpAllowList: forDeveloper('setIpAllowList', async (_, { input }: { input: { appKey?: string | null; entries: string[]; reason?: string | null } }, ctx) => {
        const { app, actor } = await namedOwnApp(db, ctx.caller, input.appKey);
        return deps.ipAllowList.setIpAllowList(actor, { appKey: app.key, entries: input.entries, reason: v.optionalText(input.reason, 'reason', 500) });
      }),
      requestPermissionPackage: forDeveloper('requestPermissionPackage', async (_, { input }: { input: { appKey?: string | null; packageId: string; message?: string | null } }, ctx) => {
        const { app, actor } = await namedOwnApp(db, ctx.caller, input.appKey);
        return deps.apps.requestPackage(app.key, input, actor);
      }),
    },
    Developer: {
      apps: (developer: { id: string }, _: unknown, ctx: Context) => {
        if (ctx.caller.kind === 'developer' && developerOf(ctx.caller) !== developer.id) return [];
        if (ctx.caller.kind !== 'developer' && ctx.caller.kind !== 'operator') throw forbidden('Developers and operators only');
        return store.appsOfDeveloper(developer.id);
      },
    },
    App: {
      description: (app: AppRow) => app.description,
    },
  };
}
