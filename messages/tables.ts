/**
 * The message channel's own records, in the app-management schema (apps, quotas and reports live
 * there): each app's cursor per merchant and topic, its data keys, the messages it was pushed and
 * every delivery attempt. Payloads are stored encrypted with the app's key (see crypto.ts).
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, integer, pgSchema, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const appManagement = pgSchema('app_management');

/** Where each app's stream of a merchant stands per source: everything up to `ackedPosition` is acknowledged. */
export const messageCursors = appManagement.table(
  'message_cursors',
  {
    appKey: text('app_key').notNull(),
    merchantId: uuid('merchant_id').notNull(),
    source: text('source').notNull(),
    ackedPosition: bigint('acked_position', { mode: 'number' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /**
     * The stream's floor (the last event before the merchant authorized the app) and the
     * authorization time it is of: found once by reading the merchant's events before that time,
     * then kept here (MessageStore.streamFloor).
     */
    floorPosition: bigint('floor_position', { mode: 'number' }),
    floorFor: timestamp('floor_for', { withTimezone: true, precision: 3 }),
    /**
     * How far the stream may have been pushed (written before the messages are sent, see
     * StreamCursors.markPushed): what is at or below it comes again as a REPLAY.
     */
    pushedPosition: bigint('pushed_position', { mode: 'number' }),
  },
  (t) => [primaryKey({ columns: [t.appKey, t.merchantId, t.source] })],
);

/** Per-app AES-256-GCM data keys, wrapped with a platform key-encryption key; the newest version encrypts. */
export const messageKeys = appManagement.table(
  'message_keys',
  {
    appKey: text('app_key').notNull(),
    version: integer('version').notNull(),
    kekId: text('kek_id').notNull(),
    wrappedKey: text('wrapped_key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.appKey, t.version] })],
);

/**
 * A message an app was pushed at least once: the event, its original payload (encrypted) and its
 * acknowledgement. A record written by a push holds that first push too (connection, transport,
 * reason, attempt, what was pushed, at `firstPushedAt`, sealed with the record's key version): one
 * row per first push instead of two, the common case of a burst. Later pushes of the message, and the
 * first push of a record that a manual-push request created before anything was pushed, are rows of
 * `message_deliveries`; records written before these columns existed keep all of theirs there.
 */
export const messageRecords = appManagement.table(
  'message_records',
  {
    appKey: text('app_key').notNull(),
    merchantId: uuid('merchant_id').notNull(),
    source: text('source').notNull(),
    position: bigint('position', { mode: 'number' }).notNull(),
    eventId: uuid('event_id').notNull(),
    type: text('type').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3 }).notNull(),
    keyVersion: integer('key_version').notNull(),
    payload: text('payload').notNull(),
    firstPushedAt: timestamp('first_pushed_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true, precision: 3 }),
    /** Set by `redeliverMessages` (manual push); cleared when pushed again. */
    redeliverRequestedAt: timestamp('redeliver_requested_at', { withTimezone: true, precision: 3 }),
    /** The push that wrote the record (null when a manual-push request wrote it, or before these columns). */
    connectionId: text('connection_id'),
    transport: text('transport', { enum: ['ws', 'sse'] }),
    reason: text('reason', { enum: ['LIVE', 'REPUSH', 'MANUAL', 'REPLAY'] }),
    attempt: integer('attempt'),
    pushed: text('pushed'),
  },
  (t) => [
    primaryKey({ columns: [t.appKey, t.merchantId, t.source, t.position] }),
    index('message_records_redeliver_idx').on(t.appKey, t.merchantId).where(sql`${t.redeliverRequestedAt} is not null`),
    index('message_records_pushed_idx').on(t.appKey, t.merchantId, t.firstPushedAt),
    // The retention purge deletes records by the age of their event.
    index('message_records_occurred_idx').on(t.occurredAt),
  ],
);

/** Every push of a message: when, on which connection, why, and what was pushed (encrypted). */
export const messageDeliveries = appManagement.table(
  'message_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    appKey: text('app_key').notNull(),
    merchantId: uuid('merchant_id').notNull(),
    source: text('source').notNull(),
    position: bigint('position', { mode: 'number' }).notNull(),
    connectionId: text('connection_id').notNull(),
    transport: text('transport', { enum: ['ws', 'sse'] }).notNull(),
    /** LIVE (first push), REPUSH (unacknowledged after the timeout), MANUAL (redeliverMessages), REPLAY (after a cursor reset or a reconnection). */
    reason: text('reason', { enum: ['LIVE', 'REPUSH', 'MANUAL', 'REPLAY'] }).notNull(),
    attempt: integer('attempt').notNull(),
    keyVersion: integer('key_version').notNull(),
    pushed: text('pushed').notNull(),
    pushedAt: timestamp('pushed_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('message_deliveries_message_idx').on(t.appKey, t.merchantId, t.source, t.position)],
);

/**
 * What the retention purge deleted of a merchant's events, per source and event type: every event
 * of that type up to `purgedThrough` that occurred up to `lastOccurredAt` is gone. A stream whose
 * position is below `purgedThrough` of a type it receives may have lost messages it never
 * acknowledged (unless the merchant authorized the app after `lastOccurredAt`): it is told so
 * (MESSAGES_EXPIRED), never left to skip them unawares. Per type, because a stream's cursor stays
 * at the last message it received: events it never receives (other types than its `types`
 * filter, the platform's internal ones) lie after it and must not count. `type` '' stands for
 * any type (rows noted before types were).
 */
export const messageRetention = appManagement.table(
  'message_retention',
  {
    source: text('source').notNull(),
    merchantId: uuid('merchant_id').notNull(),
    type: text('type').notNull().default(''),
    purgedThrough: bigint('purged_through', { mode: 'number' }).notNull(),
    lastOccurredAt: timestamp('last_occurred_at', { withTimezone: true, precision: 3 }).notNull(),
    purgedAt: timestamp('purged_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.source, t.merchantId, t.type] })],
);
