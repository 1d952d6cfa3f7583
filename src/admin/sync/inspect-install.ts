/**
 * Read-only view of what sync installed in a workspace, for `doctor` and the sandbox: is the bundle
 * there, which version, does it match the built theme/ (manifest checksums), what public config
 * does the page get. Never writes.
 */
import { BUILT, CONFIG_PLACEHOLDER, workspacePaths, type PublicConfig } from '../../shared/bundle-layout.ts';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { activeTheme, PORTAL_CONF } from './active-theme.ts';
import { loadBundle, type Bundle } from './bundle.ts';
import type { BlockLocation } from './marked-block.ts';
import { locateRegisterHook } from './patch-kong-auth.ts';
import { locateScriptTags } from './patch-required-scripts.ts';
import type { FileRole } from './plan-sync.ts';
import { sha256Hex } from '../../shared/sha256.ts';
import { detectEol, withEol } from './text.ts';

interface InspectedFile {
  path: string;
  role: FileRole;
  present: boolean;
  /** sha256 of the workspace's contents. */
  sha256: string | undefined;
  /** Version in the block's markers (kong.auth.js, required-scripts.html). */
  blockVersion: string | undefined;
  /** The bundle's part of this file is exactly what the built theme/ would install. */
  current: boolean;
  problem: string | undefined;
}

interface InstallInspection {
  theme: string;
  /** monetization.js and both blocks are present. */
  installed: boolean;
  /** Some but not all parts are present (an interrupted sync: run sync again). */
  partial: boolean;
  /** Version of the installed blocks (undefined when absent or inconsistent). */
  version: string | undefined;
  /** Version of the built theme/. */
  builtVersion: string;
  /** Installed and identical to the built theme/. */
  current: boolean;
  /** The public config the page receives (from the script-tags block). */
  config: PublicConfig | undefined;
  files: InspectedFile[];
}

export async function inspectInstall(client: KongAdminClient, theme?: string, options: { bundle?: Bundle } = {}): Promise<InstallInspection> {
  const bundle = options.bundle ?? (await loadBundle());
  const themeName = theme ?? activeTheme((await client.getFile(PORTAL_CONF))?.contents);
  const paths = workspacePaths(themeName);
  const [script, kongAuth, requiredScripts] = await Promise.all([client.getFile(paths.script), client.getFile(paths.kongAuth), client.getFile(paths.requiredScripts)]);

  const expectedScriptSha = manifestSha256(bundle.manifest, BUILT.script) ?? sha256Hex(bundle.script);
  const scriptFile: InspectedFile = {
    path: paths.script,
    role: 'script',
    present: script !== undefined,
    sha256: script ? sha256Hex(script.contents) : undefined,
    blockVersion: undefined,
    current: script !== undefined && sha256Hex(script.contents) === expectedScriptSha,
    problem: script === undefined ? 'missing' : sha256Hex(script.contents) === expectedScriptSha ? undefined : 'differs from theme/manifest.json',
  };

  const hook = inspectBlock(paths.kongAuth, 'kongAuth', kongAuth?.contents, (text) => locateRegisterHook(text, paths.kongAuth), (text, block) => block === withEol(bundle.registerHookBlock, detectEol(text)));
  let config: PublicConfig | undefined;
  const tags = inspectBlock(paths.requiredScripts, 'requiredScripts', requiredScripts?.contents, (text) => locateScriptTags(text, paths.requiredScripts), (text, block) => {
    const [prefix = '', suffix = ''] = withEol(bundle.scriptTagsBlock, detectEol(text)).split(CONFIG_PLACEHOLDER);
    if (!block.startsWith(prefix) || !block.endsWith(suffix) || block.length < prefix.length + suffix.length) return false;
    config = parseConfig(block.slice(prefix.length, block.length - suffix.length));
    return config !== undefined;
  });

  const files = [scriptFile, hook, tags];
  const parts = [scriptFile.present, hook.blockVersion !== undefined, tags.blockVersion !== undefined];
  const installed = parts.every(Boolean);
  const version = hook.blockVersion !== undefined && hook.blockVersion === tags.blockVersion ? hook.blockVersion : undefined;
  return {
    theme: themeName,
    installed,
    partial: !installed && parts.some(Boolean),
    version,
    builtVersion: bundle.version,
    current: installed && files.every((file) => file.current),
    config,
    files,
  };
}

function inspectBlock(
  path: string,
  role: FileRole,
  contents: string | undefined,
  locate: (text: string) => BlockLocation | undefined,
  matches: (text: string, block: string) => boolean,
): InspectedFile {
  const file = { path, role, present: contents !== undefined, sha256: contents === undefined ? undefined : sha256Hex(contents), blockVersion: undefined, current: false };
  if (contents === undefined) return { ...file, problem: 'missing from the workspace' };
  let location: BlockLocation | undefined;
  try {
    location = locate(contents);
  } catch (error) {
    return { ...file, problem: (error as Error).message };
  }
  if (!location) return { ...file, problem: 'the bundle block is not installed' };
  const current = matches(contents, contents.slice(location.start, location.end));
  return { ...file, blockVersion: location.version, current, problem: current ? undefined : 'the block differs from the built theme/ (run sync to upgrade)' };
}

function parseConfig(json: string): PublicConfig | undefined {
  try {
    const value = JSON.parse(json) as Partial<PublicConfig>;
    return typeof value.provisionerUrl === 'string' && typeof value.planField === 'boolean' ? { provisionerUrl: value.provisionerUrl, planField: value.planField } : undefined;
  } catch {
    return undefined;
  }
}

/** The sha256 theme/manifest.json records for a built path (`files: [{path, sha256}]`). */
function manifestSha256(manifest: unknown, path: string): string | undefined {
  const files = (manifest as { files?: unknown } | undefined)?.files;
  if (!Array.isArray(files)) return undefined;
  const entry = files.find((file: unknown) => (file as { path?: unknown }).path === path) as { sha256?: unknown } | undefined;
  return typeof entry?.sha256 === 'string' ? entry.sha256 : undefined;
}
