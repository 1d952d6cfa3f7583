import { describe, expect, it } from 'vitest';
import { canonicalJson, hashEmail, idempotencyKey } from './idempotency.ts';

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

describe('canonicalJson and hashEmail', () => {
  it('drops undefined fields and sorts keys', () => {
    expect(canonicalJson({ b: 1, a: undefined, c: [{ z: 1, y: 2 }] })).toBe('{"b":1,"c":[{"y":2,"z":1}]}');
  });
  it('hashes emails case-insensitively and without the address', () => {
    expect(hashEmail(' Ada@Example.com')).toBe(hashEmail('ada@example.com'));
    expect(hashEmail('ada@example.com')).toMatch(/^[0-9a-f]{16}$/);
  });
});
