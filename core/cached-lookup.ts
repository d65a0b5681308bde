/**
 * A lookup answered from memory for a short time: concurrent callers of one key share a single
 * load, a failed load is not remembered, and the number of keys is bounded (oldest go first).
 * The gateway uses it for what it must ask subgraphs on every request (app access, authorizations).
 */
import type { Clock } from './clock.js';

export interface CachedLookupOptions {
  /** How long an answer is kept (0: every lookup asks again). */
  ttlMs: number;
  /** Keys kept at most (default 50,000). */
  maxEntries?: number;
  /** Whose time the answers' lifetimes are measured in. */
  clock: Clock;
}

export function cachedLookup<V>(load: (key: string) => Promise<V>, options: CachedLookupOptions) {
  const maxEntries = options.maxEntries ?? 50_000;
  const { clock, ttlMs } = options;
  const entries = new Map<string, { value: Promise<V>; expiresAt: number }>();
  return function lookup(key: string): Promise<V> {
    const now = clock.now();
    const hit = entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
    const value = load(key);
    entries.set(key, { value, expiresAt: now + ttlMs });
    value.catch(() => entries.delete(key));
    return value;
  };
}
