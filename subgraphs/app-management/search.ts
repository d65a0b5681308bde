/** Operators' free-text search of their lists: "contains", case-insensitive, with LIKE's wildcards taken literally. */
import * as v from '../../core/validate.js';

/**
 * The ILIKE pattern matching `search` anywhere in a value, or undefined for no search (absent or
 * blank). `%`, `_` and the escape character itself are escaped, so "100%" finds "100%", not "1000".
 */
export function containsPattern(search: string | null | undefined, field = 'search'): string | undefined {
  const text = v.optionalText(search, field, 200);
  if (!text) return undefined;
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
