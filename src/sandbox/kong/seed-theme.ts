/**
 * Loads the stand-in base theme (src/sandbox/theme, a workspace folder like the one
 * kong-portal-cli pushes) into an emulator workspace and turns the portal on the way a fresh
 * Kong setup would have it: basic-auth, auto-approve, the default Full Name meta field (plus an
 * optional `plan` field). jQuery comes from the npm package, not from the repo.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { packagePath, packageRequire } from '../../shared/package-root.ts';
import { KongEmulatorState, type MetaFieldDefinition } from './kong-state.ts';

const STAND_IN_THEME_DIR = packagePath('src/sandbox/theme/');

interface SeedThemeOptions {
  workspace?: string;
  /** Folder name under themes/ and `theme.name` in portal.conf.yaml; default `base`. */
  themeName?: string;
  /** Add a `plan` developer meta field (not required), as a portal selling plans would. */
  planField?: boolean;
}

export const FULL_NAME_FIELD: MetaFieldDefinition = { label: 'Full Name', title: 'full_name', validator: { required: true, type: 'string' } };
export const PLAN_FIELD: MetaFieldDefinition = { label: 'Plan', title: 'plan', validator: { required: false, type: 'string' } };

/** The theme's files keyed by workspace path, with the theme folder renamed to `themeName`. */
function standInThemeFiles(themeName = 'base'): Map<string, string> {
  const files = new Map<string, string>();
  for (const absolute of walk(STAND_IN_THEME_DIR)) {
    let path = relative(STAND_IN_THEME_DIR, absolute).split(sep).join('/');
    let contents = readFileSync(absolute, 'utf8');
    if (path.startsWith('themes/base/')) path = `themes/${themeName}/${path.slice('themes/base/'.length)}`;
    if (path === 'portal.conf.yaml') contents = contents.replace(/^(\s*name:\s*)base\s*$/m, `$1${themeName}`);
    files.set(path, contents);
  }
  const jquery = packageRequire.resolve('jquery/dist/jquery.min.js');
  files.set(`themes/${themeName}/assets/js/third-party/jquery.min.js`, readFileSync(jquery, 'utf8'));
  return files;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile() && !entry.name.endsWith('.test.ts')) yield full;
  }
}

/** Enables the portal and stores the stand-in theme; returns the workspace paths written. */
export function seedStandInTheme(target: KongEmulatorState | { state: KongEmulatorState }, options: SeedThemeOptions = {}): string[] {
  const state = target instanceof KongEmulatorState ? target : target.state;
  const workspace = options.workspace ?? 'default';
  state.createWorkspace(workspace);
  const metaFields = options.planField ? [FULL_NAME_FIELD, PLAN_FIELD] : [FULL_NAME_FIELD];
  state.patchWorkspaceConfig(workspace, {
    portal: true,
    portal_auth: 'basic-auth',
    portal_auto_approve: true,
    portal_developer_meta_fields: JSON.stringify(metaFields),
  });
  const written: string[] = [];
  for (const [path, contents] of standInThemeFiles(options.themeName ?? 'base')) {
    state.putFile(workspace, path, contents);
    written.push(path);
  }
  return written;
}
