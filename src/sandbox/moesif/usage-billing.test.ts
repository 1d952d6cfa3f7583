// Moesif's Stripe integration in the sandbox: calls through the Kong emulator's proxy with a
// developer's key become Moesif events; a flush turns each company's unreported calls into one
// Stripe meter event for the company's customer, and never bills a call twice.
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startKongEmulator, type RunningKongEmulator } from '../kong/kong-emulator.ts';
import { startStripeEmulator, type RunningStripeEmulator } from '../stripe/stripe-emulator.ts';
import { startMoesifEmulator, type RunningMoesifEmulator } from './moesif-emulator.ts';

const APP_ID = 'moesif-app';
const KEY = 'sk_test_usage';
let stripeEmulator: RunningStripeEmulator;
let moesif: RunningMoesifEmulator;
let kong: RunningKongEmulator;
let stripe: Stripe;
let customer: Stripe.Customer;
let subscription: Stripe.Subscription;

async function moesifUser(userId: string, companyId: string): Promise<void> {
  const response = await fetch(`${moesif.url}/v1/users/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-moesif-application-id': APP_ID },
    body: JSON.stringify([{ user_id: userId, company_id: companyId }]),
  });
  expect(response.status).toBe(201);
}

const call = (key: string) => fetch(`${kong.proxyUrl}/test-service/score`, { headers: { apikey: key } }).then((r) => r.status);
const meterEvents = () => stripeEmulator.state.meterEvents.filter((e) => e.event_name === 'api_calls');

beforeAll(async () => {
  stripeEmulator = await startStripeEmulator();
  stripe = new Stripe(KEY, { ...stripeEmulator.clientOptions, maxNetworkRetries: 0 });
  const meter = await stripe.billing.meters.create({ display_name: 'API calls', event_name: 'api_calls', default_aggregation: { formula: 'sum' } });
  const product = await stripe.products.create({ name: 'API' });
  const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount_decimal: Stripe.Decimal.from('0.5'), recurring: { interval: 'month', usage_type: 'metered', meter: meter.id } });
  customer = await stripe.customers.create({ email: 'payer@example.com' });
  subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  moesif = await startMoesifEmulator({ applicationIds: [APP_ID] });
  kong = await startKongEmulator({ moesifUrl: moesif.url, moesifApplicationId: APP_ID, propagationMs: 0 });
  kong.state.patchWorkspaceConfig('default', { portal: true });
});
afterAll(async () => {
  await kong?.close();
  await Promise.all([moesif?.close(), stripeEmulator?.close()]);
});
beforeEach(() => {
  moesif.reset();
  stripeEmulator.state.meterEvents.length = 0;
  moesif.configureBilling({ stripeApiBase: stripeEmulator.url, stripeSecretKey: KEY, eventName: 'api_calls', companyIdSource: 'subscription' });
  for (const developer of kong.state.listDevelopers('default')) kong.state.deleteDeveloper('default', developer.id);
});

describe('Moesif emulator usage reporting to Stripe', () => {
  it('bills a developer’s successful calls to the subscription’s customer, once', async () => {
    kong.state.addDeveloper('default', { email: 'payer@example.com', key: 'k-payer' });
    kong.state.addDeveloper('default', { email: 'nocompany@example.com', key: 'k-free' });
    await moesifUser('payer@example.com', subscription.id);
    expect(await Promise.all([call('k-payer'), call('k-payer'), call('k-payer'), call('k-free'), call('wrong-key')])).toEqual([200, 200, 200, 200, 401]);
    await kong.settle();
    expect(moesif.store.events.filter((e) => e.user_id === 'payer@example.com')).toHaveLength(3);

    const first = await fetch(`${moesif.url}/_emulator/flush`, { method: 'POST' }).then((r) => r.json() as Promise<{ reported: unknown[]; unattributed: number }>);
    expect(first.reported).toHaveLength(1);
    expect(first.unattributed).toBe(1); // nocompany@ has no company_id yet: kept for later
    expect(meterEvents()).toHaveLength(1);
    expect(meterEvents()[0]).toMatchObject({ payload: { stripe_customer_id: customer.id, value: '3' }, identifier: expect.stringMatching(/^moesif_[0-9a-f]{32}$/) });

    expect((await moesif.flushUsage()).reported).toEqual([]);
    expect(meterEvents()).toHaveLength(1);

    // New calls are a new batch with a new identifier.
    await call('k-payer');
    await kong.settle();
    const next = await moesif.flushUsage();
    expect(next.reported.map((b) => b.value)).toEqual([1]);
    expect(meterEvents().map((e) => e.payload.value)).toEqual(['3', '1']);
    expect(new Set(meterEvents().map((e) => e.identifier)).size).toBe(2);
  });

  it('does not bill calls refused by a consumer-scoped request-termination', async () => {
    const developer = kong.state.addDeveloper('default', { email: 'blocked@example.com', key: 'k-blocked' });
    await moesifUser('blocked@example.com', subscription.id);
    kong.state.putPlugin('default', { id: crypto.randomUUID(), name: 'request-termination', enabled: true, config: { status_code: 402, message: 'Payment required' }, consumer: developer.consumer, route: null, service: null, tags: null });
    expect(await call('k-blocked')).toBe(402);
    await kong.settle();
    expect(moesif.store.events).toHaveLength(1);
    expect((await moesif.flushUsage()).reported).toEqual([]);
    expect(meterEvents()).toEqual([]);
  });

  it('re-sends a batch whose answer was lost with the same identifier, so Stripe counts it once', async () => {
    kong.state.addDeveloper('default', { email: 'payer@example.com', key: 'k-payer' });
    await moesifUser('payer@example.com', customer.id);
    moesif.configureBilling({ stripeApiBase: stripeEmulator.url, stripeSecretKey: KEY, eventName: 'api_calls', companyIdSource: 'customer', stripeMaxNetworkRetries: 1 });
    await call('k-payer');
    await call('k-payer');
    await kong.settle();
    // The meter event lands and its answer is lost; any resend in this flush finds Stripe unreachable.
    stripeEmulator.faults.add({ method: 'POST', path: '/v1/billing/meter_events', kind: 'drop', when: 'after', times: 1 });
    stripeEmulator.faults.add({ method: 'POST', path: '/v1/billing/meter_events', kind: 'drop', when: 'before', times: 5 });
    const failed = await moesif.flushUsage();
    expect(failed.failed).toHaveLength(1);
    expect(meterEvents()).toHaveLength(1);
    await call('k-payer'); // arrives while the batch is unconfirmed: waits for the next batch
    await kong.settle();
    stripeEmulator.faults.clear();
    const retried = await moesif.flushUsage();
    expect(retried.reported.map((b) => [b.identifier, b.value])).toEqual([[failed.failed[0]?.identifier, 2]]);
    expect(meterEvents().map((e) => e.payload)).toEqual([{ stripe_customer_id: customer.id, value: '2' }]);
    expect((await moesif.flushUsage()).reported.map((b) => b.value)).toEqual([1]);
    expect(meterEvents().map((e) => e.payload.value)).toEqual(['2', '1']);
  });
});
