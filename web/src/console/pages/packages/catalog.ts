/** Which fields of the API each scope opens: the catalog read the other way round, for the package editor. */

/** Scope name → the coordinates of the fields that name it in any of their alternatives, sorted. */
// Structural, not the generated type: tests import this file under Node's module resolution.
export function fieldsByScope(fields: { coordinate: string; requiredScopes: string[][] }[]): Map<string, string[]> {
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
