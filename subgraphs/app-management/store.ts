/** Queries and changes of the app-management subgraph. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { and, asc, count, desc, eq, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Db, Executor } from '../../core/db.js';
import { isUniqueViolation } from '../../core/db.js';
import { badInput, conflict, notFound } from '../../core/errors.js';
import type { MessageCrypto } from '../../messages/crypto.js';
import { notifyControl } from '../../messages/notifications.js';
import { recordEvents } from '../../messages/outbox.js';
import { decodeCursor, encodeCursor, timeCursor, timeKeyset, type TimeSort } from '../../core/pagination.js';
import { schemaDir } from '../../core/paths.js';
import { generateSecret, hashSecret } from '../../core/secrets.js';
import { sealAppSecret } from '../../core/app-secret-seal.js';
import type { Kek } from '../../core/sealing.js';
import * as v from '../../core/validate.js';
import { audit } from './audit.js';
import { containsPattern } from './search.js';
import { changeAppStatus } from './app-status.js';
import { limitColumns, type AppLimitInputs } from './limits.js';
import { signingColumns, signingOf, type AppSigning } from './signing.js';
import {
  apps,
  appStatusChanges,
  auditLog,
  developers,
  operators,
  outboxEvents,
  packageGrants,
  packageRequests,
  permissionPackages,
  scopes,
  type AppRow,
  type AuditLogRow,
  type DeveloperRow,
  type PackageGrantRow,
  type PackageRequestRow,
  type PermissionPackageRow,
  type ScopeRow,
} from './tables.js';


export interface ScopeDefinition {
  name: string;
  description: string;
}

/** The scope catalog as checked in (schema/scopes.json). */
export function readScopeCatalog(): ScopeDefinition[] {
  return JSON.parse(fs.readFileSync(path.join(schemaDir, 'scopes.json'), 'utf8')) as ScopeDefinition[];
}

/**
 * `keks`: the platform's key-encryption keys, to seal app secrets as signed requests need them
 * (core/app-secret-seal.ts). Without them (tools that create no app), secrets are only hashed.
 */
