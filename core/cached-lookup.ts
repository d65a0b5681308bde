/**
 * A lookup answered from memory for a short time: concurrent callers of one key share a single
 * load, a failed load is not remembered, and the number of keys is bounded (oldest go first).
 * The gateway uses it for what it must ask subgraphs on every request (app access, authorizations).
 */
export function cachedLookup<V>(load: (key: string) => Promise<V>, options: { ttlMs: number; maxEntries?: number }) {
  const maxEntries = options.maxEntries ?? 50_000;
  const entries = new Map<string, { value: Promise<V>; expiresAt: number }>();
  return function lookup(key: string): Promise<V> {
    const now = Date.now();
    const hit = entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
    const value = load(key);
    entries.set(key, { value, expiresAt: now + options.ttlMs });
    value.catch(() => entries.delete(key));
    return value;
  };
}
