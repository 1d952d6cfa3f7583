/**
 * Settings of the hosted signup (SIGNUP_MODE=hosted): for gateways without the legacy Dev Portal
 * (Kong 3.5+, OSS, Konnect), the provisioner serves GET/POST /signup itself. Off by default, so
 * the portal mode is unchanged. Read from the environment; a bad value throws a SettingError.
 */
import { z } from 'zod';
import { collectSettingError, combineSettingErrors, SettingError } from '../../shared/errors.ts';
import { parseHttpUrl, withoutTrailingSlash } from '../../shared/http-url-setting.ts';

export interface HostedSignupSettings {
  /** Base URL browsers reach the provisioner at; links in emails point here. */
  publicUrl: string;
  /** HMAC key of email links and CSRF tokens (at least 32 characters). */
  secret: string;
  /** smtp(s)://[user:pass@]host:port; never logged. */
  smtpUrl: string;
  emailFrom: string;
  /** When set, the form asks to accept these terms. */
  termsUrl: string | undefined;
  productName: string;
  logoUrl: string | undefined;
  /** A #rrggbb colour. */
  accentColor: string;
  /** The gateway's proxy URL for the curl example on the key page. */
  apiUrl: string | undefined;
  linkTtlMinutes: number;
  /** Link emails per address per hour. */
  emailsPerHour: number;
  /** POST /signup requests per client address per minute. */
  requestsPerMinute: number;
}

