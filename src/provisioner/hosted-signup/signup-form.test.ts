import { describe, expect, it } from 'vitest';
import { readSignupForm } from './signup-form.ts';

const options = { planIds: ['starter', 'growth'], termsRequired: false };

describe('signup form', () => {
  it('normalizes a good form: trimmed name, lowercased email', () => {
    expect(readSignupForm({ name: '  Ada   Lovelace ', email: ' Ada@Example.COM ', plan: 'growth' }, options)).toEqual({
      ok: true,
      request: { name: 'Ada Lovelace', email: 'ada@example.com', plan: 'growth' },
    });
  });

  it('names every bad field', () => {
    const read = readSignupForm({ name: 'a\u0007b', email: 'nope', plan: 'gold' }, { ...options, termsRequired: true });
    expect(read.ok).toBe(false);
    if (!read.ok) expect(Object.keys(read.errors).sort()).toEqual(['email', 'name', 'plan', 'terms']);
  });

  it('refuses bidi overrides, empty names, long emails and non-string fields', () => {
    const errorsOf = (form: Record<string, unknown>) => {
      const read = readSignupForm(form, options);
      return read.ok ? {} : read.errors;
    };
    expect(errorsOf({ name: 'evil\u202eexe', email: 'a@b.co', plan: 'starter' }).name).toBe('remove the control characters');
    expect(errorsOf({ name: '   ', email: 'a@b.co', plan: 'starter' }).name).toBe('enter your name');
    expect(errorsOf({ name: 'A', email: `${'a'.repeat(250)}@b.co`, plan: 'starter' }).email).toContain('254');
    expect(errorsOf({ name: ['A'], email: 'a@b.co', plan: 'starter' }).name).toBe('enter your name');
  });
});
