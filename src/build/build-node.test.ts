import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { MonetizationError } from '../shared/errors.ts';
import {
  assertProductionCommands,
  assertShippable,
  BUILD_INFO,
  BUILD_TOOLS,
  buildNodeCode,
  COMPILED_MAIN,
  PRODUCTION_COMMANDS,
  PROJECT_ROOT,
  type NodeBuildResult,
} from './build-node.ts';
import { writeBuiltFiles } from './theme-files.ts';

// Built under the project's (ignored) state folder so the compiled code resolves its packages and
// sources as dist/ does; not under node_modules, which may be a symlink to elsewhere.
let outDir: string;
let built: NodeBuildResult;

beforeAll(async () => {
  const state = join(PROJECT_ROOT, '.kong-portal-monetization');
  await mkdir(state, { recursive: true });
  outDir = await mkdtemp(join(state, 'build-node-test-'));
  built = await buildNodeCode({ outDir });
  await writeBuiltFiles(outDir, built.files);
}, 60_000);
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

/** Files and packages loaded before main.js runs (static imports only), by following the chunks. */
async function staticGraph(entry: string): Promise<{ files: string[]; packages: string[] }> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (files.has(file)) return;
    files.add(file);
    const text = await readFile(join(outDir, file), 'utf8');
    for (const [, specifier] of text.matchAll(/^(?:import|export)\b[^;]*?["']([^"']+)["'];?$/gms)) {
      if (specifier?.startsWith('./')) await visit(join(dirname(file), specifier));
      else if (specifier && !specifier.startsWith('node:')) packages.add(specifier);
    }
  };
  await visit(entry);
  return { files: [...files], packages: [...packages].sort() };
}

describe('buildNodeCode', () => {
  it('records every source it compiled, with its hash, and the config that shapes the output', () => {
    const paths = built.info.inputs.map((input) => input.path);
    expect(paths).toEqual([...paths].sort());
    expect(paths).toEqual(expect.arrayContaining(['src/cli/main.ts', 'src/provisioner/server.ts', 'package.json', 'tsconfig.json', 'src/build/build-node.ts']));
    expect(paths.some((path) => path.startsWith('node_modules/'))).toBe(false);
    expect(built.info.inputs.every((input) => /^[0-9a-f]{64}$/.test(input.sha256))).toBe(true);
    expect(built.files.at(-1)?.path).toBe(BUILD_INFO);
  });

  it('ships no benchmark, test or dev-only package', () => {
    expect(built.info.inputs.filter((input) => /^(bench|e2e)\/|\.test\.ts$/.test(input.path))).toEqual([]);
    expect(built.packages.length).toBeGreaterThan(0);
    for (const name of built.packages) expect([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies)]).toContain(name);
  });

  it('production commands load only "dependencies": no sandbox package, no build tool; start and build load theirs', () => {
    const runtime = Object.keys(pkg.dependencies).filter((name) => !(BUILD_TOOLS as readonly string[]).includes(name));
    for (const command of PRODUCTION_COMMANDS) {
      expect(built.commandPackages[command]?.length, command).toBeGreaterThan(0);
      expect(built.commandPackages[command]?.filter((name) => !runtime.includes(name)), command).toEqual([]);
    }
    expect(built.commandPackages.start).toEqual(expect.arrayContaining(['smtp-server', 'mailparser']));
    expect(built.commandPackages.build).toContain('esbuild');
  });

  it('keeps each command a chunk of its own, loaded on demand', async () => {
    const { files, packages } = await staticGraph(COMPILED_MAIN);
    const loaded = await Promise.all(files.map((file) => readFile(join(outDir, file), 'utf8')));
    expect(loaded.join('\n')).toMatch(/import\("\.\/provisioner-[A-Z0-9]+\.js"\)/);
    expect(packages).toEqual(['picocolors']);
  });

  it('runs: the compiled build command finds the browser sources from its output folder', () => {
    const script = `const { runCli } = await import(${JSON.stringify(pathToFileURL(join(outDir, COMPILED_MAIN)).href)}); process.exitCode = await runCli(['build', '--dry-run']);`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('monetization.js');
    expect(result.status).toBe(0);
  }, 60_000);
});

describe('assertShippable', () => {
  it('refuses a bench/, e2e/, test, test harness or fixture input', () => {
    for (const path of ['bench/run-bench.ts', 'e2e/journey.spec.ts', 'src/a.test.ts', 'src/testkit/usage-test-kit.ts', 'src/admin/sync/fixtures/theme-files.ts']) {
      expect(() => assertShippable(['src/cli/main.ts', path], [])).toThrow(MonetizationError);
    }
  });

  it('refuses a package that npm ci --omit=dev would not install', () => {
    expect(() => assertShippable(['src/cli/main.ts'], ['commander', 'playwright-core'])).toThrow(/playwright-core, not in package.json "dependencies"/);
    expect(() => assertShippable(['src/cli/main.ts'], ['commander', 'stripe', 'smtp-server'])).not.toThrow();
  });
});

describe('assertProductionCommands', () => {
  it('names each production command that loads a sandbox package or a build tool', () => {
    expect(() => assertProductionCommands({ sync: ['commander'], doctor: ['stripe', 'smtp-server'], provisioner: ['esbuild'], start: ['mailparser'] })).toThrow(
      'a production command loads a sandbox-only or build-only package: provisioner loads esbuild; doctor loads smtp-server',
    );
    expect(() => assertProductionCommands({ sync: ['commander'], start: ['mailparser', 'jquery'], build: ['esbuild'] })).not.toThrow();
  });
});

describe('a module that locates a file relative to itself', () => {
  it('is refused, named, with the fix (package-root.ts alone may)', async () => {
    const dir = await mkdtemp(join(PROJECT_ROOT, '.kong-portal-monetization', 'self-location-'));
    try {
      const entry = join(dir, 'entry.ts');
      await writeFile(entry, `import { PACKAGE_ROOT } from '../shared/package-root.ts';\nexport const here = new URL('.', import.meta.url).href + PACKAGE_ROOT;\n`);
      const failure = await buildNodeCode({ entry, outDir: join(dir, 'out') }).catch((error: unknown) => error as Error);
      expect(String(failure)).toContain(`${relative(PROJECT_ROOT, entry)} resolves a path against its own location`);
      expect(String(failure)).not.toContain('package-root.ts resolves');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
