// reconcile against the Kong and Stripe emulators, with the provisioner's real core: a portal
// holding whole, half-provisioned (customer without subscription) and untouched developers.
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startKongEmulator, type RunningKongEmulator } from '../../sandbox/kong/index.ts';
import { startStripeEmulator, type RunningStripeEmulator } from '../../sandbox/stripe/stripe-emulator.ts';
import { createProvisionerCore, type ProvisionerCore } from '../../provisioner/compose.ts';
import { silentLogger } from '../../shared/provision-log.ts';
import { loadProvisionerSettings } from '../../provisioner/settings/settings.ts';
import { setupStripeCatalog } from '../stripe-setup/catalog-setup.ts';
import { loadPlansFile } from '../../shared/plans.ts';
import { startMoesifEmulator, type RunningMoesifEmulator } from '../../sandbox/moesif/moesif-emulator.ts';
import { runReconcileCommand } from './reconcile-command.ts';
import { reconcileDevelopers } from './reconcile-developers.ts';
import { readStripeSnapshot } from '../../provisioner/core/stripe-snapshot.ts';

let kong: RunningKongEmulator;
let stripeEmulator: RunningStripeEmulator;
let moesif: RunningMoesifEmulator;
let stripe: Stripe;
let env: NodeJS.ProcessEnv;
const cores: ProvisionerCore[] = [];

beforeAll(async () => {
  [kong, stripeEmulator, moesif] = await Promise.all([startKongEmulator(), startStripeEmulator(), startMoesifEmulator({ applicationIds: ['app-good'] })]);
  stripe = new Stripe('sk_test_emulator', { ...stripeEmulator.clientOptions, maxNetworkRetries: 0 });
  env = {
    STRIPE_SECRET_KEY: 'sk_test_emulator',
    STRIPE_API_BASE: stripeEmulator.url,
    MOESIF_APPLICATION_ID: 'app-good',
    MOESIF_API_BASE: moesif.url,
    KONG_ADMIN_URL: kong.adminUrl,
    PLANS_FILE: 'plans.example.json',
    // The seeded portal has pending developers that these cases expect billed (the default is approved only).
    PROVISION_STATUSES: 'approved,pending,unverified',
  };
});
afterAll(async () => {
  for (const core of cores) core.moesif.close();
  await Promise.all([kong.close(), stripeEmulator.close(), moesif.close()]);
});

async function core(): Promise<ProvisionerCore> {
  const created = createProvisionerCore(await loadProvisionerSettings(env), { logger: silentLogger });
  cores.push(created);
  return created;
}

/** A fresh workspace per test keeps developers apart; the catalog is set up once per test. */
let workspace: string;
let counter = 0;
beforeEach(async () => {
  stripeEmulator.reset();
  workspace = `ws${++counter}`;
  kong.state.createWorkspace(workspace);
  kong.state.patchWorkspaceConfig(workspace, { portal: true });
  env.KONG_WORKSPACE = workspace;
  await setupStripeCatalog(stripe, await loadPlansFile('plans.example.json'));
  stripeEmulator.counters.reset();
});

async function seedPortal(provisioner: ProvisionerCore['provisioner']) {
  const add = (email: string, status: number, plan?: string) =>
    kong.state.addDeveloper(workspace, { email, status, meta: { full_name: email.split('@')[0], ...(plan ? { plan } : {}) } });
  const whole = add('whole@example.com', 0, 'growth');
  const half = add('half@example.com', 0);
  const untouched = add('untouched@example.com', 0, 'bundle');
  const rejected = add('rejected@example.com', 2);
  await provisioner.provisionDeveloper(whole.email);
  // Half-provisioned: a customer tagged as the provisioner tags it, but no subscription.
  const halfCustomer = await stripe.customers.create({ email: half.email, metadata: { kong_developer_id: half.id, kong_workspace: workspace, plan: 'starter' } });
  stripeEmulator.counters.reset();
  return { whole, half, untouched, rejected, halfCustomer };
}

async function stripeStateOf(email: string) {
  const customers = (await stripe.customers.list({ email })).data;
  const subscriptions = (await Promise.all(customers.map((c) => stripe.subscriptions.list({ customer: c.id })))).flatMap((page) => page.data);
  return { customers, subscriptions };
}

