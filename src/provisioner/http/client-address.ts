/**
 * The client address the rate limiter keys on. X-Forwarded-For is read only through proxies the
 * operator named (TRUSTED_PROXIES): a list of addresses/CIDRs, or a hop count. Anyone else's
 * X-Forwarded-For is ignored, so a direct caller cannot pick its own key. IPv6 clients are keyed
 * by their /64 (one subscriber usually holds a whole /64).
 */
import { isIP } from 'node:net';
import type { TrustedProxies } from '../settings/trusted-proxies.ts';

/** "::ffff:1.2.3.4" -> "1.2.3.4"; brackets and zone ids dropped; undefined when not an IP. */
function normalize(address: string | undefined): string | undefined {
  if (!address) return undefined;
  let text = address.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (mapped) text = mapped[1] as string;
  return isIP(text) ? text : undefined;
}

function isTrusted(proxies: Extract<TrustedProxies, { kind: 'list' }>, address: string): boolean {
  return proxies.blockList.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/** The client's address: the socket's, or read back through trusted proxies only. */
export function resolveClientAddress(socketAddress: string | undefined, forwardedFor: string | undefined, proxies: TrustedProxies): string | undefined {
  const socket = normalize(socketAddress);
  if (proxies.kind === 'none' || socket === undefined) return socket;
  // Nearest hop last: "client, proxy1, proxy2" as appended by each proxy in turn.
  const chain = (forwardedFor ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  if (proxies.kind === 'hops') {
    // The socket is hop 1; each further trusted hop vouches for the entry before it.
    let current = socket;
    for (let hop = 1; hop < proxies.count + 1 && chain.length > 0; hop++) {
      const next = normalize(chain.pop());
      if (next === undefined) return current;
      current = next;
    }
    return current;
  }
  let current = socket;
  while (isTrusted(proxies, current) && chain.length > 0) {
    const next = normalize(chain.pop());
    // A malformed entry from a trusted proxy: stop at the proxy rather than trust junk.
    if (next === undefined) return current;
    current = next;
  }
  return current;
}

/** The rate-limit key: IPv4 as is, IPv6 by its /64. */
export function rateLimitKey(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  if (isIP(address) !== 6) return address;
  return `${expandIpv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIpv6(address: string): string[] {
  const [head = '', tail] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::1.2.3.4) takes two groups; it only matters beyond the /64 anyway.
  const groups = (list: string[]) => list.flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const l = groups(left);
  const r = groups(right);
  const missing = tail === undefined ? 0 : 8 - l.length - r.length;
  return [...l, ...Array<string>(missing).fill('0'), ...r].map((g) => g.replace(/^0+(?=.)/, '') || '0');
}
