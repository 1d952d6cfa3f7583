/**
 * Kong connection settings, read the way Kong's own kong-portal-cli reads them:
 * KONG_ADMIN_URL, KONG_ADMIN_TOKEN, KONG_ADMIN_TOKEN_FILE (the file wins), plus KONG_WORKSPACE.
 */
import { readFileSync } from 'node:fs';
import { SettingError } from '../shared/errors.ts';
import { parseHttpUrl, withoutTrailingSlash } from '../shared/http-url-setting.ts';
import { parseWorkspaceName } from '../shared/kong-names.ts';

export interface KongSettings {
  adminUrl: string;
  /** RBAC token sent as Kong-Admin-Token; undefined when RBAC is off. */
  token: string | undefined;
  workspace: string;
}

function parseAdminUrl(value: string | undefined, setting = 'KONG_ADMIN_URL'): string {
  const example = 'http://127.0.0.1:8001';
  return withoutTrailingSlash(parseHttpUrl(value, setting, { example, missing: { hint: `set it to the Kong Admin API URL, e.g. ${example}` } }));
}

export function parseWorkspace(value: string | undefined, setting = 'KONG_WORKSPACE'): string {
  // Kong's own workspace name rule, minus the dot segments (shared/kong-names.ts).
  return parseWorkspaceName(value === undefined || value === '' ? 'default' : value, setting);
}

/** KONG_ADMIN_TOKEN_FILE wins over KONG_ADMIN_TOKEN, as in kong-portal-cli. Trailing newlines are trimmed. */
function readAdminToken(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.KONG_ADMIN_TOKEN_FILE;
  if (file) {
    let token: string;
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new SettingError('KONG_ADMIN_TOKEN_FILE', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`, 'point it at a readable file holding the RBAC token');
    }
    if (!token) throw new SettingError('KONG_ADMIN_TOKEN_FILE', `${file} is empty`);
    return token;
  }
  const token = env.KONG_ADMIN_TOKEN?.trim();
  return token ? token : undefined;
}

export function readKongSettings(env: NodeJS.ProcessEnv = process.env, overrides: { workspace?: string | undefined } = {}): KongSettings {
  return {
    adminUrl: parseAdminUrl(env.KONG_ADMIN_URL),
    token: readAdminToken(env),
    workspace: overrides.workspace !== undefined ? parseWorkspace(overrides.workspace, '--workspace') : parseWorkspace(env.KONG_WORKSPACE),
  };
}
