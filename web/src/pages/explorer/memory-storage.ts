/**
 * GraphiQL keeps its tabs, query history and headers in `localStorage` by default. The explorer's
 * requests carry the app's sandbox token; nothing of a session may outlive the page in the browser's
 * storage, so GraphiQL gets this store instead: it lives as long as the page.
 */
import type { Storage } from '@graphiql/toolkit';

export function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
    clear: () => items.clear(),
    get length() {
      return items.size;
    },
  };
}
