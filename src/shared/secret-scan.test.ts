import { describe, expect, it } from 'vitest';
import { MonetizationError } from './errors.ts';
import { assertNoSecrets, findSecrets, secretsFromEnvironment } from './secret-scan.ts';

// Assembled at run time so this file does not itself look like it holds keys.
const fake = (prefix: string) => `${prefix}_${'Ab3'.repeat(8)}`;

describe('findSecrets', () => {
  it.each([
    [fake('sk_test'), 'Stripe secret or restricted key'],
    [fake('sk_live'), 'Stripe secret or restricted key'],
    [fake('rk_test'), 'Stripe secret or restricted key'],
    [fake('rk_live'), 'Stripe secret or restricted key'],
    [fake('whsec'), 'webhook signing secret'],
  ])('flags %s with file and line', (secret, what) => {
    const findings = findSecrets([{ path: 'a.js', contents: `line one\nvar k = "${secret}";\n` }], {});
    expect(findings).toEqual([{ path: 'a.js', line: 2, what: expect.stringContaining(what) }]);
  });

  it('leaves publishable keys and short look-alikes alone', () => {
    const contents = `${fake('pk_test')} sk_test_ rk_live_abc "whsec_" mask_test_value`;
    expect(findSecrets([{ path: 'a.js', contents }], {})).toEqual([]);
  });

  it('flags the values of secret environment variables and the token file contents', () => {
    const env = { KONG_ADMIN_TOKEN: 'kong-admin-token-123', STRIPE_SECRET_KEY: 'opaque-stripe-secret', KONG_ADMIN_TOKEN_FILE: '/run/token' };
    const readFile = (path: string) => (path === '/run/token' ? 'token-from-file-xyz\n' : '');
    const files = [
      { path: 'one.js', contents: 'x="kong-admin-token-123"' },
      { path: 'two.html', contents: '\n\n<!-- token-from-file-xyz -->' },
      { path: 'three.js', contents: 'opaque-stripe-secret' },
      { path: 'clean.js', contents: 'nothing to see' },
    ];
    expect(findSecrets(files, env, readFile)).toEqual([
      { path: 'one.js', line: 1, what: 'the value of KONG_ADMIN_TOKEN' },
      { path: 'two.html', line: 3, what: 'the contents of KONG_ADMIN_TOKEN_FILE' },
      { path: 'three.js', line: 1, what: 'the value of STRIPE_SECRET_KEY' },
    ]);
  });

  it('finds the Moesif management token (the usage reporter reads all events with it)', () => {
    expect(findSecrets([{ path: 'm.js', contents: 'var t="moesif-mgmt-token-1234"' }], { MOESIF_MANAGEMENT_TOKEN: 'moesif-mgmt-token-1234' })).toEqual([
      { path: 'm.js', line: 1, what: 'the value of MOESIF_MANAGEMENT_TOKEN' },
    ]);
  });

  it('ignores values too short to mean anything and unreadable token files', () => {
    const secrets = secretsFromEnvironment({ KONG_ADMIN_TOKEN: 'admin', KONG_ADMIN_TOKEN_FILE: '/missing' }, () => {
      throw new Error('ENOENT');
    });
    expect(secrets).toEqual([]);
  });
});

describe('assertNoSecrets', () => {
  it('throws secret_in_output naming every file but never printing the secret', () => {
    const secret = fake('sk_live');
    let thrown: unknown;
    try {
      assertNoSecrets([{ path: 'theme/x.js', contents: secret }, { path: 'theme/y.html', contents: `a\n${secret}` }], {});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MonetizationError);
    const error = thrown as MonetizationError;
    expect(error.code).toBe('secret_in_output');
    expect(error.message).toContain('theme/x.js:1');
    expect(error.message).toContain('theme/y.html:2');
    expect(error.message).not.toContain(secret);
    expect(error.hint).toBeTruthy();
  });

  it('passes clean files', () => {
    expect(() => assertNoSecrets([{ path: 'ok.js', contents: 'console.log(1)' }], { KONG_ADMIN_TOKEN: 'long-enough-token' })).not.toThrow();
  });
});
