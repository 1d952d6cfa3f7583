// Stripe aggregates meter events asynchronously and validates meter, customer and value after
// accepting them: summaries and previews lag, refused events never count, identifiers stay spent.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeError } from '../../testkit/billing-test-kit.ts';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

let emulator: RunningStripeEmulator;
let stripe: Stripe;
let wallMs = Date.UTC(2026, 0, 10, 12);

beforeAll(async () => {
  emulator = await startStripeEmulator({ now: () => wallMs, meterAggregationLagMs: 5000 });
  stripe = new Stripe('sk_test_meters', { ...emulator.clientOptions, maxNetworkRetries: 0 });
});
afterAll(async () => {
  await emulator?.close();
});

describe('meter events in the Stripe emulator', () => {
  it('summaries and the invoice preview see an event only after the aggregation lag', async () => {
    const meter = await stripe.billing.meters.create({ display_name: 'Calls', event_name: 'lagged_calls', default_aggregation: { formula: 'sum' } });
    const product = await stripe.products.create({ name: 'API' });
    const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 10, recurring: { interval: 'month', usage_type: 'metered', meter: meter.id } });
    const customer = await stripe.customers.create({ email: 'lag@example.com' });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const now = Math.floor(wallMs / 1000);
    await stripe.billing.meterEvents.create({ event_name: 'lagged_calls', payload: { stripe_customer_id: customer.id, value: '7' }, timestamp: now });
    const start = Math.floor(now / 3600) * 3600;
    const summary = () => stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: start, end_time: start + 3600 }).then((list) => list.data[0]?.aggregated_value);
    const previewAmount = () => stripe.invoices.createPreview({ subscription: subscription.id }).then((invoice) => invoice.lines.data[0]?.amount);
    expect(await summary()).toBe(0);
    expect(await previewAmount()).toBe(0);
    wallMs += 5000;
    expect(await summary()).toBe(7);
    expect(await previewAmount()).toBe(70);
  });

  it('accepts an event for an unknown customer or meter, reports it as an error and never counts it', async () => {
    const meter = await stripe.billing.meters.create({ display_name: 'Checked', event_name: 'checked_calls', default_aggregation: { formula: 'sum' } });
    const customer = await stripe.customers.create({ email: 'checked@example.com' });
    const now = Math.floor(wallMs / 1000);
    await stripe.billing.meterEvents.create({ event_name: 'checked_calls', payload: { stripe_customer_id: 'cus_missing', value: '1' }, identifier: 'bad-customer', timestamp: now });
    await stripe.billing.meterEvents.create({ event_name: 'no_such_meter', payload: { stripe_customer_id: customer.id, value: '1' }, identifier: 'bad-meter', timestamp: now });
    await stripe.billing.meterEvents.create({ event_name: 'checked_calls', payload: { stripe_customer_id: customer.id, value: 'x' }, identifier: 'bad-value', timestamp: now });
    expect(emulator.state.meterEventErrors.map((error) => [error.identifier, error.code])).toEqual([
      ['bad-customer', 'meter_event_customer_not_found'],
      ['bad-meter', 'no_meter'],
      ['bad-value', 'meter_event_invalid_value'],
    ]);
    // The identifier is spent: the corrected event needs a new one.
    expect(await stripeError(stripe.billing.meterEvents.create({ event_name: 'checked_calls', payload: { stripe_customer_id: customer.id, value: '1' }, identifier: 'bad-value' }))).toMatchObject({ statusCode: 400, param: 'identifier' });
    wallMs += 10_000;
    const start = Math.floor(now / 3600) * 3600;
    const summary = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: start, end_time: start + 3600 });
    expect(summary.data[0]?.aggregated_value).toBe(0);
  });

  it('refuses timestamps outside the past 35 days and 5 minutes ahead on the request, as Stripe does', async () => {
    const customer = await stripe.customers.create({ email: 'late@example.com' });
    const now = Math.floor(wallMs / 1000);
    for (const timestamp of [now - 36 * 86_400, now + 6 * 60])
      expect(await stripeError(stripe.billing.meterEvents.create({ event_name: 'checked_calls', payload: { stripe_customer_id: customer.id, value: '1' }, timestamp }))).toMatchObject({ statusCode: 400, param: 'timestamp' });
  });
});
