import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MARKERS, serializePublicConfig, workspacePaths } from '../../shared/bundle-layout.ts';
import { loadBundle, makeBundle, type Bundle } from './bundle.ts';
import { baseThemeFiles, startTestPortal, type TestPortal } from '../../testkit/sync-test-portal.ts';
import { hookBlock, kongAuthJs, requiredScriptsHtml, tagsBlock, toCrlf } from '../../testkit/theme-fixtures.ts';
import { patchKongAuth } from './patch-kong-auth.ts';
import { patchRequiredScripts } from './patch-required-scripts.ts';
import { syncBundle, type SyncBundleOptions } from './sync-bundle.ts';
import { MonetizationError } from '../../shared/errors.ts';

const PROVISIONER = 'https://billing.example.com';
const base = workspacePaths('base');

let portal: TestPortal;
let bundle: Bundle;
let backupRoot: string;

beforeAll(async () => {
  bundle = await loadBundle();
  backupRoot = await mkdtemp(join(tmpdir(), 'sync-backups-'));
});
afterAll(async () => {
  await rm(backupRoot, { recursive: true, force: true });
});
beforeEach(async () => {
  portal = await startTestPortal({ workspaces: ['partners'] });
});
afterEach(async () => {
  await portal.close();
});

function sync(options: Partial<SyncBundleOptions> = {}, workspace = 'default') {
  return syncBundle({ client: portal.client(workspace), provisionerUrl: PROVISIONER, bundle, backupRoot, secretEnv: {}, ...options });
}

async function failure(promise: Promise<unknown>): Promise<MonetizationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MonetizationError) return error;
    throw error;
  }
  throw new Error('expected the sync to fail');
}

