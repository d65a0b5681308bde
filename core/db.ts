/**
 * PostgreSQL access through Drizzle, one code path for both run modes:
 * - embedded: one PGlite (real Postgres compiled to WASM) persisted under DATA_DIR, shared by the
 *   services running in this process;
 * - server: a pg connection pool per service against DATABASE_URL.
 * Each subgraph owns one Postgres schema and its checked-in migrations.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { AnyPgColumn, PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { sql, type Logger as DrizzleLogger, type SQL } from 'drizzle-orm';
import pg from 'pg';
import { initializePglite, pgliteDir } from './pglite-cluster.js';
import { subgraphDir } from './paths.js';

export type Db = PgDatabase<PgQueryResultHKT>;
/** A transaction, or the database itself: store functions accept either. */
export type Executor = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

/**
 * `column = any($name::uuid[])`: a list of ids as one parameter, so that one prepared statement
 * (`.prepare(name)`, built once, parsed once per connection) serves lookups of any number of ids.
 * The hot lookups (DataLoader batches, the order list) are prepared: building the SQL of a drizzle
 * query costs about as much as executing the GraphQL that asks for it.
 */
export const uuidIn = (column: AnyPgColumn, placeholder: string): SQL => sql`${column} = any(${sql.placeholder(placeholder)}::uuid[])`;

/**
 * `(merchantColumn, idColumn) in (pairs)`, the pairs given as two parallel uuid[] parameters
 * `merchantIds` and `ids`: lookups of several merchants' rows in one prepared statement (see
 * core/shared-lookups.ts), each id matched only with its own merchant.
 */
export const merchantPairsIn = (merchantColumn: AnyPgColumn, idColumn: AnyPgColumn): SQL =>
  sql`(${merchantColumn}, ${idColumn}) in (select * from unnest(${sql.placeholder('merchantIds')}::uuid[], ${sql.placeholder('ids')}::uuid[]))`;

