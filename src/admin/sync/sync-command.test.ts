/**
 * The sync command end to end through its CLI entry (runSyncCommand): options, preflight failures with
 * their messages and exit codes, output, and that the admin token is never printed.
 */
import { execFileSync } from 'node:child_process';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSyncCommand } from './sync-command.ts';
import { workspacePaths } from '../../shared/bundle-layout.ts';
import { createKongEmulator } from '../../sandbox/kong/kong-emulator.ts';
import { listen, type FetchHandler, type RunningService } from '../../sandbox/running-service.ts';
import { baseThemeFiles, startTestPortal } from '../../testkit/sync-test-portal.ts';
import { SYNC_EXIT } from './sync-errors.ts';

const TOKEN = 'rbac-token-that-must-never-be-printed';
const PROVISIONER = 'https://billing.example.com';
const base = workspacePaths('base');

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sync-cli-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function cli(argv: string[], env: Record<string, string | undefined>) {
  let stdout = '';
  let stderr = '';
  const code = await runSyncCommand(argv, {
    env: { KONG_ADMIN_TOKEN: TOKEN, ...env },
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    interactive: false,
    backupRoot: join(scratch, 'backups'),
  });
  expect(stdout + stderr).not.toContain(TOKEN);
  return { code, stdout, stderr, all: stdout + stderr };
}

/** An emulator Admin API behind `intercept`, which may answer a request itself. */
async function adminBehind(intercept: (request: Request) => Response | undefined, seed = true): Promise<RunningService & { writes: () => number }> {
  const apps = createKongEmulator({ adminToken: TOKEN });
  apps.state.patchWorkspaceConfig('default', { portal: true });
  if (seed) for (const [path, contents] of Object.entries(baseThemeFiles())) apps.state.putFile('default', path, contents);
  let writes = 0;
  const handler: FetchHandler = (request) => {
    if (request.method !== 'GET') writes++;
    return intercept(request) ?? apps.admin.fetch(request);
  };
  const running = await listen('wrapped kong admin', handler);
  return { ...running, writes: () => writes };
}

