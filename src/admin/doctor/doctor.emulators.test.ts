// doctor over a good sandbox (Kong and Stripe emulators, a Moesif collector, a running provisioner,
// the bundle installed by the real sync), then with one thing broken at a time.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { syncBundle } from '../sync/sync-bundle.ts';
import { silentLogger } from '../../shared/provision-log.ts';
import { startProvisioner, type RunningProvisioner } from '../../provisioner/server.ts';
import { loadProvisionerSettings } from '../../provisioner/settings/settings.ts';
import { createKongEmulator, seedStandInTheme, FULL_NAME_FIELD, PLAN_FIELD, type KongEmulatorApps } from '../../sandbox/kong/index.ts';
import { listen, type RunningService } from '../../sandbox/running-service.ts';
import { startStripeEmulator, type RunningStripeEmulator } from '../../sandbox/stripe/stripe-emulator.ts';
import { setupStripeCatalog } from '../stripe-setup/catalog-setup.ts';
import { setupWebhookEndpoint } from '../stripe-setup/webhook-setup.ts';
import { loadPlansFile } from '../../shared/plans.ts';
import { startMoesifEmulator, type RunningMoesifEmulator } from '../../sandbox/moesif/moesif-emulator.ts';
import type { CheckResult } from './check-runner.ts';
import { runDoctorCommand } from './doctor-command.ts';
import { doctorInputsFromEnv, runDoctor } from './doctor.ts';
import { USAGE_REPORTING } from './usage-check.ts';
import { DEFAULT_MOESIF_MANAGEMENT_TOKEN } from '../../sandbox/moesif/moesif-emulator.ts';

const SECRET = 'hook-secret-for-tests';
let kongApps: KongEmulatorApps;
let kongAdmin: RunningService;
let stripeEmulator: RunningStripeEmulator;
let moesif: RunningMoesifEmulator;
let provisioner: RunningProvisioner;
let stripe: Stripe;
let env: NodeJS.ProcessEnv;

const adminClient = () => new KongAdminClient({ adminUrl: kongAdmin.url, workspace: 'default' });
// Backups go to a temp dir, never into the repo.
let backupRoot: string;
const install = () => syncBundle({ client: adminClient(), provisionerUrl: provisioner.url, eventHook: { secret: SECRET }, secretEnv: {}, backupRoot });

beforeAll(async () => {
  backupRoot = await mkdtemp(join(tmpdir(), 'doctor-backups-'));
  kongApps = createKongEmulator({ moesifApplicationId: 'app-good' });
  seedStandInTheme(kongApps.state, { planField: true });
  [kongAdmin, stripeEmulator, moesif] = await Promise.all([listen('kong admin', kongApps.admin.fetch), startStripeEmulator(), startMoesifEmulator({ applicationIds: ['app-good'] })]);
  stripe = new Stripe('sk_test_emulator', { ...stripeEmulator.clientOptions, maxNetworkRetries: 0 });
  await setupStripeCatalog(stripe, await loadPlansFile('plans.example.json'));
  env = {
    STRIPE_SECRET_KEY: 'sk_test_emulator',
    STRIPE_API_BASE: stripeEmulator.url,
    MOESIF_APPLICATION_ID: 'app-good',
    MOESIF_API_BASE: moesif.url,
    MOESIF_MANAGEMENT_API_BASE: moesif.url,
    MOESIF_MANAGEMENT_TOKEN: DEFAULT_MOESIF_MANAGEMENT_TOKEN,
    KONG_ADMIN_URL: kongAdmin.url,
    PLANS_FILE: 'plans.example.json',
    KONG_EVENT_HOOK_SECRET: SECRET,
    // doctor sends the provisioner's READYZ_TOKEN, so /readyz names the failing dependency.
    READYZ_TOKEN: 'doctor-readyz-token-000000',
  };
  provisioner = await startProvisioner(await loadProvisionerSettings(env), { port: 0, logger: silentLogger });
  await install();
  await setupWebhookEndpoint(stripe, `${provisioner.url}/stripe/webhooks`, { dryRun: false });
});
afterAll(async () => {
  await Promise.all([provisioner?.close(), kongAdmin?.close(), stripeEmulator?.close(), moesif?.close(), rm(backupRoot, { recursive: true, force: true })]);
});

async function doctor(overrides: NodeJS.ProcessEnv = {}, provisionerUrl = provisioner.url): Promise<CheckResult[]> {
  return runDoctor(await doctorInputsFromEnv({ ...env, ...overrides }, { provisionerUrl, timeoutMs: 2000 }));
}

