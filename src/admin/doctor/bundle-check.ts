/**
 * "Bundle installed and current": compares the three workspace files sync writes with the local
 * build (theme/ and its manifest.json). monetization.js by checksum; the two spliced blocks by
 * their text and version, line endings aside (sync keeps each file's own), and the script-tags
 * block around its public config, which is per installation.
 */
import { BUILT, CONFIG_PLACEHOLDER, workspacePaths } from '../../shared/bundle-layout.ts';
import type { KongFile } from '../../kong/kong-types.ts';
import type { Bundle } from '../../kong/sync/bundle.ts';
import { locateRegisterHook } from '../../kong/sync/patch-kong-auth.ts';
import { locateScriptTags } from '../../kong/sync/patch-required-scripts.ts';
import { sha256 } from '../../kong/sync/text.ts';

export interface InstallProblem {
  path: string;
  problem: string;
}

type FileLookup = (path: string) => Promise<Pick<KongFile, 'contents' | 'checksum'> | undefined>;

const lf = (text: string) => text.replace(/\r\n/g, '\n').replace(/\n+$/, '');

/** The manifest's sha256 for a built path, if the manifest lists it. */
export function manifestChecksum(manifest: unknown, path: string): string | undefined {
  const files = (manifest as { files?: Array<{ path?: unknown; sha256?: unknown }> } | undefined)?.files;
  const entry = Array.isArray(files) ? files.find((file) => file.path === path) : undefined;
  return typeof entry?.sha256 === 'string' ? entry.sha256 : undefined;
}

/** Empty when the workspace holds exactly what the build would install. */
export async function inspectInstalledBundle(getFile: FileLookup, theme: string, bundle: Bundle): Promise<InstallProblem[]> {
  const paths = workspacePaths(theme);
  const problems: InstallProblem[] = [];
  const builtScriptSum = manifestChecksum(bundle.manifest, BUILT.script) ?? sha256(bundle.script);

  const [script, kongAuth, requiredScripts] = await Promise.all([getFile(paths.script), getFile(paths.kongAuth), getFile(paths.requiredScripts)]);

  if (!script) problems.push({ path: paths.script, problem: 'is missing' });
  else if (script.checksum !== builtScriptSum && sha256(script.contents) !== builtScriptSum) problems.push({ path: paths.script, problem: 'differs from the build (checksum)' });

  if (!kongAuth) problems.push({ path: paths.kongAuth, problem: 'is missing' });
  else {
    const block = locateRegisterHook(kongAuth.contents, paths.kongAuth);
    if (!block) problems.push({ path: paths.kongAuth, problem: 'has no register hook block' });
    else if (block.version !== bundle.version) problems.push({ path: paths.kongAuth, problem: `has register hook v${block.version}, the build is v${bundle.version}` });
    else if (lf(kongAuth.contents.slice(block.start, block.end)) !== lf(bundle.registerHookBlock)) problems.push({ path: paths.kongAuth, problem: 'register hook block differs from the build' });
  }

  if (!requiredScripts) problems.push({ path: paths.requiredScripts, problem: 'is missing' });
  else {
    const block = locateScriptTags(requiredScripts.contents, paths.requiredScripts);
    const [before = '', after = ''] = lf(bundle.scriptTagsBlock).split(CONFIG_PLACEHOLDER);
    const installed = block ? lf(requiredScripts.contents.slice(block.start, block.end)) : '';
    if (!block) problems.push({ path: paths.requiredScripts, problem: 'has no script-tags block' });
    else if (block.version !== bundle.version) problems.push({ path: paths.requiredScripts, problem: `has script-tags v${block.version}, the build is v${bundle.version}` });
    else if (!installed.startsWith(before) || !installed.endsWith(after)) problems.push({ path: paths.requiredScripts, problem: 'script-tags block differs from the build' });
  }
  return problems;
}
