/**
 * Operators' side of announcements (the console): write, schedule, publish and withdraw them.
 *
 * An announcement's status follows from its times: no `publishAt` is a DRAFT, a `publishAt` still to
 * come SCHEDULED, one passed PUBLISHED, and `withdrawnAt` WITHDRAWN whatever the rest. Developers see
 * PUBLISHED ones only (developer-announcements.ts); their emails go out once the publish time has
 * come (announcement-emails.ts). A time in the past given to schedule or publish means now, so no
 * announcement appears back-dated below ones developers already read.
 */
import crypto from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import type { Clock } from '../../core/clock.js';
import type { Db, Executor } from '../../core/db.js';
import { badInput, conflict, notFound } from '../../core/errors.js';
import { pageSize, timeCursor, timeKeyset, toConnection, type TimeSort } from '../../core/pagination.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import { audit } from './audit.js';
import { operatorActor } from './callers.js';
import type { AnnouncementRow } from './developer-announcements.js';
import { announcements, permissionPackages } from './tables.js';

export const MAX_TITLE_LENGTH = 200;
export const MAX_BODY_LENGTH = 20_000;
/** Packages one announcement may target (a list longer than the catalog is a mistake). */
const MAX_PACKAGES = 100;

export type AnnouncementStatus = 'DRAFT' | 'SCHEDULED' | 'PUBLISHED' | 'WITHDRAWN';

export function announcementStatus(row: AnnouncementRow, now: number): AnnouncementStatus {
  if (row.withdrawnAt) return 'WITHDRAWN';
  if (!row.publishAt) return 'DRAFT';
  return row.publishAt.getTime() > now ? 'SCHEDULED' : 'PUBLISHED';
}

const SORT_NAME = 'announcements:all';
const NEWEST_FIRST: TimeSort<AnnouncementRow> = { column: announcements.createdAt, direction: 'desc', valueOf: (row) => row.createdAt };
const announcementsCursor = (row: AnnouncementRow) => timeCursor(NEWEST_FIRST, SORT_NAME, row);

export interface CreateAnnouncementInput {
  title: string;
  body: string;
  packageIds?: string[] | null;
  publishAt?: Date | null;
}

/** Absent fields stay as they are; `packageIds: null` (or empty) means every developer, `publishAt: null` back to a draft. */
export interface UpdateAnnouncementInput {
  id: string;
  title?: string | null;
  body?: string | null;
  packageIds?: string[] | null;
  publishAt?: Date | null;
}

/** The packages, checked to exist; null (every developer) for none. */
async function targetPackages(tx: Executor, ids: string[] | null | undefined): Promise<string[] | null> {
  if (!ids?.length) return null;
  if (ids.length > MAX_PACKAGES) throw badInput(`At most ${MAX_PACKAGES} packages`, 'packageIds');
  const wanted = [...new Set(ids.map((id) => v.id(id, 'packageIds')))];
  const found = new Set((await tx.select({ id: permissionPackages.id }).from(permissionPackages).where(inArray(permissionPackages.id, wanted))).map((row) => row.id));
  const unknown = wanted.filter((id) => !found.has(id));
  if (unknown.length) throw badInput(`No permission package ${unknown.join(', ')}`, 'packageIds');
  return wanted.sort();
}

/** One line: it is also the subject of the announcement's email, where a line break would start a header. */
function title(value: string): string {
  if (/[\r\n]/.test(value)) throw badInput('title must be one line', 'title');
  return v.text(value, 'title', { max: MAX_TITLE_LENGTH });
}
const body = (value: string) => v.text(value, 'body', { max: MAX_BODY_LENGTH });

