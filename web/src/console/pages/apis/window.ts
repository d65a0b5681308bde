/** Where an offline API's window stands at a moment: what the list's badge says. */

export type WindowState = 'OFFLINE' | 'PLANNED' | 'BROUGHT_BACK' | 'ENDED';

// Structural, not the generated type: tests import this file under Node's module resolution.
export function windowState(api: { active: boolean; startsAt: string; endsAt: string | null; restoredAt: string | null }, now: number): WindowState {
  if (api.restoredAt) return 'BROUGHT_BACK';
  if (api.active) return 'OFFLINE';
  if (api.endsAt && Date.parse(api.endsAt) <= now) return 'ENDED';
  return Date.parse(api.startsAt) > now ? 'PLANNED' : 'OFFLINE';
}
