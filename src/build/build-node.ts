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
import { build, type Metafile, type Plugin } from 'esbuild';
import pkg from '../../package.json' with { type: 'json' };
import { MonetizationError } from '../shared/errors.ts';
import { PACKAGE_ROOT } from '../shared/package-root.ts';
import type { BuiltFile } from './build-bundle.ts';

export const PROJECT_ROOT = PACKAGE_ROOT;
const NODE_ENTRY = join(PROJECT_ROOT, 'src/cli/main.ts');
/** Not committed (.gitignore): `npm run build` writes it. Paths in a build are relative to it. */
export const DIST_DIR = 'dist';
export const COMPILED_MAIN = 'cli/main.js';
export const BUILD_INFO = 'build-info.json';
/** Read by esbuild besides the sources it bundles: a change here changes the output too. */
const CONFIG_INPUTS = ['tsconfig.json', 'src/build/build-node.ts'];

interface BuildInfo {
  entry: string;
  /** Relative to the project root, sorted. */
  inputs: { path: string; sha256: string }[];
}

export interface NodeBuildResult {
  /** Relative to dist/, sorted; build-info.json last. */
  files: BuiltFile[];
  info: BuildInfo;
  /** Packages the compiled code imports at run time (from `dependencies` and `optionalDependencies`). */
  packages: string[];
  /** Packages each command can load (production commands: `dependencies` only, no build tool). */
  commandPackages: Record<string, string[]>;
}

const toPosix = (path: string) => path.split(sep).join('/');

/** The one shipped module allowed to locate itself: everything else is a path from the package root. */
const LOCATOR = 'src/shared/package-root.ts';
const SELF_LOCATION = /\bimport\.meta\.(?:url|dirname|filename)\b|\b__dirname\b|\b__filename\b/;

/**
 * Bundled, a module's own URL is the chunk's URL in dist/cli/, not its source file's: a path
 * resolved against it works from the sources and breaks in dist/ (or the other way round). So the
 * build refuses any shipped module but package-root.ts that resolves a path against itself.
 */
function refuseSelfLocation(): Plugin {
  return {
    name: 'refuse-self-location',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /\.ts$/ }, async (args) => {
        const path = toPosix(relative(PROJECT_ROOT, args.path));
        if (path === LOCATOR || !SELF_LOCATION.test(stripComments(await readFile(args.path, 'utf8')))) return undefined;
        return {
          errors: [
            {
              text: `${path} resolves a path against its own location, which differs between the sources and dist/`,
              detail: `use packagePath('<path from the package root>') from ${LOCATOR}`,
            },
          ],
        };
      });
    },
  };
}

/** Line and block comments out (strings are left alone: a URL's // inside quotes stays). */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** Of the raw bytes, as scripts/compiled-cli.mjs hashes them. */
async function fileSha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** What the shipped code must never pull in: benchmarks, tests, e2e specs, test harnesses, dev-only packages. */
export function assertShippable(inputs: readonly string[], packages: readonly string[]): void {
  const devOnly = inputs.filter((path) => /^(bench|e2e|src\/testkit)\//.test(path) || /\.test\.ts$|\/fixtures\//.test(path));
  if (devOnly.length > 0) {
    throw new MonetizationError('node_build_dev_import', `the shipped CLI imports ${devOnly.join(', ')}`, {
      hint: 'benchmarks, tests and fixtures run from their own scripts (npm run bench, npm test); cut the import from src/',
    });
  }
  const installed = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies)]);
  const missing = packages.filter((name) => !installed.has(name));
  if (missing.length > 0) {
    throw new MonetizationError('node_build_dev_import', `the shipped CLI imports ${missing.join(', ')}, not in package.json "dependencies" or "optionalDependencies"`, {
      hint: 'npm ci --omit=dev would not install it: move it to dependencies or cut the import',
    });
  }
}

/** The commands a production install runs (the rest, start and build, are the sandbox and the build). */
export const PRODUCTION_COMMANDS = ['provisioner', 'sync', 'reconcile', 'doctor', 'stripe-setup', 'aws-setup', 'usage'] as const;
/** In "dependencies" because every install builds dist/ (and tsx runs the sources), but never loaded by a production command. */
export const BUILD_TOOLS = ['esbuild', 'tsx'] as const;

