/** Tables of the account subgraph, in its own Postgres schema `account`. */
import { pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { outboxTable } from '../../core/outbox.js';

export const accountSchema = pgSchema('account');

export const merchants = accountSchema.table('merchants', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  contactEmail: text('contact_email').notNull(),
  contactPhone: text('contact_phone'),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/** Buyers. Their id is the platform's own and never leaves it. */
export const users = accountSchema.table('users', {
  id: uuid('id').primaryKey(),
  nickname: text('nickname').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

export const outboxEvents = outboxTable(accountSchema);

export type MerchantRow = typeof merchants.$inferSelect;
export type UserRow = typeof users.$inferSelect;
