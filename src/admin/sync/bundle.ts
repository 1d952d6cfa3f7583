/**
 * The built bundle as sync pushes it: monetization.js and the two splice blocks read from theme/
 * (resolved from the package root, not the cwd), checked for well-formed markers.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILT, CONFIG_PLACEHOLDER, MARKERS, THEME_DIR } from '../../shared/bundle-layout.ts';
import { MonetizationError } from '../../shared/errors.ts';
import { packagePath } from '../../shared/package-root.ts';
import { locateBlock, type MarkerSpec } from './marked-block.ts';

export interface Bundle {
  /** monetization.js, pushed as-is. */
  script: string;
  /** The register hook block (markers included). */
  registerHookBlock: string;
  /** The script-tags block (markers included) holding CONFIG_PLACEHOLDER. */
  scriptTagsBlock: string;
  /** Version carried by the blocks' markers. */
  version: string;
  /** theme/manifest.json as parsed JSON (shape owned by the build), when present. */
  manifest: unknown;
}

/** The package's own theme/ folder. */
function defaultThemeDir(): string {
  return packagePath(`${THEME_DIR}/`);
}

export async function loadBundle(themeDir: string = defaultThemeDir()): Promise<Bundle> {
  const read = async (relative: string) => {
    try {
      return await readFile(join(themeDir, relative), 'utf8');
    } catch (error) {
      throw new MonetizationError('sync_bundle_missing', `the built bundle file ${join(themeDir, relative)} cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`, {
        hint: 'run `npm run build` to write theme/',
        cause: error,
      });
    }
  };
  const [script, registerHookBlock, scriptTagsBlock, manifestText] = await Promise.all([
    read(BUILT.script),
    read(BUILT.registerHookBlock),
    read(BUILT.scriptTagsBlock),
    read(BUILT.manifest).catch(() => undefined),
  ]);
  return makeBundle({ script, registerHookBlock, scriptTagsBlock, manifest: manifestText === undefined ? undefined : parseManifest(manifestText) });
}

/** Validates built blocks (also used by tests to make a bundle from fixture text). */
export function makeBundle(parts: { script: string; registerHookBlock: string; scriptTagsBlock: string; manifest?: unknown }): Bundle {
  const hookVersion = blockVersion(parts.registerHookBlock, MARKERS.registerHook, BUILT.registerHookBlock);
  const tagsVersion = blockVersion(parts.scriptTagsBlock, MARKERS.scriptTags, BUILT.scriptTagsBlock);
  if (hookVersion !== tagsVersion) throw invalid(BUILT.scriptTagsBlock, `has version ${tagsVersion} but the register hook has ${hookVersion}`);
  if (!parts.scriptTagsBlock.includes(CONFIG_PLACEHOLDER)) throw invalid(BUILT.scriptTagsBlock, `does not hold ${CONFIG_PLACEHOLDER}`);
  return { ...parts, manifest: parts.manifest, version: hookVersion };
}

function blockVersion(block: string, spec: MarkerSpec, file: string): string {
  const trimmed = block.replace(/\s+$/, '');
  let location;
  try {
    location = locateBlock(trimmed, spec, file);
  } catch (error) {
    throw invalid(file, (error as Error).message);
  }
  if (!location || location.start !== 0 || location.end !== trimmed.length) throw invalid(file, 'must start with its BEGIN marker and end with its END marker');
  return location.version;
}

function parseManifest(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(BUILT.manifest, 'is not JSON');
  }
}

function invalid(file: string, message: string): MonetizationError {
  return new MonetizationError('sync_bundle_invalid', `theme/${file}: ${message}`, { hint: 'rebuild it with `npm run build`' });
}
