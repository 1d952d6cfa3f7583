/** Invoice actions (void, mark_uncollectible, finalize), previews, events of the existing endpoints and the state view. */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { advanceClock, DAY, eventTypes, eventTypesFor, FEB_1, meteredPrice, stripeError, T0 } from '../../testkit/billing-test-kit.ts';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

let emulator: RunningStripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  // Invoice math, not aggregation lag (meter-usage.test.ts): summaries and previews see events at once.
  emulator = await startStripeEmulator({ meterAggregationLagMs: 0 });
  stripe = new Stripe('sk_test_invoices', { ...emulator.clientOptions, maxNetworkRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

/** A clock customer without a card whose January usage (6 calls on a graduated price) is invoiced. */
async function openInvoice() {
  const meter = await stripe.billing.meters.create({ display_name: 'Calls', event_name: 'calls', default_aggregation: { formula: 'sum' } });
  const product = await stripe.products.create({ name: 'API' });
  // ≤5 @ $7, ≤10 @ $6.50, inf @ $6: 6 units graduated = $41.50
  const price = await stripe.prices.create({
    currency: 'usd',
    product: product.id,
    billing_scheme: 'tiered',
    tiers_mode: 'graduated',
    tiers: [
      { up_to: 5, unit_amount: 700 },
      { up_to: 10, unit_amount: 650 },
      { up_to: 'inf', unit_amount: 600 },
    ],
    recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
  });
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const customer = await stripe.customers.create({ test_clock: clock.id });
  const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  await advanceClock(stripe, clock.id, T0 + 20 * DAY);
  for (const value of ['2', '4']) await stripe.billing.meterEvents.create({ event_name: 'calls', payload: { stripe_customer_id: customer.id, value } });
  const preview = await stripe.invoices.createPreview({ customer: customer.id });
  expect(preview).toMatchObject({ billing_reason: 'upcoming', amount_due: 4150, period_start: T0, period_end: FEB_1 });
  await advanceClock(stripe, clock.id, FEB_1 + 2 * 3600);
  const invoice = (await stripe.invoices.list({ subscription: subscription.id, status: 'open' })).data[0] as Stripe.Invoice;
  return { clock, customer, subscription, invoice };
}

describe('invoice actions', () => {
  it('bills the graduated tiers, makes the customer delinquent, and voiding settles the subscription', async () => {
    const { customer, subscription, invoice } = await openInvoice();
    expect(invoice).toMatchObject({ amount_due: 4150, status: 'open' });
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).delinquent).toBe(true);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('past_due');

    const voided = await stripe.invoices.voidInvoice(invoice.id);
    expect(voided).toMatchObject({ status: 'void', amount_remaining: 0, status_transitions: { voided_at: FEB_1 + 2 * 3600 } });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).delinquent).toBe(false);
    expect(eventTypesFor(emulator, invoice.id)).toEqual(['invoice.created', 'invoice.finalized', 'invoice.payment_failed', 'invoice.voided']);
    expect(await stripeError(stripe.invoices.voidInvoice(invoice.id))).toMatchObject({ code: 'invoice_unexpected_state' });
    expect(await stripeError(stripe.invoices.markUncollectible(invoice.id))).toMatchObject({ code: 'invoice_unexpected_state' });
  });

  it('marks an invoice uncollectible', async () => {
    const { invoice } = await openInvoice();
    const marked = await stripe.invoices.markUncollectible(invoice.id);
    expect(marked).toMatchObject({ status: 'uncollectible', status_transitions: { marked_uncollectible_at: FEB_1 + 2 * 3600 } });
    expect(eventTypesFor(emulator, invoice.id).at(-1)).toBe('invoice.marked_uncollectible');
  });

  it('an unpaid subscription renews into drafts that wait; finalize on request; lines page', async () => {
    emulator.configure({ dunningFinalStatus: 'unpaid' });
    const { clock, subscription } = await openInvoice();
    await advanceClock(stripe, clock.id, Date.UTC(2026, 2, 1, 2) / 1000);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('unpaid');
    const draft = (await stripe.invoices.list({ subscription: subscription.id, status: 'draft' })).data[0] as Stripe.Invoice;
    expect(draft).toMatchObject({ status: 'draft', number: null, period_start: FEB_1, auto_advance: false, automatically_finalizes_at: null });
    // No usage in February: the graduated price without flat fees bills 0, paid on the spot.
    const finalized = await stripe.invoices.finalizeInvoice(draft.id);
    expect(finalized).toMatchObject({ status: 'paid', total: 0 });
    // The February invoice is still owed: the subscription stays unpaid.
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('unpaid');
    expect((await stripe.invoices.listLineItems(draft.id, { limit: 1 })).data).toHaveLength(1);
    expect(await stripeError(stripe.invoices.listLineItems('in_nope'))).toMatchObject({ statusCode: 404 });
  });
});

