import { describe, expect, it } from 'vitest';
import { SettingError } from '../../shared/errors.ts';
import { parseHostedSignupEnv } from './hosted-settings.ts';

const HOSTED = { SIGNUP_MODE: 'hosted', SIGNUP_PUBLIC_URL: 'https://signup.example.com/', SIGNUP_SECRET: 's'.repeat(32), SMTP_URL: 'smtp://127.0.0.1:2525' };

function settingOf(env: Record<string, string>): string | undefined {
  try {
    parseHostedSignupEnv(env);
    return undefined;
  } catch (error) {
    return error instanceof SettingError ? error.setting : 'other';
  }
}

describe('hosted signup settings', () => {
  it('is off unless SIGNUP_MODE=hosted', () => {
    expect(parseHostedSignupEnv({})).toBeUndefined();
    expect(parseHostedSignupEnv({ SIGNUP_MODE: 'portal' })).toBeUndefined();
  });

  it('fills the defaults', () => {
    expect(parseHostedSignupEnv(HOSTED)).toEqual({
      publicUrl: 'https://signup.example.com',
      secret: 's'.repeat(32),
      smtpUrl: 'smtp://127.0.0.1:2525',
      emailFrom: 'no-reply@signup.example.com',
      termsUrl: undefined,
      productName: 'API',
      logoUrl: undefined,
      accentColor: '#1f5fbf',
      apiUrl: undefined,
      linkTtlMinutes: 30,
      emailsPerHour: 3,
      requestsPerMinute: 10,
    });
  });

  it('names the bad or missing variable', () => {
    expect(settingOf({ ...HOSTED, SIGNUP_MODE: 'yes' })).toBe('SIGNUP_MODE');
    expect(settingOf({ ...HOSTED, SIGNUP_SECRET: 'short' })).toBe('SIGNUP_SECRET');
    expect(settingOf({ ...HOSTED, SIGNUP_SECRET: '' })).toBe('SIGNUP_SECRET');
    expect(settingOf({ ...HOSTED, SMTP_URL: 'http://mail' })).toBe('SMTP_URL');
    expect(settingOf({ ...HOSTED, SIGNUP_PUBLIC_URL: '' })).toBe('SIGNUP_PUBLIC_URL');
    expect(settingOf({ ...HOSTED, SIGNUP_ACCENT_COLOR: 'red;}' })).toBe('SIGNUP_ACCENT_COLOR');
    expect(settingOf({ ...HOSTED, TERMS_URL: 'javascript:alert(1)' })).toBe('TERMS_URL');
    expect(settingOf({ ...HOSTED, SIGNUP_LOGO_URL: 'https://user:pw@example.com/logo.png' })).toBe('SIGNUP_LOGO_URL');
    expect(settingOf({ ...HOSTED, SIGNUP_LINK_TTL_MINUTES: '0' })).toBe('SIGNUP_LINK_TTL_MINUTES');
  });

  it('names every missing or bad variable in one error, each with its fix', () => {
    let error: unknown;
    try {
      parseHostedSignupEnv({ SIGNUP_MODE: 'hosted', TERMS_URL: 'javascript:alert(1)' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SettingError);
    const setting = error as SettingError;
    expect(setting.parts.map((part) => part.setting)).toEqual(['SIGNUP_PUBLIC_URL', 'SIGNUP_SECRET', 'SMTP_URL', 'TERMS_URL']);
    expect(setting.message).toMatch(/^4 settings are missing or invalid:/);
    expect(setting.message).toContain('fix: use a long random value');
  });
});
