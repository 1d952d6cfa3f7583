/**
 * Where the emulator used to be kinder than Stripe: cancel with invoice_now/prorate, automatic
 * collection stopping on cancel, the minimum charge carried to the customer's balance, Smart
 * Retries' default schedule, no retry after a hard decline, and test-clock subscriptions hidden
 * from an unfiltered subscriptions.list.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { advanceClock, DAY, eventTypesFor, FEB_1, meteredPrice, T0 } from '../../testkit/billing-test-kit.ts';
import { SMART_RETRY_DAYS, startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

let emulator: RunningStripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  // Meter events summed at once: this file is about invoices, not Stripe's aggregation lag (meter-usage.test.ts).
  emulator = await startStripeEmulator({ meterAggregationLagMs: 0 });
  stripe = new Stripe('sk_test_cancel_balance', { ...emulator.clientOptions, maxNetworkRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

const FINALIZED = FEB_1 + 3600;

/** A clock customer on a metered price (0.25¢ a call unless given) with `calls` calls on Jan 10. */
async function meteredCustomer(options: { paymentMethod?: string; calls: number; unitAmountDecimal?: string }) {
  const { meter, price } = await meteredPrice(stripe, options.unitAmountDecimal);
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const pm = options.paymentMethod;
  const customer = await stripe.customers.create({ test_clock: clock.id, ...(pm ? { payment_method: pm, invoice_settings: { default_payment_method: pm } } : {}) });
  const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  await advanceClock(stripe, clock.id, T0 + 10 * DAY);
  if (options.calls > 0) await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: String(options.calls) } });
  await advanceClock(stripe, clock.id, T0 + 10 * DAY + 600);
  return { clock, customer, subscription, price, meter };
}

describe('subscriptions.cancel', () => {
  it('invoice_now bills the un-invoiced metered usage in a final invoice, charged after its draft hour', async () => {
    const { clock, customer, subscription } = await meteredCustomer({ paymentMethod: 'pm_card_visa', calls: 12_345 });
    const canceled = await stripe.subscriptions.cancel(subscription.id, { invoice_now: true });
    expect(canceled.status).toBe('canceled');
    const final = await stripe.invoices.retrieve(canceled.latest_invoice as string);
    // 12,345 × 0.25¢ = 3,086¢, for Jan 1 to the cancel time.
    expect(final).toMatchObject({ status: 'draft', total: 3086, period_start: T0, period_end: T0 + 10 * DAY + 600 });
    await advanceClock(stripe, clock.id, T0 + 10 * DAY + 2 * 3600);
    expect(await stripe.invoices.retrieve(final.id)).toMatchObject({ status: 'paid', amount_paid: 3086 });
    expect(eventTypesFor(emulator, final.id)).toEqual(['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
    expect((await stripe.invoices.list({ customer: customer.id })).data).toHaveLength(1);
  });

  it('without invoice_now the usage is not billed (and nothing else is made)', async () => {
    const { customer, subscription } = await meteredCustomer({ paymentMethod: 'pm_card_visa', calls: 12_345 });
    await stripe.subscriptions.cancel(subscription.id);
    expect((await stripe.invoices.list({ customer: customer.id })).data).toEqual([]);
  });

  it('prorate credits the unused time of a licensed item: on the final invoice, or on the balance', async () => {
    const product = await stripe.products.create({ name: 'Seat' });
    const seat = await stripe.prices.create({ currency: 'usd', product: product.id, unit_amount: 3100, recurring: { interval: 'month' } });
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const customer = await stripe.customers.create({ test_clock: clock.id, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    const first = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: seat.id }] });
    const second = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: seat.id }] });
    await advanceClock(stripe, clock.id, T0 + 21 * DAY);
    // 10 of January's 31 days unused: 3,100¢ × 10/31 = 1,000¢ back.
    const withInvoice = await stripe.subscriptions.cancel(first.id, { invoice_now: true, prorate: true });
    const final = await stripe.invoices.retrieve(withInvoice.latest_invoice as string);
    expect(final.lines.data.map((line) => line.amount)).toEqual([-1000]);
    expect(final).toMatchObject({ total: -1000, amount_due: 0 });
    await stripe.subscriptions.cancel(second.id, { prorate: true });
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance).toBe(-1000);
    await advanceClock(stripe, clock.id, T0 + 21 * DAY + 2 * 3600);
    // The final invoice's credit joins the balance at finalization.
    expect(await stripe.invoices.retrieve(final.id)).toMatchObject({ status: 'paid', starting_balance: -1000, ending_balance: -2000, amount_due: 0 });
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance).toBe(-2000);
  });

  it('stops automatic collection of the customer’s other finalized invoices', async () => {
    const { clock, customer, subscription } = await meteredCustomer({ paymentMethod: 'pm_card_chargeCustomerFail', calls: 12_345 });
    await advanceClock(stripe, clock.id, FINALIZED + 60);
    const [open] = (await stripe.invoices.list({ customer: customer.id, status: 'open' })).data;
    expect(open).toMatchObject({ attempt_count: 1, next_payment_attempt: FINALIZED + DAY });
    await stripe.subscriptions.cancel(subscription.id);
    expect(await stripe.invoices.retrieve(open!.id)).toMatchObject({ status: 'open', auto_advance: false, next_payment_attempt: null });
    await advanceClock(stripe, clock.id, FINALIZED + 20 * DAY);
    expect(await stripe.invoices.retrieve(open!.id)).toMatchObject({ status: 'open', attempt_count: 1 });
  });
});