describe('preflight failures', () => {
  it('unreachable Admin API: exit 3', async () => {
    const closed = await listen('closed', () => new Response('x'));
    await closed.close();
    const run = await cli(['--provisioner-url', PROVISIONER], { KONG_ADMIN_URL: closed.url });
    expect(run.code).toBe(SYNC_EXIT.unreachable);
    expect(run.stderr).toContain('[kong_unreachable]: cannot reach the Kong Admin API');
    expect(run.stderr).toContain('KONG_ADMIN_URL');
  });

  it('self-signed TLS: exit 4 naming --insecure, and --insecure then works', async () => {
    const key = join(scratch, 'key.pem');
    const cert = join(scratch, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const apps = createKongEmulator({ adminToken: TOKEN });
    apps.state.patchWorkspaceConfig('default', { portal: true });
    for (const [path, contents] of Object.entries(baseThemeFiles())) apps.state.putFile('default', path, contents);
    const server = serve({ fetch: apps.admin.fetch, port: 0, hostname: '127.0.0.1', createServer: createHttpsServer, serverOptions: { key: await readFile(key), cert: await readFile(cert) } });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const refused = await cli(['--provisioner-url', PROVISIONER], { KONG_ADMIN_URL: url });
      expect(refused.code).toBe(SYNC_EXIT.tls);
      expect(refused.stderr).toContain('[kong_tls]: TLS error');
      expect(refused.stderr).toContain('--insecure');
      const insecure = await cli(['--provisioner-url', PROVISIONER, '--insecure'], { KONG_ADMIN_URL: url });
      expect(insecure.code).toBe(SYNC_EXIT.ok);
      expect(apps.state.getFile('default', base.script)).toBeDefined();
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections(): void }).closeAllConnections();
      });
    }
  });

  it('token rejected (401): exit 5 with the RBAC hint, token not printed', async () => {
    const portal = await startTestPortal({ adminToken: TOKEN });
    try {
      const run = await cli(['--provisioner-url', PROVISIONER], { KONG_ADMIN_URL: portal.kong.adminUrl, KONG_ADMIN_TOKEN: 'wrong-token-value' });
      expect(run.code).toBe(SYNC_EXIT.unauthorized);
      expect(run.stderr).toContain('token rejected: check KONG_ADMIN_TOKEN');
      expect(run.stderr).toContain('RBAC role, which needs read and write on /files');
      expect(run.all).not.toContain('wrong-token-value');
    } finally {
      await portal.close();
    }
  });

  it('RBAC role without /files (403): exit 5', async () => {
    const admin = await adminBehind((request) => (new URL(request.url).pathname.includes('/files') ? Response.json({ message: 'you cannot consume this service' }, { status: 403 }) : undefined));
    try {
      const run = await cli(['--provisioner-url', PROVISIONER], { KONG_ADMIN_URL: admin.url });
      expect(run.code).toBe(SYNC_EXIT.unauthorized);
      expect(run.stderr).toContain('403');
      expect(run.stderr).toContain('needs read and write on /files');
    } finally {
      await admin.close();
    }
  });

  it('workspace does not exist: exit 6', async () => {
    const portal = await startTestPortal({ adminToken: TOKEN });
    try {
      const run = await cli(['--provisioner-url', PROVISIONER, '--workspace', 'nope'], { KONG_ADMIN_URL: portal.kong.adminUrl });
      expect(run.code).toBe(SYNC_EXIT.workspaceNotFound);
      expect(run.stderr).toContain('workspace "nope" does not exist');
    } finally {
      await portal.close();
    }
  });

  it('portal not enabled: exit 7 with the fix', async () => {
    const portal = await startTestPortal({ adminToken: TOKEN, portal: false, workspaces: ['team'] });
    try {
      const run = await cli(['--provisioner-url', PROVISIONER], { KONG_ADMIN_URL: portal.kong.adminUrl, KONG_WORKSPACE: 'team' });
      expect(run.code).toBe(SYNC_EXIT.portalDisabled);
      expect(run.stderr).toContain('the portal is not enabled for workspace "team"');
      expect(run.stderr).toContain('{"config":{"portal":true}}');
      expect(run.stderr).toContain('Kong Manager');
      expect(portal.writes()).toBe(0);
    } finally {
      await portal.close();
    }
  });
});

