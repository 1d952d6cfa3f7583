/** The shared fault plumbing: seeded randomness, rule matching, random fault sequences, the token bucket. */
import { describe, expect, it } from 'vitest';
import { FaultInjector, type FaultRequest } from './fault-injector.ts';
import { seededRandom } from './seeded-random.ts';
import { TokenBucket } from './token-bucket.ts';

const request = (method: string, path: string, route = path, params: unknown = {}): FaultRequest => ({ method, path, route, params });

describe('seededRandom', () => {
  it('repeats for a seed and differs between seeds, in [0, 1)', () => {
    const a = Array.from({ length: 5 }, seededRandom(9));
    const again = seededRandom(9);
    expect(Array.from({ length: 5 }, () => again())).toEqual(a);
    const b = seededRandom(10);
    expect(Array.from({ length: 5 }, () => b())).not.toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('FaultInjector', () => {
  it('fires rules on matching requests only, honouring skip and times, and logs them', () => {
    const faults = new FaultInjector(['500', 'drop'] as const);
    const rule = faults.add({ method: 'post', path: '/v1/x/:id', kind: 'drop', when: 'after', skip: 1, times: 2 });
    expect(faults.decide(request('GET', '/v1/x/1', '/v1/x/:id'))).toBeUndefined();
    expect(faults.decide(request('POST', '/v1/x/1', '/v1/x/:id'))).toBeUndefined();
    expect(faults.decide(request('POST', '/v1/x/2', '/v1/x/:id'))).toEqual({ kind: 'drop', when: 'after', source: 'rule' });
    expect(faults.decide(request('POST', '/v1/x/3', '/v1/x/:id'))).toMatchObject({ kind: 'drop' });
    expect(faults.decide(request('POST', '/v1/x/4', '/v1/x/:id'))).toBeUndefined();
    expect(rule.fired).toBe(2);
    expect(faults.fired.map((f) => f.path)).toEqual(['/v1/x/2', '/v1/x/3']);
    const regex = faults.add({ path: /^\/v1\/y/, kind: '500', times: Infinity });
    for (let i = 0; i < 3; i += 1) expect(faults.decide(request('GET', '/v1/y/z'))?.kind).toBe('500');
    regex.remove();
    expect(faults.decide(request('GET', '/v1/y/z'))).toBeUndefined();
  });

  it('rejects unknown kinds and bad rates', () => {
    const faults = new FaultInjector(['500'] as const);
    expect(() => faults.add({ kind: 'boom' as '500' })).toThrow(/unknown fault kind/);
    expect(() => faults.setRandom({ rate: 2, seed: 1, kinds: ['500'] })).toThrow(/between 0 and 1/);
  });

  it('draws random faults deterministically from the seed, at about the rate', () => {
    const sequence = () => {
      const faults = new FaultInjector(['500', 'drop'] as const, { rate: 0.25, seed: 5, kinds: ['500', 'drop'], when: 'mixed' });
      return Array.from({ length: 400 }, (_, i) => faults.decide(request('POST', `/p/${i}`)));
    };
    const first = sequence();
    expect(sequence()).toEqual(first);
    const count = first.filter(Boolean).length;
    expect(count).toBeGreaterThan(60);
    expect(count).toBeLessThan(140);
    expect(new Set(first.filter(Boolean).map((d) => `${d?.kind}/${d?.when}`))).toEqual(new Set(['500/before', '500/after', 'drop/before', 'drop/after']));
  });
});

describe('TokenBucket', () => {
  it('allows bursts up to the rate and refills over time; 0 or undefined means unlimited', () => {
    let now = 0;
    const bucket = new TokenBucket(3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now += 334;
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    bucket.setRate(0);
    expect(Array.from({ length: 100 }, () => bucket.take()).every(Boolean)).toBe(true);
    expect(() => bucket.setRate(-1)).toThrow(RangeError);
  });
});