/** Counts SQL statements per database handle; read by /metrics and by the N+1 tests. */
export class StatementCounter implements DrizzleLogger {
  count = 0;
  logQuery(): void {
    this.count += 1;
  }
}

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Db;
  readonly statements: StatementCounter;
  /** Applies the migrations of one subgraph (its own schema), serialized across processes. */
  migrate(subgraph: string): Promise<void>;
  ping(): Promise<void>;
  /**
   * Listens to a NOTIFY channel. `onReady` runs once listening starts and again after every
   * reconnection (a notification sent while disconnected is lost, so callers re-read then).
   * Returns a function that stops listening.
   */
  listen(channel: string, onNotify: (payload: string) => void, onReady?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** The checked-in migrations folder of a subgraph. */
export function migrationsFolder(subgraph: string): string {
  const dir = path.join(subgraphDir(subgraph), 'migrations');
  if (!fs.existsSync(path.join(dir, 'meta', '_journal.json'))) throw new Error(`No migrations found for subgraph ${subgraph}`);
  return dir;
}

/** Postgres schema that a subgraph's tables live in. */
export const pgSchemaName = (subgraph: string) => subgraph.replace(/-/g, '_');

/** Applied migrations are recorded in `portico_migrations.<subgraph>`, outside the schema the migrations create. */
function migrationConfig(subgraph: string) {
  return { migrationsFolder: migrationsFolder(subgraph), migrationsSchema: 'portico_migrations', migrationsTable: pgSchemaName(subgraph) };
}

/**
 * Shared buffers of the embedded database. PostgreSQL's 128MB (what initdb writes) made up about
 * 120 MB of the process's resident memory from the first query on (PGlite's WASM heap is touched
 * as it is set up); the demo data set is a few MB, and a page not in the buffers is a read from the
 * operating system's file cache. A server (DATABASE_URL) keeps its own configuration.
 */
const PGLITE_SHARED_BUFFERS = '32MB';

/** Opens the embedded PGlite database under `dataDir` (or in memory when dataDir is null). */
export async function openPglite(dataDir: string | null): Promise<Database> {
  const options = { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`] };
  let client: PGlite;
  if (dataDir) {
    await initializePglite(dataDir);
    const dir = pgliteDir(dataDir);
    fs.mkdirSync(dir, { recursive: true });
    client = new PGlite(dir, options);
  } else {
    client = new PGlite(options);
  }
  await client.waitReady;
  const statements = new StatementCounter();
  const db = drizzlePglite({ client, logger: statements }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    statements,
    // PGlite is a single connection in this process: migrations are already serialized.
    migrate: async (subgraph) => migratePglite(drizzlePglite({ client }), migrationConfig(subgraph)),
    ping: async () => {
      await client.query('select 1');
    },
    listen: async (channel, onNotify, onReady) => {
      const unlisten = await client.listen(channel, onNotify);
      onReady?.();
      return async () => {
        if (!client.closed) await unlisten();
      };
    },
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

/** Opens a pool against a PostgreSQL server. */
export async function openPostgres(url: string, poolSize: number, applicationName: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: applicationName });
  pool.on('error', () => {
    /* an idle client died (server restart); the pool replaces it */
  });
  const statements = new StatementCounter();
  const db = drizzlePg({ client: pool, logger: statements }) as unknown as Db;
  return {
    kind: 'postgres',
    db,
    statements,
    migrate: async (subgraph) => {
      // Several replicas may start at once: one applies the migrations, the others wait for it.
      const client = new pg.Client({ connectionString: url, application_name: `${applicationName}-migrate` });
      await client.connect();
      try {
        await client.query('select pg_advisory_lock(hashtext($1))', [`portico:migrate:${subgraph}`]);
        await migratePg(drizzlePg({ client }), migrationConfig(subgraph));
      } finally {
        await client.query('select pg_advisory_unlock(hashtext($1))', [`portico:migrate:${subgraph}`]).catch(() => {});
        await client.end();
      }
    },
    ping: async () => {
      await pool.query('select 1');
    },
    listen: async (channel, onNotify, onReady) => listenWithReconnect(url, `${applicationName}-listen`, channel, onNotify, onReady),
    close: async () => {
      if (!pool.ended) await pool.end();
    },
  };
}

/**
 * A dedicated connection that LISTENs, reconnecting with backoff (1 s doubling to 15 s) when the
 * server goes away. The first connection must succeed, so a wrong URL fails the start.
 */
async function listenWithReconnect(url: string, applicationName: string, channel: string, onNotify: (payload: string) => void, onReady?: () => void) {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delay = 1000;
  const connect = async () => {
    const next = new pg.Client({ connectionString: url, application_name: applicationName });
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload ?? '');
    });
    next.on('error', () => reconnect(next));
    next.on('end', () => reconnect(next));
    await next.connect();
    await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    client = next;
    delay = 1000;
    onReady?.();
  };
  const reconnect = (failed: pg.Client) => {
    if (stopped || client !== failed) return;
    client = undefined;
    failed.end().catch(() => {});
    const attempt = () => {
      retry = undefined;
      if (stopped) return;
      connect().catch(() => {
        delay = Math.min(delay * 2, 15_000);
        retry = setTimeout(attempt, delay);
      });
    };
    retry = setTimeout(attempt, delay);
  };
  await connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}

/** True when a database error is a unique violation (SQLSTATE 23505), optionally on a named constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = findPgError(error);
  return !!e && e.code === '23505' && (!constraint || e.constraint === constraint);
}

/** True when a check constraint failed (SQLSTATE 23514). */
export function isCheckViolation(error: unknown, constraint?: string): boolean {
  const e = findPgError(error);
  return !!e && e.code === '23514' && (!constraint || e.constraint === constraint);
}

function findPgError(error: unknown): { code?: string; constraint?: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const candidate = current as { code?: unknown; constraint?: string; cause?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) return candidate as { code: string; constraint?: string };
    current = candidate.cause;
  }
  return undefined;
}
