/**
 * Pure planning: from the workspace's current files and the built bundle, what each of the three
 * files must become. No I/O here, so every rule is testable with strings.
 */
import { workspacePaths, type PublicConfig } from '../../shared/bundle-layout.ts';
import type { KongFile } from '../../kong/kong-types.ts';
import type { Bundle } from './bundle.ts';
import { patchKongAuth, unpatchKongAuth } from './patch-kong-auth.ts';
import { patchRequiredScripts, unpatchRequiredScripts } from './patch-required-scripts.ts';
import { SyncRefusal } from './sync-errors.ts';
import { sha256Hex } from '../../shared/sha256.ts';

export type FileRole = 'script' | 'kongAuth' | 'requiredScripts';
type PlannedAction = 'create' | 'update' | 'delete' | 'unchanged';

export interface PlannedFile {
  path: string;
  role: FileRole;
  action: PlannedAction;
  /** Current contents on the server (undefined when the file does not exist). */
  before: string | undefined;
  /** Desired contents (undefined when the file must not exist). */
  after: string | undefined;
}

type WorkspaceFiles = ReadonlyMap<string, Pick<KongFile, 'contents' | 'checksum'>>;

/**
 * Install or upgrade, in write order: monetization.js first (nothing loads it yet), then the
 * kong.auth.js hook (guarded: it does nothing until monetization.js is on the page), then
 * required-scripts.html, which switches the feature on. Stopping after any step leaves a working portal.
 */
export function planInstall(files: WorkspaceFiles, theme: string, bundle: Bundle, config: PublicConfig): PlannedFile[] {
  const paths = workspacePaths(theme);
  const kongAuth = requireFile(files, paths.kongAuth, theme);
  const requiredScripts = requireFile(files, paths.requiredScripts, theme);
  // Compute both patches before planning anything, so a refusal leaves nothing half planned.
  const patchedKongAuth = patchKongAuth(kongAuth, bundle.registerHookBlock, paths.kongAuth);
  const patchedRequiredScripts = patchRequiredScripts(requiredScripts, bundle.scriptTagsBlock, config, paths.requiredScripts);
  return [
    planFile(files, paths.script, 'script', bundle.script),
    planFile(files, paths.kongAuth, 'kongAuth', patchedKongAuth),
    planFile(files, paths.requiredScripts, 'requiredScripts', patchedRequiredScripts),
  ];
}

/** Uninstall, in the reverse order: switch off first, then remove the hook, then the script. */
export function planUninstall(files: WorkspaceFiles, theme: string): PlannedFile[] {
  const paths = workspacePaths(theme);
  const requiredScripts = files.get(paths.requiredScripts)?.contents;
  const kongAuth = files.get(paths.kongAuth)?.contents;
  const restoredRequiredScripts = requiredScripts === undefined ? undefined : unpatchRequiredScripts(requiredScripts, paths.requiredScripts);
  const restoredKongAuth = kongAuth === undefined ? undefined : unpatchKongAuth(kongAuth, paths.kongAuth);
  return [
    planFile(files, paths.requiredScripts, 'requiredScripts', restoredRequiredScripts),
    planFile(files, paths.kongAuth, 'kongAuth', restoredKongAuth),
    planFile(files, paths.script, 'script', undefined),
  ];
}

/** True when the server already holds exactly `desired` (its stored checksum, or one computed here). */
function holds(file: Pick<KongFile, 'contents' | 'checksum'>, desired: string): boolean {
  const wanted = sha256Hex(desired);
  return file.checksum === wanted || sha256Hex(file.contents) === wanted;
}

function planFile(files: WorkspaceFiles, path: string, role: FileRole, after: string | undefined): PlannedFile {
  const current = files.get(path);
  const before = current?.contents;
  let action: PlannedAction;
  if (after === undefined) action = current ? 'delete' : 'unchanged';
  else if (!current) action = 'create';
  else action = holds(current, after) ? 'unchanged' : 'update';
  return { path, role, action, before, after };
}

function requireFile(files: WorkspaceFiles, path: string, theme: string): string {
  const file = files.get(path);
  if (!file)
    throw new SyncRefusal(
      'sync_theme_missing',
      path,
      `does not exist in the workspace, so theme "${theme}" cannot be patched`,
      'pass --theme with the theme the portal uses (portal.conf.yaml theme.name), or push the theme first (kong-portal-cli deploy)',
    );
  return file.contents;
}
