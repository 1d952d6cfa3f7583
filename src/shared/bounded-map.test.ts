import { describe, expect, it } from 'vitest';
import { BoundedMap } from './bounded-map.ts';

describe('BoundedMap', () => {
  it('forgets entries older than the ttl', () => {
    let now = 1_000;
    const map = new BoundedMap<string, number>({ ttlMs: 100, maxEntries: 10, now: () => now });
    map.set('a', 1);
    now += 99;
    expect(map.get('a')).toBe(1);
    now += 1;
    expect(map.get('a')).toBeUndefined();
    expect(map.size).toBe(0);
  });

  it('drops the oldest entry past the size bound, and a set refreshes age order', () => {
    const map = new BoundedMap<string, number>({ ttlMs: Infinity, maxEntries: 2 });
    map.set('a', 1).set('b', 2).set('a', 3).set('c', 4);
    expect(map.get('b')).toBeUndefined();
    expect(map.get('a')).toBe(3);
    expect(map.get('c')).toBe(4);
  });

  it('refuses a size bound below one', () => {
    expect(() => new BoundedMap({ ttlMs: 1, maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