describe('the minimum charge', () => {
  it('an invoice below $0.50 is marked paid uncharged and carried to the balance, which the next invoice bills', async () => {
    // 100 calls × 0.25¢ = 25¢.
    const { clock, customer, subscription, meter } = await meteredCustomer({ paymentMethod: 'pm_card_visa', calls: 100 });
    await advanceClock(stripe, clock.id, FINALIZED + 60);
    const [january] = (await stripe.invoices.list({ customer: customer.id })).data;
    expect(january).toMatchObject({ status: 'paid', amount_due: 25, amount_paid: 0, ending_balance: 25 });
    expect(eventTypesFor(emulator, january!.id)).toEqual(['invoice.created', 'invoice.finalized', 'invoice.paid']);
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance).toBe(25);
    expect(await stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ status: 'active' });

    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '1000' } });
    await advanceClock(stripe, clock.id, FINALIZED + 600);
    // The preview shows the carried balance the next invoice will bill.
    expect(await stripe.invoices.createPreview({ subscription: subscription.id })).toMatchObject({ total: 250, starting_balance: 25, amount_due: 275 });
    await advanceClock(stripe, clock.id, Date.UTC(2026, 2, 1) / 1000 + 7200);
    const [february] = (await stripe.invoices.list({ customer: customer.id })).data;
    // 250¢ of usage + the 25¢ carried.
    expect(february).toMatchObject({ status: 'paid', total: 250, starting_balance: 25, amount_due: 275, amount_paid: 275, ending_balance: 0 });
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance).toBe(0);
  });

  it('without a payment method the small invoice is still marked paid: nothing goes past_due', async () => {
    const { clock, customer, subscription } = await meteredCustomer({ calls: 100 });
    await advanceClock(stripe, clock.id, FINALIZED + 60);
    expect((await stripe.invoices.list({ customer: customer.id })).data[0]).toMatchObject({ status: 'paid' });
    expect(await stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ status: 'active' });
  });
});

describe('dunning defaults', () => {
  it('retries on Smart Retries’ recommended default: 8 tries within 2 weeks, then cancels', async () => {
    const { clock, subscription } = await meteredCustomer({ paymentMethod: 'pm_card_chargeCustomerFail', calls: 12_345 });
    expect(SMART_RETRY_DAYS.length + 1).toBe(8);
    expect(SMART_RETRY_DAYS.reduce((a, b) => a + b, 0)).toBe(14);
    await advanceClock(stripe, clock.id, FINALIZED + 13 * DAY);
    const open = (await stripe.invoices.list({ subscription: subscription.id, status: 'open' })).data[0];
    expect(open).toMatchObject({ attempt_count: 7, next_payment_attempt: FINALIZED + 14 * DAY });
    await advanceClock(stripe, clock.id, FINALIZED + 15 * DAY);
    expect(await stripe.invoices.retrieve(open!.id)).toMatchObject({ attempt_count: 8, next_payment_attempt: null });
    expect(await stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ status: 'canceled', cancellation_details: { reason: 'payment_failed' } });
  });
});

describe('hard declines', () => {
  it('a card declined as lost is not retried (a generic decline would be)', async () => {
    const { clock, customer, subscription } = await meteredCustomer({ calls: 12_345 });
    const card = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: card.id } });
    // Reported lost after it was saved: Stripe's test cards cannot do this on their own.
    emulator.state.failingPaymentMethods.set(card.id, 'lost_card');
    await advanceClock(stripe, clock.id, FINALIZED + 60);
    const [open] = (await stripe.invoices.list({ subscription: subscription.id, status: 'open' })).data;
    expect(open).toMatchObject({ attempt_count: 1, next_payment_attempt: null });
    expect(((await stripe.paymentIntents.retrieve(((await stripe.invoices.retrieve(open!.id, { expand: ['payments'] })).payments?.data[0]?.payment.payment_intent) as string)).last_payment_error)).toMatchObject({ decline_code: 'lost_card' });
    await advanceClock(stripe, clock.id, FINALIZED + 10 * DAY);
    expect(await stripe.invoices.retrieve(open!.id)).toMatchObject({ attempt_count: 1 });
  });
});

describe('subscriptions.list and test clocks', () => {
  it('leaves test-clock subscriptions out unless customer or test_clock is given', async () => {
    const { clock, customer, subscription, price } = await meteredCustomer({ calls: 0 });
    const plain = await stripe.customers.create({ email: 'plain@example.com' });
    const outside = await stripe.subscriptions.create({ customer: plain.id, items: [{ price: price.id }] });
    expect((await stripe.subscriptions.list({ status: 'all' })).data.map((s) => s.id)).toEqual([outside.id]);
    expect((await stripe.subscriptions.list({ customer: customer.id })).data.map((s) => s.id)).toEqual([subscription.id]);
    expect((await stripe.subscriptions.list({ test_clock: clock.id })).data.map((s) => s.id)).toEqual([subscription.id]);
  });
});