/**
 * Each production command may load only "dependencies" (not the sandbox's optional packages, not
 * the build tools), so `npm ci --omit=dev --omit=optional` runs it.
 */
export function assertProductionCommands(commandPackages: Readonly<Record<string, readonly string[]>>): void {
  const allowed = new Set(Object.keys(pkg.dependencies).filter((name) => !(BUILD_TOOLS as readonly string[]).includes(name)));
  const problems = PRODUCTION_COMMANDS.flatMap((command) => {
    const extra = (commandPackages[command] ?? []).filter((name) => !allowed.has(name));
    return extra.length > 0 ? [`${command} loads ${extra.join(', ')}`] : [];
  });
  if (problems.length > 0) {
    throw new MonetizationError('node_build_sandbox_import', `a production command loads a sandbox-only or build-only package: ${problems.join('; ')}`, {
      hint: 'production installs may omit optional packages (npm ci --omit=dev --omit=optional): load it with import() from the sandbox or build code only',
    });
  }
}

const isPackage = (path: string) => !path.startsWith('node:') && !builtinModules.includes(path);

function importedPackages(metafile: Metafile): string[] {
  const names = Object.values(metafile.outputs)
    .flatMap((output) => output.imports)
    .filter((entry) => entry.external && isPackage(entry.path))
    .map((entry) => packageName(entry.path));
  return [...new Set(names)].sort();
}

/**
 * Packages each command can load: main.js's and its own chunk's, following static and dynamic
 * imports but not into another command's chunk (main.js's table reaches every command).
 */
function packagesByCommand(metafile: Metafile, entryPoint: string, commands: readonly string[]): Record<string, string[]> {
  const chunkOf = (command: string) => Object.entries(metafile.outputs).find(([, output]) => `src/cli/commands/${command}.ts` in output.inputs)?.[0];
  const commandChunks = new Set(commands.map(chunkOf));
  const outputByPath = new Map(Object.entries(metafile.outputs).map(([path, output]) => [toPosix(path), output]));
  const reach = (start: string, followDynamic = true): string[] => {
    const seen = new Set<string>();
    const names = new Set<string>();
    const stack = [start];
    while (stack.length > 0) {
      const chunk = stack.pop() as string;
      if (seen.has(chunk)) continue;
      seen.add(chunk);
      for (const entry of outputByPath.get(chunk)?.imports ?? []) {
        if (entry.external) {
          if (isPackage(entry.path)) names.add(packageName(entry.path));
        } else if (!commandChunks.has(entry.path) && (followDynamic || entry.kind !== 'dynamic-import')) stack.push(entry.path);
      }
    }
    return [...names].sort();
  };
  // main.js and its static imports run for every command.
  const main = Object.entries(metafile.outputs).find(([, output]) => output.entryPoint === entryPoint)?.[0];
  const common = main ? reach(main, false) : [];
  return Object.fromEntries(commands.map((command) => [command, [...new Set([...common, ...reach(chunkOf(command) ?? '')])].sort()]));
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
    plugins: [refuseSelfLocation()],
  });

  const sourcePaths = [...Object.keys(result.metafile.inputs).filter((path) => !path.startsWith('node_modules/')), ...CONFIG_INPUTS];
  const inputs = await Promise.all(
    [...new Set(sourcePaths.map(toPosix))].sort().map(async (path) => ({ path, sha256: await fileSha256(join(PROJECT_ROOT, path)) })),
  );
  const packages = importedPackages(result.metafile);
  assertShippable(inputs.map((input) => input.path), packages);
  const commandPackages = packagesByCommand(result.metafile, toPosix(relative(PROJECT_ROOT, entry)), [...PRODUCTION_COMMANDS, 'start', 'build']);
  assertProductionCommands(commandPackages);

  const info: BuildInfo = { entry: COMPILED_MAIN, inputs };
  const compiled = result.outputFiles
    .map((file) => ({ path: toPosix(join(dirname(COMPILED_MAIN), relative(outDir, file.path))), contents: file.text }))
    .sort((a, b) => a.path.localeCompare(b.path));
  return { files: [...compiled, { path: BUILD_INFO, contents: `${JSON.stringify(info, null, 2)}\n` }], info, packages, commandPackages };
}
