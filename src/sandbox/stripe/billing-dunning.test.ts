/** Failed payments, dunning, trials, send_invoice, cancel_at_period_end and the account clock, through stripe-node. */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { advanceClock, DAY, eventTypesFor, FEB_1, meteredPrice, stripeError, T0 } from '../../testkit/billing-test-kit.ts';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

let emulator: RunningStripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  emulator = await startStripeEmulator();
  stripe = new Stripe('sk_test_dunning', { ...emulator.clientOptions, maxNetworkRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

const FINALIZED = FEB_1 + 3600;

/** A clock customer with usage worth 3,086¢ in January, paying with `paymentMethod` (or nothing). */
async function billedJanuary(paymentMethod?: string, subscriptionParams: Partial<Stripe.SubscriptionCreateParams> = {}) {
  const { meter, price } = await meteredPrice(stripe);
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const customer = await stripe.customers.create({
    test_clock: clock.id,
    ...(paymentMethod ? { payment_method: paymentMethod, invoice_settings: { default_payment_method: paymentMethod } } : {}),
  });
  const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], ...subscriptionParams });
  await advanceClock(stripe, clock.id, T0 + 20 * DAY);
  await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '12345' } });
  return { clock, customer, subscription, price, meter };
}

async function latestInvoice(subscriptionId: string): Promise<Stripe.Invoice> {
  const subscription = await stripe.subscriptions.retrieve(subscriptionId);
  return stripe.invoices.retrieve(subscription.latest_invoice as string);
}

describe('dunning', () => {
  it('chargeCustomerFail: open invoice, past_due, retries on the schedule, then unpaid', async () => {
    emulator.configure({ dunningFinalStatus: 'unpaid', dunningRetryDays: [3, 5, 7] });
    const { clock, subscription } = await billedJanuary('pm_card_chargeCustomerFail');
    await advanceClock(stripe, clock.id, FEB_1 + 2 * 3600);
    let invoice = await latestInvoice(subscription.id);
    expect(invoice).toMatchObject({ status: 'open', amount_due: 3086, amount_remaining: 3086, attempt_count: 1, attempted: true, next_payment_attempt: FINALIZED + 3 * DAY });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('past_due');

    await advanceClock(stripe, clock.id, FINALIZED + 4 * DAY);
    invoice = await stripe.invoices.retrieve(invoice.id);
    expect(invoice).toMatchObject({ attempt_count: 2, next_payment_attempt: FINALIZED + 8 * DAY });

    await advanceClock(stripe, clock.id, FINALIZED + 20 * DAY);
    invoice = await stripe.invoices.retrieve(invoice.id);
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 4, next_payment_attempt: null });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('unpaid');
    expect(eventTypesFor(emulator, invoice.id).filter((type) => type === 'invoice.payment_failed')).toHaveLength(4);
  });

  it('ends in canceled with the other knob, with reason payment_failed', async () => {
    emulator.configure({ dunningFinalStatus: 'canceled', dunningRetryDays: [1, 2] });
    const { clock, subscription } = await billedJanuary('pm_card_chargeCustomerFail');
    await advanceClock(stripe, clock.id, FEB_1 + 5 * DAY);
    const canceled = await stripe.subscriptions.retrieve(subscription.id);
    expect(canceled).toMatchObject({ status: 'canceled', ended_at: FINALIZED + 3 * DAY, cancellation_details: { reason: 'payment_failed' } });
    expect(eventTypesFor(emulator, subscription.id).at(-1)).toBe('customer.subscription.deleted');
  });

  it('without a payment method: no retries, past_due, then the final status at the end of the schedule', async () => {
    emulator.configure({ dunningFinalStatus: 'unpaid', dunningRetryDays: [3, 5, 7] });
    const { clock, subscription } = await billedJanuary();
    await advanceClock(stripe, clock.id, FEB_1 + 2 * 3600);
    expect(await latestInvoice(subscription.id)).toMatchObject({ status: 'open', attempt_count: 1, next_payment_attempt: null });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('past_due');
    await advanceClock(stripe, clock.id, FINALIZED + 16 * DAY);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('unpaid');
  });

  it('a retry with the new default card pays the invoice and the subscription is active again', async () => {
    const { clock, customer, subscription } = await billedJanuary('pm_card_chargeCustomerFail');
    await advanceClock(stripe, clock.id, FEB_1 + 2 * 3600);
    const good = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: good.id } });
    await advanceClock(stripe, clock.id, FINALIZED + 3 * DAY);
    expect(await latestInvoice(subscription.id)).toMatchObject({ status: 'paid', attempt_count: 2, amount_paid: 3086, next_payment_attempt: null });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
  });

  it('invoices.pay: a failing card answers card_error and counts the attempt; a good card pays', async () => {
    const { clock, customer, subscription } = await billedJanuary('pm_card_chargeCustomerFail');
    await advanceClock(stripe, clock.id, FEB_1 + 2 * 3600);
    const invoice = await latestInvoice(subscription.id);
    const declined = await stripeError(stripe.invoices.pay(invoice.id));
    expect(declined).toMatchObject({ type: 'StripeCardError', code: 'card_declined' });
    expect((await stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(2);
    const good = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const paid = await stripe.invoices.pay(invoice.id, { payment_method: good.id });
    expect(paid).toMatchObject({ status: 'paid', amount_paid: 3086, amount_remaining: 0 });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
  });
});

