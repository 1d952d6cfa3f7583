/** Validation of the sync command's own settings (the Kong ones live in kong-settings.ts). */
import { SettingError } from '../../shared/errors.ts';
import { parseHttpUrl, withoutTrailingSlash } from '../../shared/http-url-setting.ts';

/** The provisioner's public base URL as the browser reaches it: http(s), no credentials/query/fragment, no trailing slash. */
export function parseProvisionerUrl(value: string | undefined, setting = '--provisioner-url'): string {
  const url = parseHttpUrl(value, setting, {
    example: 'https://billing.example.com',
    missing: { message: 'is required to install', hint: 'pass the public URL of the provisioner, e.g. --provisioner-url https://billing.example.com' },
    publicInBrowser: true,
    pathsAppendedBy: 'sync appends the paths',
  });
  return withoutTrailingSlash(url);
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `Name: value` (repeatable --header) into a record; names are HTTP tokens, values single-line. */
export function parseHeaders(values: readonly string[], setting = '--header'): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const raw of values) {
    const colon = raw.indexOf(':');
    const name = colon > 0 ? raw.slice(0, colon).trim() : '';
    const value = colon > 0 ? raw.slice(colon + 1).trim() : '';
    if (!HEADER_NAME.test(name) || !value || /[\r\n\0]/.test(value))
      throw new SettingError(setting, `"${raw.split(':')[0]}..." is not a "Name: value" header`, "write it as --header 'X-Name: value' (a token name, a colon, a non-empty single-line value)");
    headers[name.toLowerCase()] = value;
  }
  return headers;
}

export function readEventHookSecret(env: NodeJS.ProcessEnv): string {
  const secret = env.KONG_EVENT_HOOK_SECRET?.trim();
  if (!secret) throw new SettingError('KONG_EVENT_HOOK_SECRET', 'is not set (needed by --event-hook)', 'set it to the same secret the provisioner checks x-kong-signature with, e.g. `openssl rand -hex 32`');
  if (secret.length < 16) throw new SettingError('KONG_EVENT_HOOK_SECRET', 'is shorter than 16 characters', 'use a long random value, e.g. `openssl rand -hex 32`');
  return secret;
}
