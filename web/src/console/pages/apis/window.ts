/** Where an offline API's window stands at a moment: what the list's badge says. */
import type { OfflineApi } from './operations';

export type WindowState = 'OFFLINE' | 'PLANNED' | 'BROUGHT_BACK' | 'ENDED';

export function windowState(api: Pick<OfflineApi, 'active' | 'startsAt' | 'endsAt' | 'restoredAt'>, now: number): WindowState {
  if (api.restoredAt) return 'BROUGHT_BACK';
  if (api.active) return 'OFFLINE';
  if (api.endsAt && Date.parse(api.endsAt) <= now) return 'ENDED';
  return Date.parse(api.startsAt) > now ? 'PLANNED' : 'OFFLINE';
}
