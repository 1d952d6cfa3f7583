/** Test clocks, usage and invoices through stripe-node: a metered period billed from meter events. */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { advanceClock, DAY, eventTypes, FEB_1, meteredPrice, stripeError, T0 } from '../../testkit/billing-test-kit.ts';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

let emulator: RunningStripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  // Invoice math, not aggregation lag (meter-usage.test.ts): summaries and previews see events at once.
  emulator = await startStripeEmulator({ meterAggregationLagMs: 0 });
  stripe = new Stripe('sk_test_clock', { ...emulator.clientOptions, maxNetworkRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

async function clockCustomerWithSubscription(paymentMethod: string | undefined = 'pm_card_visa') {
  const { meter, price } = await meteredPrice(stripe);
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0, name: 'billing' });
  const customer = await stripe.customers.create({
    email: 'clock@example.com',
    test_clock: clock.id,
    ...(paymentMethod ? { payment_method: paymentMethod, invoice_settings: { default_payment_method: paymentMethod } } : {}),
  });
  const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  return { meter, price, clock, customer, subscription };
}

describe('a metered period on a test clock', () => {
  it('classic billing mode, when asked for, still makes a $0 first invoice paid at once', async () => {
    const { customer, price } = await clockCustomerWithSubscription();
    const classic = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], billing_mode: { type: 'classic' } });
    expect(classic.billing_mode).toMatchObject({ type: 'classic', flexible: null });
    expect(await stripe.invoices.retrieve(classic.latest_invoice as string)).toMatchObject({ billing_reason: 'subscription_create', status: 'paid', total: 0 });
    expect(await stripeError(stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], billing_mode: { type: 'hybrid' as 'classic' } }))).toMatchObject({ param: 'billing_mode[type]' });
  });

  it('bills the period usage once, in Stripe event order, and charges the default card', async () => {
    const { meter, clock, customer, subscription } = await clockCustomerWithSubscription();
    expect(customer.created).toBe(T0);
    expect(subscription.items.data[0]).toMatchObject({ current_period_start: T0, current_period_end: FEB_1 });
    // Flexible billing mode (the API default since 2025-09-30.clover): no $0 first invoice for metered items.
    expect(subscription).toMatchObject({ billing_mode: { type: 'flexible' }, latest_invoice: null });
    expect((await stripe.invoices.list({ customer: customer.id })).data).toEqual([]);

    await advanceClock(stripe, clock.id, T0 + 10 * DAY);
    const at = T0 + 10 * DAY - 60;
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '12000' }, identifier: 'batch-1', timestamp: at });
    const duplicate = await stripeError(
      stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '12000' }, identifier: 'batch-1', timestamp: at }),
    );
    expect(duplicate).toMatchObject({ type: 'StripeInvalidRequestError', param: 'identifier' });
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '345' }, timestamp: at });

    const summaries = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: T0, end_time: T0 + 10 * DAY });
    expect(summaries.data.map((s) => s.aggregated_value)).toEqual([12_345]);
    const preview = await stripe.invoices.createPreview({ subscription: subscription.id });
    // 12,345 × 0.25¢ = 3,086.25¢ → 3,086¢
    expect(preview.amount_due).toBe(3086);

    const before = eventTypes(emulator).length;
    await advanceClock(stripe, clock.id, FEB_1 + 2 * 3600);
    const invoices = await stripe.invoices.list({ customer: customer.id });
    expect(invoices.data).toHaveLength(1);
    const cycle = invoices.data[0] as Stripe.Invoice;
    expect(cycle).toMatchObject({
      billing_reason: 'subscription_cycle',
      status: 'paid',
      subtotal: 3086,
      total: 3086,
      amount_due: 3086,
      amount_paid: 3086,
      amount_remaining: 0,
      attempt_count: 1,
      period_start: T0,
      period_end: FEB_1,
      collection_method: 'charge_automatically',
      parent: { subscription_details: { subscription: subscription.id } },
      status_transitions: { finalized_at: FEB_1 + 3600, paid_at: FEB_1 + 3600 },
    });
    expect(cycle.number).toMatch(/^[0-9A-F]{8}-0001$/);
    const lines = await stripe.invoices.listLineItems(cycle.id);
    expect(lines.data[0]).toMatchObject({ amount: 3086, quantity: 12_345, period: { start: T0, end: FEB_1 } });
    expect(lines.data[0]?.pricing?.unit_amount_decimal?.toString()).toBe('0.25');

    const after = eventTypes(emulator).slice(before);
    expect(after).toEqual([
      'test_helpers.test_clock.advancing',
      // upcomingRenewalDays (7) before the renewal
      'invoice.upcoming',
      'customer.subscription.updated',
      'invoice.created',
      'invoice.finalized',
      // The charge runs on the invoice's PaymentIntent.
      'payment_intent.created',
      'payment_intent.succeeded',
      'invoice.paid',
      'invoice.payment_succeeded',
      'test_helpers.test_clock.ready',
    ]);
    const upcoming = emulator.state.events.newestFirst().find((event) => event.type === 'invoice.upcoming');
    expect(upcoming?.data.object).toMatchObject({ billing_reason: 'upcoming', amount_due: 3086 });
    expect(upcoming?.data.object).not.toHaveProperty('id');
    const renewal = emulator.state.events.newestFirst().find((event) => event.type === 'customer.subscription.updated');
    expect(renewal?.data.previous_attributes).toMatchObject({ items: { data: [{ current_period_start: T0, current_period_end: FEB_1 }] } });
    const renewed = await stripe.subscriptions.retrieve(subscription.id);
    expect(renewed.items.data[0]).toMatchObject({ current_period_start: FEB_1, current_period_end: Date.UTC(2026, 2, 1) / 1000 });
    expect(renewed).toMatchObject({ status: 'active', latest_invoice: cycle.id });
  });

  it('counts usage that arrives while the invoice is still a draft', async () => {
    const { meter, clock, customer } = await clockCustomerWithSubscription();
    await advanceClock(stripe, clock.id, FEB_1 + 60);
    const [draft] = (await stripe.invoices.list({ customer: customer.id, status: 'draft' })).data;
    expect(draft?.automatically_finalizes_at).toBe(FEB_1 + 3600);
    // Reported late, timestamped inside the closed period.
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '400' }, timestamp: FEB_1 - 10 });
    await advanceClock(stripe, clock.id, FEB_1 + 2 * 3600);
    expect(await stripe.invoices.retrieve(draft?.id as string)).toMatchObject({ status: 'paid', total: 100 });
  });
});