export function createAppManagementStore(db: Db, keks: readonly Kek[] = []) {
  const sealed = (appKey: string, secret: string) => (keks.length ? sealAppSecret(keks, appKey, secret) : null);
  const store = {
    async appsByKeys(keys: readonly string[]): Promise<AppRow[]> {
      return keys.length ? db.select().from(apps).where(inArray(apps.key, [...keys])) : [];
    },

    async developersByIds(ids: readonly string[]): Promise<DeveloperRow[]> {
      const wellFormed = ids.filter(v.isWellFormedId);
      return wellFormed.length ? db.select().from(developers).where(inArray(developers.id, wellFormed)) : [];
    },

    async listScopes(): Promise<ScopeRow[]> {
      return db.select().from(scopes).orderBy(asc(scopes.name));
    },

    async listPackages(): Promise<PermissionPackageRow[]> {
      return db.select().from(permissionPackages).orderBy(asc(permissionPackages.name));
    },

    async packagesByIds(ids: readonly string[]): Promise<PermissionPackageRow[]> {
      const wellFormed = ids.filter(v.isWellFormedId);
      return wellFormed.length ? db.select().from(permissionPackages).where(inArray(permissionPackages.id, wellFormed)) : [];
    },

    /** Makes the scopes table match schema/scopes.json (descriptions updated, new scopes added). */
    async syncScopeCatalog(catalog: ScopeDefinition[] = readScopeCatalog()): Promise<void> {
      if (!catalog.length) return;
      await db
        .insert(scopes)
        .values(catalog)
        .onConflictDoUpdate({ target: scopes.name, set: { description: sql`excluded.description` } });
    },

    async createDeveloper(input: { id?: string; kind: DeveloperRow['kind']; name: string; email: string; verificationStatus?: DeveloperRow['verificationStatus'] }) {
      const [developer] = await db
        .insert(developers)
        .values({
          id: input.id ?? crypto.randomUUID(),
          kind: input.kind,
          name: v.text(input.name, 'name', { max: 200 }),
          email: v.text(input.email, 'email', { max: 320 }),
          verificationStatus: input.verificationStatus ?? 'PENDING',
        })
        .returning();
      return developer!;
    },

    /** Registers an app; returns it with its secret, which is shown this once and stored only as a hash. */
    async createApp(input: { id?: string; key?: string; name: string; developerId: string; status?: AppRow['status']; redirectUris?: string[]; secret?: string }) {
      const secret = input.secret ?? generateSecret();
      const secretHash = await hashSecret(secret);
      const key = input.key ?? `app_${crypto.randomBytes(10).toString('hex')}`;
      const app = await db.transaction(async (tx) => {
        const [row] = await tx
          .insert(apps)
          .values({
            id: input.id ?? crypto.randomUUID(),
            key,
            name: v.text(input.name, 'name', { max: 100 }),
            developerId: v.id(input.developerId, 'developerId'),
            status: input.status ?? 'SANDBOX',
            redirectUris: input.redirectUris ?? [],
            secretHash,
            secretSealed: sealed(key, secret),
          })
          .returning();
        await recordEvents(tx, outboxEvents, [
          { merchantId: null, aggregateType: 'app', aggregateId: row!.key, type: 'app.registered', payload: { appKey: row!.key, developerId: row!.developerId } },
        ]);
        return row!;
      });
      return { app, secret };
    },

    async createPackage(input: { id?: string; name: string; description: string; tier: PermissionPackageRow['tier']; scopes: string[] }) {
      const [row] = await db
        .insert(permissionPackages)
        .values({ id: input.id ?? crypto.randomUUID(), name: input.name, description: input.description, tier: input.tier, scopes: input.scopes })
        .returning();
      return row!;
    },

    async appByKey(key: string): Promise<AppRow | undefined> {
      const [row] = await db.select().from(apps).where(eq(apps.key, key));
      return row;
    },

    /** An app as the passport needs it: metadata, granted packages, secret hashes. */
    async oauthClient(key: string) {
      const [app] = await db.select().from(apps).where(eq(apps.key, key));
      if (!app) return undefined;
      const [developer] = await db.select({ name: developers.name }).from(developers).where(eq(developers.id, app.developerId));
      const packages = await db
        .select({ name: permissionPackages.name, scopes: permissionPackages.scopes })
        .from(packageGrants)
        .innerJoin(permissionPackages, eq(permissionPackages.id, packageGrants.packageId))
        .where(and(eq(packageGrants.appId, app.id), isNull(packageGrants.revokedAt)));
      return {
        key: app.key,
        name: app.name,
        status: app.status,
        redirectUris: app.redirectUris,
        developerName: developer?.name ?? '',
        developerId: app.developerId,
        grantedScopes: [...new Set(packages.flatMap((p) => p.scopes))].sort(),
        packages,
        secretHash: app.secretHash,
        previousSecretHash: app.previousSecretExpiresAt && app.previousSecretExpiresAt > new Date() ? app.previousSecretHash : null,
        previousSecretExpiresAt: app.previousSecretExpiresAt && app.previousSecretExpiresAt > new Date() ? app.previousSecretExpiresAt : null,
      };
    },

    /** A new secret for the app; the previous one stays valid for `graceHours` (0 to 24). `actor`: the app itself, or its developer. */
    async rotateSecret(appKey: string, graceHours: number, actor = `app:${appKey}`) {
      const hours = v.intInRange(graceHours, 'graceHours', 0, 24);
      const secret = generateSecret();
      const secretHash = await hashSecret(secret);
      return db.transaction(async (tx) => {
        const [app] = await tx.select().from(apps).where(eq(apps.key, appKey)).for('update');
        if (!app) throw notFound('App', appKey);
        const previousSecretExpiresAt = hours ? new Date(Date.now() + hours * 3_600_000) : null;
        await tx
          .update(apps)
          .set({
            secretHash,
            secretSealed: sealed(appKey, secret),
            previousSecretHash: hours ? app.secretHash : null,
            previousSecretSealed: hours ? app.secretSealed : null,
            previousSecretExpiresAt,
            updatedAt: new Date(),
          })
          .where(eq(apps.id, app.id));
        await audit(tx, { actor, action: 'app.secret_rotated', targetType: 'app', targetId: appKey, details: { graceHours: hours } });
        return { appKey, secret, previousSecretExpiresAt };
      });
    },

    /** Operators: release, suspend or reinstate an app (see changeAppStatus; reinstateApp restores the status a suspension replaced). */
    async setAppStatus(actor: string, input: { appKey: string; status: AppRow['status']; reason: string }): Promise<AppRow> {
      const reason = v.text(input.reason, 'reason', { max: 500 });
      return db.transaction(async (tx) => {
        const [current] = await tx.select().from(apps).where(eq(apps.key, input.appKey)).for('update');
        if (!current) throw notFound('App', input.appKey);
        return changeAppStatus(tx, actor, current, input.status, reason);
      });
    },

    /**
     * Adds a new version of an app's message record key (it encrypts from now on; older versions
     * still decrypt older records), audited, and tells every gateway to drop the keys it cached.
     */
    async rotateMessageKey(actor: string, appKey: string, keys: Pick<MessageCrypto, 'rotate'>, reason: string | null = null): Promise<{ appKey: string; version: number }> {
      const [app] = await db.select({ key: apps.key }).from(apps).where(eq(apps.key, appKey));
      if (!app) throw notFound('App', appKey);
      const version = await db.transaction(async (tx) => {
        const v = await keys.rotate(tx, appKey);
        await notifyControl(tx, { kind: 'key_rotated', appKey });
        await audit(tx, { actor, action: 'message_key.rotate', targetType: 'app', targetId: appKey, reason: reason?.trim() || null, details: { version: v } });
        return v;
      });
      return { appKey, version };
    },

    async listApps(args: { limit: number; after?: string | null } & AppFilter): Promise<AppRow[]> {
      const page = timeKeyset(APPS_ORDER, apps.id, 'APPS', args.after);
      return db
        .select()
        .from(apps)
        .where(and(appConditions(args), page.after))
        .orderBy(...page.orderBy)
        .limit(args.limit + 1);
    },

    /** What the gateway needs per request: the app's status, the scopes its active grants give, its IP allow list. */
    async appAccess(key: string): Promise<{ status: AppRow['status']; grantedScopes: string[]; ipAllowList: string[]; signing: AppSigning; limitsOf: AppLimitInputs; sandboxMerchantId: string | null } | undefined> {
      const [app] = await db.select({ status: apps.status, ipAllowList: apps.ipAllowList, sandboxMerchantId: apps.sandboxMerchantId, ...signingColumns, ...limitColumns }).from(apps).where(eq(apps.key, key));
      if (!app) return undefined;
      const rows = await db
        .select({ scopes: permissionPackages.scopes })
        .from(packageGrants)
        .innerJoin(permissionPackages, eq(permissionPackages.id, packageGrants.packageId))
        .where(and(eq(packageGrants.appId, app.id), isNull(packageGrants.revokedAt)));
      return { status: app.status, grantedScopes: [...new Set(rows.flatMap((r) => r.scopes))].sort(), ipAllowList: app.ipAllowList, signing: signingOf(app), limitsOf: app, sandboxMerchantId: app.sandboxMerchantId };
    },

    async activeGrantsOfApps(appIds: readonly string[]): Promise<PackageGrantRow[]> {
      if (!appIds.length) return [];
      return db
        .select()
        .from(packageGrants)
        .where(and(inArray(packageGrants.appId, [...appIds]), isNull(packageGrants.revokedAt)))
        .orderBy(asc(packageGrants.grantedAt));
    },

    async requestsOfApps(appIds: readonly string[]): Promise<PackageRequestRow[]> {
      if (!appIds.length) return [];
      return db
        .select()
        .from(packageRequests)
        .where(inArray(packageRequests.appId, [...appIds]))
        .orderBy(desc(packageRequests.createdAt));
    },

    async appsByIds(ids: readonly string[]): Promise<AppRow[]> {
      return ids.length ? db.select().from(apps).where(inArray(apps.id, [...ids])) : [];
    },

    async listRequests(args: { status: PackageRequestRow['status']; limit: number; after?: string | null }): Promise<PackageRequestRow[]> {
      const page = timeKeyset(REQUESTS_ORDER, packageRequests.id, 'REQUESTS', args.after);
      return db
        .select()
        .from(packageRequests)
        .where(and(eq(packageRequests.status, args.status), page.after))
        .orderBy(...page.orderBy)
        .limit(args.limit + 1);
    },

    async countRequests(status: PackageRequestRow['status']): Promise<number> {
      const [row] = await db.select({ n: count() }).from(packageRequests).where(eq(packageRequests.status, status));
      return row?.n ?? 0;
    },

    async countApps(filter: AppFilter = {}): Promise<number> {
      const [row] = await db.select({ n: count() }).from(apps).where(appConditions(filter));
      return row?.n ?? 0;
    },

    async countAudit(filter: AuditFilter = {}): Promise<number> {
      const [row] = await db.select({ n: count() }).from(auditLog).where(auditConditions(filter));
      return row?.n ?? 0;
    },

    async listAudit(args: { limit: number; after?: string | null; filter?: AuditFilter | null }): Promise<AuditLogRow[]> {
      const conditions = [auditConditions(args.filter ?? {})];
      if (args.after) {
        const [id] = decodeCursor(args.after, 'AUDIT', 1);
        if (typeof id !== 'number') throw badInput('after is not a cursor of this list', 'after');
        conditions.push(lt(auditLog.id, id));
      }
      return db
        .select()
        .from(auditLog)
        .where(and(...conditions))
        .orderBy(desc(auditLog.id))
        .limit(args.limit + 1);
    },

    async createPermissionPackage(actor: string, input: { name: string; description: string; tier: PermissionPackageRow['tier']; scopes: string[] }) {
      const values = await validatePackage(db, input);
      try {
        return await db.transaction(async (tx) => {
          const [row] = await tx.insert(permissionPackages).values({ id: crypto.randomUUID(), ...values }).returning();
          await audit(tx, { actor, action: 'package.created', targetType: 'permission_package', targetId: row!.id, details: values });
          return row!;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`A package named ${values.name} already exists`, { field: 'name' });
        throw error;
      }
    },

    async updatePermissionPackage(
      actor: string,
      input: { id: string; name?: string | null; description?: string | null; tier?: PermissionPackageRow['tier'] | null; scopes?: string[] | null; reason: string },
    ) {
      const id = v.id(input.id, 'id');
      const reason = v.text(input.reason, 'reason', { max: 500 });
      try {
        return await db.transaction(async (tx) => {
          const [current] = await tx.select().from(permissionPackages).where(eq(permissionPackages.id, id)).for('update');
          if (!current) throw notFound('Permission package', input.id);
          const next = await validatePackage(tx, {
            name: input.name ?? current.name,
            description: input.description ?? current.description,
            tier: input.tier ?? current.tier,
            scopes: input.scopes ?? current.scopes,
          });
          const [row] = await tx
            .update(permissionPackages)
            .set({ ...next, updatedAt: new Date() })
            .where(eq(permissionPackages.id, id))
            .returning();
          await audit(tx, {
            actor,
            action: 'package.updated',
            targetType: 'permission_package',
            targetId: id,
            reason,
            details: { before: { name: current.name, description: current.description, tier: current.tier, scopes: current.scopes }, after: next },
          });
          return row!;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('Another package has that name', { field: 'name' });
        throw error;
      }
    },

    async grantPackage(actor: string, input: { appKey: string; packageId: string; reason: string }, tx: Executor = db): Promise<PackageGrantRow> {
      const reason = v.text(input.reason, 'reason', { max: 500 });
      const packageId = v.id(input.packageId, 'packageId');
      const run = async (t: Executor) => {
        const [app] = await t.select().from(apps).where(eq(apps.key, input.appKey));
        if (!app) throw notFound('App', input.appKey);
        const [pkg] = await t.select().from(permissionPackages).where(eq(permissionPackages.id, packageId));
        if (!pkg) throw notFound('Permission package', input.packageId);
        const [grant] = await t
          .insert(packageGrants)
          .values({ id: crypto.randomUUID(), appId: app.id, packageId, grantedBy: actor, reason })
          .returning();
        await audit(t, { actor, action: 'package.granted', targetType: 'app', targetId: app.key, reason, details: { packageId, packageName: pkg.name, scopes: pkg.scopes } });
        // A request for this package still pending is answered by this grant (it could never be approved after it).
        const answered = await t
          .update(packageRequests)
          .set({ status: 'APPROVED', decidedAt: new Date(), decidedBy: actor, decisionReason: `granted directly: ${reason}` })
          .where(and(eq(packageRequests.appId, app.id), eq(packageRequests.packageId, packageId), eq(packageRequests.status, 'PENDING')))
          .returning({ id: packageRequests.id });
        for (const request of answered) {
          await audit(t, { actor, action: 'request.approved', targetType: 'package_request', targetId: request.id, reason: `granted directly: ${reason}`, details: { packageId } });
        }
        return grant!;
      };
      try {
        return tx === db ? await db.transaction(run) : await run(tx);
      } catch (error) {
        if (isUniqueViolation(error, 'package_grants_active_key')) throw conflict('The app already holds this package', { field: 'packageId' });
        throw error;
      }
    },

    async revokePackage(actor: string, input: { appKey: string; packageId: string; reason: string }): Promise<PackageGrantRow> {
      const reason = v.text(input.reason, 'reason', { max: 500 });
      const packageId = v.id(input.packageId, 'packageId');
      return db.transaction(async (tx) => {
        const [app] = await tx.select().from(apps).where(eq(apps.key, input.appKey));
        if (!app) throw notFound('App', input.appKey);
        const [grant] = await tx
          .update(packageGrants)
          .set({ revokedAt: new Date(), revokedBy: actor, revokeReason: reason })
          .where(and(eq(packageGrants.appId, app.id), eq(packageGrants.packageId, packageId), isNull(packageGrants.revokedAt)))
          .returning();
        if (!grant) throw notFound('Active grant of package', input.packageId);
        await audit(tx, { actor, action: 'package.revoked', targetType: 'app', targetId: app.key, reason, details: { packageId, grantId: grant.id } });
        return grant;
      });
    },

    async requestPackage(appKey: string, input: { packageId: string; message?: string | null }, actor = `app:${appKey}`): Promise<PackageRequestRow> {
      const packageId = v.id(input.packageId, 'packageId');
      const message = v.optionalText(input.message, 'message', 2000);
      try {
        return await db.transaction(async (tx) => {
          const [app] = await tx.select().from(apps).where(eq(apps.key, appKey));
          if (!app) throw notFound('App', appKey);
          const [pkg] = await tx.select().from(permissionPackages).where(eq(permissionPackages.id, packageId));
          if (!pkg) throw notFound('Permission package', input.packageId);
          const [held] = await tx
            .select({ id: packageGrants.id })
            .from(packageGrants)
            .where(and(eq(packageGrants.appId, app.id), eq(packageGrants.packageId, packageId), isNull(packageGrants.revokedAt)));
          if (held) throw conflict('The app already holds this package', { field: 'packageId' });
          const [request] = await tx.insert(packageRequests).values({ id: crypto.randomUUID(), appId: app.id, packageId, message }).returning();
          await audit(tx, { actor, action: 'request.created', targetType: 'package_request', targetId: request!.id, details: { packageId, packageName: pkg.name } });
          return request!;
        });
      } catch (error) {
        if (isUniqueViolation(error, 'package_requests_pending_key')) throw conflict('A request for this package is already pending', { field: 'packageId' });
        throw error;
      }
    },

    async decideRequest(actor: string, input: { requestId: string; reason: string }, decision: 'APPROVED' | 'REJECTED'): Promise<PackageRequestRow> {
      const requestId = v.id(input.requestId, 'requestId');
      const reason = v.text(input.reason, 'reason', { max: 500 });
      return db.transaction(async (tx) => {
        const [request] = await tx.select().from(packageRequests).where(eq(packageRequests.id, requestId)).for('update');
        if (!request) throw notFound('Package request', input.requestId);
        if (request.status !== 'PENDING') throw conflict(`The request was already ${request.status.toLowerCase()}`, { status: request.status });
        const [decided] = await tx
          .update(packageRequests)
          .set({ status: decision, decidedAt: new Date(), decidedBy: actor, decisionReason: reason })
          .where(eq(packageRequests.id, requestId))
          .returning();
        await audit(tx, { actor, action: decision === 'APPROVED' ? 'request.approved' : 'request.rejected', targetType: 'package_request', targetId: requestId, reason, details: { packageId: request.packageId } });
        if (decision === 'APPROVED') {
          const [app] = await tx.select({ key: apps.key }).from(apps).where(eq(apps.id, request.appId));
          await store.grantPackage(actor, { appKey: app!.key, packageId: request.packageId, reason: `request ${requestId}: ${reason}` }, tx);
        }
        return decided!;
      });
    },

    async createOperator(input: { id?: string; email: string; name: string; password: string }) {
      if (input.password.length < 12) throw badInput('An operator password has at least 12 characters', 'password');
      try {
        const [row] = await db
          .insert(operators)
          .values({ id: input.id ?? crypto.randomUUID(), email: v.text(input.email, 'email', { max: 320 }), name: v.text(input.name, 'name', { max: 200 }), passwordHash: await hashSecret(input.password) })
          .returning();
        return row!;
      } catch (error) {
        if (isUniqueViolation(error, 'operators_email_key')) throw conflict('An operator with this email already exists', { field: 'email' });
        throw error;
      }
    },
  };
  return store;
}

async function validatePackage(db: Executor, input: { name: string; description: string; tier: PermissionPackageRow['tier']; scopes: string[] }) {
  const scopeNames = [...new Set(input.scopes)];
  if (!scopeNames.length) throw badInput('A package grants at least one scope', 'scopes');
  const known = new Set((await db.select({ name: scopes.name }).from(scopes).where(inArray(scopes.name, scopeNames))).map((r) => r.name));
  const unknown = scopeNames.filter((s) => !known.has(s));
  if (unknown.length) throw badInput(`Unknown scope(s): ${unknown.join(', ')}`, 'scopes');
  return {
    name: v.text(input.name, 'name', { max: 100 }),
    description: v.text(input.description, 'description', { max: 2000 }),
    tier: input.tier,
    scopes: scopeNames.sort(),
  };
}

export interface AppFilter {
  /** Anywhere in the key, the name, or the developer's name or company name (case-insensitive). */
  search?: string | null;
  status?: AppRow['status'] | null;
}

function appConditions(filter: AppFilter): SQL | undefined {
  const pattern = containsPattern(filter.search);
  const developerMatches = sql`${apps.developerId} in (select ${developers.id} from ${developers} where ${developers.name} ilike ${pattern} or ${developers.companyName} ilike ${pattern})`;
  return and(
    pattern ? or(sql`${apps.key} ilike ${pattern}`, sql`${apps.name} ilike ${pattern}`, developerMatches) : undefined,
    filter.status ? eq(apps.status, filter.status) : undefined,
  );
}

/** Exact matches on the audit log's columns (all given ones at once). */
export interface AuditFilter {
  actor?: string | null;
  action?: string | null;
  targetType?: string | null;
  targetId?: string | null;
}

function auditConditions(filter: AuditFilter): SQL | undefined {
  const exact = (column: AnyPgColumn, value: string | null | undefined, field: string) => (value ? eq(column, v.text(value, field, { max: 500 })) : undefined);
  return and(exact(auditLog.actor, filter.actor, 'actor'), exact(auditLog.action, filter.action, 'action'), exact(auditLog.targetType, filter.targetType, 'targetType'), exact(auditLog.targetId, filter.targetId, 'targetId'));
}

/** Operators' app list: newest first. */
const APPS_ORDER: TimeSort<AppRow> = { column: apps.createdAt, direction: 'desc', valueOf: (app) => app.createdAt };
/** Operators' request queue: oldest first. */
const REQUESTS_ORDER: TimeSort<PackageRequestRow> = { column: packageRequests.createdAt, direction: 'asc', valueOf: (request) => request.createdAt };

export const appsCursor = (app: AppRow) => timeCursor(APPS_ORDER, 'APPS', app);
export const requestsCursor = (request: PackageRequestRow) => timeCursor(REQUESTS_ORDER, 'REQUESTS', request);

export function auditCursor(entry: AuditLogRow) {
  return encodeCursor('AUDIT', [entry.id]);
}

export type AppManagementStore = ReturnType<typeof createAppManagementStore>;
