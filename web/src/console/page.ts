/**
 * A console route's page, loaded when first visited (its own chunk), as the portal's routes.tsx
 * does: the router fetches the chunk before it shows the page, so the current page stays until the
 * next one is there.
 */
import type { ComponentType } from 'react';

export function page(load: () => Promise<{ default: ComponentType }>) {
  return { lazy: async () => ({ Component: (await load()).default }) };
}
