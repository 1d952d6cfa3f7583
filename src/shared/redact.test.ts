import { describe, expect, it } from 'vitest';
import { redactFields, redactText, redactUserinfo } from './redact.ts';

describe('redaction', () => {
  it('removes URL userinfo, keeping host and path', () => {
    expect(redactUserinfo('cannot reach http://admin:s3cret@kong.internal:8001/x')).toBe('cannot reach http://[redacted]@kong.internal:8001/x');
    expect(redactText('https://user@host.example/a')).toBe('https://[redacted]@host.example/a');
  });

  it('removes emails and developer paths (which name the email)', () => {
    expect(redactText('Kong answered 500 to GET /default/developers/Ada.L%40example.com: boom')).toBe('Kong answered 500 to GET /default/developers/<redacted>: boom');
    expect(redactText('no developer ada@example.com here')).toBe('no developer <email> here');
  });

  it('walks log fields deeply and leaves other values alone', () => {
    expect(redactFields({ a: 1, b: ['x@y.co'], c: { d: 'http://u:p@h/' }, e: null })).toEqual({ a: 1, b: ['<email>'], c: { d: 'http://[redacted]@h/' }, e: null });
  });

  it('removes credentials by their shape, keeping what kind they were', () => {
    expect(redactText('Stripe said: Invalid API Key provided: sk_test_51AbCdEf0123456789xyz')).toBe('Stripe said: Invalid API Key provided: sk_test_[redacted]');
    expect(redactText('rk_live_abc123 and whsec_0123456789abcdef and kpat_ABCdef0123456789')).toBe('rk_live_[redacted] and whsec_[redacted] and kpat_[redacted]');
    expect(redactText('sent Authorization: Bearer mgmt.token-123')).toBe('sent Authorization: [redacted]');
    expect(redactText('{"kong-admin-token":"s3cr3t-admin"}')).toBe('{"kong-admin-token":"[redacted]"}');
    expect(redactText('header Kong-Admin-Token=abc123; next')).toBe('header Kong-Admin-Token=[redacted]; next');
    // Stripe's own masking and ordinary words are left alone.
    expect(redactText('Invalid API Key provided: sk_test_****1234')).toBe('Invalid API Key provided: sk_test_****1234');
    expect(redactText('the task_test_run ended')).toBe('the task_test_run ended');
  });

  it('drops what is nested too deep to walk instead of passing it on unredacted', () => {
    let deep: unknown = 'sk_test_deepsecret';
    for (let i = 0; i < 10; i++) deep = { inner: deep };
    expect(JSON.stringify(redactFields(deep))).not.toContain('deepsecret');
  });
});
