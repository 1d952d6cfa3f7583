import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { workspacePaths } from '../../shared/bundle-layout.ts';
import { loadBundle, makeBundle, type Bundle } from './bundle.ts';
import { baseThemeFiles, startTestPortal, type TestPortal } from '../../testkit/sync-test-portal.ts';
import { hookBlock, tagsBlock } from '../../testkit/theme-fixtures.ts';
import { inspectInstall } from './inspect-install.ts';
import { syncBundle } from './sync-bundle.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let portal: TestPortal;
let bundle: Bundle;
let backupRoot: string;
const base = workspacePaths('base');

beforeAll(async () => {
  bundle = await loadBundle();
  backupRoot = await mkdtemp(join(tmpdir(), 'inspect-'));
});
beforeEach(async () => {
  portal = await startTestPortal();
  portal.seed(baseThemeFiles());
});
afterEach(() => portal.close());
afterAll(() => rm(backupRoot, { recursive: true, force: true }));

describe('inspectInstall', () => {
  it('reports a workspace without the bundle', async () => {
    const report = await inspectInstall(portal.client(), undefined, { bundle });
    expect(report).toMatchObject({ theme: 'base', installed: false, partial: false, current: false, version: undefined });
    expect(report.files.map((f) => f.problem)).toEqual(['missing', 'the bundle block is not installed', 'the bundle block is not installed']);
  });

  it('reports a current install with its public config, and nothing written while looking', async () => {
    await syncBundle({ client: portal.client(), provisionerUrl: 'https://billing.example.com', bundle, backupRoot, secretEnv: {}, planField: true });
    portal.requests.length = 0;
    const report = await inspectInstall(portal.client(), 'base', { bundle });
    expect(report).toMatchObject({ installed: true, current: true, version: bundle.version, config: { provisionerUrl: 'https://billing.example.com', planField: true } });
    expect(portal.writes()).toBe(0);
  });

  it('flags an older install and a tampered monetization.js', async () => {
    const old = makeBundle({ script: '/* old */', registerHookBlock: hookBlock('0.9.0'), scriptTagsBlock: tagsBlock('0.9.0') });
    await syncBundle({ client: portal.client(), provisionerUrl: 'https://billing.example.com', bundle: old, backupRoot, secretEnv: {} });
    const report = await inspectInstall(portal.client(), 'base', { bundle });
    expect(report).toMatchObject({ installed: true, current: false, version: '0.9.0' });
    expect(report.files.find((f) => f.path === base.script)?.problem).toBe('differs from theme/manifest.json');
  });

  it('calls an interrupted install partial', async () => {
    portal.seed({ [base.script]: bundle.script });
    const report = await inspectInstall(portal.client(), 'base', { bundle });
    expect(report).toMatchObject({ installed: false, partial: true });
    expect(report.files[0]?.current).toBe(true);
  });
});