/** Names of the checks that did not pass, with skipped ones marked. */
const notPassing = (results: CheckResult[]) => results.filter((r) => !r.ok).map((r) => (r.skipped ? `skip:${r.name}` : r.name));
const result = (results: CheckResult[], name: string) => results.find((r) => r.name === name) as CheckResult;

describe('doctor', () => {
  it('passes every check on a good sandbox (command exit 0, one PASS line per check)', async () => {
    const results = await doctor();
    expect(notPassing(results)).toEqual([]);
    expect(results.map((r) => r.name)).toEqual([
      'Kong Admin API',
      'portal enabled',
      'active theme',
      'bundle installed and current',
      'plan meta field',
      'event hook',
      'provisioner /readyz',
      'plans file',
      'Stripe key',
      'plan "starter" price',
      'plan "bundle" price',
      'plan "growth" price',
      'plan "volume" price',
      'Moesif application id',
      'key-auth plugin',
      'Moesif plugin',
      'Moesif user = developer email',
      'Stripe webhook endpoint',
      'usage reporting',
    ]);
    expect(result(results, 'Stripe key').detail).toMatch(/^test mode key accepted/);

    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      expect(await runDoctorCommand(['--provisioner-url', provisioner.url], env)).toBe(0);
    } finally {
      console.log = log;
    }
    expect(lines.filter((l) => l.startsWith('PASS'))).toHaveLength(19);
    expect(lines.at(-1)).toContain('all 19 checks passed');
  });

  it('a Stripe webhook endpoint that is disabled, misses an event or points elsewhere fails with the stripe:setup command', async () => {
    const [endpoint] = (await stripe.webhookEndpoints.list()).data;
    const id = endpoint?.id as string;
    try {
      await stripe.webhookEndpoints.update(id, { disabled: true });
      expect(result(await doctor(), 'Stripe webhook endpoint')).toMatchObject({ ok: false, detail: expect.stringMatching(/is disabled/) });
      await stripe.webhookEndpoints.update(id, { disabled: false, enabled_events: ['invoice.paid'] });
      const missing = result(await doctor(), 'Stripe webhook endpoint');
      expect(missing.detail).toMatch(/does not send checkout\.session\.completed/);
      expect(missing.fix).toContain(`stripe:setup -- --webhook-url ${provisioner.url}/stripe/webhooks`);
      expect(result(await doctor({}, 'http://127.0.0.1:9/'), 'Stripe webhook endpoint').detail).toMatch(/no webhook endpoint points at http:\/\/127\.0\.0\.1:9\/stripe\/webhooks/);
    } finally {
      await setupWebhookEndpoint(stripe, `${provisioner.url}/stripe/webhooks`, { dryRun: false });
    }
    expect(result(await doctor(), 'Stripe webhook endpoint').ok).toBe(true);
  });

  it('portal disabled: names it and skips what needs it', async () => {
    kongApps.state.patchWorkspaceConfig('default', { portal: false });
    try {
      const results = await doctor();
      // The provisioner cannot read developers either, and its /readyz says so.
      expect(notPassing(results)).toEqual(['portal enabled', 'skip:active theme', 'skip:bundle installed and current', 'provisioner /readyz']);
      expect(result(results, 'provisioner /readyz').detail).toMatch(/answered 503: .*Kong answered 404 to GET \/default\/developers/);
      expect(result(results, 'portal enabled').fix).toMatch(/enable the Dev Portal/);
      expect(result(results, 'active theme').detail).toBe('skipped because "portal enabled" failed');
    } finally {
      kongApps.state.patchWorkspaceConfig('default', { portal: true });
    }
  });

  it('bundle missing: names the file and says to run sync', async () => {
    kongApps.state.deleteFile('default', 'themes/base/assets/js/third-party/monetization.js');
    try {
      const results = await doctor();
      expect(notPassing(results)).toEqual(['bundle installed and current']);
      const bundle = result(results, 'bundle installed and current');
      expect(bundle.detail).toBe('themes/base/assets/js/third-party/monetization.js: missing');
      expect(bundle.fix).toContain('npm run sync -- --workspace default --provisioner-url');
    } finally {
      await install();
    }
    expect(notPassing(await doctor())).toEqual([]);
  });

  it('bundle edited: a changed register hook block is not current', async () => {
    const path = 'themes/base/assets/js/kong/kong.auth.js';
    const original = kongApps.state.getFile('default', path)?.contents as string;
    kongApps.state.putFile('default', path, original.replace(/(\/\* BEGIN [^*]+\*\/)/, '$1\n// edited by hand'));
    try {
      const results = await doctor();
      expect(notPassing(results)).toEqual(['bundle installed and current']);
      expect(result(results, 'bundle installed and current').detail).toBe(`${path}: the block differs from the built theme/ (run sync to upgrade)`);
    } finally {
      kongApps.state.putFile('default', path, original);
    }
  });

  it('no plan field', async () => {
    kongApps.state.patchWorkspaceConfig('default', { portal_developer_meta_fields: JSON.stringify([FULL_NAME_FIELD]) });
    try {
      const results = await doctor();
      expect(notPassing(results)).toEqual(['plan meta field']);
      expect(result(results, 'plan meta field').fix).toContain('--configure-workspace');
    } finally {
      kongApps.state.patchWorkspaceConfig('default', { portal_developer_meta_fields: JSON.stringify([FULL_NAME_FIELD, PLAN_FIELD]) });
    }
  });

  it('no event hook', async () => {
    const saved = [...kongApps.state.eventHooks.entries()];
    kongApps.state.eventHooks.clear();
    try {
      const results = await doctor();
      expect(notPassing(results)).toEqual(['event hook']);
      expect(result(results, 'event hook').detail).toBe('no crud/developers webhook to the provisioner');
      expect(result(results, 'event hook').fix).toContain('--event-hook');
    } finally {
      for (const [id, hook] of saved) kongApps.state.eventHooks.set(id, hook);
    }
  });

  it('price archived', async () => {
    const volume = (await stripe.prices.list({ lookup_keys: ['kpm_volume_monthly'] })).data[0] as Stripe.Price;
    await stripe.prices.update(volume.id, { active: false });
    try {
      const results = await doctor();
      expect(notPassing(results)).toEqual(['plan "volume" price']);
      expect(result(results, 'plan "volume" price').detail).toBe(`${volume.id} (lookup_key kpm_volume_monthly) is archived`);
      expect(result(results, 'plan "volume" price').fix).toContain('npm run stripe:setup');
    } finally {
      await setupStripeCatalog(stripe, await loadPlansFile('plans.example.json'));
    }
    expect(notPassing(await doctor())).toEqual([]);
  });

  it('wrong Moesif application id', async () => {
    const results = await doctor({ MOESIF_APPLICATION_ID: 'app-wrong' });
    // The Kong Moesif plugin still sends to app-good, which now differs from the setting too.
    expect(notPassing(results)).toEqual(['Moesif application id', 'Moesif plugin']);
    expect(result(results, 'Moesif application id').fix).toContain('MOESIF_APPLICATION_ID');
  });

  it('no key-auth plugin', async () => {
    const plugins = kongApps.state.requireWs('default').plugins;
    const keyAuth = [...plugins.values()].find((p) => p.name === 'key-auth');
    if (!keyAuth) throw new Error('the emulator has no key-auth plugin');
    plugins.delete(keyAuth.id);
    try {
      const results = await doctor();
      expect(notPassing(results)).toEqual(['key-auth plugin']);
      expect(result(results, 'key-auth plugin').detail).toMatch(/no enabled key-auth plugin/);
      kongApps.state.putPlugin('default', { ...keyAuth, config: { ...keyAuth.config, key_names: ['x-api-key'] } });
      expect(result(await doctor(), 'key-auth plugin').detail).toMatch(/no key_names include "apikey"/);
    } finally {
      kongApps.state.putPlugin('default', keyAuth);
    }
  });

  it('Moesif plugin with user_id_header: fails and says how to clear it', async () => {
    const moesifPlugin = [...kongApps.state.requireWs('default').plugins.values()].find((p) => p.name === 'moesif');
    if (!moesifPlugin) throw new Error('the emulator has no moesif plugin');
    const saved = structuredClone(moesifPlugin.config);
    moesifPlugin.config.user_id_header = 'X-User-Id';
    try {
      const results = await doctor();
      expect(notPassing(results)).toEqual(['Moesif user = developer email']);
      expect(result(results, 'Moesif user = developer email').detail).toMatch(/request header X-User-Id/);
      expect(result(results, 'Moesif user = developer email').fix).toContain(`/default/plugins/${moesifPlugin.id}`);
      expect(result(results, 'Moesif user = developer email').fix).toContain('"user_id_header":null');
    } finally {
      moesifPlugin.config = saved;
    }
  });

  it('a developer with a custom_id: fails and names the developer', async () => {
    kongApps.state.addDeveloper('default', { email: 'custom@example.com', custom_id: 'crm-42' });
    try {
      const results = await doctor();
      expect(notPassing(results)).toEqual(['Moesif user = developer email']);
      expect(result(results, 'Moesif user = developer email').detail).toMatch(/^1 developer has a custom_id \(custom@example.com\)/);
      expect(result(results, 'Moesif user = developer email').fix).toMatch(/remove the custom_id/);
    } finally {
      kongApps.state.deleteDeveloper('default', 'custom@example.com');
    }
  });

  it('Kong token rejected and bad settings: one failure each, dependents skipped', async () => {
    const results = await doctor({ KONG_ADMIN_URL: 'not a url', STRIPE_SECRET_KEY: 'pk_test_123' });
    expect(notPassing(results)).toEqual([
      'Kong Admin API',
      'skip:portal enabled',
      'skip:active theme',
      'skip:bundle installed and current',
      'skip:plan meta field',
      'skip:event hook',
      'Stripe key',
      'skip:plan prices',
      'skip:key-auth plugin',
      'skip:Moesif plugin',
      'skip:Moesif user = developer email',
      'skip:Stripe webhook endpoint',
    ]);
    expect(result(results, 'Stripe key').detail).toMatch(/publishable key/);
  });

  it('provisioner down (last: it is not restarted)', async () => {
    await provisioner.close();
    const results = await doctor();
    expect(notPassing(results)).toEqual(['provisioner /readyz']);
    expect(result(results, 'provisioner /readyz').detail).toMatch(/cannot reach .*\/readyz \(ECONNREFUSED\)/);

    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      expect(await runDoctorCommand(['--provisioner-url', provisioner.url], env)).toBe(1);
    } finally {
      console.log = log;
    }
    expect(lines.some((l) => l.startsWith('FAIL  provisioner /readyz'))).toBe(true);
    expect(lines.some((l) => l.includes('fix: start it (npm run provisioner)'))).toBe(true);
    expect(lines.at(-1)).toContain('1 of 19 checks did not pass');
  });

  it('bad flags exit 2; a bad --provisioner-url is a setting error', async () => {
    const saved = { log: console.log, error: console.error };
    const lines: string[] = [];
    console.error = () => {};
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      expect(await runDoctorCommand(['--bogus'], env)).toBe(2);
      await expect(runDoctorCommand(['--provisioner-url', 'nope'], env)).rejects.toThrow(/--provisioner-url: "nope" is not a URL/);
      await expect(runDoctorCommand(['--workspace', 'a b'], env)).resolves.toBe(1);
      expect(lines[0]).toMatch(/^FAIL {2}Kong Admin API: --workspace: "a b" is not a valid workspace name\n {6}fix: use letters, digits/);
      expect(await runDoctorCommand(['--help'], env)).toBe(0);
    } finally {
      Object.assign(console, saved);
    }
  });

});

