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

/**
 * Buyers. Their id is the platform's own and never leaves it. A virtual buyer is a guest an app
 * placed an order for; a merged buyer lives on as `mergedInto` (its survivor), so a reference to it
 * still finds the person.
 */
export const users = accountSchema.table(
  'users',
  {
    id: uuid('id').primaryKey(),
    nickname: text('nickname').notNull(),
    isVirtual: boolean('is_virtual').notNull().default(false),
    mergedInto: uuid('merged_into'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('users_merged_into_idx').on(t.mergedInto)],
);

/**
 * A buyer's openid for one app: random, stored, one per (buyer, app) and one buyer per openid. The app
 * is recorded by its key, never as a kind of app. A merged buyer's openid moves to the survivor when
 * the survivor has none for that app; otherwise it is retired (kept, pointing at the merged buyer).
 */
export const appOpenids = accountSchema.table(
  'app_openids',
  {
    openid: text('openid').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    appKey: text('app_key').notNull(),
    /** The app's developer (an app never changes developer): a merge tells each app its unionids by it. */
    developerId: text('developer_id').notNull(),
    retiredAt: timestamp('retired_at', { withTimezone: true, precision: 3 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('app_openids_user_app_key').on(t.userId, t.appKey).where(sql`retired_at is null`)],
);

/** A buyer's unionid for one developer (every app of that developer sees it): as openids, per developer. */
export const developerUnionids = accountSchema.table(
  'developer_unionids',
  {
    unionid: text('unionid').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    developerId: text('developer_id').notNull(),
    retiredAt: timestamp('retired_at', { withTimezone: true, precision: 3 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('developer_unionids_user_developer_key').on(t.userId, t.developerId).where(sql`retired_at is null`)],
);

/** The guest (device or session) ids an app gave for orders without a signed-in buyer: one virtual buyer each. */
export const guestIds = accountSchema.table(
  'guest_ids',
  {
    appKey: text('app_key').notNull(),
    guestId: text('guest_id').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appKey, t.guestId] }), index('guest_ids_user_idx').on(t.userId)],
);

/** Merchants that know a buyer (an order there, an app of theirs saw them): where a merge is broadcast. */
export const userMerchants = accountSchema.table(
  'user_merchants',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    merchantId: uuid('merchant_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.merchantId] })],
);

/** Buyers who sign in on the passport: email (verified), scrypt password, lockout. One per real buyer. */
export const buyerAccounts = accountSchema.table(
  'buyer_accounts',
  {
    id: uuid('id')
      .primaryKey()
      .references(() => users.id),
    ...passwordAccountColumns(),
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true, precision: 3 }),
    /** SHA-256 of the pending verification code; null once verified. */
    verificationHash: text('verification_hash'),
    verificationExpiresAt: timestamp('verification_expires_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [uniqueIndex('buyer_accounts_email_key').on(sql`lower(${t.email})`)],
);

/**
 * A merge of one buyer into another: recorded with its USER_MERGED events in one transaction; the
 * services that key data by buyer (order) re-point it and the account service marks it done. Until
 * then a runner retries it, so a crash between the steps only delays it.
 */
export const userMerges = accountSchema.table(
  'user_merges',
  {
    id: uuid('id').primaryKey(),
    mergedUserId: uuid('merged_user_id')
      .notNull()
      .unique()
      .references(() => users.id),
    survivingUserId: uuid('surviving_user_id')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    repointedAt: timestamp('repointed_at', { withTimezone: true, precision: 3 }),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('user_merges_pending_idx').on(t.nextAttemptAt).where(sql`repointed_at is null`)],
);

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

/** Merchant page sessions (/merchant): SHA-256 of the cookie's token, for one staff member of one merchant. */
export const staffSessions = accountSchema.table(
  'staff_sessions',
  {
    id: uuid('id').primaryKey(),
    tokenHash: text('token_hash').notNull().unique(),
    staffId: uuid('staff_id')
      .notNull()
      .references(() => merchantStaff.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('staff_sessions_staff_idx').on(t.staffId)],
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
  (t) => [
    index('merchant_authorizations_merchant_idx').on(t.merchantId, t.appKey),
    // An app's authorizations, newest first (the console's list of the merchants that authorized it).
    index('merchant_authorizations_app_idx').on(t.appKey, t.authorizedAt),
  ],
);

export const outboxEvents = outboxTable(accountSchema);

export type MerchantRow = typeof merchants.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type BuyerAccountRow = typeof buyerAccounts.$inferSelect;
export type UserMergeRow = typeof userMerges.$inferSelect;
export type MerchantStaffRow = typeof merchantStaff.$inferSelect;
export type MerchantAuthorizationRow = typeof merchantAuthorizations.$inferSelect;
