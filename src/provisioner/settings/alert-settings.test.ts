import { describe, expect, it } from 'vitest';
import { startMailCatcher } from '../../sandbox/mail/mail-catcher.ts';
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

  it('portal mode: SMTP_URL and ALERT_EMAIL_FROM send the alert to the developer as an email', async () => {
    const mail = await startMailCatcher({ smtpPort: 0, httpPort: 0 });
    try {
      const [email] = alertChannelsOf(parseAlertSettings({ SMTP_URL: mail.smtpUrl, ALERT_EMAIL_FROM: 'billing@example.com' }, undefined));
      await email!.send({ kind: 'quota', threshold: 80, developerId: 'dev-1', email: 'dev@example.com', used: 800, limit: 1000, periodEnd: 1_900_000_000 });
      const received = await mail.waitFor('dev@example.com', { timeoutMs: 10_000 });
      expect(received).toMatchObject({ from: 'billing@example.com', to: ['dev@example.com'], subject: 'API: 80 % of your quota' });
      expect(received.text).toContain('80 % of your quota used: 800 of 1,000 calls this billing period (it resets on 2030-03-17).');
    } finally {
      await mail.close();
    }
  });
});
