/**
 * An order page's children (lines, shipments, after-sales cases) read in the page's own statement.
 *
 * Loaded by their DataLoaders, each kind of child costs the page one more statement after the list:
 * the ISV order page with shipments and cases selected ran four, and on these machines the round
 * trip of a statement (the system calls that send it and wake the server, the server's own work per
 * statement) cost more than the rows it brings. So when the list's selection asks for them, the
 * list statement brings each order's children along as JSON arrays (correlated subqueries, filtered
 * by the order's own merchant as every lookup is), and the resolver primes the DataLoaders with
 * them: the fields resolve exactly as before, from the same rows in the same order.
 */
import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { FieldNode, FragmentDefinitionNode, SelectionSetNode } from 'graphql';
import { afterSaleCases, orderLines, orders, shipments, type AfterSaleCaseRow, type OrderLineRow, type OrderRow, type ShipmentRow } from './tables.js';

/** Which children the page asks for. */
export interface ChildrenWanted {
  lines: boolean;
  shipments: boolean;
  cases: boolean;
}

export interface OrderChildren {
  lines?: OrderLineRow[];
  shipments?: ShipmentRow[];
  cases?: AfterSaleCaseRow[];
}

export const NO_CHILDREN: ChildrenWanted = { lines: false, shipments: false, cases: false };

/** A key for the prepared statement of a list shape with these children. */
export const childrenKey = (wanted: ChildrenWanted) => `${wanted.lines ? 'l' : ''}${wanted.shipments ? 's' : ''}${wanted.cases ? 'c' : ''}`;

/** The part of a resolver's info this reads: the field's nodes and the document's fragments. */
export interface SelectionInfo {
  fieldNodes: readonly FieldNode[];
  fragments: Record<string, FragmentDefinitionNode>;
}

/** The fields (by name, through fragments) selected directly in these selection sets. */
function fieldsOf(sets: readonly (SelectionSetNode | undefined)[], fragments: SelectionInfo['fragments']): FieldNode[] {
  const found: FieldNode[] = [];
  const visit = (set: SelectionSetNode | undefined) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === 'Field') found.push(selection);
      else if (selection.kind === 'InlineFragment') visit(selection.selectionSet);
      else visit(fragments[selection.name.value]?.selectionSet);
    }
  };
  for (const set of sets) visit(set);
  return found;
}

/**
 * The children an order connection's selection asks for, under `nodes` or `edges { node }`.
 * A field under @skip or @include counts as selected: at worst the page reads rows it does not send.
 */
export function childrenWanted(info: SelectionInfo): ChildrenWanted {
  const at = (sets: readonly (SelectionSetNode | undefined)[], name: string) => fieldsOf(sets, info.fragments).filter((f) => f.name.value === name).map((f) => f.selectionSet);
  const connection = info.fieldNodes.map((node) => node.selectionSet);
  const orderFields = new Set(fieldsOf([...at(connection, 'nodes'), ...at(at(connection, 'edges'), 'node')], info.fragments).map((f) => f.name.value));
  return {
    lines: orderFields.has('lines'),
    shipments: orderFields.has('shipments') || orderFields.has('shipment'),
    cases: orderFields.has('afterSaleCases'),
  };
}

/**
 * A column of the list's order row, qualified by its table: drizzle leaves columns unqualified in a
 * one-table select, where inside the subquery they would name the child table's own columns.
 */
const ofOrder = (column: PgColumn) => sql`${sql.identifier(getTableName(orders))}.${sql.identifier(column.name)}`;

/** A JSON array of a child table's rows of the order, in the order its DataLoader returns them. */
function childArray(table: PgTable, merchantId: PgColumn, orderId: PgColumn, where: SQL | undefined, orderBy: SQL): SQL<Record<string, unknown>[]> {
  const self = sql.identifier(getTableName(table));
  return sql<Record<string, unknown>[]>`(select coalesce(json_agg(row_to_json(${self}) order by ${orderBy}), '[]'::json) from ${table} where ${merchantId} = ${ofOrder(orders.merchantId)} and ${orderId} = ${ofOrder(orders.id)}${where ? sql` and ${where}` : sql``})`;
}

/** The columns a list statement adds for the children wanted (named so they cannot meet an order column). */
export function childColumns(wanted: ChildrenWanted): Record<string, SQL<Record<string, unknown>[]>> {
  const columns: Record<string, SQL<Record<string, unknown>[]>> = {};
  // As store.ts's linesByOrderIds, shipments.ts's shipmentsOfOrders and after-sales.ts's casesOfOrders.
  if (wanted.lines) columns.childLines = childArray(orderLines, orderLines.merchantId, orderLines.orderId, undefined, sql`${orderLines.lineNo}`);
  if (wanted.shipments) columns.childShipments = childArray(shipments, shipments.merchantId, shipments.orderId, sql`${shipments.kind} = 'OUTBOUND'`, sql`${shipments.shippedAt}, ${shipments.id}`);
  if (wanted.cases) columns.childCases = childArray(afterSaleCases, afterSaleCases.merchantId, afterSaleCases.orderId, undefined, sql`${afterSaleCases.createdAt} desc, ${afterSaleCases.id} desc`);
  return columns;
}

/** Rows of a table from `row_to_json` objects (keyed by column name, values as JSON has them), as a select would map them. */
function rowsFromJson<Row>(table: PgTable) {
  const columns = Object.entries(getTableColumns(table));
  return (objects: Record<string, unknown>[]): Row[] =>
    objects.map((object) => {
      const row: Record<string, unknown> = {};
      for (const [key, column] of columns) {
        const value = object[column.name];
        row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
      }
      return row as Row;
    });
}

const linesFromJson = rowsFromJson<OrderLineRow>(orderLines);
const shipmentsFromJson = rowsFromJson<ShipmentRow>(shipments);
const casesFromJson = rowsFromJson<AfterSaleCaseRow>(afterSaleCases);

/** Splits a list statement's row (an order row with the columns of `childColumns`) into the order and its children. */
export function splitChildren(row: OrderRow): { order: OrderRow; children: OrderChildren } {
  const { childLines, childShipments, childCases, ...order } = row as OrderRow & { childLines?: unknown; childShipments?: unknown; childCases?: unknown };
  const children: OrderChildren = {};
  if (childLines !== undefined) children.lines = linesFromJson(childLines as Record<string, unknown>[]);
  if (childShipments !== undefined) children.shipments = shipmentsFromJson(childShipments as Record<string, unknown>[]);
  if (childCases !== undefined) children.cases = casesFromJson(childCases as Record<string, unknown>[]);
  return { order, children };
}
