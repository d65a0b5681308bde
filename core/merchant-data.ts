/**
 * Deleting every row one merchant has in one subgraph's schema: what resetting a developer's sandbox
 * merchant does in each subgraph. Found from the catalog rather than listed, so a table a subgraph
 * adds later (with a merchant_id column, as every table of merchant data has) is emptied too, and
 * in the order its foreign keys need (rows that point at others go first). The outbox is kept: it is
 * the message channel's log, positions only go forward, and new events follow the old ones.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from './db.js';

const KEPT = new Set(['outbox_events']);

/** node-postgres answers `{ rows, rowCount }`, PGlite `{ rows, affectedRows }`. */
type Result<T> = { rows?: T[]; rowCount?: number | null; affectedRows?: number };
const rowsOf = <T>(result: unknown): T[] => (result as Result<T>).rows ?? [];

/** Inside the caller's transaction. Returns the rows deleted per table. */
export async function deleteMerchantRows(tx: Executor, schema: string, merchantId: string): Promise<Record<string, number>> {
  const tables = rowsOf<{ table_name: string }>(
    await tx.execute(sql`select table_name from information_schema.columns where table_schema = ${schema} and column_name = 'merchant_id' order by table_name`),
  )
    .map((r) => r.table_name)
    .filter((t) => !KEPT.has(t));
  const references = rowsOf<{ child: string; parent: string }>(
    await tx.execute(sql`
      select child.relname as child, parent.relname as parent
      from pg_constraint c
      join pg_class child on child.oid = c.conrelid
      join pg_class parent on parent.oid = c.confrelid
      join pg_namespace n on n.oid = child.relnamespace
      where c.contype = 'f' and n.nspname = ${schema}`),
  );
  const remaining = new Set(tables);
  const deleted: Record<string, number> = {};
  while (remaining.size) {
    // A table no remaining table points at can go now.
    const next = [...remaining].find((t) => !references.some((r) => r.parent === t && r.child !== t && remaining.has(r.child)));
    if (!next) throw new Error(`Tables of ${schema} reference each other in a cycle: ${[...remaining].join(', ')}`);
    const result = await tx.execute(sql`delete from ${sql.identifier(schema)}.${sql.identifier(next)} where merchant_id = ${merchantId}`);
    deleted[next] = (result as Result<unknown>).rowCount ?? (result as Result<unknown>).affectedRows ?? 0;
    remaining.delete(next);
  }
  return deleted;
}
