/**
 * APIs taken offline: operators take a field of the API offline (a schema coordinate as apiCatalog
 * lists it) for every app or the listed ones, now or in a planned window, and bring it back. Each
 * change is audited. The gateways load the whole list (offlineApisForGateway) and enforce it
 * (gateway/plugins/api-validity.ts); apiCatalog shows each field's availability to its caller.
 *
 * An entry is active from `startsAt` until `endsAt` (null: no end) unless it was brought back
 * (`restoredAt`). Apps are stored by id (offline_apis.app_ids) and shown by key.
 */
import crypto from 'node:crypto';
import { and, asc, desc, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import { badInput, conflict, forbidden, notFound } from '../../core/errors.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import type { CatalogField } from './api-catalog.js';
import { operatorActor } from './callers.js';
import { audit } from './audit.js';
import { apps, offlineApis, type OfflineApiRow } from './tables.js';

/** An offline entry as the API shows it: its apps by key. */
export interface OfflineApiView extends OfflineApiRow {
  appKeys: string[] | null;
}

export interface TakeApiOfflineInput {
  coordinate: string;
  appKeys?: string[] | null;
  reason: string;
  startsAt?: Date | null;
  endsAt?: Date | null;
}

/** Apps one entry may list: beyond this, take it offline for every app. */
const MAX_APPS_PER_ENTRY = 1000;

export function createOfflineApiStore(db: Db, clock: Clock, catalog: readonly CatalogField[]) {
  const coordinates = new Set(catalog.map((field) => field.coordinate));

  /** Rows with their apps' keys (one query for every row's apps). */
  async function withAppKeys(rows: OfflineApiRow[]): Promise<OfflineApiView[]> {
    const ids = [...new Set(rows.flatMap((row) => row.appIds ?? []))];
    const keys = new Map((ids.length ? await db.select({ id: apps.id, key: apps.key }).from(apps).where(inArray(apps.id, ids)) : []).map((app) => [app.id, app.key]));
    return rows.map((row) => ({ ...row, appKeys: row.appIds ? row.appIds.map((id) => keys.get(id)).filter((key): key is string => !!key) : null }));
  }

  /** Not brought back, and its window not over at `now`. */
  const current = (now: Date) => and(isNull(offlineApis.restoredAt), or(isNull(offlineApis.endsAt), gt(offlineApis.endsAt, now)));

  return {
    async takeOffline(actor: string, input: TakeApiOfflineInput): Promise<OfflineApiView> {
      const coordinate = v.text(input.coordinate, 'coordinate', { max: 200 });
      if (!coordinates.has(coordinate)) {
        throw badInput(`${coordinate} is not a field of the API: give Type.field as apiCatalog lists it, for example Mutation.cancelOrder`, 'coordinate');
      }
      const reason = v.text(input.reason, 'reason', { max: 500 });
      const now = clock.now();
      const startsAt = input.startsAt ?? new Date(now);
      const endsAt = input.endsAt ?? null;
      if (endsAt && endsAt.getTime() <= Math.max(now, startsAt.getTime())) throw badInput('endsAt must be after startsAt and in the future', 'endsAt');
      let appIds: string[] | null = null;
      if (input.appKeys !== null && input.appKeys !== undefined) {
        const keys = [...new Set(input.appKeys.map((key) => key.trim()))];
        if (keys.length === 0) throw badInput('appKeys must name at least one app; leave it out to take the API offline for every app', 'appKeys');
        if (keys.length > MAX_APPS_PER_ENTRY) throw badInput(`appKeys may name at most ${MAX_APPS_PER_ENTRY} apps; leave it out for every app`, 'appKeys');
        const found = await db.select({ id: apps.id, key: apps.key }).from(apps).where(inArray(apps.key, keys));
        const unknown = keys.filter((key) => !found.some((app) => app.key === key));
        if (unknown.length) throw badInput(`Unknown app key(s): ${unknown.slice(0, 10).join(', ')}`, 'appKeys');
        appIds = found.map((app) => app.id);
      }
      const row = await db.transaction(async (tx) => {
        const [inserted] = await tx
          .insert(offlineApis)
          .values({ id: crypto.randomUUID(), coordinate, appIds, reason, startsAt, endsAt, takenBy: actor, takenAt: new Date(now) })
          .returning();
        await audit(tx, {
          actor,
          action: 'api.taken_offline',
          targetType: 'api',
          targetId: coordinate,
          reason,
          details: { id: inserted!.id, appKeys: input.appKeys ?? null, startsAt: startsAt.toISOString(), endsAt: endsAt?.toISOString() ?? null },
        });
        return inserted!;
      });
      return (await withAppKeys([row]))[0]!;
    },

    async bringOnline(actor: string, input: { id: string; reason: string }): Promise<OfflineApiView> {
      const reason = v.text(input.reason, 'reason', { max: 500 });
      if (!v.isWellFormedId(input.id)) throw notFound('Offline API', input.id);
      const row = await db.transaction(async (tx) => {
        const [existing] = await tx.select().from(offlineApis).where(eq(offlineApis.id, input.id)).for('update');
        if (!existing) throw notFound('Offline API', input.id);
        if (existing.restoredAt) throw conflict(`${existing.coordinate} was already brought back at ${existing.restoredAt.toISOString()}`);
        const [updated] = await tx
          .update(offlineApis)
          .set({ restoredAt: new Date(clock.now()), restoredBy: actor, restoreReason: reason })
          .where(eq(offlineApis.id, existing.id))
          .returning();
        await audit(tx, { actor, action: 'api.brought_online', targetType: 'api', targetId: existing.coordinate, reason, details: { id: existing.id } });
        return updated!;
      });
      return (await withAppKeys([row]))[0]!;
    },

    /** Offline now or planned, soonest first; with `includeEnded`, every entry, newest first. */
    async list(options: { includeEnded: boolean; limit: number }): Promise<OfflineApiView[]> {
      const rows = options.includeEnded
        ? await db.select().from(offlineApis).orderBy(desc(offlineApis.takenAt)).limit(options.limit)
        : await db.select().from(offlineApis).where(current(new Date(clock.now()))).orderBy(asc(offlineApis.startsAt)).limit(options.limit);
      return withAppKeys(rows);
    },

    /** What the gateways enforce: every entry offline now or planned. */
    async forGateway(): Promise<OfflineApiView[]> {
      return withAppKeys(await db.select().from(offlineApis).where(current(new Date(clock.now()))).orderBy(asc(offlineApis.startsAt)));
    },

    /**
     * The entries that concern one caller, offline now or planned: an app's (every app's and its
     * own), or for anyone else (operators) those for every app.
     */
    async forCaller(appKey: string | null): Promise<OfflineApiRow[]> {
      const forApps = appKey
        ? or(isNull(offlineApis.appIds), sql`(select ${apps.id} from ${apps} where ${apps.key} = ${appKey}) = any(${offlineApis.appIds})`)
        : isNull(offlineApis.appIds);
      return db.select().from(offlineApis).where(and(current(new Date(clock.now())), forApps)).orderBy(asc(offlineApis.startsAt));
    },
  };
}

export type OfflineApiStore = ReturnType<typeof createOfflineApiStore>;

/** A field's availability for a caller, from the entries that concern it (see forCaller). */
export function availabilityOf(entries: readonly OfflineApiRow[], now: number) {
  const active = entries.find((entry) => entry.startsAt.getTime() <= now);
  if (active) return { status: 'OFFLINE' as const, reason: active.reason, startsAt: active.startsAt, endsAt: active.endsAt };
  const next = entries[0];
  if (next) return { status: 'PLANNED' as const, reason: next.reason, startsAt: next.startsAt, endsAt: next.endsAt };
  return { status: 'AVAILABLE' as const, reason: null, startsAt: null, endsAt: null };
}

type Context = SubgraphContext<unknown>;

export function createOfflineApiResolvers(store: OfflineApiStore, clock: Clock) {
  /** The entries that concern a request's caller, by coordinate: read once per request (catalogs list every field). */
  const perRequest = new WeakMap<object, Promise<Map<string, OfflineApiRow[]>>>();
  function entriesFor(ctx: Context): Promise<Map<string, OfflineApiRow[]>> {
    let entries = perRequest.get(ctx.loaders as object);
    if (!entries) {
      const appKey = ctx.caller.kind === 'app' ? ctx.caller.appKey : null;
      entries = store.forCaller(appKey).then((rows) => {
        const byCoordinate = new Map<string, OfflineApiRow[]>();
        for (const row of rows) byCoordinate.set(row.coordinate, [...(byCoordinate.get(row.coordinate) ?? []), row]);
        return byCoordinate;
      });
      perRequest.set(ctx.loaders as object, entries);
    }
    return entries;
  }
  const internal = (caller: Caller) => {
    if (caller.kind !== 'system') throw forbidden('Internal');
  };
  return {
    Query: {
      offlineApis: (_: unknown, args: { includeEnded?: boolean | null; first?: number | null }, ctx: Context) => {
        operatorActor(ctx.caller);
        return store.list({ includeEnded: args.includeEnded ?? false, limit: v.intInRange(args.first ?? 100, 'first', 1, 500) });
      },
      offlineApisForGateway: (_: unknown, __: unknown, ctx: Context) => {
        internal(ctx.caller);
        return store.forGateway();
      },
    },
    Mutation: {
      takeApiOffline: (_: unknown, { input }: { input: TakeApiOfflineInput }, ctx: Context) => store.takeOffline(operatorActor(ctx.caller), input),
      bringApiOnline: (_: unknown, { input }: { input: { id: string; reason: string } }, ctx: Context) => store.bringOnline(operatorActor(ctx.caller), input),
    },
    OfflineApi: {
      active: (entry: OfflineApiView) => {
        const now = clock.now();
        return !entry.restoredAt && entry.startsAt.getTime() <= now && (!entry.endsAt || entry.endsAt.getTime() > now);
      },
    },
    ApiField: {
      availability: async (field: { coordinate: string }, _: unknown, ctx: Context) => availabilityOf((await entriesFor(ctx)).get(field.coordinate) ?? [], clock.now()),
    },
  };
}
