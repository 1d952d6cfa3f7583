import { describe, expect, it } from 'vitest';
import { billingFailedText, kongRegisterMessage } from './developer-text.ts';

describe("Kong's register errors as sentences", () => {
  it('the unique violation on email', () => {
    expect(kongRegisterMessage(`UNIQUE violation detected on '{email="a@b.example"}'`)).toBe('An account with this email already exists. Log in instead?');
  });

  it('schema violations: one sentence per field', () => {
    expect(kongRegisterMessage('3 schema violations (email: missing email; meta.full_name: required field missing; password: expected a string)')).toBe(
      'Email is required. Full name is required. Password: expected a string.',
    );
    expect(kongRegisterMessage('schema violation (meta.full_name: required field missing)')).toBe('Full name is required.');
  });

  it('anything else passes through (undefined: keep Kong\'s words)', () => {
    expect(kongRegisterMessage('Registration is closed')).toBeUndefined();
    expect(kongRegisterMessage(undefined)).toBeUndefined();
    expect(kongRegisterMessage(`UNIQUE violation detected on '{custom_id="x"}'`)).toBeUndefined();
  });
});

describe('billing failures in developer words', () => {
  it('never shows the operator message; says what the developer can do', () => {
    expect(billingFailedText('stripe_unauthorized')).toBe('Your account is created, but billing is not set up yet. Contact the API provider if your dashboard shows no plan.');
    expect(billingFailedText('plan_not_found')).toContain('that plan is not offered');
  });
});