describe('reconcile over the emulators', () => {
  it('fixes half-provisioned and untouched developers, leaves whole ones alone, skips rejected ones', async () => {
    const { provisioner, moesif: moesifSync, kong: kongClient } = await core();
    const seeded = await seedPortal(provisioner);

    const report = await reconcileDevelopers({ listDevelopers: () => kongClient.listDevelopers(2), provisioner, moesif: moesifSync }, { concurrency: 2 });
    expect(report).toMatchObject({ seen: 4, alreadyWhole: 1, fixed: 2, failed: 0, skipped: 1, skippedByStatus: { rejected: 1 } });
    expect(Object.fromEntries(report.fixes.map((f) => [f.email, f.parts]))).toEqual({
      'half@example.com': ['subscription'],
      'untouched@example.com': ['customer', 'subscription'],
    });
    // 1 subscription for half; customer + subscription for untouched.
    expect(stripeEmulator.counters.writes).toBe(3);

    for (const email of ['whole@example.com', 'half@example.com', 'untouched@example.com']) {
      const { customers, subscriptions } = await stripeStateOf(email);
      expect(customers, email).toHaveLength(1);
      expect(subscriptions, email).toHaveLength(1);
      expect(moesif.store.users.get(email)?.company_id, email).toBe(subscriptions[0]?.id);
    }
    expect((await stripeStateOf('half@example.com')).customers[0]?.id).toBe(seeded.halfCustomer.id);
    const untouchedSub = (await stripeStateOf('untouched@example.com')).subscriptions[0];
    expect(untouchedSub?.items.data[0]?.price.lookup_key).toBe('kpm_bundle_monthly');
    expect((await stripeStateOf('rejected@example.com')).customers).toHaveLength(0);

    // Again: everyone whole, zero Stripe writes.
    stripeEmulator.counters.reset();
    const again = await reconcileDevelopers({ listDevelopers: () => kongClient.listDevelopers(2), provisioner, moesif: moesifSync });
    expect(again).toMatchObject({ alreadyWhole: 3, fixed: 0, failed: 0, skipped: 1 });
    expect(stripeEmulator.counters.writes).toBe(0);
  });

  it('runs beside another provisioner process working on the same developers: still one customer and one subscription each', async () => {
    const first = await core();
    const second = await core(); // its own single-flight, like a separate process
    const emails = Array.from({ length: 12 }, (_, i) => `race${i}@example.com`);
    for (const email of emails) kong.state.addDeveloper(workspace, { email, status: 0, meta: { full_name: 'Race' } });

    const [report] = await Promise.all([
      reconcileDevelopers({ listDevelopers: () => first.kong.listDevelopers(5), provisioner: first.provisioner, moesif: first.moesif }, { concurrency: 4 }),
      Promise.all(emails.map((email) => second.provisioner.provisionDeveloper(email))),
    ]);
    expect(report.failed).toBe(0);
    expect(report.alreadyWhole + report.fixed).toBe(12);
    for (const email of emails) {
      const { customers, subscriptions } = await stripeStateOf(email);
      expect(customers, email).toHaveLength(1);
      expect(subscriptions, email).toHaveLength(1);
    }
  });

  it('with a bulk snapshot: a second run reads one page of customers and one of subscriptions, plus the developer Stripe lacks, and writes nothing', async () => {
    const created = await core();
    const { provisioner, moesif: moesifSync, kong: kongClient, billing } = created;
    await seedPortal(provisioner);
    const deps = {
      listDevelopers: () => kongClient.listDevelopers(2),
      provisioner,
      moesif: moesifSync,
      syncAccess: billing.access.syncDeveloper,
      readSnapshot: () => readStripeSnapshot(created),
    };
    const first = await reconcileDevelopers(deps, { concurrency: 2 });
    expect(first).toMatchObject({ alreadyWhole: 1, fixed: 2, failed: 0 });
    expect(stripeEmulator.counters.writes).toBe(3);
    for (const email of ['whole@example.com', 'half@example.com', 'untouched@example.com'])
      expect((await stripeStateOf(email)).subscriptions, email).toHaveLength(1);

    stripeEmulator.counters.reset();
    const again = await reconcileDevelopers(deps, { concurrency: 2 });
    expect(again).toMatchObject({ alreadyWhole: 3, fixed: 0, failed: 0 });
    expect(stripeEmulator.counters.writes).toBe(0);
    // One page each; the rejected developer, absent from Stripe, is still looked up live for its access.
    expect(stripeEmulator.counters.snapshot().requests).toEqual({ 'GET /v1/customers': 2, 'GET /v1/subscriptions': 1 });
  });

  it('a stale snapshot never creates twice: a developer provisioned after it was read is looked up live', async () => {
    const created = await core();
    const other = await core();
    const untouched = kong.state.addDeveloper(workspace, { email: 'late@example.com', status: 0, meta: { full_name: 'Late' } });
    const half = kong.state.addDeveloper(workspace, { email: 'late-half@example.com', status: 0, meta: { full_name: 'Half' } });
    await stripe.customers.create({ email: half.email, metadata: { kong_developer_id: half.id, kong_workspace: workspace, plan: 'starter' } });
    const stale = await readStripeSnapshot(created);
    // Another process makes both whole after the snapshot was read (as reconcile would: lookup first).
    for (const email of [untouched.email, half.email]) await other.provisioner.provisionDeveloper((await other.kong.getDeveloper(email))!, { mode: 'reconcile' });
    stripeEmulator.counters.reset();
    const report = await reconcileDevelopers({
      listDevelopers: () => created.kong.listDevelopers(),
      provisioner: created.provisioner,
      moesif: created.moesif,
      syncAccess: created.billing.access.syncDeveloper,
      readSnapshot: async () => stale,
    });
    expect(report.failures).toEqual([]);
    expect(report).toMatchObject({ alreadyWhole: 2, fixed: 0, failed: 0 });
    expect(stripeEmulator.counters.writes).toBe(0);
    for (const email of [untouched.email, half.email]) {
      const { customers, subscriptions } = await stripeStateOf(email);
      expect(customers, email).toHaveLength(1);
      expect(subscriptions, email).toHaveLength(1);
    }
  });

  it('a stale snapshot never changes access at Kong on its own: the change is decided again from live reads', async () => {
    const created = await core();
    const dev = kong.state.addDeveloper(workspace, { email: 'carded@example.com', status: 0, meta: { full_name: 'Carded' } });
    const outcome = await created.provisioner.provisionDeveloper((await created.kong.getDeveloper(dev.email))!, { mode: 'reconcile' });
    const stale = await readStripeSnapshot(created);
    // A card arrives after the snapshot was read: the snapshot says "no card" (refuse), Stripe says allowed.
    const card = await stripe.paymentMethods.attach('pm_card_visa', { customer: outcome.customerId });
    await stripe.customers.update(outcome.customerId, { invoice_settings: { default_payment_method: card.id } });
    const report = await reconcileDevelopers({
      listDevelopers: () => created.kong.listDevelopers(),
      provisioner: created.provisioner,
      moesif: created.moesif,
      syncAccess: created.billing.access.syncDeveloper,
      readSnapshot: async () => stale,
    });
    expect(report).toMatchObject({ alreadyWhole: 1, failed: 0, accessChanges: [] });
    expect(await created.kong.listDeveloperPlugins(dev.id, { tags: ['kpm-access'] })).toEqual([]);
  });

  it('the command: dry run writes nothing, the real run fixes, exit codes and output say so', async () => {
    const { provisioner } = await core();
    await seedPortal(provisioner);
    const lines: string[] = [];
    const saved = { log: console.log, error: console.error };
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    console.error = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      const moesifBefore = moesif.counters.total;
      expect(await runReconcileCommand(['--dry-run', '--workspace', workspace], env)).toBe(0);
      expect(stripeEmulator.counters.writes).toBe(0);
      expect(moesif.counters.total).toBe(moesifBefore);
      expect(lines.join('\n')).toMatch(/would fix:\s+2/);
      expect(lines.join('\n')).toContain('untouched@example.com');

      lines.length = 0;
      expect(await runReconcileCommand(['--workspace', workspace, '--concurrency', '3'], env)).toBe(0);
      expect(lines.join('\n')).toMatch(/already whole:\s+1/);
      expect(lines.join('\n')).toMatch(/fixed:\s+2/);
    } finally {
      Object.assign(console, saved);
    }
  });

  it('a developer whose plan has no Stripe price fails with the reason, the rest are fixed, exit 1', async () => {
    const { provisioner } = await core();
    await seedPortal(provisioner);
    // Archive the volume price: a developer on that plan cannot be subscribed.
    const volume = (await stripe.prices.list({ lookup_keys: ['kpm_volume_monthly'] })).data[0];
    await stripe.prices.update(volume?.id as string, { active: false });
    kong.state.addDeveloper(workspace, { email: 'volume@example.com', status: 0, meta: { full_name: 'V', plan: 'volume' } });
    const lines: string[] = [];
    const saved = { log: console.log, error: console.error };
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    console.error = () => {};
    try {
      expect(await runReconcileCommand(['--workspace', workspace], env)).toBe(1);
    } finally {
      Object.assign(console, saved);
    }
    const out = lines.join('\n');
    expect(out).toMatch(/failed:\s+1/);
    expect(out).toMatch(/volume@example\.com \(.+\): \[plan_price_not_found\] plan "volume": Stripe has no active price/);
    expect((await stripeStateOf('volume@example.com')).customers).toHaveLength(0);
    expect((await stripeStateOf('untouched@example.com')).subscriptions).toHaveLength(1);
  });

  it('bad input: unknown flag, bad workspace name, missing setting: clear error, no Stripe call', async () => {
    const saved = { log: console.log, error: console.error };
    console.log = () => {};
    console.error = () => {};
    try {
      expect(await runReconcileCommand(['--frobnicate'], env)).toBe(2);
      expect(await runReconcileCommand(['--concurrency', 'many'], env)).toBe(2);
      await expect(runReconcileCommand(['--workspace', '../admin'], env)).rejects.toThrow(/--workspace: "..\/admin" is not a valid workspace name/);
      await expect(runReconcileCommand([], { ...env, STRIPE_SECRET_KEY: undefined })).rejects.toThrow(/STRIPE_SECRET_KEY/);
      expect(await runReconcileCommand(['--help'], env)).toBe(0);
    } finally {
      Object.assign(console, saved);
    }
    expect(stripeEmulator.counters.total).toBe(0);
  });
});
