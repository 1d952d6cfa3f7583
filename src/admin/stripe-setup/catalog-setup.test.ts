// stripe:setup against the Stripe emulator, through the real stripe-node SDK.
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStripeEmulator, type RunningStripeEmulator } from '../../sandbox/stripe/stripe-emulator.ts';
import { freePort } from '../../dev/sandbox-wiring.ts';
import { loadPlansFile, parsePlans, type PlansFile } from '../../shared/plans.ts';
import { runSetupCommand } from './stripe-setup-command.ts';
import { setupStripeCatalog, type CatalogRow } from './catalog-setup.ts';

let emulator: RunningStripeEmulator;
let stripe: Stripe;
let example: PlansFile;

beforeAll(async () => {
  emulator = await startStripeEmulator();
  stripe = new Stripe('sk_test_emulator', { ...emulator.clientOptions, maxNetworkRetries: 0 });
  example = await loadPlansFile('plans.example.json');
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.reset();
  emulator.counters.reset();
});

const byPlan = (rows: CatalogRow[], plan: string) => rows.find((row) => row.kind === 'price' && row.plan === plan);

/** The example with one plan's pricing replaced. */
function withPricing(plan: string, pricing: unknown): PlansFile {
  const copy = structuredClone(example) as unknown as { plans: Array<{ id: string; price: { pricing: unknown } }> };
  const target = copy.plans.find((p) => p.id === plan);
  if (!target) throw new Error(`no plan ${plan}`);
  target.price.pricing = pricing;
  return parsePlans(copy);
}

async function activePrice(lookupKey: string): Promise<Stripe.Price> {
  const found = (await stripe.prices.list({ lookup_keys: [lookupKey], expand: ['data.tiers'] })).data;
  expect(found).toHaveLength(1);
  return found[0] as Stripe.Price;
}

