/**
 * Where usage alerts (80 % / 100 % of a quota or a spend cap) go: email to the developer over SMTP
 * (SMTP_URL, the hosted signup's setting, now read in portal mode too; ALERT_EMAIL_FROM, else the
 * hosted sender) and, when set, a signed POST to the admin's ALERT_WEBHOOK_URL. Neither set: no
 * alerts. Secrets (the SMTP password, the webhook secret) are never printed.
 */
import { SettingError } from '../../shared/errors.ts';
import { isHttpUrl } from '../../shared/http-url-setting.ts';
import { createSmtpMailer } from '../../shared/smtp-mailer.ts';
import { emailChannel, webhookChannel, type AlertChannel } from '../core/usage-alerts.ts';

export interface AlertSettings {
  email?: { smtpUrl: string; from: string; productName: string };
  webhook?: { url: string; secret: string };
}

export const ALERT_VARIABLES: ReadonlyArray<{ name: string; default: string; description: string }> = [
  { name: 'ALERT_EMAIL_FROM', default: '(SIGNUP_EMAIL_FROM when hosted)', description: 'sender of the usage alerts emailed to developers over SMTP_URL (portal mode: both needed for email alerts)' },
  { name: 'ALERT_WEBHOOK_URL', default: '(none)', description: 'the admin URL usage alerts are POSTed to (JSON, signed in x-kpm-signature)' },
  { name: 'ALERT_WEBHOOK_SECRET', default: '(required with ALERT_WEBHOOK_URL)', description: 'HMAC-SHA256 key of the alert signature, at least 16 characters; never printed' },
];

const text = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value.trim());

export function parseAlertSettings(env: NodeJS.ProcessEnv, hosted: { smtpUrl: string; emailFrom: string; productName: string } | undefined): AlertSettings {
  const url = text(env.ALERT_WEBHOOK_URL);
  const secret = text(env.ALERT_WEBHOOK_SECRET);
  if (url !== undefined && !isHttpUrl(url)) throw new SettingError('ALERT_WEBHOOK_URL', 'must be an http(s) URL such as https://ops.example.com/kpm-alerts');
  if (url !== undefined && (secret === undefined || secret.length < 16))
    throw new SettingError('ALERT_WEBHOOK_SECRET', secret === undefined ? 'is not set, and ALERT_WEBHOOK_URL is' : 'is shorter than 16 characters', 'use a long random value, e.g. `openssl rand -hex 32`');
  if (url === undefined && secret !== undefined) throw new SettingError('ALERT_WEBHOOK_SECRET', 'is set but ALERT_WEBHOOK_URL is not', 'set ALERT_WEBHOOK_URL, or unset ALERT_WEBHOOK_SECRET');
  const smtpUrl = hosted?.smtpUrl ?? text(env.SMTP_URL);
  const from = text(env.ALERT_EMAIL_FROM) ?? hosted?.emailFrom;
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^/\s]+/.test(smtpUrl)) throw new SettingError('SMTP_URL', 'must be smtp://host:port or smtps://user:pass@host:port');
  if (smtpUrl !== undefined && from === undefined) throw new SettingError('ALERT_EMAIL_FROM', 'is not set, and SMTP_URL is (usage alerts need a sender)', 'e.g. ALERT_EMAIL_FROM=billing@example.com');
  return {
    ...(smtpUrl !== undefined && from !== undefined ? { email: { smtpUrl, from, productName: hosted?.productName ?? 'API' } } : {}),
    ...(url !== undefined && secret !== undefined ? { webhook: { url, secret } } : {}),
  };
}

export function alertChannelsOf(settings: AlertSettings | undefined): AlertChannel[] {
  const channels: AlertChannel[] = [];
  if (settings?.email) channels.push(emailChannel(createSmtpMailer(settings.email.smtpUrl, settings.email.from), settings.email.productName));
  if (settings?.webhook) channels.push(webhookChannel(settings.webhook.url, settings.webhook.secret));
  return channels;
}
