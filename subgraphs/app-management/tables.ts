/** Tables of the app-management subgraph, in its own Postgres schema `app_management`. */
import { sql } from 'drizzle-orm';
import { check, pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { outboxTable } from '../../core/outbox.js';

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

export const outboxEvents = outboxTable(appManagementSchema);

export type DeveloperRow = typeof developers.$inferSelect;
export type AppRow = typeof apps.$inferSelect;
export type ScopeRow = typeof scopes.$inferSelect;
export type PermissionPackageRow = typeof permissionPackages.$inferSelect;
