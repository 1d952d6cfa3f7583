import { describe, expect, it } from 'vitest';
import { createTokenSigner, SignupTokenError } from './signed-token.ts';

const SECRET = 'test-signup-secret-0123456789abcdef0123';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof SignupTokenError ? error.code : 'other';
  }
}

describe('signed tokens', () => {
  it('round-trips a payload within its lifetime', () => {
    let now = 1_000_000_000_000;
    const signer = createTokenSigner(SECRET, () => now);
    const token = signer.sign('link', { e: 'a@example.com' }, 60);
    now += 59_000;
    expect(signer.verify('link', token)).toMatchObject({ e: 'a@example.com' });
  });

  it('refuses an expired token, unless within the grace given', () => {
    let now = 1_000_000_000_000;
    const signer = createTokenSigner(SECRET, () => now);
    const token = signer.sign('link', { e: 'a@example.com' }, 60);
    now += 61_000;
    expect(codeOf(() => signer.verify('link', token))).toBe('token_expired');
    expect(signer.verify('link', token, { graceSeconds: 10 }).e).toBe('a@example.com');
  });

  it('refuses a changed payload, another secret, and a token of the other kind', () => {
    const signer = createTokenSigner(SECRET);
    const token = signer.sign('link', { p: 'starter' }, 60);
    const [, signature] = token.split('.');
    const changed = `${Buffer.from(JSON.stringify({ p: 'growth', iat: 1, exp: 9e9 })).toString('base64url')}.${signature}`;
    expect(codeOf(() => signer.verify('link', changed))).toBe('token_forged');
    expect(codeOf(() => createTokenSigner(`${SECRET}x`).verify('link', token))).toBe('token_forged');
    expect(codeOf(() => signer.verify('csrf', token))).toBe('token_forged');
  });

  it('refuses damaged tokens as malformed', () => {
    const signer = createTokenSigner(SECRET);
    for (const bad of ['', 'abc', 'a.b.c', 'a b.c', 'x'.repeat(5000)]) expect(codeOf(() => signer.verify('link', bad))).toBe('token_malformed');
  });
});