const text = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const positiveInt = (max: number) =>
  text.transform((value, ctx) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number from 1 to ${max}` });
      return z.NEVER;
    }
    return n;
  });

const schema = z.object({
  SIGNUP_MODE: text.pipe(z.enum(['portal', 'hosted'], 'must be portal (the default) or hosted').optional()),
  SIGNUP_SECRET: text.refine((value) => value === undefined || value.length >= 32, 'is shorter than 32 characters'),
  SMTP_URL: text.refine((value) => value === undefined || /^smtps?:\/\/[^/\s]+/.test(value), 'must be smtp://host:port or smtps://user:pass@host:port'),
  SIGNUP_EMAIL_FROM: text.refine((value) => value === undefined || /^[^\s@<>]+@[^\s@<>]+$/.test(value), 'must be an email address'),
  SIGNUP_PRODUCT_NAME: text.refine((value) => value === undefined || value.length <= 80, 'is longer than 80 characters'),
  SIGNUP_ACCENT_COLOR: text.refine((value) => value === undefined || /^#[0-9a-fA-F]{6}$/.test(value), 'must be a #rrggbb colour'),
  SIGNUP_LINK_TTL_MINUTES: positiveInt(24 * 60),
  SIGNUP_EMAILS_PER_HOUR: positiveInt(100),
  SIGNUP_RATE_LIMIT_PER_MINUTE: positiveInt(1000),
});

const HINTS: Record<string, string> = {
  SIGNUP_SECRET: 'use a long random value, e.g. `openssl rand -hex 32`; changing it voids the links already sent',
  SMTP_URL: 'e.g. smtp://127.0.0.1:2525 or smtps://user:password@smtp.example.com:465',
};

function url(env: NodeJS.ProcessEnv, name: string, example: string): string | undefined {
  const value = env[name]?.trim();
  return value ? withoutTrailingSlash(parseHttpUrl(value, name, { example, publicInBrowser: true })) : undefined;
}

/** Undefined unless SIGNUP_MODE=hosted; then every required setting must be there (all problems in one error). */
export function parseHostedSignupEnv(env: NodeJS.ProcessEnv): HostedSignupSettings | undefined {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const variables = [...new Map(parsed.error.issues.map((issue) => [String(issue.path[0] ?? 'environment'), issue.message])).entries()];
    throw combineSettingErrors(variables.map(([variable, message]) => new SettingError(variable, message, HINTS[variable])));
  }
  const values = parsed.data;
  if (values.SIGNUP_MODE !== 'hosted') return undefined;
  const problems: SettingError[] = [];
  const required = (name: string, value: string | undefined, hint: string | undefined) => {
    if (!value) problems.push(new SettingError(name, 'is not set (SIGNUP_MODE=hosted)', hint));
    return value;
  };
  const publicUrl = required('SIGNUP_PUBLIC_URL', collectSettingError(problems, () => url(env, 'SIGNUP_PUBLIC_URL', 'https://signup.example.com')), 'the URL browsers reach this provisioner at; email links point there');
  required('SIGNUP_SECRET', values.SIGNUP_SECRET, HINTS.SIGNUP_SECRET);
  required('SMTP_URL', values.SMTP_URL, HINTS.SMTP_URL);
  const optionalUrls = {
    termsUrl: collectSettingError(problems, () => url(env, 'TERMS_URL', 'https://example.com/terms')),
    logoUrl: collectSettingError(problems, () => url(env, 'SIGNUP_LOGO_URL', 'https://example.com/logo.png')),
    apiUrl: collectSettingError(problems, () => url(env, 'SIGNUP_API_URL', 'https://api.example.com')),
  };
  if (problems.length > 0 || !publicUrl || !values.SIGNUP_SECRET || !values.SMTP_URL) throw combineSettingErrors(problems);
  return {
    publicUrl,
    secret: values.SIGNUP_SECRET,
    smtpUrl: values.SMTP_URL,
    emailFrom: values.SIGNUP_EMAIL_FROM ?? `no-reply@${new URL(publicUrl).hostname}`,
    termsUrl: optionalUrls.termsUrl,
    productName: values.SIGNUP_PRODUCT_NAME ?? 'API',
    logoUrl: optionalUrls.logoUrl,
    accentColor: values.SIGNUP_ACCENT_COLOR ?? '#1f5fbf',
    apiUrl: optionalUrls.apiUrl,
    linkTtlMinutes: values.SIGNUP_LINK_TTL_MINUTES ?? 30,
    emailsPerHour: values.SIGNUP_EMAILS_PER_HOUR ?? 3,
    requestsPerMinute: values.SIGNUP_RATE_LIMIT_PER_MINUTE ?? 10,
  };
}

/** Every hosted-signup variable with its default, for --help and docs/configuration.md (npm run docs). */
export const HOSTED_SIGNUP_VARIABLES: ReadonlyArray<{ name: string; default: string; description: string }> = [
  { name: 'SIGNUP_MODE', default: 'portal', description: 'portal (legacy Dev Portal, Kong up to 3.4) or hosted (Kong 3.5+, OSS, Konnect: the provisioner serves /signup)' },
  { name: 'SIGNUP_PUBLIC_URL', default: '(required when hosted)', description: 'URL browsers reach the provisioner at; email links and Checkout returns point there' },
  { name: 'SIGNUP_SECRET', default: '(required when hosted)', description: 'HMAC key of email links and CSRF tokens, at least 32 characters; changing it voids the links already sent' },
  { name: 'SMTP_URL', default: '(required when hosted)', description: 'smtp://host:port or smtps://user:pass@host:465 (nodemailer): the signup links, and usage alerts in either mode (with ALERT_EMAIL_FROM); never printed' },
  { name: 'SIGNUP_EMAIL_FROM', default: 'no-reply@<host of SIGNUP_PUBLIC_URL>', description: 'sender of the signup emails' },
  { name: 'SIGNUP_PRODUCT_NAME', default: 'API', description: 'product name on the pages and in the emails (at most 80 characters)' },
  { name: 'SIGNUP_LOGO_URL', default: '(none)', description: 'logo on the pages' },
  { name: 'SIGNUP_ACCENT_COLOR', default: '#1f5fbf', description: 'accent colour of the pages, #rrggbb' },
  { name: 'TERMS_URL', default: '(none: no terms checkbox)', description: 'when set, the form requires accepting these terms' },
  { name: 'SIGNUP_API_URL', default: '(none)', description: 'the API URL in the curl example on the key page' },
  { name: 'SIGNUP_LINK_TTL_MINUTES', default: '30', description: 'lifetime of an emailed link (a Checkout return is honoured one hour past it), 1-1440' },
  { name: 'SIGNUP_EMAILS_PER_HOUR', default: '3', description: 'link emails per address per hour (per process), 1-100' },
  { name: 'SIGNUP_RATE_LIMIT_PER_MINUTE', default: '10', description: 'POST /signup (and /signup/account) per client address per minute, and apart from it the emailed-link routes (TRUSTED_PROXIES applies), 1-1000' },
];
