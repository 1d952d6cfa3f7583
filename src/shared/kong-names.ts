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

/** Why `name` is not a usable workspace name, or undefined when it is. */
export function workspaceNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (!UTF8_NAME.test(name)) return `"${name}" is not a valid workspace name: Kong accepts only letters, digits, ".", "-", "_", "~" (and non-ASCII letters)`;
  if (DOT_SEGMENT.test(name)) return `"${name}" is not a valid workspace name: "." and ".." would address another path of the Admin API`;
  if (CORE_ENTITIES.has(name)) return `"${name}" is not a valid workspace name: Kong reserves the names of its core entities`;
  return undefined;
}

/** Why `name` is not a usable theme folder name, or undefined when it is. */
export function themeNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (!UTF8_NAME.test(name)) return `"${name}" is not a theme folder name: use letters, digits, ".", "-", "_" or "~"`;
  if (DOT_SEGMENT.test(name)) return `"${name}" is not a theme folder name: "." and ".." are not folders under themes/`;
  return undefined;
}

export function parseWorkspaceName(value: string, setting: string): string {
  const problem = workspaceNameProblem(value);
  if (problem) throw new SettingError(setting, problem, 'use the workspace name as Kong shows it, e.g. default');
  return value;
}

export function parseThemeFolderName(value: string, setting: string): string {
  const problem = themeNameProblem(value);
  if (problem) throw new SettingError(setting, problem, 'use the folder name under themes/, e.g. base');
  return value;
}