describe('licensed prices', () => {
  it('bill in advance at creation; a declined first charge leaves the subscription incomplete, expired after 23 hours', async () => {
    const product = await stripe.products.create({ name: 'Seat' });
    const price = await stripe.prices.create({ currency: 'usd', product: product.id, unit_amount: 1000, recurring: { interval: 'month' } });
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const good = await stripe.customers.create({ test_clock: clock.id, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    const paid = await stripe.subscriptions.create({ customer: good.id, items: [{ price: price.id, quantity: 3 }] });
    expect(paid.status).toBe('active');
    expect(await stripe.invoices.retrieve(paid.latest_invoice as string)).toMatchObject({ status: 'paid', total: 3000, period_start: T0, period_end: FEB_1 });

    const failing = await stripe.customers.create({ test_clock: clock.id, payment_method: 'pm_card_chargeCustomerFail', invoice_settings: { default_payment_method: 'pm_card_chargeCustomerFail' } });
    const incomplete = await stripe.subscriptions.create({ customer: failing.id, items: [{ price: price.id }] });
    expect(incomplete.status).toBe('incomplete');
    expect(await stripe.invoices.retrieve(incomplete.latest_invoice as string)).toMatchObject({ status: 'open', attempt_count: 1, total: 1000 });
    await advanceClock(stripe, clock.id, T0 + DAY);
    expect((await stripe.subscriptions.retrieve(incomplete.id)).status).toBe('incomplete_expired');
    expect((await stripe.invoices.retrieve(incomplete.latest_invoice as string)).status).toBe('void');
  });
});

describe('events of the existing endpoints', () => {
  it('customers and subscriptions emit created, updated and deleted with previous attributes', async () => {
    const { price } = await meteredPrice(stripe);
    expect(eventTypes(emulator)).toEqual(['billing.meter.created', 'product.created', 'price.created']);
    await stripe.prices.update(price.id, { nickname: 'calls' });
    expect(emulator.state.events.newestFirst()[0]).toMatchObject({ type: 'price.updated', data: { previous_attributes: { nickname: null } } });
    const customer = await stripe.customers.create({ email: 'ev@example.com' });
    await stripe.customers.update(customer.id, { name: 'Eve' });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], metadata: { plan: 'a' } });
    await stripe.subscriptions.update(subscription.id, { metadata: { plan: 'b' } });
    await stripe.subscriptions.cancel(subscription.id);
    await stripe.customers.del(customer.id);
    expect(eventTypesFor(emulator, customer.id)).toEqual(['customer.created', 'customer.updated', 'customer.deleted']);
    expect(eventTypesFor(emulator, subscription.id)).toEqual(['customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted']);
    const updated = emulator.state.events.newestFirst().find((event) => event.type === 'customer.subscription.updated');
    expect(updated?.data.previous_attributes).toEqual({ metadata: { plan: 'a' } });
    // Flexible billing mode: a metered-only subscription starts without an invoice.
    expect(eventTypes(emulator).filter((type) => type.startsWith('invoice.'))).toEqual([]);
  });
});

describe('the state view', () => {
  it('includes invoices, payment methods, test clocks, events and the account time', async () => {
    await openInvoice();
    const state = (await (await fetch(`${emulator.url}/_emulator/state`)).json()) as Record<string, unknown[]> & { time: { now: number } };
    expect(state.invoices).toHaveLength(1);
    expect(state.testClocks).toHaveLength(1);
    expect(state.paymentMethods).toEqual([]);
    expect(state.events?.length).toBeGreaterThan(10);
    expect(typeof state.time.now).toBe('number');
  });
});