describe('install', () => {
  it('fresh install: pushes monetization.js and splices both blocks, backing up the originals', async () => {
    const seeded = baseThemeFiles();
    portal.seed(seeded);
    const result = await sync();

    expect(result.actions.map((a) => [a.target, a.action])).toEqual([
      [base.script, 'created'],
      [base.kongAuth, 'updated'],
      [base.requiredScripts, 'updated'],
    ]);
    expect(result.writes).toBe(3);
    expect(portal.writes()).toBe(3);
    const files = portal.files();
    expect(files.get(base.script)).toBe(bundle.script);
    expect(files.get(base.kongAuth)).toBe(seeded[base.kongAuth] + bundle.registerHookBlock);
    const scripts = files.get(base.requiredScripts) ?? '';
    expect(scripts).toContain(serializePublicConfig({ provisionerUrl: PROVISIONER, planField: false }));
    expect(scripts.indexOf(MARKERS.scriptTags.begin(bundle.version))).toBe(scripts.indexOf('jquery.min.js"></script>\n') + 'jquery.min.js"></script>\n'.length);
    // Nothing else was touched.
    for (const [path, contents] of Object.entries(seeded)) if (path !== base.kongAuth && path !== base.requiredScripts) expect(files.get(path)).toBe(contents);
    expect(files.size).toBe(Object.keys(seeded).length + 1);

    // Backups: the originals, and a note that monetization.js did not exist.
    expect(result.backupDir).toBeDefined();
    const dir = result.backupDir ?? '';
    expect(dir.startsWith(join(backupRoot, 'default'))).toBe(true);
    expect(await readFile(join(dir, base.kongAuth), 'utf8')).toBe(seeded[base.kongAuth]);
    expect(await readFile(join(dir, base.requiredScripts), 'utf8')).toBe(seeded[base.requiredScripts]);
    const manifest = JSON.parse(await readFile(join(dir, 'backup.json'), 'utf8')) as { entries: Array<{ path: string; existed: boolean }> };
    expect(manifest.entries).toEqual([
      { path: base.script, existed: false },
      { path: base.kongAuth, existed: true },
      { path: base.requiredScripts, existed: true },
    ]);
  });

  it('second run makes zero writes and reports every file unchanged', async () => {
    portal.seed(baseThemeFiles());
    await sync();
    const before = portal.files();
    portal.requests.length = 0;
    const again = await sync();
    expect(again.writes).toBe(0);
    expect(portal.writes()).toBe(0);
    expect(again.actions.every((a) => a.action === 'unchanged')).toBe(true);
    expect(again.backupDir).toBeUndefined();
    expect(portal.files()).toEqual(before);
  });

  it('compares against a checksum it computes when the server stored none', async () => {
    portal.seed(baseThemeFiles());
    await sync();
    for (const file of portal.kong.state.requireWs('default').files.values()) file.checksum = '';
    portal.requests.length = 0;
    expect((await sync()).writes).toBe(0);
  });

  it('upgrades an older block version in place', async () => {
    const seeded = baseThemeFiles();
    const oldBundle = makeBundle({ script: '/* old monetization.js */', registerHookBlock: hookBlock('0.9.0', 'oldHook()'), scriptTagsBlock: tagsBlock('0.9.0') });
    portal.seed(seeded);
    await sync({ bundle: oldBundle, provisionerUrl: 'http://old-billing.example.com' });
    // An admin added a line after the old hook; the upgrade must keep it where it is.
    const oldAuth = (portal.files().get(base.kongAuth) ?? '') + '// local tweak\n';
    portal.seed({ [base.kongAuth]: oldAuth });

    const result = await sync();
    expect(result.actions.map((a) => a.action)).toEqual(['updated', 'updated', 'updated']);
    const files = portal.files();
    expect(files.get(base.kongAuth)).toBe(seeded[base.kongAuth] + bundle.registerHookBlock + '// local tweak\n');
    expect(files.get(base.script)).toBe(bundle.script);
    const scripts = files.get(base.requiredScripts) ?? '';
    expect(scripts).not.toContain('0.9.0');
    expect(scripts).not.toContain('old-billing');
    expect(scripts).toBe(patchRequiredScripts(seeded[base.requiredScripts] ?? '', bundle.scriptTagsBlock, { provisionerUrl: PROVISIONER, planField: false }, base.requiredScripts));
  });

  it('finds the theme files among 350 files across pages', async () => {
    const filler: Record<string, string> = {};
    for (let i = 0; i < 345; i++) filler[`content/guides/page-${String(i).padStart(3, '0')}.md`] = `# Page ${i}\n`;
    portal.seed(filler);
    portal.seed(baseThemeFiles()); // seeded last, so they sit on the last page
    expect(portal.files().size).toBe(351);
    const result = await sync();
    expect(result.filesInWorkspace).toBe(351);
    expect(portal.requests.filter((r) => r.method === 'GET' && r.path.includes('/files') && r.path.includes('offset')).length).toBeGreaterThanOrEqual(3);
    expect(result.actions.map((a) => a.action)).toEqual(['created', 'updated', 'updated']);
  });

  it('patches the active theme named in portal.conf.yaml and leaves the base theme alone', async () => {
    const baseFiles = baseThemeFiles('base');
    portal.seed(baseFiles);
    portal.seed(baseThemeFiles('acme')); // also rewrites portal.conf.yaml to theme.name: acme
    const result = await sync();
    expect(result.theme).toBe('acme');
    expect(result.actions.map((a) => a.target)).toEqual(Object.values(workspacePaths('acme')));
    expect(portal.files().get(base.kongAuth)).toBe(baseFiles[base.kongAuth]);
    expect(portal.files().has(base.script)).toBe(false);
    // --theme wins over portal.conf.yaml.
    const explicit = await sync({ theme: 'base' });
    expect(explicit.actions.map((a) => a.target)).toEqual(Object.values(base));
  });

  it('keeps CRLF files CRLF and uninstall restores them byte for byte', async () => {
    const seeded = baseThemeFiles('base', toCrlf);
    portal.seed(seeded);
    await sync();
    const patched = portal.files();
    for (const path of [base.kongAuth, base.requiredScripts]) expect((patched.get(path) ?? '').replace(/\r\n/g, '')).not.toContain('\n');
    await sync({ uninstall: true });
    expect(portal.files()).toEqual(new Map(Object.entries(seeded)));
  });

  it('dry run prints a unified diff of every change and writes nothing', async () => {
    portal.seed(baseThemeFiles());
    const before = portal.files();
    const result = await sync({ dryRun: true, configureWorkspace: true });
    expect(portal.writes()).toBe(0);
    expect(result.writes).toBe(0);
    expect(portal.files()).toEqual(before);
    expect(result.diffs).toHaveLength(4);
    expect(result.diffs.join('\n')).toContain(`+++ b/${base.script}`);
    expect(result.diffs.join('\n')).toContain(`+${MARKERS.registerHook.begin(bundle.version)}`);
    expect(result.diffs.join('\n')).toContain('+    "title": "plan"');
    expect(result.actions.map((a) => a.action)).toEqual(['updated', 'created', 'updated', 'updated']);
  });
});

describe('uninstall', () => {
  it('removes both blocks and monetization.js; every file ends byte-identical to before install', async () => {
    const seeded = baseThemeFiles();
    // No final line break in kong.auth.js: the hook goes in as eol + block and must come out the same way.
    seeded[base.kongAuth] = kongAuthJs('object-property').trimEnd();
    portal.seed(seeded);
    await sync();
    await sync(); // an idle run in between changes nothing
    const result = await sync({ uninstall: true });
    expect(result.actions.map((a) => [a.target, a.action])).toEqual([
      [base.requiredScripts, 'updated'],
      [base.kongAuth, 'updated'],
      [base.script, 'removed'],
    ]);
    expect(portal.files()).toEqual(new Map(Object.entries(seeded)));
    portal.requests.length = 0;
    const again = await sync({ uninstall: true });
    expect(again.writes).toBe(0);
    expect(portal.writes()).toBe(0);
  });
});