describe('test clocks', () => {
  it('hides clock customers from customers.list unless the clock is asked for, and limits them to 3', async () => {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const plain = await stripe.customers.create({ email: 'plain@example.com' });
    const onClock = await stripe.customers.create({ email: 'clock@example.com', test_clock: clock.id });
    expect((await stripe.customers.list()).data.map((c) => c.id)).toEqual([plain.id]);
    expect((await stripe.customers.list({ email: 'clock@example.com' })).data).toEqual([]);
    expect((await stripe.customers.list({ test_clock: clock.id })).data.map((c) => c.id)).toEqual([onClock.id]);
    await stripe.customers.create({ test_clock: clock.id });
    await stripe.customers.create({ test_clock: clock.id });
    expect(await stripeError(stripe.customers.create({ test_clock: clock.id }))).toMatchObject({ param: 'test_clock' });
    expect(await stripeError(stripe.customers.create({ test_clock: 'clock_nope' }))).toMatchObject({ code: 'resource_missing', param: 'test_clock' });
  });

  it('refuses advances backwards or beyond two intervals of the shortest subscription, and deletes', async () => {
    const { clock, subscription } = await clockCustomerWithSubscription();
    expect(await stripeError(stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: T0 - 1 }))).toMatchObject({ type: 'StripeInvalidRequestError', param: 'frozen_time' });
    expect(await stripeError(stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: Date.UTC(2026, 2, 1, 0, 0, 1) / 1000 }))).toMatchObject({ param: 'frozen_time' });
    expect(await stripeError(stripe.testHelpers.testClocks.advance(clock.id, {} as { frozen_time: number }))).toMatchObject({ code: 'parameter_missing', param: 'frozen_time' });
    expect(await stripeError(stripe.testHelpers.testClocks.retrieve('clock_nope'))).toMatchObject({ statusCode: 404 });
    expect((await stripe.testHelpers.testClocks.list()).data.map((c) => c.id)).toEqual([clock.id]);
    expect(await stripe.testHelpers.testClocks.del(clock.id)).toMatchObject({ id: clock.id, deleted: true });
    expect(await stripeError(stripe.subscriptions.retrieve(subscription.id))).toMatchObject({ statusCode: 404 });
    expect(eventTypes(emulator)).toContain('test_helpers.test_clock.deleted');
  });

  it('limits a clock customer to 3 subscriptions', async () => {
    const { price, customer } = await clockCustomerWithSubscription();
    const others = await Promise.all([meteredPrice(stripe), meteredPrice(stripe), meteredPrice(stripe)]);
    await stripe.subscriptions.create({ customer: customer.id, items: [{ price: others[0]?.price.id as string }] });
    await stripe.subscriptions.create({ customer: customer.id, items: [{ price: others[1]?.price.id as string }] });
    const error = await stripeError(stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] }));
    expect(error).toMatchObject({ type: 'StripeInvalidRequestError', param: 'customer' });
  });
});

