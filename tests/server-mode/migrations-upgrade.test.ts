/**
 * Upgrading a database with large tables: the migrations that add the retention purge's indexes
 * create them only if they do not exist, so an operator can build them beforehand with
 * `CREATE INDEX CONCURRENTLY` (which does not block the writes a plain CREATE INDEX blocks for as
 * long as it runs), and the migration then keeps them. Here each subgraph's database is put back to
 * the state before that migration, the index is built concurrently, and the migrations run again.
 * PostgreSQL only: PGlite has no concurrent index builds.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { migrationsFolder, openPostgres, pgSchemaName } from '../../core/db.js';
import { createTestDatabase } from '../helpers/platform.js';

/**
 * The indexes of the retention purge, by subgraph, with the migration that adds them, and the
 * migrations after it (undone below with it: they change message_retention, which it creates, and
 * add the stream floor's and the push marks' columns to message_cursors, and the access layer's tables and app columns).
 */
const RETENTION_INDEXES = [
  { subgraph: 'order', tag: '0004_outbox_occurred_index', later: [], indexes: [['outbox_events_occurred_idx', 'outbox_events']] },
  { subgraph: 'product', tag: '0002_outbox_occurred_index', later: [], indexes: [['outbox_events_occurred_idx', 'outbox_events']] },
  { subgraph: 'account', tag: '0006_outbox_occurred_index', later: [], indexes: [['outbox_events_occurred_idx', 'outbox_events']] },
  {
    subgraph: 'app-management',
    tag: '0005_message_retention',
    later: ['0006_message_retention_per_type', '0007_message_stream_floor', '0008_message_pushed_marks', '0009_access_layer'],
    indexes: [
      ['outbox_events_occurred_idx', 'outbox_events'],
      ['message_records_occurred_idx', 'message_records'],
    ],
  },
] as const;

test.each(RETENTION_INDEXES)('the $subgraph migration $tag keeps the index an operator built beforehand with CREATE INDEX CONCURRENTLY', async ({ subgraph, tag, later, indexes }) => {
  const database = (await createTestDatabase())!;
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  const db = await openPostgres(database.url, 2, 'test');
  try {
    await db.migrate(subgraph);
    const schema = pgSchemaName(subgraph);
    const q = `"${schema}"`;
    const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder(subgraph), 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] };
    const entry = journal.entries.find((e) => e.tag === tag)!;
    expect(entry).toBeDefined();
    // The database as it was before the migration (a later migration must be undone by hand too, and listed).
    expect(journal.entries.slice(journal.entries.indexOf(entry) + 1).map((e) => e.tag)).toEqual(later);
    await admin.query('begin');
    if (tag === '0005_message_retention') {
      await admin.query(`drop table ${q}.message_retention`);
      await admin.query(`alter table ${q}.message_cursors drop column floor_position, drop column floor_for, drop column pushed_position`);
      // 0009_access_layer
      for (const table of ['app_status_changes', 'app_violations', 'call_reports', 'offline_apis', 'tier_limits']) await admin.query(`drop table ${q}.${table}`);
      await admin.query(
        `alter table ${q}.apps drop column secret_sealed, drop column previous_secret_sealed, drop column signing_public_key, drop column signature_required, drop column status_before_suspension, drop column bucket_size_override, drop column restore_rate_override, drop column daily_quota_override`,
      );
    }
    for (const [index] of indexes) await admin.query(`drop index ${q}.${index}`);
    await admin.query(`delete from portico_migrations.${q} where created_at >= $1`, [entry.when]);
    await admin.query('commit');

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
  }
});