describe('doctor: usage reporting', () => {
  it('says who reports, checks the management token, and warns about double billing', async () => {
    const good = result(await doctor(), USAGE_REPORTING);
    expect(good).toMatchObject({ ok: true, detail: expect.stringContaining('this product reports') });
    expect(good.detail).toContain('billed twice');
    const noToken = result(await doctor({ MOESIF_MANAGEMENT_TOKEN: '' }), USAGE_REPORTING);
    expect(noToken).toMatchObject({ ok: false, detail: expect.stringContaining('MOESIF_MANAGEMENT_TOKEN is not set'), fix: expect.stringContaining('read:events') });
    const badToken = result(await doctor({ MOESIF_MANAGEMENT_TOKEN: 'wrong-token' }), USAGE_REPORTING);
    expect(badToken).toMatchObject({ ok: false, detail: expect.stringContaining('refused MOESIF_MANAGEMENT_TOKEN (401)') });
    expect(result(await doctor({ USAGE_REPORTING: 'moesif' }), USAGE_REPORTING)).toMatchObject({ ok: true, detail: expect.stringContaining("Moesif's own billing meter reports") });
    expect(result(await doctor({ USAGE_REPORTING: 'off' }), USAGE_REPORTING)).toMatchObject({ ok: false, detail: expect.stringContaining('bill nothing') });
    expect(result(await doctor({ USAGE_REPORTING: 'sometimes' }), USAGE_REPORTING)).toMatchObject({ ok: false, detail: expect.stringContaining('USAGE_REPORTING') });
  });
});
