/** Searching the reference: types and fields by name, coordinate, description or scope. */
import type { ApiReference, ReferenceField, ReferenceType } from './load-reference';

export type SearchHit = { kind: 'type'; type: ReferenceType; score: number } | { kind: 'field'; type: ReferenceType; field: ReferenceField; score: number };

/** Best first: an exact name, then a name that starts with the words, then one that holds them, then a description or scope. */
export function searchReference(reference: ApiReference, text: string, limit = 60): SearchHit[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const query = words.join(' ');
  const scoreOf = (name: string, coordinate: string, description: string | null, scopes: string): number => {
    const lowerName = name.toLowerCase();
    const lowerCoordinate = coordinate.toLowerCase();
    if (lowerName === query || lowerCoordinate === query) return 100;
    if (lowerName.startsWith(query) || lowerCoordinate.startsWith(query)) return 80;
    const haystack = `${lowerCoordinate} ${(description ?? '').toLowerCase()} ${scopes}`;
    if (!words.every((w) => haystack.includes(w))) return 0;
    if (words.every((w) => lowerCoordinate.includes(w))) return 60;
    return 20;
  };
  const hits: SearchHit[] = [];
  for (const type of reference.types) {
    const typeScore = scoreOf(type.name, type.name, type.description, '');
    if (typeScore) hits.push({ kind: 'type', type, score: typeScore + 1 });
    for (const field of type.fields) {
      const scopes = (field.requiredScopes ?? []).flat().join(' ');
      const score = scoreOf(field.name, field.coordinate, field.description, scopes);
      if (score) hits.push({ kind: 'field', type, field, score });
    }
  }
  return hits.sort((a, b) => b.score - a.score || nameOf(a).localeCompare(nameOf(b))).slice(0, limit);
}

const nameOf = (hit: SearchHit) => (hit.kind === 'type' ? hit.type.name : hit.field.coordinate);
