/** Which fields of the API each scope opens: the catalog read the other way round, for the package editor. */
import type { CatalogField } from './operations';

/** Scope name → the coordinates of the fields that name it in any of their alternatives, sorted. */
export function fieldsByScope(fields: CatalogField[]): Map<string, string[]> {
  const byScope = new Map<string, string[]>();
  for (const field of fields) {
    const scopes = new Set(field.requiredScopes.flat());
    for (const scope of scopes) {
      const list = byScope.get(scope) ?? [];
      list.push(field.coordinate);
      byScope.set(scope, list);
    }
  }
  for (const list of byScope.values()) list.sort();
  return byScope;
}
