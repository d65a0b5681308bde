/**
 * The address a request comes from, as the access layer sees it (IP allow lists, per-IP limits,
 * call reports). `X-Forwarded-For` is believed only when the connection comes from a trusted proxy
 * (TRUSTED_PROXIES), and then only up to the first address that is not itself a trusted proxy,
 * read from the right: every proxy appends the address it saw, so the entries left of an untrusted
 * one were written by the client and prove nothing.
 */
import type http from 'node:http';
import ipaddr from 'ipaddr.js';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;
export type IpRange = [IpAddress, number];

/** Parses an address, turning IPv4-mapped IPv6 (`::ffff:10.0.0.1`, as Node reports IPv4 peers on a dual-stack socket) into IPv4. */
export function parseAddress(text: string): IpAddress | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  const address = ipaddr.parse(text);
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

/** An address or a CIDR range (`203.0.113.7`, `10.0.0.0/8`, `2001:db8::/32`); undefined when it is neither. */
export function parseRange(text: string): IpRange | undefined {
  const entry = text.trim();
  if (entry.includes('/')) {
    if (!ipaddr.isValidCIDR(entry)) return undefined;
    const [address, bits] = ipaddr.parseCIDR(entry);
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
      return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
    }
    return [address, bits];
  }
  const address = parseAddress(entry);
  return address ? [address, address.kind() === 'ipv4' ? 32 : 128] : undefined;
}

export function inRanges(address: IpAddress, ranges: readonly IpRange[]): boolean {
  for (const [base, bits] of ranges) {
    if (base.kind() === address.kind() && address.match(base as never, bits)) return true;
  }
  return false;
}

/** Returns a function that tells a request's client address (normalized text, IPv4 as dotted quad). */
export function createClientAddress(trustedProxies: readonly string[]): (req: http.IncomingMessage) => string {
  const trusted = trustedProxies.map((entry) => {
    const range = parseRange(entry);
    if (!range) throw new Error(`Invalid configuration: TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range`);
    return range;
  });
  return (req) => {
    const peer = parseAddress(req.socket.remoteAddress ?? '');
    if (!peer) return req.socket.remoteAddress ?? 'unknown';
    if (!trusted.length || !inRanges(peer, trusted)) return peer.toString();
    const forwarded = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').map((hop) => hop.trim()).filter(Boolean);
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseAddress(hops[i]!);
      // A hop that is no address at all: stop at the last address a trusted proxy vouched for.
      if (!hop) break;
      client = hop;
      if (!inRanges(hop, trusted)) break;
    }
    return client.toString();
  };
}
