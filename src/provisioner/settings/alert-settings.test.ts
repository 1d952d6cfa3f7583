import { describe, expect, it } from 'vitest';
import { alertChannelsOf, parseAlertSettings } from './alert-settings.ts';

describe('usage alert settings', () => {
  it('none set: no alerts; portal mode email needs SMTP_URL and ALERT_EMAIL_FROM; hosted takes its own sender', () => {
    expect(parseAlertSettings({}, undefined)).toEqual({});
    expect(alertChannelsOf(parseAlertSettings({}, undefined))).toEqual([]);
    expect(parseAlertSettings({ SMTP_URL: 'smtp://127.0.0.1:2525', ALERT_EMAIL_FROM: 'billing@example.com' }, undefined).email).toEqual({ smtpUrl: 'smtp://127.0.0.1:2525', from: 'billing@example.com', productName: 'API' });
    expect(parseAlertSettings({}, { smtpUrl: 'smtp://m:25', emailFrom: 'no-reply@example.com', productName: 'Scores' }).email).toEqual({ smtpUrl: 'smtp://m:25', from: 'no-reply@example.com', productName: 'Scores' });
    const both = parseAlertSettings({ ALERT_WEBHOOK_URL: 'https://ops.example.com/a', ALERT_WEBHOOK_SECRET: 'x'.repeat(16), SMTP_URL: 'smtp://m:25', ALERT_EMAIL_FROM: 'b@example.com' }, undefined);
    expect(alertChannelsOf(both).map((channel) => channel.name)).toEqual(['email', 'webhook']);
  });

  it('bad values name the setting and never echo a secret', () => {
    const problem = (env: NodeJS.ProcessEnv) => {
      try {
        parseAlertSettings(env, undefined);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(problem({ ALERT_WEBHOOK_URL: 'ftp://x' })).toMatch(/^ALERT_WEBHOOK_URL: must be an http\(s\) URL/);
    expect(problem({ ALERT_WEBHOOK_URL: 'https://ops.example.com/a' })).toBe('ALERT_WEBHOOK_SECRET: is not set, and ALERT_WEBHOOK_URL is');
    expect(problem({ ALERT_WEBHOOK_URL: 'https://ops.example.com/a', ALERT_WEBHOOK_SECRET: 'short-secret' })).toBe('ALERT_WEBHOOK_SECRET: is shorter than 16 characters');
    expect(problem({ ALERT_WEBHOOK_SECRET: 'x'.repeat(20) })).toBe('ALERT_WEBHOOK_SECRET: is set but ALERT_WEBHOOK_URL is not');
    expect(problem({ SMTP_URL: 'smtps://user:pw-hunter2@smtp.example.com:465' })).toBe('ALERT_EMAIL_FROM: is not set, and SMTP_URL is (usage alerts need a sender)');
    expect(problem({ SMTP_URL: 'http://user:hunter2@x', ALERT_EMAIL_FROM: 'b@example.com' })).not.toContain('hunter2');
  });
});
