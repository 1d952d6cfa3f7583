import { describe, expect, it } from 'vitest';
import { canonicalJson, hashEmail, idempotencyKey, STABLE_KEY_MAX_AGE_MS, stableIdempotencyKey, usesStableKeys } from './idempotency.ts';

const base = { workspace: 'default', developerId: 'dev-1', step: 'subscription' as const };

describe('idempotencyKey', () => {
  it('is the same for the same request, whatever the key order', () => {
    const a = idempotencyKey({ ...base, params: { customer: 'cus_1', items: [{ price: 'price_a' }], metadata: { plan: 'starter', x: '1' } } });
    const b = idempotencyKey({ ...base, params: { metadata: { x: '1', plan: 'starter' }, items: [{ price: 'price_a' }], customer: 'cus_1' } });
    expect(a).toBe(b);
    expect(a).toMatch(/^kpm-subscription-[0-9a-f]{64}$/);
    expect(a.length).toBeLessThanOrEqual(255);
  });

  it('changes when the params change (a new price must not reuse the old key)', () => {
    const a = idempotencyKey({ ...base, params: { customer: 'cus_1', items: [{ price: 'price_a' }] } });
    const b = idempotencyKey({ ...base, params: { customer: 'cus_1', items: [{ price: 'price_b' }] } });
    expect(a).not.toBe(b);
  });

  it('changes with the workspace, the developer and the step', () => {
    const params = { email: 'ada@example.com' };
    const keys = new Set([
      idempotencyKey({ ...base, params }),
      idempotencyKey({ ...base, workspace: 'other', params }),
      idempotencyKey({ ...base, developerId: 'dev-2', params }),
      idempotencyKey({ ...base, step: 'customer', params }),
    ]);
    expect(keys.size).toBe(4);
  });

  it('never contains the email', () => {
    const key = idempotencyKey({ ...base, step: 'customer', params: { email: 'ada@example.com', name: 'Ada' } });
    expect(key).not.toContain('ada');
    expect(key).not.toContain('example');
  });
});

describe('stableIdempotencyKey', () => {
  const developer = { workspace: 'default', developerId: 'dev-1' };

  it('depends on the workspace, the developer, the step and the subscription it replaces, and on nothing else (not the price)', () => {
    const keys = [
      stableIdempotencyKey({ ...developer, step: 'customer' }),
      stableIdempotencyKey({ ...developer, workspace: 'other', step: 'customer' }),
      stableIdempotencyKey({ ...developer, developerId: 'dev-2', step: 'customer' }),
      stableIdempotencyKey({ ...developer, step: 'subscription' }),
      stableIdempotencyKey({ ...developer, step: 'subscription', replaces: 'sub_ended' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(stableIdempotencyKey({ ...developer, step: 'customer' })).toBe(keys[0]);
    expect(keys[0]).toMatch(/^kpm-customer-stable-[0-9a-f]{64}$/);
    expect(keys[3]).toMatch(/^kpm-subscription-stable-[0-9a-f]{64}$/);
  });

  it('never equals a param key of the same step', () => {
    const params = { email: 'ada@example.com' };
    expect(stableIdempotencyKey({ ...developer, step: 'customer' })).not.toBe(idempotencyKey({ ...developer, step: 'customer', params }));
  });
});

describe('usesStableKeys', () => {
  const now = Date.UTC(2026, 10, 21, 12, 0, 0);
  const ago = (ms: number) => Math.floor((now - ms) / 1000);

  it('is true for developers younger than the window, false from its end on', () => {
    expect(usesStableKeys(ago(0), now)).toBe(true);
    expect(usesStableKeys(ago(60 * 60 * 1000), now)).toBe(true);
    expect(usesStableKeys(ago(STABLE_KEY_MAX_AGE_MS - 1000), now)).toBe(true);
    expect(usesStableKeys(ago(STABLE_KEY_MAX_AGE_MS), now)).toBe(false);
    expect(usesStableKeys(ago(2 * 24 * 60 * 60 * 1000), now)).toBe(false);
  });

  it('stops an hour before Stripe forgets a key (24 h), for clock skew', () => {
    expect(usesStableKeys(ago(22.9 * 60 * 60 * 1000), now)).toBe(true);
    expect(usesStableKeys(ago(23 * 60 * 60 * 1000), now)).toBe(false);
  });

  it('is false without a usable created_at', () => {
    expect(usesStableKeys(undefined, now)).toBe(false);
    expect(usesStableKeys(0, now)).toBe(false);
    expect(usesStableKeys(Number.NaN, now)).toBe(false);
  });
});

describe('canonicalJson and hashEmail', () => {
  it('drops undefined fields and sorts keys', () => {
    expect(canonicalJson({ b: 1, a: undefined, c: [{ z: 1, y: 2 }] })).toBe('{"b":1,"c":[{"y":2,"z":1}]}');
  });
  it('hashes emails case-insensitively and without the address', () => {
    expect(hashEmail(' Ada@Example.com')).toBe(hashEmail('ada@example.com'));
    expect(hashEmail('ada@example.com')).toMatch(/^[0-9a-f]{16}$/);
  });
});