describe('the command', () => {
  it('installs, prints the table, then a second run reports zero writes; KONG_ADMIN_TOKEN_FILE wins', async () => {
    const portal = await startTestPortal({ adminToken: TOKEN });
    portal.seed(baseThemeFiles());
    const tokenFile = join(scratch, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`);
    const env = { KONG_ADMIN_URL: portal.kong.adminUrl, KONG_ADMIN_TOKEN: 'ignored-because-the-file-wins', KONG_ADMIN_TOKEN_FILE: tokenFile };
    try {
      const first = await cli(['--provisioner-url', PROVISIONER], env);
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(new RegExp(`${base.script.replace(/\./g, '\\.')}\\s+created`));
      expect(first.stdout).toMatch(/kong\.auth\.js\s+updated/);
      expect(first.stdout).toContain('3 writes');
      expect(first.stdout).toContain('backups: ');
      const second = await cli(['--provisioner-url', PROVISIONER, '--json'], env);
      expect(second.code).toBe(0);
      const summary = JSON.parse(second.stdout) as { ok: boolean; writes: number; actions: Array<{ action: string }> };
      expect(summary.ok).toBe(true);
      expect(summary.writes).toBe(0);
      expect(summary.actions.map((a) => a.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    } finally {
      await portal.close();
    }
  });

  it('retries a 5xx answer to a write and still verifies', async () => {
    let failedOnce = false;
    const admin = await adminBehind((request) => {
      if (request.method === 'PUT' && !failedOnce) {
        failedOnce = true;
        return Response.json({ message: 'An unexpected error occurred' }, { status: 503 });
      }
      return undefined;
    });
    try {
      const run = await cli(['--provisioner-url', PROVISIONER], { KONG_ADMIN_URL: admin.url });
      expect(run.code).toBe(0);
      expect(failedOnce).toBe(true);
      expect(admin.writes()).toBe(4);
    } finally {
      await admin.close();
    }
  });

  it('an interrupted sync leaves a consistent order and a re-run completes it', async () => {
    let failKongAuth = true;
    const admin = await adminBehind((request) =>
      failKongAuth && request.method === 'PUT' && request.url.endsWith('kong.auth.js') ? Response.json({ message: 'An unexpected error occurred' }, { status: 500 }) : undefined,
    );
    try {
      const interrupted = await cli(['--provisioner-url', PROVISIONER, '--json'], { KONG_ADMIN_URL: admin.url });
      expect(interrupted.code).toBe(SYNC_EXIT.failed);
      expect(interrupted.stderr).toContain('Kong answered 500 to PUT /default/files/themes/base/assets/js/kong/kong.auth.js');
      expect(JSON.parse(interrupted.stdout)).toMatchObject({ ok: false, exitCode: SYNC_EXIT.failed, error: { code: 'kong_http' } });
      failKongAuth = false;
      const rerun = await cli(['--provisioner-url', PROVISIONER, '--json'], { KONG_ADMIN_URL: admin.url });
      expect(rerun.code).toBe(0);
      expect((JSON.parse(rerun.stdout) as { actions: Array<{ action: string }> }).actions.map((a) => a.action)).toEqual(['unchanged', 'updated', 'updated']);
    } finally {
      await admin.close();
    }
  });

  it('a refusal exits 8 and says nothing changed', async () => {
    const portal = await startTestPortal({ adminToken: TOKEN });
    const seeded = baseThemeFiles();
    seeded[base.kongAuth] = 'window.Kong = {}\n';
    portal.seed(seeded);
    try {
      const run = await cli(['--provisioner-url', PROVISIONER], { KONG_ADMIN_URL: portal.kong.adminUrl });
      expect(run.code).toBe(SYNC_EXIT.refused);
      expect(run.stderr).toContain(`${base.kongAuth}: does not define window.Kong.Auth.register`);
      expect(run.stderr).toContain('nothing was changed');
      expect(portal.writes()).toBe(0);
    } finally {
      await portal.close();
    }
  });

  it('dry run prints the diff with the config, writes nothing', async () => {
    const portal = await startTestPortal({ adminToken: TOKEN });
    portal.seed(baseThemeFiles());
    try {
      const run = await cli(['--provisioner-url', PROVISIONER, '--dry-run', '--plan-field'], { KONG_ADMIN_URL: portal.kong.adminUrl });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`--- a/${base.requiredScripts}`);
      expect(run.stdout).toContain('+<script>window.PortalMonetizationConfig = {"provisionerUrl":"https://billing.example.com","planField":true}');
      expect(run.stdout).toContain('would be created');
      expect(portal.writes()).toBe(0);
    } finally {
      await portal.close();
    }
  });

  it.each([
    [['--dry-run'], '--provisioner-url: is required to install'],
    [['--provisioner-url', 'ftp://billing.example.com'], '--provisioner-url: must be http or https'],
    [['--provisioner-url', PROVISIONER, '--header', 'no colon here'], '--header'],
    [['--provisioner-url', PROVISIONER, '--theme', '../etc'], '--theme'],
    [['--provisioner-url', PROVISIONER, '--event-hook'], 'KONG_EVENT_HOOK_SECRET: is not set'],
    [['--bogus'], "unknown option '--bogus'"],
  ])('usage error %j: exit 2', async (argv, message) => {
    const run = await cli(argv, { KONG_ADMIN_URL: 'http://127.0.0.1:1' });
    expect(run.code).toBe(SYNC_EXIT.usage);
    expect(run.stderr).toContain(message);
  });

  it('--help lists every option, the environment, examples and exit codes', async () => {
    const run = await cli(['--help'], {});
    expect(run.code).toBe(0);
    for (const option of ['--workspace', '--provisioner-url', '--theme', '--dry-run', '--uninstall', '--configure-workspace', '--event-hook', '--insecure', '--header', '--plan-field', '--no-plan-field', '--json'])
      expect(run.stdout).toContain(option);
    for (const setting of ['KONG_ADMIN_URL', 'KONG_ADMIN_TOKEN_FILE', 'KONG_WORKSPACE', 'KONG_EVENT_HOOK_SECRET', 'Examples:', 'Exit codes:']) expect(run.stdout).toContain(setting);
  });
});
