/**
 * The production path as an admin walks it, in child processes on a temporary copy of the repo:
 * clean copy (git's files), `npm ci --omit=dev` from the npm cache, `npm run build` twice (the
 * second through the compiled CLI the first made), then the compiled code only
 * (PORTAL_MONETIZATION_CODE=compiled): start the sandbox, `sync --dry-run` and `doctor` against it
 * with the line start prints. Then the sandbox's optional packages are removed, as
 * `npm ci --omit=optional` would leave them: production commands still run, start says what is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { PACKAGE_ROOT } from '../shared/package-root.ts';

let copy: string;
const BASE_ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', PORTAL_MONETIZATION_CODE: 'compiled' };

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, { cwd: copy, env: { ...BASE_ENV, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', output: `${result.stdout}\n${result.stderr}` };
}

/** Every file of the compiled output, path -> contents. */
async function distFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(join(copy, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else files.set(path, await readFile(join(copy, path), 'utf8'));
    }
  };
  await walk('dist');
  return files;
}

/** `start` from the compiled CLI until it prints its export line; stop() sends SIGINT. */
async function startCompiled(argv: string[]): Promise<{ exportLine: string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, ['scripts/portal-monetization.mjs', 'start', ...argv], { cwd: copy, env: BASE_ENV });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const exportLine = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((text) => text.trimStart().startsWith('export '));
      if (line && output.includes('Ctrl-C stops everything')) resolve(line.trim());
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`start exited ${code} before it was ready:\n${output}`)));
  });
  return {
    exportLine,
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

const PORT_FLAGS = ['--kong-admin-port', '--kong-portal-port', '--kong-portal-api-port', '--kong-proxy-port', '--stripe-port', '--moesif-port', '--provisioner-port'];
const SANDBOX_ONLY = Object.keys(pkg.optionalDependencies);

beforeAll(async () => {
  copy = await mkdtemp(join(tmpdir(), 'pm-admin-install-'));
  // What a clone holds: tracked files, plus new ones not ignored (this test runs before a commit too).
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  const paths = listed.stdout.split('\0').filter((path) => path && existsSync(join(PACKAGE_ROOT, path)));
  for (const path of paths) await cp(join(PACKAGE_ROOT, path), join(copy, path));
}, 60_000);
afterAll(async () => {
  if (copy) await rm(copy, { recursive: true, force: true });
});

describe('production install from a clean copy', () => {
  it('npm ci --omit=dev installs no dev package and no dist/', async () => {
    const install = run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund']);
    expect(install.code, install.output).toBe(0);
    // Dev-only as the lock file says (a devDependency that a runtime package also needs, like @types/node for stripe, is not).
    const lock = JSON.parse(await readFile(join(copy, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([path, entry]) => entry.dev && path.startsWith('node_modules/'));
    expect(devOnly.map(([path]) => path)).toEqual(expect.arrayContaining(['node_modules/vitest', 'node_modules/typescript']));
    expect(devOnly.filter(([path]) => existsSync(join(copy, path))).map(([path]) => path)).toEqual([]);
    for (const name of [...Object.keys(pkg.dependencies), ...SANDBOX_ONLY]) expect(existsSync(join(copy, 'node_modules', name)), name).toBe(true);
    expect(existsSync(join(copy, 'dist'))).toBe(false);
  }, 60_000);

  it('npm run build twice: the second (run by the compiled CLI) gives the same dist/', async () => {
    const first = run('npm', ['run', 'build'], { PORTAL_MONETIZATION_CODE: 'auto' });
    expect(first.code, first.output).toBe(0);
    const once = await distFiles();
    const second = run('npm', ['run', 'build'], { PORTAL_MONETIZATION_CODE: 'compiled' });
    expect(second.code, second.output).toBe(0);
    expect(await distFiles()).toEqual(once);
    expect(run('git', ['status', '--porcelain'], {}).stdout).not.toMatch(/theme\//);
  }, 60_000);

  it('the compiled CLI starts the sandbox; sync --dry-run and doctor pass with the line start printed', async () => {
    const sandbox = await startCompiled(PORT_FLAGS.flatMap((flag) => [flag, '0']));
    try {
      const sync = run('bash', ['-c', `${sandbox.exportLine}\nexec node scripts/portal-monetization.mjs sync --dry-run --provisioner-url "$PROVISIONER_URL"`]);
      expect(sync.code, sync.output).toBe(0);
      expect(sync.stderr).not.toMatch(/ENOENT|cannot be read/);
      const doctor = run('bash', ['-c', `${sandbox.exportLine}\nexec node scripts/portal-monetization.mjs doctor`]);
      expect(doctor.stdout, doctor.output).toMatch(/all \d+ checks passed/);
      expect(doctor.code).toBe(0);
    } finally {
      expect(await sandbox.stop()).toBe(0);
    }
  }, 60_000);

  it('without the optional (sandbox) packages: production commands run, start says what is missing', async () => {
    for (const name of SANDBOX_ONLY) await rm(join(copy, 'node_modules', name), { recursive: true, force: true });
    for (const command of ['provisioner', 'sync', 'reconcile', 'doctor', 'stripe-setup']) {
      const help = run('node', ['scripts/portal-monetization.mjs', command, '--help']);
      expect(help.code, `${command}: ${help.output}`).toBe(0);
    }
    // Loads everything doctor loads, then fails its checks for want of settings (not of a package).
    const doctor = run('node', ['scripts/portal-monetization.mjs', 'doctor']);
    expect(doctor.stdout).toContain('KONG_ADMIN_URL');
    expect(doctor.stderr).not.toMatch(/Cannot find/);
    const start = run('node', ['scripts/portal-monetization.mjs', 'start', '--help']);
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/error \[optional_package_missing\]: this command needs the package (smtp-server|mailparser)/);
    expect(start.stderr).toContain('fix: install the optional packages');
  }, 60_000);
});
