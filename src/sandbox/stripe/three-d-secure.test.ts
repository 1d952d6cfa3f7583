/**
 * 3-D Secure (4000 0027 6000 3184 / pm_card_authenticationRequired): authenticated on-session in
 * Checkout, then every off-session charge needs the customer's action; the hosted invoice page
 * confirms it. Also the hosted invoice page itself (hosted_invoice_url on finalized invoices).
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { advanceClock, DAY, eventTypesFor, FEB_1, meteredPrice, T0 } from '../../testkit/billing-test-kit.ts';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

let emulator: RunningStripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  emulator = await startStripeEmulator();
  stripe = new Stripe('sk_test_3ds', { ...emulator.clientOptions, maxNetworkRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

const CARD_3DS = '4000 0027 6000 3184';

function post(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
}

/** A clock customer whose 3-D Secure card was saved through Checkout (setup mode) and made the default. */
async function customerWith3dsCard() {
  const { meter, price } = await meteredPrice(stripe);
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
  const customer = await stripe.customers.create({ email: 'tds@example.com', test_clock: clock.id });
  const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  const session = await stripe.checkout.sessions.create({ mode: 'setup', customer: customer.id, currency: 'usd', success_url: 'https://app.example/ok' });
  const card = { cardnumber: CARD_3DS, exp: '12 / 34', cvc: '123' };

  const challenge = await post(session.url as string, card);
  expect(challenge.status).toBe(200);
  expect(await challenge.text()).toContain('Complete authentication');
  const failed = await post(session.url as string, { ...card, authentication: 'fail' });
  expect(await failed.text()).toContain('unable to authenticate');
  expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');
  const done = await post(session.url as string, { ...card, authentication: 'complete' });
  expect(done.status).toBe(303);

  const completed = await stripe.checkout.sessions.retrieve(session.id);
  const intent = await stripe.setupIntents.retrieve(completed.setup_intent as string);
  await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: intent.payment_method as string } });
  return { meter, clock, customer, subscription };
}

describe('a 3-D Secure card', () => {
  it('authenticates on-session in Checkout; the off-session renewal charge then requires action, confirmed on the hosted invoice page', async () => {
    const { meter, clock, customer, subscription } = await customerWith3dsCard();
    await advanceClock(stripe, clock.id, T0 + 10 * DAY);
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '12345' } });
    await advanceClock(stripe, clock.id, FEB_1 + 2 * 3600);

    const [invoice] = (await stripe.invoices.list({ subscription: subscription.id, status: 'open', expand: ['data.payments'] })).data;
    // Held for authentication: not retried, the customer has to act.
    expect(invoice).toMatchObject({ amount_due: 3086, attempt_count: 1, next_payment_attempt: null });
    expect(invoice!.hosted_invoice_url).toBe(`${emulator.url}/_hosted/invoice/${invoice!.id}`);
    expect(eventTypesFor(emulator, invoice!.id)).toEqual(['invoice.created', 'invoice.finalized', 'invoice.payment_failed', 'invoice.payment_action_required']);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('past_due');
    const payment = invoice!.payments?.data[0];
    expect(payment).toMatchObject({ object: 'invoice_payment', status: 'open', payment: { type: 'payment_intent' } });
    const intent = await stripe.paymentIntents.retrieve(payment!.payment.payment_intent as string);
    expect(intent).toMatchObject({ status: 'requires_action', amount: 3086, last_payment_error: { code: 'authentication_required' } });
    await advanceClock(stripe, clock.id, FEB_1 + 5 * DAY);
    expect(await stripe.invoices.retrieve(invoice!.id)).toMatchObject({ attempt_count: 1, status: 'open' });

    const pageText = await (await fetch(invoice!.hosted_invoice_url as string)).text();
    expect(pageText).toContain('Confirm your payment');
    expect(await (await post(`${emulator.url}/_hosted/invoice/${invoice!.id}/confirm`, {})).text()).toContain('Complete authentication');
    expect(await (await post(`${emulator.url}/_hosted/invoice/${invoice!.id}/confirm`, { authentication: 'fail' })).text()).toContain('unable to authenticate');
    expect((await stripe.invoices.retrieve(invoice!.id)).status).toBe('open');
    const confirmed = await post(`${emulator.url}/_hosted/invoice/${invoice!.id}/confirm`, { authentication: 'complete' });
    expect(await confirmed.text()).toContain('Paid');
    expect(await stripe.invoices.retrieve(invoice!.id)).toMatchObject({ status: 'paid', amount_paid: 3086 });
    expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe('succeeded');
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
  });

  it('pm_card_authenticationRequired attached through the API behaves the same off-session', async () => {
    const { meter, price } = await meteredPrice(stripe);
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const customer = await stripe.customers.create({ test_clock: clock.id, payment_method: 'pm_card_authenticationRequired', invoice_settings: { default_payment_method: 'pm_card_authenticationRequired' } });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    await advanceClock(stripe, clock.id, T0 + DAY);
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '12345' } });
    await advanceClock(stripe, clock.id, FEB_1 + 2 * 3600);
    const [invoice] = (await stripe.invoices.list({ subscription: subscription.id })).data;
    expect(eventTypesFor(emulator, invoice!.id)).toContain('invoice.payment_action_required');
  });
});

describe('the hosted invoice page', () => {
  it('a card typed on the page pays an open invoice (on-session) without becoming the default', async () => {
    const { meter, price } = await meteredPrice(stripe);
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const customer = await stripe.customers.create({ test_clock: clock.id });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    await advanceClock(stripe, clock.id, T0 + DAY);
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer.id, value: '12345' } });
    await advanceClock(stripe, clock.id, FEB_1 + 2 * 3600);
    const [invoice] = (await stripe.invoices.list({ subscription: subscription.id, status: 'open' })).data;
    const url = `${emulator.url}/_hosted/invoice/${invoice!.id}/pay`;
    const declined = await post(url, { cardnumber: '4000 0000 0000 0002', exp: '12 / 34', cvc: '123' });
    expect(declined.status).toBe(402);
    expect(await declined.text()).toContain('declined');
    // A 3-D Secure card typed here is challenged first, then charged on-session.
    expect(await (await post(url, { cardnumber: CARD_3DS, exp: '12 / 34', cvc: '123' })).text()).toContain('Complete authentication');
    expect((await post(url, { cardnumber: CARD_3DS, exp: '12 / 34', cvc: '123', authentication: 'complete' })).status).toBe(200);
    expect(await stripe.invoices.retrieve(invoice!.id)).toMatchObject({ status: 'paid' });
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).invoice_settings.default_payment_method).toBeNull();
    expect((await fetch(`${emulator.url}/_hosted/invoice/in_missing`)).status).toBe(404);
  });
});
