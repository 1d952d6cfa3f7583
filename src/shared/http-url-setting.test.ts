import { describe, expect, it } from 'vitest';
import { SettingError } from './errors.ts';
import { isHttpUrl, MAX_URL_LENGTH, parseHttpUrl, withoutTrailingSlash, type HttpUrlRules } from './http-url-setting.ts';

/** The SettingError parseHttpUrl throws (fails the test when it accepts the value). */
function rejection(value: string | undefined, rules: HttpUrlRules, setting = 'SOME_URL'): SettingError {
  try {
    parseHttpUrl(value, setting, rules);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingError);
    expect((error as SettingError).setting).toBe(setting);
    expect((error as SettingError).code).toBe('invalid_setting');
    return error as SettingError;
  }
  throw new Error(`accepted ${value}`);
}

describe('isHttpUrl', () => {
  it.each([
    ['http://127.0.0.1:8001', true],
    ['https://billing.example.com/base', true],
    ['HTTPS://EXAMPLE.COM', true],
    ['ftp://example.com', false],
    ['javascript:alert(1)', false],
    ['127.0.0.1:8001', false],
    ['not a url', false],
    ['', false],
  ])('%s -> %s', (value, expected) => {
    expect(isHttpUrl(value)).toBe(expected);
  });
});

describe('parseHttpUrl', () => {
  const example = 'http://127.0.0.1:9000';

  it('answers the parsed URL', () => {
    const url = parseHttpUrl('https://host.example:8443/api/', 'SOME_URL', { example });
    expect(url.href).toBe('https://host.example:8443/api/');
    expect(withoutTrailingSlash(url)).toBe('https://host.example:8443/api');
    expect(withoutTrailingSlash(parseHttpUrl('http://host.example', 'SOME_URL', { example }))).toBe('http://host.example');
  });

  it('names the setting and shows the example for a missing, malformed or non-http value', () => {
    const missing = rejection(undefined, { example });
    expect(missing.message).toBe('SOME_URL: is not set');
    expect(missing.hint).toBe(`set it to a full URL such as ${example}`);
    expect(rejection('', { example, missing: { message: 'is required to install', hint: 'pass --url' } }).describe()).toBe('SOME_URL: is required to install\n  fix: pass --url');

    const malformed = rejection('nope', { example });
    expect(malformed.message).toBe('SOME_URL: "nope" is not a URL');
    expect(malformed.hint).toBe(`use a full URL such as ${example}`);
    expect(rejection('ftp://files.example', { example }).message).toBe('SOME_URL: must be http or https, got ftp:');
  });

  it('refuses a URL longer than MAX_URL_LENGTH and quotes at most the start of a bad one', () => {
    const long = `https://${'a'.repeat(MAX_URL_LENGTH)}.example`;
    expect(rejection(long, { example }).message).toBe(`SOME_URL: is ${long.length} characters long; at most ${MAX_URL_LENGTH} are accepted`);
    expect(parseHttpUrl(`https://${'a'.repeat(60)}.example/${'p'.repeat(MAX_URL_LENGTH - 80)}`, 'SOME_URL', { example }).hostname).toMatch(/^a+\.example$/);
    expect(rejection(`not a url ${'x'.repeat(500)}`, { example }).message.length).toBeLessThan(140);
  });

  it('refuses credentials in every URL setting, and never echoes them', () => {
    const plain = rejection('https://u:p@host.example', { example });
    expect(plain.message).toBe('SOME_URL: must not carry user:password@ credentials');
    expect(plain.describe()).not.toContain('u:p');
    expect(rejection('http://admin:s3cret@ bad host', { example }).message).not.toContain('s3cret');
    expect(rejection('https://u:p@host.example', { example, publicInBrowser: true }).message).toBe('SOME_URL: must not carry credentials: every portal visitor can read it');
    expect(rejection('https://:p@host.example', { example, publicInBrowser: true }).message).toMatch(/credentials/);
  });

  it('refuses a query or fragment on a base URL that gets paths appended', () => {
    for (const value of ['https://host.example/?a=1', 'https://host.example/#top']) {
      const error = rejection(value, { example, pathsAppendedBy: 'sync appends the paths' });
      expect(error.message).toBe('SOME_URL: must not have a query or fragment');
      expect(error.hint).toBe('give the base URL only; sync appends the paths');
    }
    expect(parseHttpUrl('https://host.example/base', 'SOME_URL', { example, pathsAppendedBy: 'x' }).pathname).toBe('/base');
  });

  it('refuses any path when the client adds its own', () => {
    const error = rejection('http://127.0.0.1:12111/v1', { example, pathAddedBy: 'stripe-node adds /v1/...' });
    expect(error.message).toBe('SOME_URL: must not have a path (got /v1)');
    expect(error.hint).toBe('stripe-node adds /v1/...; give only scheme, host and port');
    expect(parseHttpUrl('http://127.0.0.1:12111/', 'SOME_URL', { example, pathAddedBy: 'x' }).port).toBe('12111');
  });
});
