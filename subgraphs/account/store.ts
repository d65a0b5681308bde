/** Queries and changes of the account subgraph. */
import crypto from 'node:crypto';
import { inArray } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { recordEvents } from '../../core/outbox.js';
import * as v from '../../core/validate.js';
import { merchants, outboxEvents, users, type MerchantRow, type UserRow } from './tables.js';

export function createAccountStore(db: Db) {
  return {
    async merchantsByIds(ids: readonly string[]): Promise<MerchantRow[]> {
      const wellFormed = ids.filter(v.isWellFormedId);
      return wellFormed.length ? db.select().from(merchants).where(inArray(merchants.id, wellFormed)) : [];
    },

    async usersByIds(ids: readonly string[]): Promise<UserRow[]> {
      const wellFormed = ids.filter(v.isWellFormedId);
      return wellFormed.length ? db.select().from(users).where(inArray(users.id, wellFormed)) : [];
    },

    async createMerchant(input: { id?: string; name: string; contactEmail: string; contactPhone?: string | null; createdAt?: Date }): Promise<MerchantRow> {
      const now = input.createdAt ?? new Date();
      return db.transaction(async (tx) => {
        const [merchant] = await tx
          .insert(merchants)
          .values({
            id: input.id ?? crypto.randomUUID(),
            name: v.text(input.name, 'name', { max: 200 }),
            contactEmail: v.text(input.contactEmail, 'contactEmail', { max: 320 }),
            contactPhone: v.optionalText(input.contactPhone, 'contactPhone', 40),
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        await recordEvents(tx, outboxEvents, [
          { merchantId: merchant!.id, aggregateType: 'merchant', aggregateId: merchant!.id, type: 'merchant.registered', occurredAt: now, payload: { merchantId: merchant!.id, name: merchant!.name } },
        ]);
        return merchant!;
      });
    },

    async createUsers(input: { id?: string; nickname: string; createdAt?: Date }[]): Promise<UserRow[]> {
      if (!input.length) return [];
      return db
        .insert(users)
        .values(input.map((u) => ({ id: u.id ?? crypto.randomUUID(), nickname: v.text(u.nickname, 'nickname', { max: 64 }), ...(u.createdAt ? { createdAt: u.createdAt } : {}) })))
        .returning();
    },
  };
}

export type AccountStore = ReturnType<typeof createAccountStore>;
