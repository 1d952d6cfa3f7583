/**
 * Benchmark 6: installing the bundle into a 350-file workspace. Our sync (in process, and as the
 * `portal-monetization sync` CLI a person runs) beside Kong's own `kong-portal-cli sync` uploading
 * the very same change (the three files our install writes), all against the Kong emulator and
 * all counted on the wire by one pass-through proxy.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KongAdminClient } from '../src/kong/kong-admin-client.ts';
import { syncBundle } from '../src/admin/sync/sync-bundle.ts';
import { loadBundle } from '../src/admin/sync/bundle.ts';
import { startKongEmulator, type RunningKongEmulator } from '../src/sandbox/kong/index.ts';
import type { BenchScenario } from './bench-types.ts';
import { runTimed } from './support/child-process.ts';
import { startCountingProxy, type CountingProxy } from './support/counting-proxy.ts';
import { median, round } from './support/stats.ts';
import { seedPortalWorkspace } from './support/workspace-seed.ts';

const CLI = fileURLToPath(new URL('../scripts/portal-monetization.mjs', import.meta.url));
const PORTAL_CLI = join(dirname(createRequire(import.meta.url).resolve('kong-portal-cli/package.json')), 'bin/src/portal.js');
const PROVISIONER_URL = 'http://127.0.0.1:8787';

interface Workspace {
  kong: RunningKongEmulator;
  proxy: CountingProxy;
  dir: string;
  close(): Promise<void>;
}

async function freshWorkspace(files: number): Promise<Workspace> {
  const kong = await startKongEmulator();
  seedPortalWorkspace(kong, files);
  const proxy = await startCountingProxy(kong.adminUrl);
  const dir = await mkdtemp(join(tmpdir(), 'kpm-bench-sync-'));
  return {
    kong,
    proxy,
    dir,
    async close() {
      await proxy.close();
      await kong.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const childEnv = (adminUrl: string): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, KONG_ADMIN_URL: adminUrl, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' });

export const syncScenario: BenchScenario = {
  name: 'sync',
  summary: 'install into a 350-file workspace: requests and time, beside kong-portal-cli sync',
  async run({ quick, log }) {
    const files = 350;
    const repetitions = quick ? 1 : 5;
    const bundle = await loadBundle();
    const ours = { ms: [] as number[], requests: 0, byMethod: {} as Record<string, number>, writes: 0 };
    const oursCli = { ms: [] as number[], requests: 0 };
    const theirs = { ms: [] as number[], requests: 0, byMethod: {} as Record<string, number> };
    let change = new Map<string, string>();

    for (let rep = 0; rep < repetitions; rep++) {
      log(`sync: repetition ${rep + 1}/${repetitions}`);
      // 1. syncBundle in process (the code `npm start` and the CLI run).
      const a = await freshWorkspace(files);
      try {
        const before = new Map([...a.kong.state.requireWs('default').files.values()].map((f) => [f.path, f.contents]));
        const client = new KongAdminClient({ adminUrl: a.proxy.url, workspace: 'default' });
        const started = performance.now();
        const result = await syncBundle({ client, provisionerUrl: PROVISIONER_URL, bundle, backupRoot: a.dir, secretEnv: {} });
        ours.ms.push(performance.now() - started);
        ({ total: ours.requests, byMethod: ours.byMethod } = a.proxy.counts());
        ours.writes = result.writes;
        change = new Map(
          [...a.kong.state.requireWs('default').files.values()].filter((f) => before.get(f.path) !== f.contents).map((f) => [f.path, f.contents]),
        );
      } finally {
        await a.close();
      }

      // 2. The same through the CLI, process start included.
      const b = await freshWorkspace(files);
      try {
        const run = await runTimed(process.execPath, [CLI, 'sync', '--provisioner-url', PROVISIONER_URL], { cwd: b.dir, env: childEnv(b.proxy.url) });
        if (run.code !== 0) throw new Error(`portal-monetization sync failed (${run.code}): ${run.stderr || run.stdout}`);
        oursCli.ms.push(run.ms);
        oursCli.requests = b.proxy.counts().total;
      } finally {
        await b.close();
      }

      // 3. kong-portal-cli sync from a local copy of the workspace carrying the same change.
      const c = await freshWorkspace(files);
      try {
        const root = join(c.dir, 'workspaces', 'default');
        for (const file of c.kong.state.requireWs('default').files.values()) await writeLocal(root, file.path, change.get(file.path) ?? file.contents);
        for (const [path, contents] of change) await writeLocal(root, path, contents);
        await writeLocal(root, 'cli.conf.yaml', `kong_admin_url: ${c.proxy.url}\n`);
        const run = await runTimed(process.execPath, [PORTAL_CLI, 'sync', 'default'], { cwd: c.dir, env: childEnv(c.proxy.url) });
        if (run.code !== 0) throw new Error(`kong-portal-cli sync failed (${run.code}): ${run.stderr || run.stdout}`);
        for (const [path, contents] of change)
          if (c.kong.state.getFile('default', path)?.contents !== contents) throw new Error(`kong-portal-cli sync did not upload ${path}`);
        theirs.ms.push(run.ms);
        ({ total: theirs.requests, byMethod: theirs.byMethod } = c.proxy.counts());
      } finally {
        await c.close();
      }
    }

    const methods = (counts: Record<string, number>) => Object.entries(counts).sort().map(([m, n]) => `${m} ${n}`).join(', ');
    return [
      {
        id: 'sync',
        title: `Sync into a ${files}-file workspace`,
        metrics: {
          files_in_workspace: files,
          files_changed: change.size,
          ours_requests: ours.requests,
          ours_writes: ours.writes,
          ours_in_process_ms: round(median(ours.ms)),
          ours_cli_process_ms: round(median(oursCli.ms)),
          ours_cli_requests: oursCli.requests,
          kong_portal_cli_requests: theirs.requests,
          kong_portal_cli_process_ms: round(median(theirs.ms)),
        },
        parameters: { repetitions, statistic: 'median', kong: 'emulator (in process, loopback)', change: [...change.keys()].join(', ') },
        goals: [
          { description: 'sync writes only the files that change (3)', met: ours.writes === change.size },
          { description: 'sync makes 10 Admin API requests or fewer', met: ours.requests <= 10 },
        ],
        notes: [
          `ours by method: ${methods(ours.byMethod)} (every write is verified against the file Kong answers the PUT with; backups before writes)`,
          `kong-portal-cli by method: ${methods(theirs.byMethod)}`,
          'process times include Node start-up: our CLI loads TypeScript through tsx, kong-portal-cli is plain JS',
        ],
      },
    ];
  },
};

async function writeLocal(root: string, path: string, contents: string): Promise<void> {
  const target = join(root, ...path.split('/'));
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, contents);
}
