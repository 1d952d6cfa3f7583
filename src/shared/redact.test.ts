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
});
