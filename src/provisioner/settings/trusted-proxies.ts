/**
 * TRUSTED_PROXIES: the proxies whose X-Forwarded-For the provisioner believes (http/client-address.ts
 * reads the client's address through them). A list of addresses/CIDRs, or a hop count.
 */
import { BlockList, isIP } from 'node:net';

export type TrustedProxies =
  | { kind: 'none' }
  | { kind: 'list'; entries: string[]; blockList: BlockList }
  /** This many proxies stand in front of the provisioner, the last one connecting to it. */
  | { kind: 'hops'; count: number };

/** Parses TRUSTED_PROXIES; returns a problem message for a bad entry. */
export function parseTrustedProxies(value: string | undefined): TrustedProxies | { problem: string } {
  const text = (value ?? '').trim();
  if (text === '') return { kind: 'none' };
  if (/^\d+$/.test(text)) {
    const count = Number(text);
    if (count < 1 || count > 10) return { problem: `a hop count must be 1-10, got ${text}` };
    return { kind: 'hops', count };
  }
  const blockList = new BlockList();
  const entries = text.split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of entries) {
    const [address = '', prefixText, extra] = entry.split('/');
    const family = isIP(address);
    const prefix = prefixText === undefined ? (family === 6 ? 128 : 32) : Number(prefixText);
    const maxPrefix = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix || (prefixText !== undefined && !/^\d+$/.test(prefixText)))
      return { problem: `"${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8, 192.168.1.5, fd00::/8)` };
    blockList.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return { kind: 'list', entries, blockList };
}
