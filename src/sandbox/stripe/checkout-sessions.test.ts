/** Checkout sessions and SetupIntents: the API objects, the hosted card page (driven with fetch) and bad input. */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeForm } from './form-encoding.ts';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

const KEY = 'sk_test_checkout';
let emulator: RunningStripeEmulator;
let sdk: Stripe;

beforeAll(async () => {
  emulator = await startStripeEmulator();
  sdk = new Stripe(KEY, { ...emulator.clientOptions, maxNetworkRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

function submitCard(url: string, card: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(card).toString() });
}

const CARD = { exp: '12 / 34', cvc: '123' };

function eventTypes(): string[] {
  return emulator.state.events
    .newestFirst()
    .reverse()
    .map((event) => event.type)
    .filter((type) => /^(setup_intent|checkout|payment_method)\./.test(type));
}

describe('setup mode', () => {
  it('creates an open session whose url is the hosted page on the emulator origin', async () => {
    const customer = await sdk.customers.create({ email: 'dev@example.com' });
    const session = await sdk.checkout.sessions.create({ mode: 'setup', customer: customer.id, currency: 'usd', success_url: 'https://app.example/ok?s={CHECKOUT_SESSION_ID}', cancel_url: 'https://app.example/cancel' });
    expect(session).toMatchObject({ object: 'checkout.session', mode: 'setup', status: 'open', customer: customer.id, setup_intent: null, payment_status: 'no_payment_required', ui_mode: 'hosted' });
    expect(session.url).toBe(`${emulator.url}/_hosted/checkout/${session.id}`);
    expect(session.expires_at - session.created).toBe(24 * 3600);
    expect((await sdk.checkout.sessions.retrieve(session.id)).id).toBe(session.id);
    expect((await sdk.checkout.sessions.list({ customer: customer.id })).data.map((s) => s.id)).toEqual([session.id]);
  });

  it('declines 4000 0000 0000 0002 on the page, then completes with 4242…: SetupIntent succeeded, events, redirect, no default set', async () => {
    const customer = await sdk.customers.create({ email: 'a<b>@example.com' });
    const session = await sdk.checkout.sessions.create({ mode: 'setup', customer: customer.id, currency: 'usd', success_url: 'https://app.example/ok?s={CHECKOUT_SESSION_ID}', cancel_url: 'https://app.example/cancel' });
    const form = await fetch(session.url as string);
    const text = await form.text();
    expect(text).toContain('Card number');
    expect(text).toContain('a&lt;b&gt;@example.com');
    expect(text).toContain('href="https://app.example/cancel"');

    const declined = await submitCard(session.url as string, { cardnumber: '4000 0000 0000 0002', ...CARD });
    expect(declined.status).toBe(402);
    expect(await declined.text()).toContain('Your card was declined');
    expect((await sdk.checkout.sessions.retrieve(session.id)).status).toBe('open');

    const done = await submitCard(session.url as string, { cardnumber: '4242 4242 4242 4242', ...CARD });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`https://app.example/ok?s=${session.id}`);
    const completed = await sdk.checkout.sessions.retrieve(session.id);
    expect(completed).toMatchObject({ status: 'complete', url: null });
    const intent = await sdk.setupIntents.retrieve(completed.setup_intent as string);
    expect(intent).toMatchObject({ status: 'succeeded', customer: customer.id, usage: 'off_session' });
    const method = await sdk.paymentMethods.retrieve(intent.payment_method as string);
    expect(method).toMatchObject({ customer: customer.id, card: { last4: '4242', exp_month: 12, exp_year: 2034 } });
    // Like Stripe: Checkout does not make it the default; the integrator does, from the webhook.
    expect((await sdk.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({ invoice_settings: { default_payment_method: null } });
    expect(eventTypes()).toEqual(['setup_intent.created', 'setup_intent.setup_failed', 'payment_method.attached', 'setup_intent.succeeded', 'checkout.session.completed']);
    expect((await fetch(session.url as string)).status).toBe(410);
  });

  it('4000 0000 0000 0341 attaches; a bad expiry or CVC is shown on the page', async () => {
    const customer = await sdk.customers.create({ email: 'late@example.com' });
    const session = await sdk.checkout.sessions.create({ mode: 'setup', customer: customer.id, currency: 'usd', success_url: 'https://app.example/ok' });
    const bad = await submitCard(session.url as string, { cardnumber: '4242424242424242', exp: '13', cvc: '1' });
    expect(await bad.text()).toContain('expiration date is incomplete');
    expect((await submitCard(session.url as string, { cardnumber: '4000000000000341', ...CARD })).status).toBe(303);
    expect((await sdk.paymentMethods.list({ customer: customer.id })).data.map((m) => m.card?.last4)).toEqual(['0341']);
  });

  it('expires on request (checkout.session.expired), and only once', async () => {
    const customer = await sdk.customers.create({ email: 'x@example.com' });
    const session = await sdk.checkout.sessions.create({ mode: 'setup', customer: customer.id, currency: 'eur' });
    expect(await sdk.checkout.sessions.expire(session.id)).toMatchObject({ status: 'expired', url: null });
    await expect(sdk.checkout.sessions.expire(session.id)).rejects.toMatchObject({ statusCode: 400 });
    expect((await fetch(session.url as string)).status).toBe(410);
    expect(eventTypes()).toEqual(['checkout.session.expired']);
  });
});

describe('subscription mode', () => {
  it('creates the customer from the typed email and a subscription paid by the card', async () => {
    const product = await sdk.products.create({ name: 'API Pro' });
    const price = await sdk.prices.create({ product: product.id, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } });
    const session = await sdk.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: price.id, quantity: 1 }], success_url: 'https://app.example/ok' });
    expect(session).toMatchObject({ amount_total: 2000, currency: 'usd', customer: null, customer_creation: 'always' });
    expect(await (await fetch(session.url as string)).text()).toContain('API Pro');
    const done = await submitCard(session.url as string, { email: 'new@example.com', cardnumber: '4242424242424242', ...CARD });
    expect(done.status).toBe(303);
    const completed = await sdk.checkout.sessions.retrieve(session.id);
    const subscription = await sdk.subscriptions.retrieve(completed.subscription as string);
    const customer = (await sdk.customers.retrieve(completed.customer as string)) as Stripe.Customer;
    expect(customer.email).toBe('new@example.com');
    expect(subscription.customer).toBe(customer.id);
    expect(subscription.items.data[0]?.price.id).toBe(price.id);
    expect(typeof subscription.default_payment_method).toBe('string');
  });

  it('declines 4000 0000 0000 0341 when the first invoice is due now, creating nothing', async () => {
    const product = await sdk.products.create({ name: 'API Pro' });
    const price = await sdk.prices.create({ product: product.id, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } });
    const customer = await sdk.customers.create({ email: 'late@example.com' });
    const session = await sdk.checkout.sessions.create({ mode: 'subscription', customer: customer.id, line_items: [{ price: price.id, quantity: 1 }], success_url: 'https://app.example/ok' });
    const declined = await submitCard(session.url as string, { cardnumber: '4000000000000341', ...CARD });
    expect(declined.status).toBe(402);
    expect(await declined.text()).toContain('Your card was declined.');
    expect((await sdk.checkout.sessions.retrieve(session.id)).status).toBe('open');
    expect((await sdk.subscriptions.list({ customer: customer.id })).data).toEqual([]);
    expect((await sdk.paymentMethods.list({ customer: customer.id })).data).toEqual([]);
  });
});

