/**
 * Test helpers for the usage path: a Stripe and a Moesif emulator on one fake wall clock, a
 * metered subscription whose Moesif company is its id, calls posted to Moesif with a given time and
 * status, and reporters wired to them as the provisioner wires its own.
 */
import Stripe from 'stripe';
import { startMoesifEmulator, type RunningMoesifEmulator } from '../sandbox/moesif/moesif-emulator.ts';
import { advanceAccountClock, startStripeEmulator, type RunningStripeEmulator } from '../sandbox/stripe/stripe-emulator.ts';
import { parseBillableStatus } from '../provisioner/usage/billable-filter.ts';
import { createCompanyDirectory } from '../provisioner/usage/company-directory.ts';
import { createMoesifManagementClient } from '../provisioner/usage/moesif-management-client.ts';
import { createStripeMeterSink, type UsageSink } from '../provisioner/usage/stripe-meter-sink.ts';
import { UsageReporter, type UsageReporterOptions } from '../provisioner/usage/usage-reporter.ts';
import type { TrueUpDeps } from '../provisioner/usage/true-up.ts';

export const MGMT_TOKEN = 'usage-test-management-token';
const APP_ID = 'usage-test-app';
export const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);

export interface UsageWorld {
  stripeEmulator: RunningStripeEmulator;
  moesif: RunningMoesifEmulator;
  stripe: Stripe;
  clock: { ms: number };
  close(): Promise<void>;
}

export async function startUsageWorld(options: { aggregationLagMs?: number; ingestionLagMs?: number; startMs?: number } = {}): Promise<UsageWorld> {
  const clock = { ms: options.startMs ?? T0 };
  const stripeEmulator = await startStripeEmulator({ now: () => clock.ms, meterAggregationLagMs: options.aggregationLagMs ?? 0 });
  const moesif = await startMoesifEmulator({ now: () => clock.ms, applicationIds: [APP_ID], managementTokens: [MGMT_TOKEN], ingestionLagMs: options.ingestionLagMs ?? 0 });
  const stripe = new Stripe('sk_test_usage_world', { ...stripeEmulator.clientOptions, maxNetworkRetries: 2 });
  return {
    stripeEmulator,
    moesif,
    stripe,
    clock,
    async close() {
      await Promise.all([moesif.close(), stripeEmulator.close()]);
    },
  };
}

export interface PricingSpec {
  unit_amount_decimal?: string;
  transform_quantity?: { divide_by: number; round: 'up' | 'down' };
  unit_amount?: number;
  tiers_mode?: 'graduated' | 'volume';
  tiers?: { up_to: number | 'inf'; unit_amount?: number; flat_amount?: number }[];
}

export async function meteredSubscription(world: UsageWorld, email: string, pricing: PricingSpec = { unit_amount_decimal: '0.5' }, eventName = 'api_calls') {
  const { stripe } = world;
  const meters = await stripe.billing.meters.list({ status: 'active' });
  const meter = meters.data.find((m) => m.event_name === eventName) ?? (await stripe.billing.meters.create({ display_name: 'API calls', event_name: eventName, default_aggregation: { formula: 'sum' } }));
  const product = await stripe.products.create({ name: `API ${email}` });
  const { unit_amount_decimal, tiers, ...rest } = pricing;
  const price = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
    ...(unit_amount_decimal ? { unit_amount_decimal: Stripe.Decimal.from(unit_amount_decimal) } : {}),
    ...(tiers ? { billing_scheme: 'tiered' as const, tiers } : {}),
    ...rest,
  } as Stripe.PriceCreateParams);
  const customer = await stripe.customers.create({ email });
  const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  await collector(world, '/v1/users', { user_id: email, company_id: subscription.id });
  return { meter, price, customer, subscription };
}

async function collector(world: UsageWorld, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${world.moesif.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-moesif-application-id': APP_ID }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`Moesif collector ${path}: ${response.status}`);
}

/** Calls as the Kong plugin logs them: one event per status, at `atMs` (request time). */
export async function logCalls(world: UsageWorld, email: string, atMs: number, statuses: number[]): Promise<void> {
  const time = new Date(atMs).toISOString();
  const events = statuses.map((status) => ({ request: { time, uri: 'http://kong/test-service', verb: 'GET' }, response: { time, status }, user_id: email }));
  await collector(world, '/v1/events/batch', events);
}

export function reporterFor(world: UsageWorld, overrides: Partial<UsageReporterOptions> & { sink?: UsageSink } = {}): { reporter: UsageReporter; deps: TrueUpDeps } {
  const moesif = createMoesifManagementClient({ apiBase: world.moesif.url, token: MGMT_TOKEN, billable: parseBillableStatus(undefined), baseDelayMs: 1 });
  const sink = overrides.sink ?? createStripeMeterSink(world.stripe);
  const directory = createCompanyDirectory(world.stripe, 'subscription', () => world.clock.ms);
  const reporter = new UsageReporter({
    moesif,
    sink,
    directory,
    windowSeconds: 3600,
    lagSeconds: 600,
    now: () => world.clock.ms,
    stripeTimeShiftSeconds: () => world.stripeEmulator.state.skippedSeconds,
    ...overrides,
  });
  return { reporter, deps: { reporter, moesif, sink, directory, companyIdSource: 'subscription' } };
}

/** Everything Stripe holds for a customer on a meter (accepted events, before aggregation). */
export function stripeTotal(world: UsageWorld, customerId: string): number {
  const refused = new Set(world.stripeEmulator.state.meterEventErrors.map((e) => e.identifier));
  return world.stripeEmulator.state.meterEvents.filter((e) => e.payload.stripe_customer_id === customerId && !refused.has(e.identifier)).reduce((sum, e) => sum + Number(e.payload.value), 0);
}

/** Moves the shared wall clock and lets the Stripe emulator's billing catch up (period ends, drafts). */
export function moveTo(world: UsageWorld, ms: number): void {
  world.clock.ms = ms;
  advanceAccountClock(world.stripeEmulator.state, world.stripeEmulator.state.now());
}
