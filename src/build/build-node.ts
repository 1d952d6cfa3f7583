/**
 * Compiles the shipped Node code (the CLI and, through its lazily loaded commands, the
 * provisioner, sync, reconcile, doctor and the sandbox) into dist/cli/ so the bin starts without
 * tsx. One esbuild pass: ESM, code splitting (each command stays a chunk loaded on demand),
 * packages left external (resolved from node_modules at run time, like the sources).
 *
 * dist/build-info.json lists every source the output was built from with its sha256; the bin
 * (scripts/compiled-cli.mjs) runs dist/ only while all of them still match.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import pkg from '../../package.json' with { type: 'json' };
import { MonetizationError } from '../shared/errors.ts';
import type { BuiltFile } from './build-bundle.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NODE_ENTRY = join(PROJECT_ROOT, 'src/cli/main.ts');
/** Not committed (.gitignore): `npm run build` writes it. Paths in a build are relative to it. */
export const DIST_DIR = 'dist';
export const COMPILED_MAIN = 'cli/main.js';
export const BUILD_INFO = 'build-info.json';
/** Read by esbuild besides the sources it bundles: a change here changes the output too. */
const CONFIG_INPUTS = ['tsconfig.json', 'src/build/build-node.ts'];

export interface BuildInfo {
  entry: string;
  /** Relative to the project root, sorted. */
  inputs: { path: string; sha256: string }[];
}

export interface NodeBuildResult {
  /** Relative to dist/, sorted; build-info.json last. */
  files: BuiltFile[];
  info: BuildInfo;
  /** Packages the compiled code imports at run time (all from `dependencies`). */
  packages: string[];
}

const toPosix = (path: string) => path.split(sep).join('/');

/**
 * Sources resolve files next to themselves with `new URL(..., import.meta.url)` (the plans example,
 * the theme/ folder, the browser entry). Bundled, import.meta.url would be the chunk's URL, so each
 * use is pinned to its source file, written relative to dist/cli/ (every chunk sits there).
 */
function pinImportMetaUrl(outDir: string): Plugin {
  return {
    name: 'pin-import-meta-url',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /\.ts$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const fromChunk = toPosix(relative(outDir, args.path));
        return { contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromChunk)}, import.meta.url).href`), loader: 'ts' };
      });
    },
  };
}

/** Of the raw bytes, as scripts/compiled-cli.mjs hashes them. */
async function fileSha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** What the shipped code must never pull in: benchmarks, tests, e2e specs, dev-only packages. */
export function assertShippable(inputs: readonly string[], packages: readonly string[]): void {
  const devOnly = inputs.filter((path) => /^(bench|e2e)\//.test(path) || /\.test\.ts$|\/fixtures\//.test(path));
  if (devOnly.length > 0) {
    throw new MonetizationError('node_build_dev_import', `the shipped CLI imports ${devOnly.join(', ')}`, {
      hint: 'benchmarks, tests and fixtures run from their own scripts (npm run bench, npm test); cut the import from src/',
    });
  }
  const runtime = new Set(Object.keys(pkg.dependencies));
  const missing = packages.filter((name) => !runtime.has(name));
  if (missing.length > 0) {
    throw new MonetizationError('node_build_dev_import', `the shipped CLI imports ${missing.join(', ')}, not in package.json "dependencies"`, {
      hint: 'npm ci --omit=dev would not install it: move it to dependencies or cut the import',
    });
  }
}

function importedPackages(metafile: Metafile): string[] {
  const builtins = new Set(builtinModules);
  const names = Object.values(metafile.outputs)
    .flatMap((output) => output.imports)
    .filter((entry) => entry.external && !entry.path.startsWith('node:') && !builtins.has(entry.path))
    .map((entry) => packageName(entry.path));
  return [...new Set(names)].sort();
}

/** Builds in memory; write the files with theme-files' writeBuiltFiles(dist dir, files). */
export async function buildNodeCode(options: { entry?: string; outDir?: string } = {}): Promise<NodeBuildResult> {
  const entry = options.entry ?? NODE_ENTRY;
  const outDir = join(options.outDir ?? join(PROJECT_ROOT, DIST_DIR), dirname(COMPILED_MAIN));
  const result = await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [entry],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir: outDir,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    write: false,
    metafile: true,
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
    plugins: [pinImportMetaUrl(outDir)],
  });

  const sourcePaths = [...Object.keys(result.metafile.inputs).filter((path) => !path.startsWith('node_modules/')), ...CONFIG_INPUTS];
  const inputs = await Promise.all(
    [...new Set(sourcePaths.map(toPosix))].sort().map(async (path) => ({ path, sha256: await fileSha256(join(PROJECT_ROOT, path)) })),
  );
  const packages = importedPackages(result.metafile);
  assertShippable(inputs.map((input) => input.path), packages);

  const info: BuildInfo = { entry: COMPILED_MAIN, inputs };
  const compiled = result.outputFiles
    .map((file) => ({ path: toPosix(join(dirname(COMPILED_MAIN), relative(outDir, file.path))), contents: file.text }))
    .sort((a, b) => a.path.localeCompare(b.path));
  return { files: [...compiled, { path: BUILD_INFO, contents: `${JSON.stringify(info, null, 2)}\n` }], info, packages };
}
