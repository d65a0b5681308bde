/** Queries and changes of the app-management subgraph. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { recordEvents } from '../../core/outbox.js';
import { schemaDir } from '../../core/paths.js';
import { hashSecret } from '../../core/secrets.js';
import * as v from '../../core/validate.js';
import { apps, developers, outboxEvents, permissionPackages, scopes, type AppRow, type DeveloperRow, type PermissionPackageRow, type ScopeRow } from './tables.js';

export interface ScopeDefinition {
  name: string;
  description: string;
}

/** The scope catalog as checked in (schema/scopes.json). */
export function readScopeCatalog(): ScopeDefinition[] {
  return JSON.parse(fs.readFileSync(path.join(schemaDir, 'scopes.json'), 'utf8')) as ScopeDefinition[];
}

export function createAppManagementStore(db: Db) {
  return {
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
      const secret = input.secret ?? `${crypto.randomBytes(32).toString('base64url')}`;
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
  };
}

export type AppManagementStore = ReturnType<typeof createAppManagementStore>;