describe('bad input to the invoice and usage routes', () => {
  it('answers invalid_request_error naming the param', async () => {
    const { meter, customer, subscription } = await clockCustomerWithSubscription();
    const summaries = (params: Stripe.Billing.MeterListEventSummariesParams) => stripeError(stripe.billing.meters.listEventSummaries(meter.id, params));
    expect(await summaries({ customer: customer.id, start_time: T0 + 30, end_time: T0 + 3600 })).toMatchObject({ param: 'start_time' });
    expect(await summaries({ customer: customer.id, start_time: T0, end_time: T0 + 90 })).toMatchObject({ param: 'end_time' });
    expect(await summaries({ customer: customer.id, start_time: T0, end_time: T0 + 60, value_grouping_window: 'hour' })).toMatchObject({ param: 'end_time' });
    expect(await summaries({ start_time: T0, end_time: T0 + 60 } as Stripe.Billing.MeterListEventSummariesParams)).toMatchObject({ code: 'parameter_missing', param: 'customer' });
    expect(await summaries({ customer: 'cus_nope', start_time: T0, end_time: T0 + 60 })).toMatchObject({ code: 'resource_missing', param: 'customer' });
    expect(await stripeError(stripe.invoices.list({ status: 'late' as 'open' }))).toMatchObject({ type: 'StripeInvalidRequestError', param: 'status' });
    expect(await stripeError(stripe.invoices.list({ subscription: 'sub_nope' }))).toMatchObject({ param: 'subscription' });
    expect(await stripeError(stripe.invoices.retrieve('in_nope'))).toMatchObject({ statusCode: 404, param: 'id' });
    expect(await stripeError(stripe.invoices.createPreview({}))).toMatchObject({ param: 'customer' });
    expect(await stripeError(stripe.invoices.createPreview({ subscription: 'sub_nope' }))).toMatchObject({ code: 'resource_missing', param: 'subscription' });
    expect(await stripeError(stripe.testHelpers.testClocks.create({ frozen_time: 'soon' as unknown as number }))).toMatchObject({ type: 'StripeInvalidRequestError', param: 'frozen_time' });
    expect(await stripeError(stripe.testHelpers.testClocks.create({ frozen_time: T0, name: 'x'.repeat(301) }))).toMatchObject({ param: 'name' });
    expect(await stripeError(stripe.subscriptions.resume(subscription.id))).toMatchObject({ type: 'StripeInvalidRequestError', code: 'subscription_not_paused' });
    const classic = await stripe.subscriptions.create({ customer: subscription.customer as string, items: [{ price: subscription.items.data[0]!.price.id }], billing_mode: { type: 'classic' } });
    const invoiceId = classic.latest_invoice as string;
    expect(await stripeError(stripe.invoices.pay(invoiceId))).toMatchObject({ code: 'invoice_unexpected_state' });
    expect(await stripeError(stripe.invoices.finalizeInvoice(invoiceId))).toMatchObject({ code: 'invoice_unexpected_state' });
    expect(await stripeError(stripe.invoices.pay(invoiceId, { paid_out_of_band: 'yes' as unknown as boolean }))).toMatchObject({ param: 'paid_out_of_band' });
    expect(await stripeError(stripe.subscriptions.update(subscription.id, { items: [{ price: 'price_nope' }] }))).toMatchObject({ param: 'items[0][id]' });
    expect(await stripeError(stripe.subscriptions.update(subscription.id, { default_payment_method: 'pm_nope' }))).toMatchObject({ param: 'default_payment_method' });
    expect(await stripeError(stripe.subscriptions.update(subscription.id, { collection_method: 'send_invoice' }))).toMatchObject({ param: 'days_until_due' });
  });
});
