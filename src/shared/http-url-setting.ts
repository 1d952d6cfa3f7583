/**
 * One rule for every URL setting (KONG_ADMIN_URL, --provisioner-url, PROVISIONER_URL,
 * STRIPE_API_BASE, ...): an absolute http: or https: URL. A bad value throws a SettingError that
 * names the setting and shows an example, the same way everywhere.
 */
import { SettingError } from './errors.ts';
import { redactUserinfo } from './redact.ts';

/** True for an absolute URL with the http: or https: scheme and no user:password@. */
export function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return ['http:', 'https:'].includes(url.protocol) && !url.username && !url.password;
}

export interface HttpUrlRules {
  /** A valid value, shown in hints, e.g. http://127.0.0.1:8001. */
  example: string;
  /** An empty value: message (default "is not set") and hint (default: set it to a URL such as the example). */
  missing?: { message?: string; hint?: string };
  /** The URL is served to browsers (every portal visitor reads it); user:password@ is refused for every URL anyway. */
  publicInBrowser?: boolean;
  /** Who appends paths to this base URL, e.g. "sync appends the paths": refuses ?query and #fragment. */
  pathsAppendedBy?: string;
  /** Who adds the path, e.g. "stripe-node adds /v1/...": refuses any path, only scheme, host and port. */
  pathAddedBy?: string;
}

/** Validates `value` as the http(s) URL setting `setting`; throws SettingError naming it. */
/** Longest URL setting accepted (a common browser and proxy limit). */
export const MAX_URL_LENGTH = 2048;

export function parseHttpUrl(value: string | undefined, setting: string, rules: HttpUrlRules): URL {
  const { example } = rules;
  if (!value) throw new SettingError(setting, rules.missing?.message ?? 'is not set', rules.missing?.hint ?? `set it to a full URL such as ${example}`);
  // Some of these URLs end up in every portal page; none has a reason to be longer than browsers like.
  if (value.length > MAX_URL_LENGTH)
    throw new SettingError(setting, `is ${value.length} characters long; at most ${MAX_URL_LENGTH} are accepted`, `use a base URL such as ${example}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    const shown = redactUserinfo(value);
    throw new SettingError(setting, `"${shown.length > 80 ? `${shown.slice(0, 80)}…` : shown}" is not a URL`, `use a full URL such as ${example}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SettingError(setting, `must be http or https, got ${url.protocol}`, `use a full URL such as ${example}`);
  // Userinfo would travel into logs, error messages and (for page URLs) every visitor's browser;
  // every service here has its own credential setting instead.
  if (url.username || url.password)
    throw new SettingError(
      setting,
      rules.publicInBrowser ? 'must not carry credentials: every portal visitor can read it' : 'must not carry user:password@ credentials',
      'remove user:password@; give credentials through their own setting (e.g. KONG_ADMIN_TOKEN)',
    );
  if (rules.pathsAppendedBy !== undefined && (url.search || url.hash))
    throw new SettingError(setting, 'must not have a query or fragment', `give the base URL only; ${rules.pathsAppendedBy}`);
  if (rules.pathAddedBy !== undefined && url.pathname !== '/' && url.pathname !== '')
    throw new SettingError(setting, `must not have a path (got ${url.pathname})`, `${rules.pathAddedBy}; give only scheme, host and port`);
  return url;
}

/** The URL as a base to append paths to: "http://host:8001/" -> "http://host:8001". */
export function withoutTrailingSlash(url: URL): string {
  return url.toString().replace(/\/+$/, '');
}
