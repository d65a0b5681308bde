/**
 * IP allow list: an app whose list is not empty may call only from the addresses and CIDR ranges
 * on it. Every request of the app runs this stage (HTTP, the WebSocket upgrade, the SSE request, and
 * each re-check of an open subscription, which then ends when the list no longer admits it). The
 * address is the one the request-id stage noted (core/client-address.ts: X-Forwarded-For only from
 * TRUSTED_PROXIES). Refused: HTTP 403, IP_NOT_ALLOWED, naming the address seen. Operator tokens
 * are not the app's calls and are not subject to it.
 */
import { inRanges, parseAddress, parseRange, type IpRange } from '../../core/client-address.js';
import { HttpError } from '../../core/http.js';
import type { AppAccess } from './app-authorization.js';
import type { GatewayPlugin } from './types.js';

export interface IpAllowlistOptions {
  /** What app-management says of an app, cached (APP_ACCESS_CACHE_MS) and shared with the other stages; null for an unknown app. */
  appAccess(appKey: string): Promise<AppAccess | null>;
}

export function useIpAllowlist(options: IpAllowlistOptions): GatewayPlugin {
  // Parsed once per cached answer: the same AppAccess object serves every request until the cache
  // asks again, and a new answer (a changed list) is a new object.
  const rangesOf = new WeakMap<AppAccess, readonly IpRange[]>();
  const allowedRanges = (access: AppAccess) => {
    let ranges = rangesOf.get(access);
    if (!ranges) {
      // Entries are validated when written; one that still does not parse admits nothing (closed, not open).
      ranges = access.ipAllowList.map(parseRange).filter((range): range is IpRange => range !== undefined);
      rangesOf.set(access, ranges);
    }
    return ranges;
  };

  return {
    name: 'ip-allowlist',
    async onRequest(_req, state) {
      const caller = state.caller!;
      if (caller.kind !== 'app') return;
      const access = await options.appAccess(caller.appKey);
      // An unknown app is app-authorization's to refuse, with its own code.
      if (!access || !access.ipAllowList.length) return;
      const address = parseAddress(state.clientAddress);
      if (address && inRanges(address, allowedRanges(access))) return;
      throw new HttpError(
        403,
        `App ${caller.appKey} may not be called from ${state.clientAddress}: the address is not on its IP allow list`,
        'IP_NOT_ALLOWED',
      );
    },
  };
}
