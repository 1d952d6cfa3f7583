/**
 * The happy path against real Stripe test mode (`npm run test:live`). Runs only when
 * STRIPE_SECRET_KEY is an sk_test_ key; Kong is the local emulator and Moesif a local stand-in,
 * since only Stripe is the subject here. Creates (once, then reuses) a meter, a product and a
 * price with lookup_key kpm_live_test_metered; removes the customer and subscription it made.
 */
import { Hono } from 'hono';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { startKongEmulator, type RunningKongEmulator } from '../../sandbox/kong/index.ts';
import { listen, type RunningService } from '../../sandbox/running-service.ts';
import { parsePlans } from '../../shared/plans.ts';
import { createMoesifClient } from '../moesif/moesif-client.ts';
import { createMoesifSync, type MoesifSync } from '../moesif/moesif-sync.ts';
import { createPriceResolver } from './plan-prices.ts';
import { createProvisioner, type ProvisionOutcome } from './provisioner.ts';
import { createStripeClient } from '../stripe/stripe-client.ts';
import { createWriteLimiter } from '../stripe/write-limiter.ts';

const key = process.env.STRIPE_SECRET_KEY ?? '';
const hasTestKey = key.startsWith('sk_test_');
const LOOKUP_KEY = 'kpm_live_test_metered';
const EVENT_NAME = 'kpm_live_test_calls';

describe.skipIf(!hasTestKey)('provisioning against Stripe test mode (skipped unless STRIPE_SECRET_KEY is an sk_test_ key)', () => {
  let stripe: Stripe;
  let kong: RunningKongEmulator;
  let moesifServer: RunningService;
  let moesif: MoesifSync;
  const moesifUsers: unknown[] = [];
  const made: { customers: string[]; subscriptions: string[] } = { customers: [], subscriptions: [] };

  async function ensureLivePrice(): Promise<void> {
    const existing = await stripe.prices.list({ lookup_keys: [LOOKUP_KEY], active: true, limit: 1 });
    if (existing.data[0]) return;
    const meters = await stripe.billing.meters.list({ status: 'active', limit: 100 });
    const meter =
      meters.data.find((m) => m.event_name === EVENT_NAME) ??
      (await stripe.billing.meters.create({ display_name: 'kpm live test calls', event_name: EVENT_NAME, default_aggregation: { formula: 'sum' } }));
    const product = await stripe.products.create({ name: 'kong-portal-monetization live test' });
    await stripe.prices.create({
      product: product.id,
      currency: 'usd',
      lookup_key: LOOKUP_KEY,
      unit_amount_decimal: Stripe.Decimal.from('0.5'),
      recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
    });
  }

  beforeAll(async () => {
    stripe = createStripeClient({ secretKey: key, mode: 'test', apiBase: undefined, maxWritesPerSecond: 20 });
    await ensureLivePrice();
    kong = await startKongEmulator();
    const collector = new Hono();
    collector.post('/v1/:kind', async (c) => {
      if (c.req.param('kind') === 'users') moesifUsers.push(await c.req.json());
      return c.body(null, 201);
    });
    moesifServer = await listen('moesif stand-in', collector.fetch);
    // Waits for the stand-in collector, so the assertions below can read what it received.
    moesif = createMoesifSync(createMoesifClient({ apiBase: moesifServer.url, applicationId: 'live-test' }), { waitMs: Infinity });
  });

  afterAll(async () => {
    for (const id of made.subscriptions) await stripe.subscriptions.cancel(id).catch(() => undefined);
    for (const id of made.customers) await stripe.customers.del(id).catch(() => undefined);
    moesif?.close();
    await moesifServer?.close();
    await kong?.close();
  });

  it('creates one customer and one metered subscription with the developer metadata, and a second call writes nothing', async () => {
    const email = `kpm-live-${Date.now()}@example.com`;
    const developer = kong.state.addDeveloper('default', { email, status: 0, meta: { full_name: 'Live Test' } });
    const plans = parsePlans({ product: { name: 'live' }, plans: [{ id: 'starter', name: 'Starter', default: true, price: { lookup_key: LOOKUP_KEY } }] });
    const provisioner = createProvisioner({
      stripe,
      kong: new KongAdminClient({ adminUrl: kong.adminUrl, workspace: 'default' }),
      moesif,
      prices: createPriceResolver(stripe),
      plans,
      workspace: 'default',
      provisionStatuses: [0, 1, 5],
      companyIdSource: 'subscription',
      writeLimiter: createWriteLimiter({ ratePerSecond: 20 }),
    });

    let first: ProvisionOutcome;
    try {
      first = await provisioner.provisionDeveloper(email);
    } finally {
      // Clean up whatever Stripe holds for this developer, even when an assertion below fails.
      const customers = await stripe.customers.list({ email, limit: 10 });
      for (const customer of customers.data) {
        made.customers.push(customer.id);
        const subs = await stripe.subscriptions.list({ customer: customer.id, limit: 10 });
        made.subscriptions.push(...subs.data.map((s) => s.id));
      }
    }
    expect(first.created).toEqual({ customer: true, subscription: true });
    expect(first.moesif).toBe('synced');

    const customer = await stripe.customers.retrieve(first.customerId);
    expect(customer).toMatchObject({ email, name: 'Live Test', metadata: { kong_developer_id: developer.id, kong_workspace: 'default', plan: 'starter' } });
    const subscription = await stripe.subscriptions.retrieve(first.subscriptionId);
    expect(subscription.customer).toBe(first.customerId);
    expect(subscription.items.data[0]?.price.lookup_key).toBe(LOOKUP_KEY);
    expect(subscription.metadata).toMatchObject({ kong_developer_id: developer.id, plan: 'starter' });
    expect(moesifUsers).toContainEqual(expect.objectContaining({ user_id: email, company_id: first.subscriptionId }));

    const second = await provisioner.provisionDeveloper(email);
    expect(second).toMatchObject({ customerId: first.customerId, subscriptionId: first.subscriptionId, created: { customer: false, subscription: false } });
    expect(made.customers).toEqual([first.customerId]);
    expect(made.subscriptions).toEqual([first.subscriptionId]);
  });
});
