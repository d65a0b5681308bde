/**
 * Upgrading a database with large tables: the migrations that add the retention purge's indexes
 * create them only if they do not exist, so an operator can build them beforehand with
 * `CREATE INDEX CONCURRENTLY` (which does not block the writes a plain CREATE INDEX blocks for as
 * long as it runs), and the migration then keeps them. Here each subgraph's database is migrated
 * only up to the migration before that one (a copy of its migrations folder whose journal stops
 * there), the index is built concurrently, and then every migration runs.
 * PostgreSQL only: PGlite has no concurrent index builds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { migrationsFolder, openPostgres, pgSchemaName } from '../../core/db.js';
import { createTestDatabase } from '../helpers/platform.js';

/** The indexes of the retention purge, by subgraph, with the migration that adds them. */
const RETENTION_INDEXES = [
  { subgraph: 'order', tag: '0004_outbox_occurred_index', indexes: [['outbox_events_occurred_idx', 'outbox_events']] },
  { subgraph: 'product', tag: '0002_outbox_occurred_index', indexes: [['outbox_events_occurred_idx', 'outbox_events']] },
  { subgraph: 'account', tag: '0006_outbox_occurred_index', indexes: [['outbox_events_occurred_idx', 'outbox_events']] },
  {
    subgraph: 'app-management',
    tag: '0005_message_retention',
    indexes: [
      ['outbox_events_occurred_idx', 'outbox_events'],
      ['message_records_occurred_idx', 'message_records'],
    ],
  },
] as const;

/** A copy of a subgraph's migrations folder whose journal ends just before `tag`. */
function migrationsBefore(subgraph: string, tag: string): string {
  const source = migrationsFolder(subgraph);
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), `portico-migrations-${subgraph}-`));
  fs.cpSync(source, copy, { recursive: true });
  const journalFile = path.join(copy, 'meta', '_journal.json');
  const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag === tag);
  expect(at).toBeGreaterThan(0);
  fs.writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, at) }));
  return copy;
}

test.each(RETENTION_INDEXES)('the $subgraph migration $tag keeps the index an operator built beforehand with CREATE INDEX CONCURRENTLY', async ({ subgraph, tag, indexes }) => {
  const database = (await createTestDatabase())!;
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  const db = await openPostgres(database.url, 2, 'test');
  const before = migrationsBefore(subgraph, tag);
  try {
    const schema = pgSchemaName(subgraph);
    const q = `"${schema}"`;
    // The database as the previous release left it.
    await migrate(drizzle({ client: admin }), { migrationsFolder: before, migrationsSchema: 'portico_migrations', migrationsTable: schema });
    const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder(subgraph), 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] };
    const entry = journal.entries.find((e) => e.tag === tag)!;
    for (const [, table] of indexes) {
      const exists = await admin.query(`select 1 from pg_tables where schemaname = $1 and tablename = $2`, [schema, table]);
      expect(exists.rows).toHaveLength(1);
    }

    // The operator's step, before deploying the release (outside a transaction, as CONCURRENTLY needs).
    for (const [index, table] of indexes) await admin.query(`create index concurrently if not exists ${index} on ${q}.${table} (occurred_at)`);

    await db.migrate(subgraph);
    const applied = await admin.query<{ n: string }>(`select count(*) as n from portico_migrations.${q} where created_at = $1`, [entry.when]);
    expect(Number(applied.rows[0]!.n)).toBe(1);
    for (const [index, table] of indexes) {
      const found = await admin.query<{ indexdef: string }>(`select indexdef from pg_indexes where schemaname = $1 and indexname = $2`, [schema, index]);
      expect(found.rows).toHaveLength(1);
      expect(found.rows[0]!.indexdef).toMatch(new RegExp(`ON "?${schema}"?\\.${table} USING btree \\(occurred_at\\)$`));
      const valid = await admin.query<{ indisvalid: boolean }>(`select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`, [schema, index]);
      expect(valid.rows[0]!.indisvalid).toBe(true);
    }
  } finally {
    await admin.end();
    await db.close();
    await database.drop();
    fs.rmSync(before, { recursive: true, force: true });
  }
});
