/** Tables of the app-management subgraph, in its own Postgres schema `app_management`. */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, doublePrecision, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
    /** COMPANY developers: the company's registered name (`name` is the person's). */
    companyName: text('company_name'),
    /** scrypt hash of the portal password; null for developers created before the portal (they reset it by email). */
    passwordHash: text('password_hash'),
    failedSignIns: integer('failed_sign_ins').notNull().default(0),
    lockedUntil: timestamp('locked_until', { withTimezone: true, precision: 3 }),
    /** When the developer proved the email address is theirs (the verification link); null until then. */
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true, precision: 3 }),
    /** An operator's reason for REJECTED, which the developer sees. */
    verificationReason: text('verification_reason'),
    /** Whether announcements also come by email. */
    announcementEmails: boolean('announcement_emails').notNull().default(true),
    /** Set by an operator: the developer can no longer sign in, and their sessions end. */
    disabledAt: timestamp('disabled_at', { withTimezone: true, precision: 3 }),
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
    /**
     * The app secret sealed (AES-256-GCM) with the platform's key-encryption key: the HMAC key of
     * the app's signed requests (RFC 9421 hmac-sha256), which a hash cannot verify. Null for apps
     * whose secret predates request signing until their next rotation.
     */
    secretSealed: text('secret_sealed'),
    previousSecretSealed: text('previous_secret_sealed'),
    /** The Ed25519 public key (raw 32 bytes, base64url) the developer registered for signed requests. */
    signingPublicKey: text('signing_public_key'),
    /** Unsigned calls are refused. Operators set it; the app's developer may turn it on. */
    signatureRequired: boolean('signature_required').notNull().default(false),
    /** The status a suspension replaced, restored by reinstatement. */
    statusBeforeSuspension: text('status_before_suspension', { enum: ['SANDBOX', 'LIVE'] }),
    /** Operator overrides of the tier's flow limits and quota (null: the tier's). */
    bucketSizeOverride: integer('bucket_size_override'),
    restoreRateOverride: integer('restore_rate_override'),
    dailyQuotaOverride: integer('daily_quota_override'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** What the app does, in its developer's words (shown to operators in review and to merchants at consent). */
    description: text('description').notNull().default(''),
    /** The app's own test merchant (account subgraph), created with the app; null until provisioned. */
    sandboxMerchantId: uuid('sandbox_merchant_id'),
    /** Where provisioning the sandbox stands: NONE, PROVISIONING, READY or FAILED (then sandboxError says why). */
    sandboxState: text('sandbox_state', { enum: ['NONE', 'PROVISIONING', 'READY', 'FAILED'] }).notNull().default('NONE'),
    sandboxError: text('sandbox_error'),
    sandboxResetAt: timestamp('sandbox_reset_at', { withTimezone: true, precision: 3 }),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    check('apps_status_check', sql`${t.status} in ('SANDBOX', 'LIVE', 'SUSPENDED')`),
    check('apps_sandbox_state_check', sql`${t.sandboxState} in ('NONE', 'PROVISIONING', 'READY', 'FAILED')`),
    index('apps_developer_idx').on(t.developerId),
  ],
);

/**
 * A developer's portal session. The cookie carries a random token; only its SHA-256 is kept, so a
 * copy of this table opens no session.
 */
