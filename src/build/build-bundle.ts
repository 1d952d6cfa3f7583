/**
 * Builds everything under theme/ in memory: monetization.js (esbuild, one minified ES2017 IIFE),
 * the two splice blocks and the manifest. Same sources give the same bytes: no timestamps, no
 * absolute paths, files in a fixed order. Refuses to produce output holding anything secret.
 */
import { sha256Hex } from '../shared/sha256.ts';
import { packagePath } from '../shared/package-root.ts';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { BUILT, BUNDLE_NAME, BUNDLE_VERSION } from '../shared/bundle-layout.ts';
import { MonetizationError } from '../shared/errors.ts';
import { registerHookBlock, scriptTagsBlock } from './blocks.ts';
import { assertNoSecrets, type Environment, type ScannedFile } from '../shared/secret-scan.ts';

const DEFAULT_ENTRY = packagePath('src/browser/monetization.ts');
/**
 * The portal script's budget, gzipped. First 5 KB; 6 KB since issue 19 gave developers text of
 * their own (Kong's register errors as sentences, error codes as developer text, the billing
 * panel's notes), which took the script to about 5.3 KB; 7 KB since the panel shows usage so far, the
 * 3-D Secure confirmation and the developer's spend cap (issues 18, 21, 23: about 6.1 KB).
 */
export const SCRIPT_GZIP_BUDGET_BYTES = 7 * 1024;

export type BuiltFile = ScannedFile;

interface Manifest {
  name: string;
  version: string;
  files: { path: string; sha256: string; bytes: number }[];
}

export interface BuildResult {
  /** Paths relative to theme/, sorted; the manifest last. */
  files: BuiltFile[];
  script: { bytes: number; gzipBytes: number };
}

interface BuildOptions {
  /** Browser entry point (tests build other sources). */
  entry?: string;
  /** Scanned for secret values that must not appear in the output. */
  env?: Environment;
}


export function createManifest(files: readonly BuiltFile[]): Manifest {
  return {
    name: BUNDLE_NAME,
    version: BUNDLE_VERSION,
    files: [...files]
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((file) => ({ path: file.path, sha256: sha256Hex(file.contents), bytes: Buffer.byteLength(file.contents) })),
  };
}

async function bundleScript(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2017',
    minify: true,
    write: false,
    charset: 'ascii',
    legalComments: 'none',
    logLevel: 'silent',
    banner: { js: `/* ${BUNDLE_NAME} v${BUNDLE_VERSION} */` },
    define: { __BUNDLE_VERSION__: JSON.stringify(BUNDLE_VERSION) },
  });
  const output = result.outputFiles[0];
  if (!output) throw new MonetizationError('build_failed', `esbuild produced no output for ${entry}`);
  return output.text;
}

export async function buildBundle(options: BuildOptions = {}): Promise<BuildResult> {
  const script = await bundleScript(options.entry ?? DEFAULT_ENTRY);
  const shortSha = sha256Hex(script).slice(0, 12);
  const built: BuiltFile[] = [
    { path: BUILT.registerHookBlock, contents: registerHookBlock(BUNDLE_VERSION) },
    { path: BUILT.scriptTagsBlock, contents: scriptTagsBlock(BUNDLE_VERSION, shortSha) },
    { path: BUILT.script, contents: script },
  ];
  const manifest: BuiltFile = { path: BUILT.manifest, contents: `${JSON.stringify(createManifest(built), null, 2)}\n` };
  const files = [...built, manifest];

  assertNoSecrets(files, options.env ?? process.env);

  const gzipBytes = gzipSync(script, { level: 9 }).byteLength;
  if (gzipBytes > SCRIPT_GZIP_BUDGET_BYTES) {
    throw new MonetizationError('bundle_too_large', `${BUILT.script} is ${gzipBytes} bytes gzipped, over the ${SCRIPT_GZIP_BUDGET_BYTES}-byte budget`, {
      hint: 'keep src/browser/ lean: no bundled libraries (use window.fetch and the page\'s jQuery)',
    });
  }
  return { files, script: { bytes: Buffer.byteLength(script), gzipBytes } };
}
