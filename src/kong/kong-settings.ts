/**
 * Kong connection settings, read the way Kong's own kong-portal-cli reads them:
 * KONG_ADMIN_URL, KONG_ADMIN_TOKEN, KONG_ADMIN_TOKEN_FILE (the file wins), plus KONG_WORKSPACE.
 */
import { readFileSync } from 'node:fs';
import { SettingError } from '../shared/errors.ts';
import { parseHttpUrl, withoutTrailingSlash } from '../shared/http-url-setting.ts';

export interface KongSettings {
  adminUrl: string;
  /** RBAC token sent as Kong-Admin-Token; undefined when RBAC is off. */
  token: string | undefined;
  workspace: string;
}

const WORKSPACE_NAME = /^[A-Za-z0-9._~-]{1,128}$/;

export function parseAdminUrl(value: string | undefined, setting = 'KONG_ADMIN_URL'): string {
  const example = 'http://127.0.0.1:8001';
  return withoutTrailingSlash(parseHttpUrl(value, setting, { example, missing: { hint: `set it to the Kong Admin API URL, e.g. ${example}` } }));
}

export function parseWorkspace(value: string | undefined, setting = 'KONG_WORKSPACE'): string {
  const workspace = value === undefined || value === '' ? 'default' : value;
  if (!WORKSPACE_NAME.test(workspace))
    throw new SettingError(setting, `"${workspace}" is not a valid workspace name`, 'use letters, digits, ".", "_", "~" or "-"');
  return workspace;
}

/** KONG_ADMIN_TOKEN_FILE wins over KONG_ADMIN_TOKEN, as in kong-portal-cli. Trailing newlines are trimmed. */
export function readAdminToken(env: NodeJS.ProcessEnv): string | undefined {
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