export const developerSessions = appManagementSchema.table(
  'developer_sessions',
  {
    id: uuid('id').primaryKey(),
    tokenHash: text('token_hash').notNull().unique(),
    developerId: uuid('developer_id')
      .notNull()
      .references(() => developers.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('developer_sessions_developer_idx').on(t.developerId)],
);

/** One-time links sent by email (verify the address, reset the password): only their SHA-256 is kept. */
export const developerEmailTokens = appManagementSchema.table(
  'developer_email_tokens',
  {
    id: uuid('id').primaryKey(),
    developerId: uuid('developer_id')
      .notNull()
      .references(() => developers.id),
    purpose: text('purpose', { enum: ['VERIFY_EMAIL', 'RESET_PASSWORD'] }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    check('developer_email_tokens_purpose_check', sql`${t.purpose} in ('VERIFY_EMAIL', 'RESET_PASSWORD')`),
    index('developer_email_tokens_developer_idx').on(t.developerId),
  ],
);

/**
 * The local mailbox: without SMTP_URL (the embedded default) email is kept here instead of sent,
 * and shown at a development-only page, so a newcomer needs no mail server.
 */
export const localMailbox = appManagementSchema.table('local_mailbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  to: text('to').notNull(),
  subject: text('subject').notNull(),
  text: text('text').notNull(),
  html: text('html'),
  sentAt: timestamp('sent_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/** An app's submissions for review: at most one pending at a time; operators release it or send it back. */
export const appReviews = appManagementSchema.table(
  'app_reviews',
  {
    id: uuid('id').primaryKey(),
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id),
    notes: text('notes').notNull().default(''),
    status: text('status', { enum: ['PENDING', 'APPROVED', 'REJECTED', 'WITHDRAWN'] }).notNull().default('PENDING'),
    submittedAt: timestamp('submitted_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    decidedAt: timestamp('decided_at', { withTimezone: true, precision: 3 }),
    decidedBy: text('decided_by'),
    decisionReason: text('decision_reason'),
  },
  (t) => [
    uniqueIndex('app_reviews_pending_key').on(t.appId).where(sql`${t.status} = 'PENDING'`),
    check('app_reviews_status_check', sql`${t.status} in ('PENDING', 'APPROVED', 'REJECTED', 'WITHDRAWN')`),
  ],
);

/** Operators' announcements to developers: all of them, or those whose apps hold one of `packageIds`. */
export const announcements = appManagementSchema.table(
  'announcements',
  {
    id: uuid('id').primaryKey(),
    title: text('title').notNull(),
    /** Markdown; sanitized when rendered. */
    body: text('body').notNull(),
    /** Null: every developer. */
    packageIds: uuid('package_ids').array(),
    /** When it becomes visible; null while a draft. */
    publishAt: timestamp('publish_at', { withTimezone: true, precision: 3 }),
    /** When its emails went out; null until then. */
    emailedAt: timestamp('emailed_at', { withTimezone: true, precision: 3 }),
    /** Taken down by an operator after publication: developers no longer see it. */
    withdrawnAt: timestamp('withdrawn_at', { withTimezone: true, precision: 3 }),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('announcements_publish_idx').on(t.publishAt)],
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
    /** WITHDRAWN: the developer took it back before an operator decided. */
    status: text('status', { enum: ['PENDING', 'APPROVED', 'REJECTED', 'WITHDRAWN'] }).notNull().default('PENDING'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    decidedAt: timestamp('decided_at', { withTimezone: true, precision: 3 }),
    decidedBy: text('decided_by'),
    decisionReason: text('decision_reason'),
  },
  (t) => [
    uniqueIndex('package_requests_pending_key').on(t.appId, t.packageId).where(sql`${t.status} = 'PENDING'`),
    check('package_requests_status_check', sql`${t.status} in ('PENDING', 'APPROVED', 'REJECTED', 'WITHDRAWN')`),
  ],
);

/** Platform staff. Passwords are scrypt hashes; repeated failures lock the account for a while. */
export const operators = appManagementSchema.table(
  'operators',
  {
    id: uuid('id').primaryKey(),
    ...passwordAccountColumns(),
    /**
     * The TOTP secret (RFC 6238), sealed (AES-256-GCM) with the platform's key-encryption key; set at
     * enrolment's start, in force once `totpEnrolledAt` is set. Null: never enrolled (the first
     * sign-in enrols).
     */
    totpSecretSealed: text('totp_secret_sealed'),
    totpEnrolledAt: timestamp('totp_enrolled_at', { withTimezone: true, precision: 3 }),
    /** The last TOTP time step accepted: a code is good once (RFC 6238 section 5.2). */
    totpLastStep: bigint('totp_last_step', { mode: 'number' }),
    /** SHA-256 (hex) of each unused recovery code; a used one is removed. */
    recoveryCodeHashes: text('recovery_code_hashes').array().notNull().default(sql`'{}'::text[]`),
    /** Set by another operator: no sign-in, sessions end. */
    disabledAt: timestamp('disabled_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [uniqueIndex('operators_email_key').on(sql`lower(${t.email})`)],
);

/**
 * Console sessions: SHA-256 of the cookie's token. A session is PENDING_SECOND_FACTOR after the
 * password (a few minutes, good for nothing but the TOTP step or enrolment) and ACTIVE after it.
 */
export const operatorSessions = appManagementSchema.table(
  'operator_sessions',
  {
    id: uuid('id').primaryKey(),
    tokenHash: text('token_hash').notNull().unique(),
    operatorId: uuid('operator_id')
      .notNull()
      .references(() => operators.id),
    stage: text('stage', { enum: ['PENDING_SECOND_FACTOR', 'ACTIVE'] }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('operator_sessions_operator_idx').on(t.operatorId), check('operator_sessions_stage_check', sql`${t.stage} in ('PENDING_SECOND_FACTOR', 'ACTIVE')`)],
);

/**
 * Open message subscriptions, as each gateway reports them every few seconds (one row per gateway,
 * app and merchant); rows not refreshed within a minute belong to a gateway that stopped.
 */
export const liveSubscriptions = appManagementSchema.table(
  'live_subscriptions',
  {
    gatewayId: text('gateway_id').notNull(),
    appKey: text('app_key').notNull(),
    merchantId: text('merchant_id').notNull(),
    subscriptions: integer('subscriptions').notNull(),
    reportedAt: timestamp('reported_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.appKey, t.merchantId] })],
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

/** Flow limits and daily quota per tier, set by operators. An app's tier is its highest granted package's. */
export const tierLimits = appManagementSchema.table(
  'tier_limits',
  {
    tier: text('tier', { enum: ['FREE', 'PAID'] }).primaryKey(),
    /** Cost points the bucket holds (also the most one operation may cost). */
    bucketSize: integer('bucket_size').notNull(),
    /** Cost points restored per second. */
    restoreRate: integer('restore_rate').notNull(),
    /** Calls per UTC day. */
    dailyQuota: integer('daily_quota').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedBy: text('updated_by').notNull(),
  },
  (t) => [check('tier_limits_tier_check', sql`${t.tier} in ('FREE', 'PAID')`)],
);

/** A violation operators recorded against an app, with its penalty. Append-only but for one update: lifting a flow-limit reduction early sets `penalty_ends_at`. */
export const appViolations = appManagementSchema.table(
  'app_violations',
  {
    id: uuid('id').primaryKey(),
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id),
    kind: text('kind').notNull(),
    note: text('note').notNull(),
    evidence: text('evidence'),
    penalty: text('penalty', { enum: ['WARNING', 'FLOW_LIMIT_REDUCTION', 'SUSPENSION'] }).notNull(),
    /** FLOW_LIMIT_REDUCTION: the percentage of the app's flow limits left while the penalty runs. */
    flowLimitPercent: integer('flow_limit_percent'),
    /** When a FLOW_LIMIT_REDUCTION ends (null: until lifted). */
    penaltyEndsAt: timestamp('penalty_ends_at', { withTimezone: true, precision: 3 }),
    recordedBy: text('recorded_by').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('app_violations_app_idx').on(t.appId, t.recordedAt),
    check('app_violations_penalty_check', sql`${t.penalty} in ('WARNING', 'FLOW_LIMIT_REDUCTION', 'SUSPENSION')`),
    check('app_violations_percent_check', sql`${t.flowLimitPercent} is null or (${t.flowLimitPercent} between 1 and 99)`),
  ],
);

/** Every change of an app's status: from, to, who, why. Append-only. */
export const appStatusChanges = appManagementSchema.table(
  'app_status_changes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id),
    fromStatus: text('from_status').notNull(),
    toStatus: text('to_status').notNull(),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('app_status_changes_app_idx').on(t.appId, t.at)],
);

/**
 * An API taken offline: a schema coordinate (`Type.field`), for every app or the listed ones, with
 * a reason and an optional planned window. Active from `startsAt` until `endsAt` or until restored.
 */
export const offlineApis = appManagementSchema.table(
  'offline_apis',
  {
    id: uuid('id').primaryKey(),
    coordinate: text('coordinate').notNull(),
    /** Null: every app. */
    appIds: uuid('app_ids').array(),
    reason: text('reason').notNull(),
    startsAt: timestamp('starts_at', { withTimezone: true, precision: 3 }).notNull(),
    endsAt: timestamp('ends_at', { withTimezone: true, precision: 3 }),
    takenBy: text('taken_by').notNull(),
    takenAt: timestamp('taken_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    restoredAt: timestamp('restored_at', { withTimezone: true, precision: 3 }),
    restoredBy: text('restored_by'),
    restoreReason: text('restore_reason'),
  },
  (t) => [index('offline_apis_open_idx').on(t.coordinate).where(sql`${t.restoredAt} is null`)],
);

/**
 * Calls aggregated per minute, app, merchant, operation, document and outcome, written in batches
 * by the gateways (a row is added to when a later batch of the same minute comes). Latencies are a
 * histogram over fixed bounds (see the gateway's call report) so percentiles of any range can be
 * computed from the rows. Kept 90 days.
 */
export const callReports = appManagementSchema.table(
  'call_reports',
  {
    minute: timestamp('minute', { withTimezone: true, precision: 3 }).notNull(),
    appId: uuid('app_id')
      .notNull()
      .references(() => apps.id),
    /** '' for an app-level call (no merchant). */
    merchantId: text('merchant_id').notNull(),
    /** '' for an anonymous operation. */
    operationName: text('operation_name').notNull(),
    documentHash: text('document_hash').notNull(),
    /** OK, or the error code of the call's first error. */
    outcome: text('outcome').notNull(),
    calls: integer('calls').notNull(),
    latencyMsSum: doublePrecision('latency_ms_sum').notNull(),
    latencyBuckets: integer('latency_buckets').array().notNull(),
    requestedCost: bigint('requested_cost', { mode: 'number' }).notNull(),
    actualCost: bigint('actual_cost', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'call_reports_pkey', columns: [t.minute, t.appId, t.merchantId, t.operationName, t.documentHash, t.outcome] }),
    index('call_reports_app_minute_idx').on(t.appId, t.minute),
    // An authorization's last use: the newest minute of one app and merchant, read from the index's end.
    index('call_reports_app_merchant_minute_idx').on(t.appId, t.merchantId, t.minute),
  ],
);

export const outboxEvents = outboxTable(appManagementSchema);

export type DeveloperRow = typeof developers.$inferSelect;
export type AppRow = typeof apps.$inferSelect;
export type ScopeRow = typeof scopes.$inferSelect;
export type PermissionPackageRow = typeof permissionPackages.$inferSelect;
export type PackageGrantRow = typeof packageGrants.$inferSelect;
export type PackageRequestRow = typeof packageRequests.$inferSelect;
export type OperatorRow = typeof operators.$inferSelect;
export type OperatorSessionRow = typeof operatorSessions.$inferSelect;
export type AuditLogRow = typeof auditLog.$inferSelect;
export type TierLimitsRow = typeof tierLimits.$inferSelect;
export type AppViolationRow = typeof appViolations.$inferSelect;
export type AppStatusChangeRow = typeof appStatusChanges.$inferSelect;
export type OfflineApiRow = typeof offlineApis.$inferSelect;
export type CallReportRow = typeof callReports.$inferSelect;
