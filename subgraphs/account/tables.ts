/** Tables of the account subgraph, in its own Postgres schema `account`. */
import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { outboxTable } from '../../messages/outbox.js';
import { passwordAccountColumns } from '../../core/password-sign-in.js';

export const accountSchema = pgSchema('account');

export const merchants = accountSchema.table('merchants', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  contactEmail: text('contact_email').notNull(),
  contactPhone: text('contact_phone'),
  /** A test merchant (the demo's, a developer's sandbox shop): the only kind a SANDBOX app may act for. */
  isTest: boolean('is_test').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/** Buyers. Their id is the platform's own and never leaves it. */
export const users = accountSchema.table('users', {
  id: uuid('id').primaryKey(),
  nickname: text('nickname').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/** Merchant staff who sign in on the passport's pages. Passwords are scrypt hashes; failures lock. */
export const merchantStaff = accountSchema.table(
  'merchant_staff',
  {
    id: uuid('id').primaryKey(),
    merchantId: uuid('merchant_id')
      .notNull()
      .references(() => merchants.id),
    ...passwordAccountColumns(),
  },
  (t) => [uniqueIndex('merchant_staff_email_key').on(sql`lower(${t.email})`)],
);

/** oidc-provider's storage (codes, refresh tokens, grants, sessions, interactions), one row per model and id. */
export const oauthStore = accountSchema.table(
  'oauth_store',
  {
    model: text('model').notNull(),
    id: text('id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    grantId: text('grant_id'),
    uid: text('uid'),
    userCode: text('user_code'),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }),
    consumedAt: timestamp('consumed_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [primaryKey({ columns: [t.model, t.id] }), index('oauth_store_grant_idx').on(t.grantId), index('oauth_store_uid_idx').on(t.uid)],
);

/** A merchant's consent to an app: what it may do, since when, until revoked. One grant of the passport each. */
export const merchantAuthorizations = accountSchema.table(
  'merchant_authorizations',
  {
    grantId: text('grant_id').primaryKey(),
    merchantId: uuid('merchant_id')
      .notNull()
      .references(() => merchants.id),
    appKey: text('app_key').notNull(),
    appName: text('app_name').notNull().default(''),
    scopes: text('scopes').array().notNull(),
    authorizedBy: uuid('authorized_by'),
    authorizedAt: timestamp('authorized_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
    revokedBy: text('revoked_by'),
  },
  (t) => [index('merchant_authorizations_merchant_idx').on(t.merchantId, t.appKey)],
);

export const outboxEvents = outboxTable(accountSchema);

export type MerchantRow = typeof merchants.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type MerchantStaffRow = typeof merchantStaff.$inferSelect;
export type MerchantAuthorizationRow = typeof merchantAuthorizations.$inferSelect;
