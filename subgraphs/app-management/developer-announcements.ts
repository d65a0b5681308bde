/**
 * Operators' announcements as developers read them: the published ones (publish time reached, not
 * withdrawn) meant for everyone, or for a permission package one of the developer's apps holds now;
 * newest first. Operators write them in the console (announcement-admin.ts); the demo data seeds one.
 */
import { and, eq, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import { pageSize, timeCursor, timeKeyset, toConnection, type TimeSort } from '../../core/pagination.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import { developerOf } from './callers.js';
import type { AppManagementLoaders } from './loaders.js';
import { announcements, apps, packageGrants } from './tables.js';

export type AnnouncementRow = typeof announcements.$inferSelect;

const SORT_NAME = 'announcements:published';
const NEWEST_FIRST: TimeSort<AnnouncementRow> = { column: announcements.publishAt, direction: 'desc', valueOf: (row) => row.publishAt! };

export function createAnnouncementStore(db: Db, clock: Clock) {
  return {
    async forDeveloper(developerId: string, options: { limit: number; after?: string | null | undefined }): Promise<AnnouncementRow[]> {
      const keyset = timeKeyset(NEWEST_FIRST, announcements.id, SORT_NAME, options.after);
      // The packages the developer's apps hold now (a revoked grant no longer counts).
      const heldPackages = db
        .select({ packageId: packageGrants.packageId })
        .from(packageGrants)
        .innerJoin(apps, eq(apps.id, packageGrants.appId))
        .where(and(eq(apps.developerId, developerId), isNull(packageGrants.revokedAt)));
      return db
        .select()
        .from(announcements)
        .where(
          and(
            isNotNull(announcements.publishAt),
            lte(announcements.publishAt, new Date(clock.now())),
            isNull(announcements.withdrawnAt),
            or(isNull(announcements.packageIds), sql`${announcements.packageIds} && array(${heldPackages})`),
            keyset.after,
          ),
        )
        .orderBy(...keyset.orderBy)
        .limit(options.limit + 1);
    },
  };
}

export type AnnouncementStore = ReturnType<typeof createAnnouncementStore>;

type Context = SubgraphContext<AppManagementLoaders>;

export function createAnnouncementResolvers(store: AnnouncementStore) {
  return {
    Query: {
      announcements: async (_: unknown, args: { first?: number | null; after?: string | null }, ctx: Context) => {
        const developerId = developerOf(ctx.caller);
        const limit = pageSize(args.first);
        const rows = await store.forDeveloper(developerId, { limit, after: args.after });
        return toConnection(rows, limit, (row) => timeCursor(NEWEST_FIRST, SORT_NAME, row), !!args.after);
      },
    },
    Announcement: {
      publishedAt: (row: AnnouncementRow) => row.publishAt,
      packages: async (row: AnnouncementRow, _: unknown, ctx: Context) =>
        (await ctx.loaders.permissionPackage.loadMany(row.packageIds ?? [])).filter((p) => p && !(p instanceof Error)),
    },
  };
}

/** When the demo's announcement was published (a fixed time, so the demo data set is the same on every start). */
const DEMO_ANNOUNCEMENT_AT = new Date('2026-01-05T09:00:00.000Z');

/** The demo's announcement, for every developer (idempotent: a fixed id). */
export async function seedDemoAnnouncement(db: Db, publishAt: Date = DEMO_ANNOUNCEMENT_AT): Promise<void> {
  await db
    .insert(announcements)
    .values({
      id: '5d0f3a52-9a8e-4d3c-8f7e-2b1c6e0a4d11',
      title: 'Welcome to the Portico developer portal',
      body:
        'Create an app, try it in its **sandbox** with the API explorer, then submit it for review.\n\n' +
        '- Every app starts in `SANDBOX` with a test merchant of its own.\n' +
        '- Ask for permission packages from the app\'s page; operators decide.\n' +
        '- Watch your calls in the call report.',
      packageIds: null,
      publishAt,
      createdBy: 'system:demo-seed',
      createdAt: publishAt,
      updatedAt: publishAt,
    })
    .onConflictDoNothing();
}
