/** Which theme the portal renders: `theme.name` in the workspace's portal.conf.yaml, default `base`. */
import { parse } from 'yaml';
import { SettingError } from '../../shared/errors.ts';
import { SyncRefusal } from './sync-errors.ts';

export const PORTAL_CONF = 'portal.conf.yaml';
const THEME_NAME = /^[A-Za-z0-9._-]+$/;

export function activeTheme(portalConf: string | undefined): string {
  if (portalConf === undefined) return 'base';
  let conf: unknown;
  try {
    conf = parse(portalConf);
  } catch (error) {
    throw new SyncRefusal('sync_portal_conf_invalid', PORTAL_CONF, `is not valid YAML (${(error as Error).message.split('\n')[0]})`, 'fix the file in the workspace, or pass --theme NAME');
  }
  const theme = (conf as { theme?: { name?: unknown } } | null)?.theme;
  const name = theme && typeof theme === 'object' ? theme.name : undefined;
  if (name === undefined || name === null || name === '') return 'base';
  if (typeof name !== 'string' || !THEME_NAME.test(name))
    throw new SyncRefusal('sync_portal_conf_invalid', PORTAL_CONF, `theme.name ${JSON.stringify(name)} is not a theme folder name`, 'fix theme.name in the workspace, or pass --theme NAME');
  return name;
}

export function parseThemeName(value: string, setting = '--theme'): string {
  if (!THEME_NAME.test(value)) throw new SettingError(setting, `"${value}" is not a theme folder name`, 'use letters, digits, ".", "_" or "-" (the folder under themes/)');
  return value;
}