describe('trials', () => {
  async function trialing(behavior: 'cancel' | 'pause' | 'create_invoice', clockId: string, priceId: string) {
    const customer = await stripe.customers.create({ test_clock: clockId });
    return stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: priceId }],
      trial_period_days: 7,
      trial_settings: { end_behavior: { missing_payment_method: behavior } },
    });
  }

  it('end without a payment method: canceled, paused or invoiced; trial_will_end 3 days before', async () => {
    const { price } = await meteredPrice(stripe);
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const cancel = await trialing('cancel', clock.id, price.id);
    const pause = await trialing('pause', clock.id, price.id);
    const invoice = await trialing('create_invoice', clock.id, price.id);
    expect(cancel).toMatchObject({ status: 'trialing', trial_start: T0, trial_end: T0 + 7 * DAY });

    await advanceClock(stripe, clock.id, T0 + 5 * DAY);
    expect(eventTypesFor(emulator, cancel.id)).toEqual(['customer.subscription.created', 'customer.subscription.trial_will_end']);
    await advanceClock(stripe, clock.id, T0 + 8 * DAY);

    expect(await stripe.subscriptions.retrieve(cancel.id)).toMatchObject({ status: 'canceled', ended_at: T0 + 7 * DAY });
    expect(eventTypesFor(emulator, cancel.id).at(-1)).toBe('customer.subscription.deleted');
    expect((await stripe.subscriptions.retrieve(pause.id)).status).toBe('paused');
    expect(eventTypesFor(emulator, pause.id)).toContain('customer.subscription.paused');
    const invoiced = await stripe.subscriptions.retrieve(invoice.id);
    expect(invoiced.status).toBe('active');
    expect(invoiced.items.data[0]).toMatchObject({ current_period_start: T0 + 7 * DAY });
    expect(await stripe.invoices.retrieve(invoiced.latest_invoice as string)).toMatchObject({ billing_reason: 'subscription_cycle', period_start: T0, period_end: T0 + 7 * DAY });

    const resumed = await stripe.subscriptions.resume(pause.id);
    expect(resumed.status).toBe('active');
    expect(eventTypesFor(emulator, pause.id).at(-1)).toBe('customer.subscription.resumed');
  });
});

describe('subscription updates', () => {
  it('send_invoice: finalized and sent with a due date; unpaid past the due date makes the subscription past_due', async () => {
    const { clock, subscription } = await billedJanuary(undefined, { collection_method: 'send_invoice', days_until_due: 10 });
    await advanceClock(stripe, clock.id, FEB_1 + 2 * 3600);
    const invoice = await latestInvoice(subscription.id);
    expect(invoice).toMatchObject({ status: 'open', collection_method: 'send_invoice', due_date: FINALIZED + 10 * DAY, attempt_count: 0 });
    expect(eventTypesFor(emulator, invoice.id)).toEqual(['invoice.created', 'invoice.finalized', 'invoice.sent']);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
    await advanceClock(stripe, clock.id, FINALIZED + 11 * DAY);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('past_due');
    await stripe.invoices.pay(invoice.id, { paid_out_of_band: true });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
  });

  it('swaps an item price keeping the ids, and cancel_at_period_end ends it at the period end with a final invoice', async () => {
    const { clock, subscription, meter } = await billedJanuary('pm_card_visa');
    const { price: dearer } = await meteredPrice(stripe, '1', meter);
    const item = subscription.items.data[0] as Stripe.SubscriptionItem;
    const swapped = await stripe.subscriptions.update(subscription.id, { items: [{ id: item.id, price: dearer.id }], cancel_at_period_end: true });
    expect(swapped.items.data.map((i) => [i.id, i.price.id])).toEqual([[item.id, dearer.id]]);
    expect(swapped).toMatchObject({ id: subscription.id, cancel_at_period_end: true, cancel_at: FEB_1 });
    await advanceClock(stripe, clock.id, FEB_1 + 2 * 3600);
    expect(await stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ status: 'canceled', ended_at: FEB_1 });
    // The new price bills the whole period's usage (Stripe does not prorate metered usage): 12,345 × 1¢.
    expect(await latestInvoice(subscription.id)).toMatchObject({ status: 'paid', total: 12_345 });
  });
});

describe('the account clock (customers without a test clock)', () => {
  it('POST /_emulator/time/advance runs the same billing for them', async () => {
    const { meter, price } = await meteredPrice(stripe);
    const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '6' } });
    const periodEnd = subscription.items.data[0]?.current_period_end as number;
    const bad = await fetch(`${emulator.url}/_emulator/time/advance`, { method: 'POST', body: JSON.stringify({ seconds: -1 }) });
    expect(bad.status).toBe(400);
    const answer = await fetch(`${emulator.url}/_emulator/time/advance`, { method: 'POST', body: JSON.stringify({ to: periodEnd + 2 * 3600 }) });
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { time: { now: number } }).time.now).toBe(periodEnd + 2 * 3600);
    // 6 × 0.25¢ = 1.5¢ → 2¢
    expect(await latestInvoice(subscription.id)).toMatchObject({ status: 'paid', total: 2, period_end: periodEnd });
    const time = (await (await fetch(`${emulator.url}/_emulator/time`)).json()) as { skipped_seconds: number };
    expect(time.skipped_seconds).toBeGreaterThan(0);
  });
});
