/** Tables of the app-management subgraph, in its own Postgres schema `app_management`. */
import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, jsonb, pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { outboxTable } from '../../messages/outbox.js';
import { passwordAccountColumns } from '../../core/password-sign-in.js';

export const appManagementSchema = pgSchema('app_management');

export const developers = appManagementSchema.table(
  'developers',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind', { enum: ['INDIVIDUAL', 'COMPANY'] }).notNull(),
    name: text('name').notNull(),
    email: text('email').notNull(),
    verificationStatus: text('verification_status', { enum: ['PENDING', 'VERIFIED', 'REJECTED'] }).notNull().default('PENDING'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('developers_email_key').on(sql`lower(${t.email})`),
    check('developers_kind_check', sql`${t.kind} in ('INDIVIDUAL', 'COMPANY')`),
    check('developers_verification_check', sql`${t.verificationStatus} in ('PENDING', 'VERIFIED', 'REJECTED')`),
  ],
);

export const apps = appManagementSchema.table(
  'apps',
  {
    id: uuid('id').primaryKey(),
    /** Public app key: the OAuth client_id. */
    key: text('key').notNull().unique(),
    name: text('name').notNull(),
    developerId: uuid('developer_id')
      .notNull()
      .references(() => developers.id),
    status: text('status', { enum: ['SANDBOX', 'LIVE', 'SUSPENDED'] }).notNull().default('SANDBOX'),
    redirectUris: text('redirect_uris').array().notNull().default(sql`'{}'::text[]`),
    ipAllowList: text('ip_allow_list').array().notNull().default(sql`'{}'::text[]`),
    /** scrypt hash of the app secret; the secret itself is shown once and never stored. */
    secretHash: text('secret_hash').notNull(),
    /** After a rotation, the previous secret keeps working until this time (a grace of at most 24 h). */
    previousSecretHash: text('previous_secret_hash'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true, precision: 3 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [check('apps_status_check', sql`${t.status} in ('SANDBOX', 'LIVE', 'SUSPENDED')`)],
);

/** The scope catalog, kept in step with schema/scopes.json at every start. */
export const scopes = appManagementSchema.table('scopes', {
  name: text('name').primaryKey(),
  description: text('description').notNull(),
});

export const permissionPackages = appManagementSchema.table(
  'permission_packages',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull().unique(),
    description: text('description').notNull(),
    tier: text('tier', { enum: ['FREE', 'PAID'] }).notNull(),
    scopes: text('scopes').array().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [check('permission_packages_tier_check', sql`${t.tier} in ('FREE', 'PAID')`)],
);

/** A package held by an app. At most one active (unrevoked) grant per app and package. */
export const packageGrants = appManagementSchema.table(
  'package_grants',
  {
    id: uuid('id').primaryKey(),
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id),
    packageId: uuid('package_id')
      .notNull()
      .references(() => permissionPackages.id),
    grantedAt: timestamp('granted_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    grantedBy: text('granted_by').notNull(),
    reason: text('reason').notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
    revokedBy: text('revoked_by'),
    revokeReason: text('revoke_reason'),
  },
  (t) => [
    uniqueIndex('package_grants_active_key').on(t.appId, t.packageId).where(sql`${t.revokedAt} is null`),
    index('package_grants_app_idx').on(t.appId),
  ],
);

/** A developer's request for a package for their app; pending until an operator decides. */
export const packageRequests = appManagementSchema.table(
  'package_requests',
  {
    id: uuid('id').primaryKey(),
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id),
    packageId: uuid('package_id')
      .notNull()
      .references(() => permissionPackages.id),
    message: text('message'),
    status: text('status', { enum: ['PENDING', 'APPROVED', 'REJECTED'] }).notNull().default('PENDING'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    decidedAt: timestamp('decided_at', { withTimezone: true, precision: 3 }),
    decidedBy: text('decided_by'),
    decisionReason: text('decision_reason'),
  },
  (t) => [
    uniqueIndex('package_requests_pending_key').on(t.appId, t.packageId).where(sql`${t.status} = 'PENDING'`),
    check('package_requests_status_check', sql`${t.status} in ('PENDING', 'APPROVED', 'REJECTED')`),
  ],
);

/** Platform staff. Passwords are scrypt hashes; repeated failures lock the account for a while. */
export const operators = appManagementSchema.table(
  'operators',
  {
    id: uuid('id').primaryKey(),
    ...passwordAccountColumns(),
  },
  (t) => [uniqueIndex('operators_email_key').on(sql`lower(${t.email})`)],
);

/** Every change to packages and grants: who, what, why. Append-only. */
export const auditLog = appManagementSchema.table(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    reason: text('reason'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('audit_log_target_idx').on(t.targetType, t.targetId)],
);

export const outboxEvents = outboxTable(appManagementSchema);

export type DeveloperRow = typeof developers.$inferSelect;
export type AppRow = typeof apps.$inferSelect;
export type ScopeRow = typeof scopes.$inferSelect;
export type PermissionPackageRow = typeof permissionPackages.$inferSelect;
export type PackageGrantRow = typeof packageGrants.$inferSelect;
export type PackageRequestRow = typeof packageRequests.$inferSelect;
export type OperatorRow = typeof operators.$inferSelect;
export type AuditLogRow = typeof auditLog.$inferSelect;
