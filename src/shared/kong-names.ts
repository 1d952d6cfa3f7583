/**
 * Kong's naming rules for the names our commands put in URLs and file paths.
 * - Workspace: Kong's `utf8_name` typedef (kong/db/schema/typedefs.lua): ASCII letters, digits,
 *   ".", "-", "_", "~", and any non-ASCII UTF-8; and not the name of a core entity
 *   (kong/constants.lua CORE_ENTITIES), which would clash with the Admin API's own routes.
 *   Kong's pattern lets "." and ".." through, but as the first path segment of an Admin API URL
 *   they are dot segments that clients and proxies normalise away (`/../files` is `/files`), so a
 *   request would reach another workspace or route: we refuse them (the stricter case).
 * - Theme: the folder under `themes/` in the workspace's files; a path segment, so the same
 *   characters and never a dot segment.
 */
import { SettingError } from './errors.ts';

const UTF8_NAME = /^[A-Za-z0-9.\-_~\u0080-\u{10FFFF}]+$/u;
const DOT_SEGMENT = /^\.{1,2}$/;
/** Kong 3.4 CORE_ENTITIES (workspaces may not take these names). */
const CORE_ENTITIES = new Set([
  'workspaces', 'consumers', 'certificates', 'services', 'routes', 'snis', 'upstreams', 'targets', 'plugins', 'tags',
  'ca_certificates', 'clustering_data_planes', 'parameters', 'vaults', 'key_sets', 'keys', 'filter_chains',
]);

interface NameProblem {
  message: string;
  hint: string;
}

const CHARACTERS = 'use letters, digits, ".", "_", "~" or "-" (Kong\'s name rule)';

/** Why `name` is not a usable workspace name, or undefined when it is. */
function workspaceNameProblem(name: string): NameProblem | undefined {
  const message = `"${name}" is not a valid workspace name`;
  if (!UTF8_NAME.test(name)) return { message, hint: CHARACTERS };
  if (DOT_SEGMENT.test(name)) return { message, hint: '"." and ".." would address another path of the Admin API; use the workspace name as Kong shows it' };
  if (CORE_ENTITIES.has(name)) return { message: `${message}: Kong reserves the names of its core entities`, hint: 'use the workspace name as Kong shows it' };
  return undefined;
}

/** Why `name` is not a usable theme folder name, or undefined when it is. */
export function themeNameProblem(name: string): NameProblem | undefined {
  const message = `"${name}" is not a theme folder name`;
  if (!UTF8_NAME.test(name)) return { message, hint: `${CHARACTERS} (the folder under themes/)` };
  if (DOT_SEGMENT.test(name)) return { message, hint: '"." and ".." are not folders under themes/' };
  return undefined;
}

export function parseWorkspaceName(value: string, setting: string): string {
  const problem = workspaceNameProblem(value);
  if (problem) throw new SettingError(setting, problem.message, problem.hint);
  return value;
}

export function parseThemeFolderName(value: string, setting: string): string {
  const problem = themeNameProblem(value);
  if (problem) throw new SettingError(setting, problem.message, problem.hint);
  return value;
}
