/**
 * An app's IP allow list: what is written (validated and normalized here), by whom (the app itself
 * with its own token, or an operator with a reason), and the audit of each change. The gateway
 * enforces it (gateway/plugins/ip-allowlist.ts) from AppAccess.ipAllowList.
 */
import ipaddr from 'ipaddr.js';
import { eq } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { ErrorCode, PorticoError, badInput, forbidden, notFound } from '../../core/errors.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import { appLevelCaller, operatorActor } from './callers.js';
import { audit } from './audit.js';
import { apps, type AppRow } from './tables.js';

/** Entries one app may list: enough for any real deployment's egress addresses, small enough to check in microseconds. */
export const MAX_ALLOW_LIST_ENTRIES = 100;

const badEntry = (entry: string, why: string) =>
  new PorticoError(ErrorCode.BAD_USER_INPUT, `IP allow list entry "${entry}" ${why}`, { field: 'entries', entry });

/**
 * One entry in its canonical form, or a BAD_USER_INPUT naming it: a dotted-quad IPv4 or an IPv6
 * address (an IPv4-mapped one as IPv4), optionally with a prefix length. A range is stored as its
 * network address (`10.1.2.3/8` as `10.0.0.0/8`), a single-address range as the address. Only the
 * plain forms: `127.1` or `0x7f.0.0.1` parse as addresses in some libraries and read as typos to people,
 * and a zone index (`fe80::1%eth0`) means nothing off the host that wrote it.
 */
export function normalizeAllowListEntry(raw: string): string {
  const entry = raw.trim();
  if (entry.length > 64 || /[\u0000-\u001f\u007f]/.test(entry)) throw badEntry(entry.slice(0, 64), 'is not an IPv4 or IPv6 address or CIDR range');
  if (entry.includes('%')) throw badEntry(entry, 'has a zone index (%...), which is only meaningful on one host');
  const slash = entry.indexOf('/');
  const addressText = slash < 0 ? entry : entry.slice(0, slash);
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  if (ipaddr.IPv4.isValidFourPartDecimal(addressText)) address = ipaddr.IPv4.parse(addressText);
  else if (ipaddr.IPv6.isValid(addressText)) address = ipaddr.IPv6.parse(addressText);
  else throw badEntry(entry, 'is not an IPv4 or IPv6 address or CIDR range');
  let bits = address.kind() === 'ipv4' ? 32 : 128;
  if (slash >= 0) {
    const prefix = entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) throw badEntry(entry, `has a prefix length that is not 0 to ${bits}`);
    bits = Number(prefix);
  }
  // Node reports IPv4 peers of a dual-stack socket as ::ffff:a.b.c.d; the gateway compares them as IPv4.
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    address = (address as ipaddr.IPv6).toIPv4Address();
    bits -= 96;
  }
  const full = address.kind() === 'ipv4' ? 32 : 128;
  if (bits === full) return address.toString();
  const network = address.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${bits}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${bits}`);
  return `${network.toString()}/${bits}`;
}

/** A whole list, normalized, without duplicates, in the order given. */
export function normalizeAllowList(entries: readonly string[]): string[] {
  if (entries.length > MAX_ALLOW_LIST_ENTRIES) throw badInput(`An IP allow list has at most ${MAX_ALLOW_LIST_ENTRIES} entries (${entries.length} given)`, 'entries');
  return [...new Set(entries.map(normalizeAllowListEntry))];
}

export function createIpAllowListStore(db: Db) {
  return {
    /** Replaces the list; `actor` is `app:<key>` or `operator:<id>`. Nothing changes when an entry is bad. */
    async setIpAllowList(actor: string, input: { appKey: string; entries: readonly string[]; reason: string | null }): Promise<AppRow> {
      const list = normalizeAllowList(input.entries);
      return db.transaction(async (tx) => {
        const [current] = await tx.select().from(apps).where(eq(apps.key, input.appKey)).for('update');
        if (!current) throw notFound('App', input.appKey);
        const [updated] = await tx.update(apps).set({ ipAllowList: list, updatedAt: new Date() }).where(eq(apps.id, current.id)).returning();
        await audit(tx, {
          actor,
          action: 'app.ip_allow_list_changed',
          targetType: 'app',
          targetId: current.key,
          reason: input.reason,
          details: { before: current.ipAllowList, after: list },
        });
        return updated!;
      });
    },
  };
}

export type IpAllowListStore = ReturnType<typeof createIpAllowListStore>;

type Context = SubgraphContext<unknown>;

export function createIpAllowListResolvers(store: IpAllowListStore) {
  return {
    Mutation: {
      setIpAllowList: (_: unknown, { input }: { input: { appKey?: string | null; entries: string[]; reason?: string | null } }, ctx: Context) => {
        if (ctx.caller.kind === 'operator') {
          const actor = operatorActor(ctx.caller);
          if (!input.appKey) throw badInput('Operators name the app (appKey)', 'appKey');
          return store.setIpAllowList(actor, { appKey: input.appKey, entries: input.entries, reason: v.text(input.reason ?? '', 'reason', { max: 500 }) });
        }
        const appKey = appLevelCaller(ctx.caller, 'An app sets its own IP allow list');
        if (input.appKey && input.appKey !== appKey) throw forbidden('An app sets only its own IP allow list');
        return store.setIpAllowList(`app:${appKey}`, { appKey, entries: input.entries, reason: v.optionalText(input.reason, 'reason', 500) });
      },
    },
  };
}
