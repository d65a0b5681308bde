/**
 * Lookups shared by the operations of one subgraph request.
 *
 * A request to a subgraph normally carries one caller's operation. A context batch (the gateway
 * resolving the events of many subscribers at once, see core/subgraph.ts) carries up to 50
 * operations of different callers, each run with its own context and its own DataLoaders. Looked up
 * one operation at a time, 50 subscribers' `order` entities cost 50 SQL statements, and on this
 * machine the system call that sends each one costs more than the query itself.
 *
 * So the per-operation DataLoaders of merchant data pass their batches on to a loader shared by the
 * request, keyed by (merchant, id): one statement finds the rows of every operation, matching each
 * (merchant_id, id) pair in SQL. Each key carries its own operation's merchant, taken from that
 * operation's verified caller, and a row is handed back only under the pair it belongs to, so an
 * operation never sees another merchant's rows. The shared loader keeps no cache (each operation's
 * own DataLoader does, as before); it only batches.
 */
import DataLoader from 'dataloader';
import { isWellFormedId } from './validate.js';

/** One batch of a shared lookup: parallel lists of merchant ids and ids (pair i is merchantIds[i], ids[i]). */
export type MerchantPairs = {
  merchantIds: string[];
  ids: string[];
};

export interface MerchantLookup<Row> {
  /** Rows of one merchant by ids (the usual request: one caller). */
  one(merchantId: string, ids: readonly string[]): Promise<Row[]>;
  /** Rows of (merchant, id) pairs of well-formed ids, in any order; rows of no other pair. */
  pairs(pairs: MerchantPairs): Promise<Row[]>;
  /** The merchant a row belongs to. */
  merchantOf(row: Row): string;
  /** The id a row was looked up by (its own id, or its parent's). */
  idOf(row: Row): string;
}

/** `pick` for a lookup of one row per id (an entity), and for a lookup of a list per id (children). */
export const firstRow = <T>(rows: T[]): T | null => rows[0] ?? null;
export const allRows = <T>(rows: T[]): T[] => rows;
/** `merchantOf` for rows with a merchantId column. */
export const rowMerchant = (row: { merchantId: string }): string => row.merchantId;

const pairKey = (merchantId: string, id: string) => `${merchantId} ${id}`;

function groupBy<Row>(rows: readonly Row[], key: (row: Row) => string): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

export class RequestLookups {
  private readonly shared = new Map<string, DataLoader<string, unknown[]>>();

  /** @param callers whether the request carries operations of several callers (a context batch). */
  constructor(private readonly callers: 'one' | 'several') {}

  /**
   * A DataLoader for one operation whose caller acts for `merchantId` (null: it finds nothing); in a
   * request of several callers, it batches through the request's shared lookup named `name`.
   * `pick` turns the rows found for one id into the value (the row or null; or the list).
   */
  merchantLoader<Row, V>(name: string, merchantId: string | null, lookup: MerchantLookup<Row>, pick: (rows: Row[]) => V): DataLoader<string, V> {
    if (this.callers === 'one') {
      // One caller: nothing to share; one merchant's statement, as cheap as before batches existed.
      return new DataLoader<string, V>(async (ids) => {
        if (!merchantId) return ids.map(() => pick([]));
        const groups = groupBy(await lookup.one(merchantId, ids), lookup.idOf);
        return ids.map((id) => pick(groups.get(id.toLowerCase()) ?? []));
      });
    }
    const shared = this.sharedLoader(name, lookup);
    const merchant = merchantId?.toLowerCase() ?? null;
    return new DataLoader<string, V>(async (ids) => {
      if (!merchant) return ids.map(() => pick([]));
      const found = await shared.loadMany(ids.map((id) => pairKey(merchant, id.toLowerCase())));
      return found.map((rows) => (rows instanceof Error ? rows : pick(rows as Row[])));
    });
  }

  private sharedLoader<Row>(name: string, lookup: MerchantLookup<Row>): DataLoader<string, unknown[]> {
    let loader = this.shared.get(name);
    if (loader) return loader;
    const batch = async (keys: readonly string[]): Promise<Row[][]> => {
      const pairs: MerchantPairs = { merchantIds: [], ids: [] };
      for (const key of keys) {
        const space = key.indexOf(' ');
        const merchantId = key.slice(0, space);
        const id = key.slice(space + 1);
        // An id that is no uuid finds nothing (and never reaches SQL as a bad uuid literal).
        if (isWellFormedId(merchantId) && isWellFormedId(id)) {
          pairs.merchantIds.push(merchantId);
          pairs.ids.push(id);
        }
      }
      // A row is handed back only under its own (merchant, id) pair.
      const byPair = groupBy(pairs.ids.length ? await lookup.pairs(pairs) : [], (row) => pairKey(lookup.merchantOf(row), lookup.idOf(row)));
      return keys.map((key) => byPair.get(key) ?? []);
    };
    // The batch waits for the next turn of the event loop, so that every operation has asked.
    loader = new DataLoader<string, unknown[]>(batch, { cache: false, batchScheduleFn: (dispatch) => setImmediate(dispatch) });
    this.shared.set(name, loader);
    return loader;
  }
}
