import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT, BUNDLE_VERSION, CONFIG_PLACEHOLDER, MARKERS } from '../shared/bundle-layout.ts';
import { MonetizationError } from '../shared/errors.ts';
import { sha256Hex as sha256 } from '../shared/sha256.ts';
import { buildBundle, createManifest, SCRIPT_GZIP_BUDGET_BYTES, type BuildResult } from './build-bundle.ts';

let clean: BuildResult;
let tempDir: string;

beforeAll(async () => {
  clean = await buildBundle({ env: {} });
  tempDir = await mkdtemp(join(tmpdir(), 'pm-build-test-'));
});
afterAll(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

const contentsOf = (result: BuildResult, path: string) => result.files.find((f) => f.path === path)?.contents ?? '';

async function buildError(options: Parameters<typeof buildBundle>[0]): Promise<MonetizationError> {
  try {
    await buildBundle(options);
  } catch (error) {
    if (error instanceof MonetizationError) return error;
    throw error;
  }
  throw new Error('the build was expected to fail');
}

describe('buildBundle', () => {
  it('is deterministic: two builds give the same bytes', async () => {
    const again = await buildBundle({ env: {} });
    expect(again.files).toEqual(clean.files);
  });

  it('emits the script, both blocks and a manifest with every file\'s sha256', () => {
    expect(clean.files.map((f) => f.path)).toEqual([BUILT.registerHookBlock, BUILT.scriptTagsBlock, BUILT.script, BUILT.manifest]);
    const manifest = JSON.parse(contentsOf(clean, BUILT.manifest));
    expect(manifest).toEqual(createManifest(clean.files.slice(0, 3)));
    for (const entry of manifest.files) expect(entry.sha256).toBe(sha256(contentsOf(clean, entry.path)));
    expect(contentsOf(clean, BUILT.manifest)).not.toMatch(/20\d\d-\d\d-\d\d/);
  });

  it('keeps the script small, minified and free of jQuery', () => {
    const script = contentsOf(clean, BUILT.script);
    expect(gzipSync(script, { level: 9 }).byteLength).toBe(clean.script.gzipBytes);
    expect(clean.script.gzipBytes).toBeLessThanOrEqual(SCRIPT_GZIP_BUDGET_BYTES);
    expect(gunzipSync(gzipSync(script)).toString()).toBe(script);
    expect(script.split('\n').length).toBeLessThanOrEqual(3);
    expect(script).not.toContain('jQuery JavaScript Library');
    expect(script).toContain(JSON.stringify(BUNDLE_VERSION));
  });

  it('script-tags block: versioned markers, config placeholder, then the cache-busted relative script tag', () => {
    const block = contentsOf(clean, BUILT.scriptTagsBlock).trimEnd().split('\n');
    const shortSha = sha256(contentsOf(clean, BUILT.script)).slice(0, 12);
    expect(block).toEqual([
      MARKERS.scriptTags.begin(BUNDLE_VERSION),
      `<script>window.PortalMonetizationConfig = ${CONFIG_PLACEHOLDER};</script>`,
      `<script src="assets/js/third-party/monetization.js?v=${shortSha}"></script>`,
      MARKERS.scriptTags.end(BUNDLE_VERSION),
    ]);
  });

  it('register-hook block wraps Kong.Auth.register once and never throws', () => {
    const block = contentsOf(clean, BUILT.registerHookBlock);
    expect(block.startsWith(MARKERS.registerHook.begin(BUNDLE_VERSION))).toBe(true);
    expect(block.trimEnd().endsWith(MARKERS.registerHook.end(BUNDLE_VERSION))).toBe(true);

    const wrapped: unknown[] = [];
    const auth = { register: () => undefined };
    const window = { Kong: { Auth: auth }, PortalMonetization: { wrapRegister: (a: unknown) => wrapped.push(a) }, console: { warn: () => undefined } };
    runInNewContext(block, { window, console: window.console });
    expect(wrapped).toEqual([auth]);

    const warnings: unknown[] = [];
    const bare = { console: { warn: (...args: unknown[]) => warnings.push(args) } };
    expect(() => runInNewContext(block, { window: bare, console: bare.console })).not.toThrow();
    expect(warnings).toHaveLength(1);
    const throwing = { Kong: { Auth: {} }, PortalMonetization: { wrapRegister: () => { throw new Error('boom'); } }, console: bare.console };
    expect(() => runInNewContext(block, { window: throwing, console: bare.console })).not.toThrow();
  });

  it('holds no secret when the environment has them set', async () => {
    const env = { KONG_ADMIN_TOKEN: 'kong-admin-secret-0123456789', STRIPE_SECRET_KEY: `sk_test_${'9'.repeat(24)}` };
    const result = await buildBundle({ env });
    for (const file of result.files) {
      expect(file.contents).not.toContain(env.KONG_ADMIN_TOKEN);
      expect(file.contents).not.toContain(env.STRIPE_SECRET_KEY);
    }
    expect(result.files).toEqual(clean.files);
  });

  it('fails naming the file when a secret value from the environment ends up in the output', async () => {
    // A token that happens to equal a stretch of the built script stands for a leaked secret.
    const script = contentsOf(clean, BUILT.script);
    const leaked = script.slice(200, 232);
    const error = await buildError({ env: { KONG_ADMIN_TOKEN: leaked } });
    expect(error.code).toBe('secret_in_output');
    expect(error.message).toContain(`${BUILT.script}:`);
    expect(error.message).toContain('KONG_ADMIN_TOKEN');
    expect(error.message).not.toContain(leaked);
  });

  it('fails naming the file when the sources hold a Stripe key', async () => {
    const entry = join(tempDir, 'leaky-entry.ts');
    const key = ['sk', 'live', 'Z9y8X7w6V5u4T3s2R1q0P9o8'].join('_');
    await writeFile(entry, `(window as unknown as { k: string }).k = ${JSON.stringify(key)};\n`);
    const error = await buildError({ entry, env: {} });
    expect(error.code).toBe('secret_in_output');
    expect(error.message).toContain(BUILT.script);
    expect(error.message).toContain('Stripe secret or restricted key');
  });
});