describe('setupStripeCatalog', () => {
  it('creates the product, one meter and a monthly metered price per plan with each pricing model', async () => {
    const result = await setupStripeCatalog(stripe, example);
    expect(result.ok).toBe(true);
    expect(result.rows.map((r) => [r.kind, r.plan, r.action])).toEqual([
      ['product', '', 'created'],
      ['meter', '', 'created'],
      ['price', 'starter', 'created'],
      ['price', 'bundle', 'created'],
      ['price', 'growth', 'created'],
      ['price', 'volume', 'created'],
    ]);
    // product + meter + 4 prices
    expect(emulator.counters.writes).toBe(6);
    expect(result.writes).toBe(6);

    const meters = (await stripe.billing.meters.list()).data;
    expect(meters.map((m) => [m.event_name, m.default_aggregation.formula, m.display_name])).toEqual([['api_calls', 'sum', 'API calls']]);
    const meterId = meters[0]?.id;
    const product = (await stripe.products.list()).data;
    expect(product.map((p) => p.name)).toEqual(['Credit Score API']);

    const starter = await activePrice('kpm_starter_monthly');
    expect(starter).toMatchObject({ active: true, currency: 'usd', billing_scheme: 'per_unit', product: product[0]?.id, nickname: 'Starter', metadata: { kpm_plan: 'starter' } });
    expect(starter.recurring).toMatchObject({ interval: 'month', usage_type: 'metered', meter: meterId });
    expect(String(starter.unit_amount_decimal)).toBe('0.5');

    const bundle = await activePrice('kpm_bundle_monthly');
    expect(bundle).toMatchObject({ unit_amount: 1000, transform_quantity: { divide_by: 1000, round: 'up' } });

    const growth = await activePrice('kpm_growth_monthly');
    expect(growth).toMatchObject({ billing_scheme: 'tiered', tiers_mode: 'graduated' });
    expect(growth.tiers?.map((t) => [t.up_to, String(t.unit_amount_decimal)])).toEqual([
      [100, '500'],
      [1000, '300'],
      [null, '200'],
    ]);
    const volume = await activePrice('kpm_volume_monthly');
    expect(volume).toMatchObject({ billing_scheme: 'tiered', tiers_mode: 'volume' });
    expect(volume.tiers?.map((t) => t.up_to)).toEqual([50, 100, null]);
  });

  it('a second run with the same file makes zero writes', async () => {
    await setupStripeCatalog(stripe, example);
    emulator.counters.reset();
    const again = await setupStripeCatalog(stripe, example);
    expect(again.rows.every((r) => r.action === 'unchanged')).toBe(true);
    expect(emulator.counters.writes).toBe(0);
    expect(again.writes).toBe(0);
    expect((await stripe.prices.list({ limit: 100 })).data).toHaveLength(4);
  });

  it('a changed price gets a new price holding the lookup key; the old one is archived', async () => {
    await setupStripeCatalog(stripe, example);
    const before = await activePrice('kpm_growth_monthly');
    emulator.counters.reset();

    const changed = withPricing('growth', { model: 'graduated', tiers: [{ up_to: 100, unit_amount_decimal: '450' }, { up_to: 'inf', unit_amount_decimal: '200' }] });
    const result = await setupStripeCatalog(stripe, changed);
    const row = byPlan(result.rows, 'growth');
    expect(row?.action).toBe('replaced');
    expect(row?.detail).toContain('changed: tiers');
    expect(row?.detail).toContain(before.id);
    // Only the growth price changed: one create + one archive.
    expect(emulator.counters.writes).toBe(2);
    expect(result.rows.filter((r) => r.action === 'unchanged')).toHaveLength(5);

    const after = await activePrice('kpm_growth_monthly');
    expect(after.id).not.toBe(before.id);
    expect(after.id).toBe(row?.price);
    expect(after.tiers?.map((t) => String(t.unit_amount_decimal))).toEqual(['450', '200']);
    const old = await stripe.prices.retrieve(before.id);
    expect(old.active).toBe(false);
    expect(old.lookup_key).toBeNull();

    // And the new state is stable.
    emulator.counters.reset();
    await setupStripeCatalog(stripe, changed);
    expect(emulator.counters.writes).toBe(0);
  });

  it('changing a package back and forth never replays an old price (idempotency keys include the replaced price)', async () => {
    await setupStripeCatalog(stripe, example);
    const first = await activePrice('kpm_bundle_monthly');
    const down = withPricing('bundle', { model: 'package', package_amount: 1000, package_size: 1000, round: 'down' });
    await setupStripeCatalog(stripe, down);
    await setupStripeCatalog(stripe, example);
    const back = await activePrice('kpm_bundle_monthly');
    expect(back.id).not.toBe(first.id);
    expect(back).toMatchObject({ active: true, transform_quantity: { round: 'up' } });
  });

  it('dry run reports "would create" and writes nothing', async () => {
    const result = await setupStripeCatalog(stripe, example, { dryRun: true });
    expect(result.rows.map((r) => r.label)).toEqual(Array(6).fill('would create'));
    expect(result.rows.find((r) => r.kind === 'price')?.price).toBe('(new)');
    expect(emulator.counters.writes).toBe(0);
    expect((await stripe.products.list()).data).toHaveLength(0);
  });

  it('reuses an existing meter with the same event_name and reports an aggregation conflict', async () => {
    await stripe.billing.meters.create({ display_name: 'Calls', event_name: 'api_calls', default_aggregation: { formula: 'count' } });
    emulator.counters.reset();
    const result = await setupStripeCatalog(stripe, example);
    expect(result.ok).toBe(false);
    const meterRow = result.rows.find((r) => r.kind === 'meter');
    expect(meterRow?.action).toBe('conflict');
    expect(meterRow?.detail).toMatch(/aggregates with "count" but the plans file says "sum"/);
    expect(result.rows.filter((r) => r.kind === 'price').every((r) => r.action === 'skipped')).toBe(true);
    expect((await stripe.billing.meters.list()).data).toHaveLength(1);
    // Only the product was written.
    expect(emulator.counters.writes).toBe(1);
  });
});

