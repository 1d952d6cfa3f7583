/**
 * Kong's own kong-portal-cli (npm) against the emulator: enable, deploy (with its wipe), sync,
 * fetch and wipe must all work, with RBAC on, as they would against Kong Enterprise.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKongEmulator, type RunningKongEmulator } from './kong-emulator.ts';

const run = promisify(execFile);
const portalBin = join(dirname(createRequire(import.meta.url).resolve('kong-portal-cli/package.json')), 'bin/src/portal.js');
const TOKEN = 'cli-token';
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

let kong: RunningKongEmulator;
let root: string;

async function portal(cwd: string, ...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, [portalBin, ...args], {
    cwd,
    timeout: 60_000,
    env: { ...process.env, KONG_ADMIN_URL: kong.adminUrl, KONG_ADMIN_TOKEN: TOKEN, FORCE_COLOR: '0', CI: '1' },
  });
  return stdout + stderr;
}

function writeWorkspaceFile(base: string, path: string, contents: string | Buffer): void {
  const full = join(base, 'workspaces', 'default', path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, contents);
}

const LOCAL_FILES: Record<string, string> = {
  'portal.conf.yaml': 'theme:\n  name: base\n',
  'router.conf.yaml': '{}\n',
  'content/index.txt': '---\nlayout: index.html\n---\nHello',
  'content/guides/start.txt': '---\nlayout: index.html\n---\nStart',
  'themes/base/theme.conf.yaml': 'name: base\n',
  'themes/base/layouts/index.html': '<html>{(partials/head.html)}</html>',
  'themes/base/partials/head.html': '<head></head>',
  'themes/base/assets/js/app.js': 'console.log("app")',
};

beforeAll(async () => {
  kong = await startKongEmulator({ adminToken: TOKEN });
  root = mkdtempSync(join(tmpdir(), 'kong-portal-cli-'));
  writeWorkspaceFile(root, 'cli.conf.yaml', `kong_admin_url: ${kong.adminUrl}\n`);
  for (const [path, contents] of Object.entries(LOCAL_FILES)) writeWorkspaceFile(root, path, contents);
  writeWorkspaceFile(root, 'themes/base/assets/images/dot.png', PNG);
});

afterAll(async () => {
  await kong.close();
  rmSync(root, { recursive: true, force: true });
});

describe('kong-portal-cli against the emulator', () => {
  it('enables the portal, then deploy wipes stale files and uploads the workspace folder', async () => {
    await portal(root, 'enable', 'default');
    expect(kong.state.portalEnabled('default')).toBe(true);
    kong.state.putFile('default', 'content/stale.txt', 'old');

    await portal(root, 'deploy', 'default');
    const stored = new Map([...kong.state.requireWs('default').files.values()].map((f) => [f.path, f.contents]));
    expect(stored.has('content/stale.txt')).toBe(false);
    for (const [path, contents] of Object.entries(LOCAL_FILES)) expect(stored.get(path), path).toBe(contents);
    // Binary assets travel as data URIs.
    expect(stored.get('themes/base/assets/images/dot.png')).toBe(`data:image/png;base64,${PNG.toString('base64')}`);
    expect(stored.has('cli.conf.yaml')).toBe(false);
  });

  it('sync uploads only changed files and deletes files removed locally', async () => {
    const before = kong.state.getFile('default', 'themes/base/layouts/index.html');
    writeWorkspaceFile(root, 'content/index.txt', '---\nlayout: index.html\n---\nHello again');
    unlinkSync(join(root, 'workspaces/default/content/guides/start.txt'));

    const output = await portal(root, 'sync', 'default');
    expect(output).toMatch(/1 updated, 1 deleted/);
    expect(kong.state.getFile('default', 'content/index.txt')?.contents).toContain('Hello again');
    expect(kong.state.getFile('default', 'content/guides/start.txt')).toBeUndefined();
    expect(kong.state.getFile('default', 'themes/base/layouts/index.html')).toEqual(before);
  });

  it('fetch writes every upstream file into an empty workspace folder', async () => {
    const other = mkdtempSync(join(tmpdir(), 'kong-portal-fetch-'));
    try {
      writeWorkspaceFile(other, 'cli.conf.yaml', `kong_admin_url: ${kong.adminUrl}\n`);
      kong.state.putFile('default', 'content/from-kong.txt', 'made upstream');
      const output = await portal(other, 'fetch', 'default');
      const count = kong.state.requireWs('default').files.size;
      expect(output).toContain(`Fetched ${count} files`);
      expect(readFileSync(join(other, 'workspaces/default/content/from-kong.txt'), 'utf8')).toBe('made upstream');
      expect(readFileSync(join(other, 'workspaces/default/themes/base/layouts/index.html'), 'utf8')).toBe(LOCAL_FILES['themes/base/layouts/index.html']);
      expect(readFileSync(join(other, 'workspaces/default/themes/base/assets/images/dot.png'))).toEqual(PNG);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('wipe deletes every file upstream', async () => {
    kong.state.patchWorkspaceConfig('default', { portal: true });
    for (let i = 0; i < 120; i++) kong.state.putFile('default', `content/bulk/${i}.txt`, String(i));
    await portal(root, 'wipe', 'default');
    expect(kong.state.requireWs('default').files.size).toBe(0);
    expect(existsSync(join(root, 'workspaces/default/content/index.txt'))).toBe(true);
  });
});
