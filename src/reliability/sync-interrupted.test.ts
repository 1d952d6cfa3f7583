/**
 * Reliability: sync killed right after a write (the write landed, nothing after it happened),
 * then run again. The workspace must end with exactly one copy of each block and the current
 * monetization.js, and an uninstall afterwards must give back every original file byte for byte.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KongAdminClient } from '../kong/kong-admin-client.ts';
import { loadBundle, type Bundle } from '../admin/sync/bundle.ts';
import { inspectInstall } from '../admin/sync/inspect-install.ts';
import { syncBundle, type SyncBundleOptions } from '../admin/sync/sync-bundle.ts';
import { seedStandInTheme, startKongEmulator, type RunningKongEmulator } from '../sandbox/kong/index.ts';
import { MARKERS, workspacePaths } from '../shared/bundle-layout.ts';
import { CrashingKongClient, SimulatedCrash } from '../testkit/crashing-kong-client.ts';

const PROVISIONER_URL = 'https://billing.example.com';
const paths = workspacePaths('base');

let kong: RunningKongEmulator;
let bundle: Bundle;
let backupRoot: string;
let originals: Map<string, string>;

beforeAll(async () => {
  bundle = await loadBundle();
  backupRoot = await mkdtemp(join(tmpdir(), 'kpm-reliability-sync-'));
});
afterAll(async () => {
  await rm(backupRoot, { recursive: true, force: true });
});
beforeEach(async () => {
  kong = await startKongEmulator();
  seedStandInTheme(kong, { planField: true });
  originals = workspaceFiles();
});
afterEach(async () => {
  await kong.close();
});

function workspaceFiles(): Map<string, string> {
  return new Map([...kong.state.requireWs('default').files.values()].map((file) => [file.path, file.contents]));
}

function client(): KongAdminClient {
  return new KongAdminClient({ adminUrl: kong.adminUrl, workspace: 'default', attempts: 1 });
}

function sync(target: KongAdminClient, options: Partial<SyncBundleOptions> = {}) {
  return syncBundle({ client: target, provisionerUrl: PROVISIONER_URL, bundle, backupRoot, secretEnv: {}, ...options });
}

async function crashedSync(afterWrites: number, options: Partial<SyncBundleOptions> = {}): Promise<void> {
  const crashing = new CrashingKongClient({ adminUrl: kong.adminUrl, workspace: 'default', attempts: 1 }, afterWrites);
  await expect(sync(crashing, options)).rejects.toBeInstanceOf(SimulatedCrash);
  expect(crashing.writes).toBe(afterWrites);
}

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** Installed exactly once: the current script, one begin and one end marker per patched file. */
function expectInstalledOnce(): void {
  const files = workspaceFiles();
  expect(files.get(paths.script)).toBe(bundle.script);
  const kongAuth = files.get(paths.kongAuth) ?? '';
  const requiredScripts = files.get(paths.requiredScripts) ?? '';
  expect(occurrences(kongAuth, MARKERS.registerHook.begin(bundle.version))).toBe(1);
  expect(occurrences(kongAuth, MARKERS.registerHook.end(bundle.version))).toBe(1);
  expect(occurrences(requiredScripts, MARKERS.scriptTags.begin(bundle.version))).toBe(1);
  expect(occurrences(requiredScripts, MARKERS.scriptTags.end(bundle.version))).toBe(1);
  // Only the three bundle files differ from the originals.
  const changed = [...files].filter(([path, contents]) => originals.get(path) !== contents).map(([path]) => path);
  expect(changed.sort()).toEqual([paths.script, paths.kongAuth, paths.requiredScripts].sort());
}

function expectOriginalsRestored(): void {
  expect(workspaceFiles()).toEqual(originals);
}

describe('sync interrupted after a write, then run again', () => {
  it.each([1, 2, 3])('crash after write %i: the rerun completes the install and uninstall restores the originals', async (afterWrites) => {
    await crashedSync(afterWrites);
    const half = await inspectInstall(client(), undefined, { bundle });
    // Part of the bundle is in the workspace: exactly what the crash left.
    expect(half.installed && half.current).toBe(afterWrites === 3);
    expect(workspaceFiles()).not.toEqual(originals);

    const rerun = await sync(client());
    expect(rerun.writes).toBe(3 - afterWrites);
    const inspection = await inspectInstall(client(), undefined, { bundle });
    expect(inspection).toMatchObject({ installed: true, partial: false, current: true });
    expectInstalledOnce();

    // A third run finds nothing to do.
    expect((await sync(client())).writes).toBe(0);

    await sync(client(), { uninstall: true });
    expectOriginalsRestored();
  });

  it('two crashed runs in a row, then a complete one, still install exactly once', async () => {
    await crashedSync(1);
    await crashedSync(1);
    await sync(client());
    expectInstalledOnce();
    await sync(client(), { uninstall: true });
    expectOriginalsRestored();
  });

  it('an uninstall interrupted after its first write, run again, restores the originals', async () => {
    await sync(client());
    expectInstalledOnce();
    await crashedSync(1, { uninstall: true });
    expect(workspaceFiles()).not.toEqual(originals);
    await sync(client(), { uninstall: true });
    expectOriginalsRestored();
  });

  it('an upgrade over a crashed install converges on the same workspace as a clean install', async () => {
    await crashedSync(2);
    await sync(client());
    const afterCrash = workspaceFiles();
    await sync(client(), { uninstall: true });
    await sync(client());
    expect(workspaceFiles()).toEqual(afterCrash);
  });
});