describe('bad input', () => {
  it('answers invalid_request_error with the param and creates nothing', async () => {
    const customer = await sdk.customers.create({ email: 'b@example.com' });
    const product = await sdk.products.create({ name: 'P' });
    const oneOff = await sdk.prices.create({ product: product.id, currency: 'usd', unit_amount: 100 });
    const cases: [Record<string, unknown>, string][] = [
      [{ customer: customer.id, currency: 'usd' }, 'mode'],
      [{ mode: 'setup', customer: customer.id }, 'currency'],
      [{ mode: 'setup', currency: 'usd' }, 'customer'],
      [{ mode: 'setup', customer: 'cus_missing', currency: 'usd' }, 'customer'],
      [{ mode: 'setup', customer: customer.id, currency: 'usd', line_items: [{ price: oneOff.id }] }, 'line_items'],
      [{ mode: 'setup', customer: customer.id, currency: 'usd', success_url: 'not a url' }, 'success_url'],
      [{ mode: 'setup', customer: customer.id, currency: 'usd', payment_method_types: ['card'] }, 'payment_method_types'],
      [{ mode: 'setup', customer: customer.id, currency: 'usd', expires_at: '1' }, 'expires_at'],
      [{ mode: 'payment', customer: customer.id, currency: 'usd' }, 'mode'],
      [{ mode: 'subscription' }, 'line_items'],
      [{ mode: 'subscription', line_items: [{ price: 'price_missing' }] }, 'line_items[0][price]'],
      [{ mode: 'subscription', line_items: [{ price: oneOff.id }] }, 'line_items[0][price]'],
    ];
    for (const [body, param] of cases) {
      const response = await fetch(`${emulator.url}/v1/checkout/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: encodeForm(body),
      });
      const error = ((await response.json()) as { error: { type: string; param?: string } }).error;
      expect([response.status, error.type, error.param], JSON.stringify(body)).toEqual([400, 'invalid_request_error', param]);
    }
    expect(emulator.state.checkoutSessions.size).toBe(0);
    await expect(sdk.checkout.sessions.retrieve('cs_test_missing')).rejects.toMatchObject({ statusCode: 404, param: 'id' });
    await expect(sdk.setupIntents.retrieve('seti_missing')).rejects.toMatchObject({ statusCode: 404, param: 'id' });
    expect((await fetch(`${emulator.url}/_hosted/checkout/cs_test_missing`)).status).toBe(404);
  });
});
