/**
 * Cursor connections with keyset pagination: a cursor names the sort and the last row's sort key, so
 * pages stay stable while rows are inserted, and a cursor from another sort is refused.
 */
import { sql, type SQL } from 'drizzle-orm';
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

/** Decodes a cursor made for `sort` with `arity` sort values, or throws BAD_USER_INPUT. */
export function decodeCursor(cursor: string, sort: string, arity: number): CursorValue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badInput('after is not a valid cursor', 'after');
  }
  if (
    !Array.isArray(parsed) ||
    parsed[0] !== sort ||
    parsed.length !== arity + 1 ||
    !parsed.slice(1).every((v) => typeof v === 'string' || typeof v === 'number')
  ) {
    throw badInput('after is not a cursor of this list and sort order', 'after');
  }
  return parsed.slice(1) as CursorValue[];
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

/** The keyset condition "after this row" for a (sort column, id) ordering. */
export function afterRow(column: AnyPgColumn, idColumn: AnyPgColumn, direction: 'asc' | 'desc', at: string, id: string): SQL {
  return direction === 'desc'
    ? sql`(${column}, ${idColumn}) < (${at}::timestamptz, ${id}::uuid)`
    : sql`(${column}, ${idColumn}) > (${at}::timestamptz, ${id}::uuid)`;
}

/** Decodes a (timestamp, id) cursor, checking both parts so no malformed value reaches SQL. */
export function decodeTimeCursor(cursor: string, sort: string): { at: string; id: string } {
  const [at, id] = decodeCursor(cursor, sort, 2) as [string, string];
  if (Number.isNaN(Date.parse(at)) || !isUuid(id)) throw badInput('after is not a cursor of this list and sort order', 'after');
  return { at, id };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);