describe('setupStripeCatalog with plan limits', () => {
  it('prices included calls as a first tier at 0, shows the limits, and a second run writes nothing', async () => {
    const copy = structuredClone(example) as unknown as { plans: Array<Record<string, unknown>> };
    Object.assign(copy.plans[0]!, { included: 100, limits: { rate: { minute: 60 }, quota: { calls: 10_000, enforcement: 'soft' } } });
    const plans = parsePlans(copy);
    const result = await setupStripeCatalog(stripe, plans);
    expect(result.ok).toBe(true);
    const row = byPlan(result.rows, 'starter');
    expect(row?.detail).toBe('per_unit after a first tier of 100 calls at 0, lookup_key kpm_starter_monthly; limits: 60 calls/minute · 10,000 calls per billing period (more are billed) · first 100 calls each period free');
    expect(byPlan(result.rows, 'bundle')?.detail).not.toContain('limits');
    const price = await activePrice('kpm_starter_monthly');
    expect(price.billing_scheme).toBe('tiered');
    expect(price.tiers_mode).toBe('graduated');
    expect(price.tiers?.map((t) => [t.up_to, String(t.unit_amount_decimal)])).toEqual([
      [100, '0'],
      [null, '0.5'],
    ]);
    emulator.counters.reset();
    const again = await setupStripeCatalog(stripe, plans);
    expect(again.writes).toBe(0);
    expect(byPlan(again.rows, 'starter')?.action).toBe('unchanged');
  });
});

describe('setupStripeCatalog failures', () => {
  it('a refused key stops the run with a setting hint instead of failing every row', async () => {
    emulator.configure({ apiKeys: ['sk_test_someone_else'] });
    try {
      const error = await setupStripeCatalog(stripe, example).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'stripe_unauthorized', hint: expect.stringContaining('STRIPE_SECRET_KEY') });
    } finally {
      emulator.configure({ apiKeys: null });
    }
    expect(emulator.counters.writes).toBe(0);
  });
});

describe('setupStripeCatalog when Stripe cannot be reached', () => {
  it('stops the run with stripe_unavailable (the code the provisioner answers for the same condition) naming STRIPE_API_BASE', async () => {
    const port = await freePort();
    const nowhere = new Stripe('sk_test_emulator', { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 });
    const error = await setupStripeCatalog(nowhere, example, { apiBase: `http://127.0.0.1:${port}` }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'stripe_unavailable', message: expect.stringContaining(`cannot reach Stripe at http://127.0.0.1:${port}`), hint: expect.stringContaining('STRIPE_API_BASE') });
  });
});

describe('stripe-setup command', () => {
  const env = () => ({ STRIPE_SECRET_KEY: 'sk_test_emulator', STRIPE_API_BASE: emulator.url });

  it('prints the table and exits 0; a second run says 0 writes', async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      expect(await runSetupCommand(['--plans', 'plans.example.json'], env())).toBe(0);
      expect(await runSetupCommand([], { ...env(), PLANS_FILE: 'plans.example.json' })).toBe(0);
    } finally {
      console.log = log;
    }
    const out = lines.join('\n');
    expect(out).toMatch(/plan\s+product\s+meter\s+price\s+action/);
    expect(out).toMatch(/starter\s+prod_\S+\s+mtr_\S+\s+price_\S+\s+created/);
    expect(out).toContain('Stripe already matches the plans file: 0 writes');
  });

  it('bad input fails before any Stripe call', async () => {
    const quiet = { log: console.log, error: console.error };
    console.log = () => {};
    console.error = () => {};
    try {
      expect(await runSetupCommand(['--nope'], env())).toBe(2);
      await expect(runSetupCommand(['--plans', '/does/not/exist.json'], env())).rejects.toThrow(/cannot read the file/);
      await expect(runSetupCommand([], { STRIPE_SECRET_KEY: 'pk_test_123', STRIPE_API_BASE: emulator.url })).rejects.toThrow(/publishable key/);
      await expect(runSetupCommand([], { STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_API_BASE: 'ftp://x' })).rejects.toThrow(/STRIPE_API_BASE/);
      expect(await runSetupCommand(['--help'], env())).toBe(0);
    } finally {
      Object.assign(console, quiet);
    }
    expect(emulator.counters.total).toBe(0);
  });
});
