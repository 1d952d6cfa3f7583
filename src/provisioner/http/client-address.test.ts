import { describe, expect, it } from 'vitest';
import { rateLimitKey, resolveClientAddress } from './client-address.ts';
import { parseTrustedProxies, type TrustedProxies } from '../settings/trusted-proxies.ts';

const proxies = (value: string) => parseTrustedProxies(value) as TrustedProxies;

describe('resolveClientAddress', () => {
  it('ignores X-Forwarded-For unless the socket is a trusted proxy', () => {
    expect(resolveClientAddress('198.51.100.9', '203.0.113.1', proxies(''))).toBe('198.51.100.9');
    expect(resolveClientAddress('198.51.100.9', '203.0.113.1', proxies('10.0.0.0/8'))).toBe('198.51.100.9');
    expect(resolveClientAddress('10.1.2.3', '203.0.113.1', proxies('10.0.0.0/8'))).toBe('203.0.113.1');
  });

  it('walks back through trusted hops only, and never trusts a client-written entry', () => {
    const list = proxies('10.0.0.0/8, 192.168.0.5');
    expect(resolveClientAddress('10.0.0.1', 'evil, 203.0.113.5, 192.168.0.5', list)).toBe('203.0.113.5');
    expect(resolveClientAddress('10.0.0.1', '203.0.113.5, junk', list)).toBe('10.0.0.1');
    expect(resolveClientAddress('::ffff:10.0.0.1', '203.0.113.5', list)).toBe('203.0.113.5');
  });

  it('with a hop count, takes the entry that many hops back', () => {
    expect(resolveClientAddress('10.0.0.1', 'spoof, 203.0.113.5', proxies('1'))).toBe('203.0.113.5');
    expect(resolveClientAddress('10.0.0.1', 'spoof, 203.0.113.5, 10.0.0.2', proxies('2'))).toBe('203.0.113.5');
    expect(resolveClientAddress('10.0.0.1', undefined, proxies('1'))).toBe('10.0.0.1');
  });

  it('refuses malformed settings', () => {
    for (const value of ['10.0.0.0/33', 'fd00::/129', 'host.example', '10.0.0.1/8/2', '0', '11', '10.0.0.0/x'])
      expect(parseTrustedProxies(value), value).toHaveProperty('problem');
  });
});

describe('rateLimitKey', () => {
  it('keys IPv4 by address and IPv6 by /64', () => {
    expect(rateLimitKey('203.0.113.1')).toBe('203.0.113.1');
    expect(rateLimitKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(rateLimitKey('2001:0db8:0001:0002:ffff::9')).toBe('2001:db8:1:2::/64');
    expect(rateLimitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(rateLimitKey('::1')).toBe('0:0:0:0::/64');
    expect(rateLimitKey(undefined)).toBe('unknown');
  });
});
