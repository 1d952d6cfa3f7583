/** Which theme the portal renders: `theme.name` in the workspace's portal.conf.yaml, default `base`. */
import { parse } from 'yaml';
import { parseThemeFolderName, themeNameProblem } from '../../shared/kong-names.ts';
import { SyncRefusal } from './sync-errors.ts';

export const PORTAL_CONF = 'portal.conf.yaml';

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
  if (typeof name !== 'string' || themeNameProblem(name) !== undefined)
    throw new SyncRefusal('sync_portal_conf_invalid', PORTAL_CONF, `theme.name ${JSON.stringify(name)} is not a theme folder name`, 'fix theme.name in the workspace, or pass --theme NAME');
  return name;
}

export function parseThemeName(value: string, setting = '--theme'): string {
  return parseThemeFolderName(value, setting);
}