describe('refusals change nothing', () => {
  const cases: Array<[string, (files: Record<string, string>) => void, string]> = [
    ['kong.auth.js without Kong.Auth.register', (f) => void (f[base.kongAuth] = kongAuthJs().replace(/register/g, 'signup')), 'sync_no_register'],
    ['unbalanced markers in kong.auth.js', (f) => void (f[base.kongAuth] = kongAuthJs() + MARKERS.registerHook.begin('1.0.0') + '\n'), 'sync_markers_invalid'],
    [
      'duplicated blocks in required-scripts.html',
      (f) => {
        const once = patchRequiredScripts(requiredScriptsHtml(), tagsBlock('1.0.0'), { provisionerUrl: PROVISIONER, planField: false }, base.requiredScripts);
        f[base.requiredScripts] = once + tagsBlock('1.0.0');
      },
      'sync_markers_invalid',
    ],
    ['required-scripts.html not loading kong.auth.js', (f) => void (f[base.requiredScripts] = requiredScriptsHtml().replace(/<script src="assets\/js\/kong\/kong\.auth\.js"><\/script>\n/, '')), 'sync_no_kong_auth_script'],
    ['a theme without kong.auth.js', (f) => void delete f[base.kongAuth], 'sync_theme_missing'],
  ];

  it.each(cases)('%s', async (_name, damage, code) => {
    const seeded = baseThemeFiles();
    damage(seeded);
    portal.seed(seeded);
    const error = await failure(sync());
    expect(error.code).toBe(code);
    expect(error.hint).toBeTruthy();
    expect(portal.writes()).toBe(0);
    expect(portal.files()).toEqual(new Map(Object.entries(seeded)));
  });

  it('refuses to uninstall around damaged markers', async () => {
    const seeded = baseThemeFiles();
    seeded[base.kongAuth] = patchKongAuth(kongAuthJs(), hookBlock('1.0.0'), base.kongAuth) + MARKERS.registerHook.end('1.0.0') + '\n';
    portal.seed(seeded);
    expect((await failure(sync({ uninstall: true }))).code).toBe('sync_markers_invalid');
    expect(portal.writes()).toBe(0);
    expect(portal.files()).toEqual(new Map(Object.entries(seeded)));
  });

  it('refuses to push a file holding a secret, naming it', async () => {
    const seeded = baseThemeFiles();
    seeded[base.kongAuth] = kongAuthJs() + "var stripeKey = 'sk_live_0123456789abcdefABCDEF'\n";
    portal.seed(seeded);
    const error = await failure(sync());
    expect(error.code).toBe('secret_in_output');
    expect(error.message).toContain(base.kongAuth);
    expect(portal.writes()).toBe(0);
  });
});

describe('workspace config and event hook', () => {
  it('--configure-workspace adds an optional plan field once, keeping the existing fields', async () => {
    portal.seed(baseThemeFiles());
    const first = await sync({ configureWorkspace: true });
    expect(first.actions[0]).toEqual({ kind: 'workspace-config', target: expect.any(String), action: 'updated' });
    const fields = portal.kong.state.metaFields('default');
    expect(fields.map((f) => f.title)).toEqual(['full_name', 'plan']);
    expect(fields[1]).toMatchObject({ validator: { required: false } });
    expect(portal.files().get(base.requiredScripts)).toContain('"planField":true');
    portal.requests.length = 0;
    const second = await sync({ configureWorkspace: true });
    expect(second.actions[0]?.action).toBe('unchanged');
    expect(portal.writes()).toBe(0);
  });

  it('--event-hook keeps exactly one correct hook, replacing wrong ones and removing duplicates', async () => {
    portal.seed(baseThemeFiles());
    const secret = 'a-long-event-hook-secret-0123456789';
    const client = portal.client();
    await client.createEventHook({ source: 'crud', event: 'developers', handler: 'webhook', config: { url: 'https://old.example.com/kong/events', secret: 'old-secret' } });
    await client.createEventHook({ source: 'crud', event: 'developers', handler: 'webhook', config: { url: `${PROVISIONER}/kong/events`, secret } });
    await client.createEventHook({ source: 'crud', event: 'developers', handler: 'webhook', config: { url: `${PROVISIONER}/kong/events`, secret } });
    const unrelated = await client.createEventHook({ source: 'crud', event: 'consumers', handler: 'webhook', config: { url: 'https://audit.example.com/hook' } });

    const result = await sync({ eventHook: { secret } });
    expect(result.actions.at(-1)?.action).toBe('replaced');
    const hooks = await client.listEventHooks();
    const ours = hooks.filter((h) => h.event === 'developers');
    expect(ours).toHaveLength(1);
    expect(ours[0]?.config).toMatchObject({ url: `${PROVISIONER}/kong/events`, secret });
    expect(hooks.some((h) => h.id === unrelated.id)).toBe(true);

    portal.requests.length = 0;
    expect((await sync({ eventHook: { secret } })).actions.at(-1)?.action).toBe('unchanged');
    expect(portal.writes()).toBe(0);

    await sync({ eventHook: { secret: `${secret}-rotated` } });
    const rotated = (await client.listEventHooks()).filter((h) => h.event === 'developers');
    expect(rotated).toHaveLength(1);
    expect(rotated[0]?.config.secret).toBe(`${secret}-rotated`);

    await sync({ uninstall: true, eventHook: {} });
    expect((await client.listEventHooks()).map((h) => h.id)).toEqual([unrelated.id]);
  });
});
