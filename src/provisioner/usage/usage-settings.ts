/**
 * Usage reporting settings, from the environment: who reports usage to Stripe, how to read
 * Moesif's Management API, which calls are billed, and the windows.
 */
import { SettingError } from '../../shared/errors.ts';
import { parseBillableStatus, type StatusRange } from './billable-filter.ts';
import { DEFAULT_MOESIF_MANAGEMENT_BASE } from './moesif-management-client.ts';
import { parseLagMinutes, parseWindowMinutes } from './usage-windows.ts';

/** provisioner: this product reports (default); moesif: Moesif's own billing meter does (legacy prices); off: nobody here. */
type UsageReportingMode = 'provisioner' | 'moesif' | 'off';

export interface UsageSettings {
  mode: UsageReportingMode;
  /** Moesif Management API token (scope read:events); secret. */
  managementToken: string | undefined;
  managementApiBase: string;
  billable: StatusRange[];
  billableText: string;
  windowMinutes: number;
  lagMinutes: number;
  /** How often the provisioner's timer runs the reporter. */
  intervalSeconds: number;
  /** How long a developer's usage figures (invoice preview) are reused. */
  previewCacheSeconds: number;
}

export const USAGE_VARIABLES: ReadonlyArray<{ name: string; default: string; description: string }> = [
  { name: 'USAGE_REPORTING', default: 'provisioner', description: '"provisioner" (this product reports usage to Stripe meters), "moesif" (Moesif\'s billing meter does; legacy prices), "off"' },
  { name: 'MOESIF_MANAGEMENT_TOKEN', default: '(required for provisioner)', description: 'Moesif Management API key with scope read:events' },
  { name: 'MOESIF_MANAGEMENT_API_BASE', default: DEFAULT_MOESIF_MANAGEMENT_BASE, description: 'Moesif Management API base URL' },
  { name: 'BILLABLE_STATUS', default: '100-399', description: 'billed response statuses (list of statuses and ranges); 401, 402, 429 and 5xx are never billed' },
  { name: 'USAGE_WINDOW_MINUTES', default: '60', description: 'reporting window: whole hours that divide a day' },
  { name: 'USAGE_INGESTION_LAG_MINUTES', default: '10', description: 'wait after a window ends before reading it from Moesif (0-40)' },
  { name: 'USAGE_REPORT_INTERVAL_SECONDS', default: '300', description: 'how often the provisioner runs the reporter (30-3600)' },
  { name: 'USAGE_PREVIEW_CACHE_SECONDS', default: '60', description: 'how long a developer\'s usage and amount so far are reused (5-3600)' },
];

function intSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new SettingError(name, `"${raw}" is not a whole number from ${min} to ${max}`, `use e.g. ${fallback}`);
  return value;
}

function modeOf(env: NodeJS.ProcessEnv): UsageReportingMode {
  const raw = (env.USAGE_REPORTING ?? '').trim();
  if (raw === '') return 'provisioner';
  if (raw === 'provisioner' || raw === 'moesif' || raw === 'off') return raw;
  throw new SettingError('USAGE_REPORTING', `"${raw}" is not a mode`, 'use provisioner (default), moesif or off');
}

function apiBaseOf(env: NodeJS.ProcessEnv): string {
  const raw = (env.MOESIF_MANAGEMENT_API_BASE ?? '').trim();
  if (raw === '') return DEFAULT_MOESIF_MANAGEMENT_BASE;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SettingError('MOESIF_MANAGEMENT_API_BASE', 'is not a URL', 'use e.g. https://api.moesif.com');
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.username || url.password) throw new SettingError('MOESIF_MANAGEMENT_API_BASE', 'must be an http(s) URL without credentials', 'use e.g. https://api.moesif.com');
  return url.origin + url.pathname.replace(/\/+$/, '');
}

export function parseUsageSettings(env: NodeJS.ProcessEnv): UsageSettings {
  const token = env.MOESIF_MANAGEMENT_TOKEN?.trim();
  return {
    mode: modeOf(env),
    managementToken: token ? token : undefined,
    managementApiBase: apiBaseOf(env),
    billable: parseBillableStatus(env.BILLABLE_STATUS),
    billableText: env.BILLABLE_STATUS?.trim() || '100-399',
    windowMinutes: parseWindowMinutes(env.USAGE_WINDOW_MINUTES),
    lagMinutes: parseLagMinutes(env.USAGE_INGESTION_LAG_MINUTES),
    intervalSeconds: intSetting(env, 'USAGE_REPORT_INTERVAL_SECONDS', 300, 30, 3600),
    previewCacheSeconds: intSetting(env, 'USAGE_PREVIEW_CACHE_SECONDS', 60, 5, 3600),
  };
}

/** The token, or an error naming the setting (the usage command and doctor need it in provisioner mode). */
export function requireManagementToken(settings: UsageSettings): string {
  if (!settings.managementToken)
    throw new SettingError('MOESIF_MANAGEMENT_TOKEN', 'is not set', 'create a Management API key with scope read:events in Moesif (API Keys) and set MOESIF_MANAGEMENT_TOKEN, or set USAGE_REPORTING=moesif|off');
  return settings.managementToken;
}
