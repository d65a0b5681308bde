/**
 * Cursor connections with keyset pagination: a cursor names the sort and the last row's sort key, so
 * pages stay stable while rows are inserted, and a cursor from another sort is refused.
 */
import { asc, desc, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { badInput } from './errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE}`, 'first');
  }
  return first;
}

export type CursorValue = string | number;

export function encodeCursor(sort: string, values: CursorValue[]): string {
  return Buffer.from(JSON.stringify([sort, ...values])).toString('base64url');
}

/** A value a cursor can hold: a string, or a safe integer (cursors hold ids and positions, never fractions). */
const isCursorValue = (value: unknown): value is CursorValue => typeof value === 'string' || Number.isSafeInteger(value);

/** Decodes a cursor made for `sort` with `arity` sort values, or throws BAD_USER_INPUT. */
export function decodeCursor(cursor: string, sort: string, arity: number): CursorValue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badInput('after is not a valid cursor', 'after');
  }
  if (!Array.isArray(parsed) || parsed[0] !== sort || parsed.length !== arity + 1 || !parsed.slice(1).every(isCursorValue)) {
    throw badInput('after is not a cursor of this list and sort order', 'after');
  }
  return parsed.slice(1) as CursorValue[];
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Whether `value` is a timestamp exactly as `Date.toISOString` writes it, years 0001 to 9999 (the
 * ones PostgreSQL reads back). `Date.parse` is not enough: it accepts "foo 1" and "2020-02-30", which
 * a ::timestamptz cast refuses with an internal error instead of BAD_USER_INPUT.
 */
export function isCursorTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || !ISO_TIMESTAMP.test(value) || value.startsWith('0000')) return false;
  const at = new Date(value);
  return !Number.isNaN(at.getTime()) && at.toISOString() === value; // the round trip refuses 2020-02-30
}

export interface Connection<T> {
  /** `cursor` is computed only when a query selects it (GraphQL calls function-valued fields). */
  edges: { cursor: () => string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null; startCursor: string | null; hasPreviousPage: boolean };
}

/** Builds a connection from `limit + 1` fetched rows. */
export function toConnection<T>(rows: T[], limit: number, cursorOf: (row: T) => string, hasPrevious: boolean): Connection<T> {
  const page = rows.slice(0, limit);
  const first = page[0];
  const last = page[page.length - 1];
  return {
    edges: page.map((node) => ({ cursor: () => cursorOf(node), node })),
    nodes: page,
    pageInfo: {
      hasNextPage: rows.length > limit,
      hasPreviousPage: hasPrevious,
      startCursor: first ? cursorOf(first) : null,
      endCursor: last ? cursorOf(last) : null,
    },
  };
}

/** A sort order of a list: a timestamp column, tie-broken by the row's uuid id. */
export interface TimeSort<Row> {
  column: AnyPgColumn;
  direction: 'asc' | 'desc';
  /** The row's value of `column`. */
  valueOf(row: Row): Date;
}

/**
 * Keyset paging over a (timestamp, id) order: the ORDER BY, and the condition "after the row the
 * cursor names" when there is one. Callers fetch `limit + 1` rows to learn whether a next page exists.
 */
export function timeKeyset<Row>(sort: TimeSort<Row>, idColumn: AnyPgColumn, sortName: string, after: string | null | undefined) {
  const orderBy = sort.direction === 'desc' ? [desc(sort.column), desc(idColumn)] : [asc(sort.column), asc(idColumn)];
  if (!after) return { orderBy, after: undefined };
  const { at, id } = decodeTimeCursor(after, sortName);
  const condition =
    sort.direction === 'desc'
      ? sql`(${sort.column}, ${idColumn}) < (${at}::timestamptz, ${id}::uuid)`
      : sql`(${sort.column}, ${idColumn}) > (${at}::timestamptz, ${id}::uuid)`;
  return { orderBy, after: condition };
}

/** The cursor of a row in a (timestamp, id) order. */
export function timeCursor<Row extends { id: string }>(sort: TimeSort<Row>, sortName: string, row: Row): string {
  return encodeCursor(sortName, [sort.valueOf(row).toISOString(), row.id]);
}

/** Decodes a (timestamp, id) cursor, checking both parts so no malformed value reaches SQL. */
export function decodeTimeCursor(cursor: string, sort: string): { at: string; id: string } {
  const [at, id] = decodeCursor(cursor, sort, 2);
  if (!isCursorTimestamp(at) || typeof id !== 'string' || !isUuid(id)) throw badInput('after is not a cursor of this list and sort order', 'after');
  return { at, id };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);