export function createAnnouncementAdminStore(db: Db, clock: Clock) {
  const now = () => new Date(clock.now());
  /** A publish time: a past one (or none) is now. */
  const publishTime = (at: Date | null | undefined) => (at && at.getTime() > clock.now() ? at : now());

  /** Locks the announcement and checks it may still change (a draft or scheduled one). */
  async function lockUnpublished(tx: Executor, id: string, what: string): Promise<AnnouncementRow> {
    const [row] = v.isWellFormedId(id) ? await tx.select().from(announcements).where(eq(announcements.id, id.toLowerCase())).for('update') : [];
    if (!row) throw notFound('Announcement', id);
    const status = announcementStatus(row, clock.now());
    if (status === 'PUBLISHED' || status === 'WITHDRAWN') throw conflict(`The announcement is ${status.toLowerCase()}: it can no longer be ${what}${status === 'PUBLISHED' ? ' (withdraw it instead)' : ''}`, { status });
    return row;
  }

  return {
    async list(page: { limit: number; after?: string | null | undefined }): Promise<AnnouncementRow[]> {
      const keyset = timeKeyset(NEWEST_FIRST, announcements.id, SORT_NAME, page.after);
      return db.select().from(announcements).where(keyset.after).orderBy(...keyset.orderBy).limit(page.limit + 1);
    },

    async create(actor: string, input: CreateAnnouncementInput): Promise<AnnouncementRow> {
      const values = { title: title(input.title), body: body(input.body), publishAt: input.publishAt ? publishTime(input.publishAt) : null };
      return db.transaction(async (tx) => {
        const packageIds = await targetPackages(tx, input.packageIds);
        const at = now();
        const [row] = await tx
          .insert(announcements)
          .values({ id: crypto.randomUUID(), ...values, packageIds, createdBy: actor, createdAt: at, updatedAt: at })
          .returning();
        await audit(tx, { actor, action: 'announcement.created', targetType: 'announcement', targetId: row!.id, at, details: { title: values.title, packageIds, publishAt: values.publishAt?.toISOString() ?? null } });
        return row!;
      });
    },

    async update(actor: string, input: UpdateAnnouncementInput): Promise<AnnouncementRow> {
      const changes: Partial<AnnouncementRow> = {};
      if (input.title !== undefined && input.title !== null) changes.title = title(input.title);
      if (input.body !== undefined && input.body !== null) changes.body = body(input.body);
      if (input.publishAt !== undefined) changes.publishAt = input.publishAt === null ? null : publishTime(input.publishAt);
      return db.transaction(async (tx) => {
        const current = await lockUnpublished(tx, input.id, 'changed');
        if (input.packageIds !== undefined) changes.packageIds = await targetPackages(tx, input.packageIds);
        const at = now();
        const [row] = await tx.update(announcements).set({ ...changes, updatedAt: at }).where(eq(announcements.id, current.id)).returning();
        // The fields changed and the small ones' values; a body's old text stays out of the log (up to 20,000 characters each time).
        await audit(tx, {
          actor,
          action: 'announcement.updated',
          targetType: 'announcement',
          targetId: current.id,
          at,
          details: {
            changed: Object.keys(changes),
            title: row!.title,
            packageIds: row!.packageIds,
            publishAt: row!.publishAt?.toISOString() ?? null,
          },
        });
        return row!;
      });
    },

    async publish(actor: string, input: { id: string; at?: Date | null }): Promise<AnnouncementRow> {
      return db.transaction(async (tx) => {
        const current = await lockUnpublished(tx, input.id, 'published again');
        const at = now();
        const publishAt = publishTime(input.at);
        const [row] = await tx.update(announcements).set({ publishAt, updatedAt: at }).where(eq(announcements.id, current.id)).returning();
        await audit(tx, {
          actor,
          action: 'announcement.published',
          targetType: 'announcement',
          targetId: current.id,
          at,
          details: { publishAt: publishAt.toISOString(), scheduled: publishAt.getTime() > at.getTime() },
        });
        return row!;
      });
    },

    async withdraw(actor: string, input: { id: string; reason: string }): Promise<AnnouncementRow> {
      const reason = v.text(input.reason, 'reason', { max: 1000 });
      return db.transaction(async (tx) => {
        const [current] = v.isWellFormedId(input.id) ? await tx.select().from(announcements).where(eq(announcements.id, input.id.toLowerCase())).for('update') : [];
        if (!current) throw notFound('Announcement', input.id);
        const status = announcementStatus(current, clock.now());
        if (status === 'DRAFT') throw conflict('A draft was never published: change or leave it instead', { status });
        if (status === 'WITHDRAWN') throw conflict('The announcement is already withdrawn', { status });
        const at = now();
        const [row] = await tx.update(announcements).set({ withdrawnAt: at, updatedAt: at }).where(eq(announcements.id, current.id)).returning();
        await audit(tx, { actor, action: 'announcement.withdrawn', targetType: 'announcement', targetId: current.id, reason, at, details: { status } });
        return row!;
      });
    },
  };
}

export type AnnouncementAdminStore = ReturnType<typeof createAnnouncementAdminStore>;

type Context = SubgraphContext<unknown>;

/** `emailsDue`: tells the email runner an announcement may have become due now (it sends without waiting for its next poll). */
export function createAnnouncementAdminResolvers(store: AnnouncementAdminStore, clock: Clock, emailsDue: () => void) {
  /** Runs a change, and wakes the email runner when the announcement is out now. */
  const andMailWhenDue = async (change: Promise<AnnouncementRow>) => {
    const row = await change;
    if (announcementStatus(row, clock.now()) === 'PUBLISHED') emailsDue();
    return row;
  };
  return {
    Query: {
      operatorAnnouncements: async (_: unknown, args: { first?: number | null; after?: string | null }, ctx: Context) => {
        operatorActor(ctx.caller);
        const limit = pageSize(args.first);
        const rows = await store.list({ limit, after: args.after });
        return toConnection(rows, limit, announcementsCursor, !!args.after);
      },
    },
    Mutation: {
      createAnnouncement: (_: unknown, { input }: { input: CreateAnnouncementInput }, ctx: Context) => andMailWhenDue(store.create(operatorActor(ctx.caller), input)),
      updateAnnouncement: (_: unknown, { input }: { input: UpdateAnnouncementInput }, ctx: Context) => andMailWhenDue(store.update(operatorActor(ctx.caller), input)),
      publishAnnouncement: (_: unknown, { input }: { input: { id: string; at?: Date | null } }, ctx: Context) => andMailWhenDue(store.publish(operatorActor(ctx.caller), input)),
      withdrawAnnouncement: (_: unknown, { input }: { input: { id: string; reason: string } }, ctx: Context) => store.withdraw(operatorActor(ctx.caller), input),
    },
    Announcement: {
      status: (row: AnnouncementRow) => announcementStatus(row, clock.now()),
      emailedAt: (row: AnnouncementRow) => row.emailedAt,
      createdBy: (row: AnnouncementRow) => row.createdBy,
    },
  };
}
