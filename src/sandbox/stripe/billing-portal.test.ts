/** Customer portal: configurations and sessions (API and bad input), the hosted portal and login page driven with fetch. */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeForm } from './form-encoding.ts';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

const KEY = 'sk_test_portal';
let emulator: RunningStripeEmulator;
let sdk: Stripe;

beforeAll(async () => {
  emulator = await startStripeEmulator();
  sdk = new Stripe(KEY, { ...emulator.clientOptions, maxNetworkRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

function postForm(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
}

async function plans() {
  const product = await sdk.products.create({ name: 'API' });
  const basic = await sdk.prices.create({ product: product.id, currency: 'usd', unit_amount: 1000, nickname: 'Basic', recurring: { interval: 'month' } });
  const pro = await sdk.prices.create({ product: product.id, currency: 'usd', unit_amount: 5000, nickname: 'Pro', recurring: { interval: 'month' } });
  return { product, basic, pro };
}

async function portalSetup(mode: 'at_period_end' | 'immediately' = 'at_period_end') {
  const { product, basic, pro } = await plans();
  const configuration = await sdk.billingPortal.configurations.create({
    features: {
      payment_method_update: { enabled: true },
      invoice_history: { enabled: true },
      subscription_cancel: { enabled: true, mode },
      subscription_update: { enabled: true, default_allowed_updates: ['price'], products: [{ product: product.id, prices: [basic.id, pro.id] }] },
    },
    default_return_url: 'https://app.example/account',
    login_page: { enabled: true },
  });
  const created = await sdk.customers.create({ email: 'dev@example.com' });
  const card = await sdk.paymentMethods.attach('pm_card_visa', { customer: created.id });
  const customer = await sdk.customers.update(created.id, { invoice_settings: { default_payment_method: card.id } });
  const subscription = await sdk.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
  return { configuration, customer, subscription, basic, pro };
}

describe('configurations and sessions', () => {
  it('creates a configuration with features and a login page on the emulator origin; updates and lists it', async () => {
    const { configuration, basic, pro } = await portalSetup();
    expect(configuration).toMatchObject({
      object: 'billing_portal.configuration',
      active: true,
      is_default: false,
      default_return_url: 'https://app.example/account',
      features: {
        payment_method_update: { enabled: true },
        subscription_cancel: { enabled: true, mode: 'at_period_end' },
        subscription_update: { enabled: true, default_allowed_updates: ['price'], products: [{ prices: [basic.id, pro.id] }] },
      },
      login_page: { enabled: true, url: `${emulator.url}/_hosted/portal-login/${configuration.id}` },
    });
    const updated = await sdk.billingPortal.configurations.update(configuration.id, { login_page: { enabled: false }, features: { subscription_cancel: { enabled: true, mode: 'immediately' } } });
    expect(updated).toMatchObject({ login_page: { enabled: false, url: null }, features: { subscription_cancel: { mode: 'immediately' }, invoice_history: { enabled: true } } });
    expect((await sdk.billingPortal.configurations.list()).data.map((c) => c.id)).toEqual([configuration.id]);
    expect((await sdk.billingPortal.configurations.retrieve(configuration.id)).id).toBe(configuration.id);
  });

  it('opens a session with a url on the emulator origin; without a configuration, needs a default one like Stripe', async () => {
    const { configuration, customer } = await portalSetup();
    const session = await sdk.billingPortal.sessions.create({ customer: customer.id, configuration: configuration.id });
    expect(session).toMatchObject({ object: 'billing_portal.session', customer: customer.id, configuration: configuration.id, return_url: 'https://app.example/account' });
    expect(session.url).toBe(`${emulator.url}/_hosted/portal/${session.id}`);
    await expect(sdk.billingPortal.sessions.create({ customer: customer.id })).rejects.toMatchObject({ statusCode: 400, message: expect.stringMatching(/customer portal settings/) });
  });

  it('refuses bad input with invalid_request_error and the param', async () => {
    const { basic } = await plans();
    const other = await sdk.products.create({ name: 'Other' });
    const cases: [string, Record<string, unknown>, string][] = [
      ['/v1/billing_portal/configurations', {}, 'features'],
      ['/v1/billing_portal/configurations', { features: { invoice_history: { enabled: 'yes' } } }, 'features[invoice_history][enabled]'],
      ['/v1/billing_portal/configurations', { features: { subscription_cancel: { enabled: 'true', mode: 'later' } } }, 'features[subscription_cancel][mode]'],
      ['/v1/billing_portal/configurations', { features: { subscription_update: { enabled: 'true', default_allowed_updates: ['price'] } } }, 'features[subscription_update]'],
      ['/v1/billing_portal/configurations', { features: { subscription_update: { enabled: 'true', default_allowed_updates: ['price'], products: [{ product: 'prod_missing', prices: [basic.id] }] } } }, 'features[subscription_update][products][0][product]'],
      ['/v1/billing_portal/configurations', { features: { subscription_update: { enabled: 'true', default_allowed_updates: ['price'], products: [{ product: other.id, prices: [basic.id] }] } } }, 'features[subscription_update][products][0][prices][0]'],
      ['/v1/billing_portal/configurations', { features: { invoice_history: { enabled: 'true' } }, default_return_url: 'nope' }, 'default_return_url'],
      ['/v1/billing_portal/sessions', {}, 'customer'],
      ['/v1/billing_portal/sessions', { customer: 'cus_missing' }, 'customer'],
    ];
    for (const [path, body, param] of cases) {
      const response = await fetch(`${emulator.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded' }, body: encodeForm(body) });
      const error = ((await response.json()) as { error: { type: string; param?: string } }).error;
      expect([response.status, error.type, error.param], `${path} ${JSON.stringify(body)}`).toEqual([400, 'invalid_request_error', param]);
    }
    const customer = await sdk.customers.create({ email: 'c@example.com' });
    await expect(sdk.billingPortal.sessions.create({ customer: customer.id, configuration: 'bpc_missing' })).rejects.toMatchObject({ param: 'configuration' });
    await expect(sdk.billingPortal.configurations.retrieve('bpc_missing')).rejects.toMatchObject({ statusCode: 404, param: 'id' });
    expect(emulator.state.portalConfigurations.size).toBe(0);
  });
});

describe('hosted portal', () => {
  it('replaces the card (made the default), switches plan on the same subscription, cancels at period end', async () => {
    const { configuration, customer, subscription, pro } = await portalSetup();
    const session = await sdk.billingPortal.sessions.create({ customer: customer.id, configuration: configuration.id });
    const pageText = await (await fetch(session.url)).text();
    expect(pageText).toContain('API (Basic): 10.00 USD per month');
    expect(pageText).toContain('href="https://app.example/account"');

    const declined = await postForm(`${emulator.url}/_hosted/portal/${session.id}/payment-method`, { cardnumber: '4000000000000002', exp: '12/34', cvc: '123' });
    expect(declined.status).toBe(400);
    expect(await declined.text()).toContain('Your card was declined');
    const saved = await postForm(`${emulator.url}/_hosted/portal/${session.id}/payment-method`, { cardnumber: '5555 5555 5555 4444', exp: '12/34', cvc: '123' });
    expect(saved.status).toBe(303);
    const after = (await sdk.customers.retrieve(customer.id, { expand: ['invoice_settings.default_payment_method'] })) as Stripe.Customer;
    expect((after.invoice_settings.default_payment_method as Stripe.PaymentMethod).card?.last4).toBe('4444');

    expect((await postForm(`${emulator.url}/_hosted/portal/${session.id}/subscriptions/${subscription.id}/price`, { price: pro.id })).status).toBe(303);
    const switched = await sdk.subscriptions.retrieve(subscription.id);
    expect(switched.items.data.map((i) => i.price.id)).toEqual([pro.id]);
    expect((await postForm(`${emulator.url}/_hosted/portal/${session.id}/subscriptions/${subscription.id}/price`, { price: 'price_other' })).status).toBe(400);

    expect((await postForm(`${emulator.url}/_hosted/portal/${session.id}/subscriptions/${subscription.id}/cancel`, {})).status).toBe(303);
    expect(await sdk.subscriptions.retrieve(subscription.id)).toMatchObject({ status: 'active', cancel_at_period_end: true });
    const types = emulator.state.events.newestFirst().map((e) => e.type);
    expect(types.filter((t) => t === 'customer.subscription.updated').length).toBeGreaterThanOrEqual(2);
    expect(types).toContain('payment_method.attached');
    expect(types).toContain('customer.updated');
  });

  it('lets the customer edit the details customer_update allows (customer.updated)', async () => {
    const { configuration, customer } = await portalSetup();
    await sdk.billingPortal.configurations.update(configuration.id, { features: { customer_update: { enabled: true, allowed_updates: ['email', 'name'] } } });
    const session = await sdk.billingPortal.sessions.create({ customer: customer.id, configuration: configuration.id });
    const text = await (await fetch(session.url)).text();
    expect(text).toContain('name="name"');
    expect(text).not.toContain('name="phone"');
    expect((await postForm(`${emulator.url}/_hosted/portal/${session.id}/customer`, { email: '', name: 'X' })).status).toBe(400);
    expect((await postForm(`${emulator.url}/_hosted/portal/${session.id}/customer`, { email: 'new@example.com', name: 'Ada <Dev>', phone: '123' })).status).toBe(303);
    expect((await sdk.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({ email: 'new@example.com', name: 'Ada <Dev>', phone: null });
    expect(await (await fetch(session.url)).text()).toContain('value="Ada &lt;Dev&gt;"');
    expect(emulator.state.events.newestFirst()[0]?.type).toBe('customer.updated');
  });

  it('cancels immediately when so configured (customer.subscription.deleted)', async () => {
    const { configuration, customer, subscription } = await portalSetup('immediately');
    const session = await sdk.billingPortal.sessions.create({ customer: customer.id, configuration: configuration.id });
    expect((await postForm(`${emulator.url}/_hosted/portal/${session.id}/subscriptions/${subscription.id}/cancel`, {})).status).toBe(303);
    expect((await sdk.subscriptions.retrieve(subscription.id)).status).toBe('canceled');
    expect(emulator.state.events.newestFirst().filter((e) => e.type === 'customer.subscription.deleted')).toHaveLength(1);
  });

  it('the login page shows the one-time code (instead of emailing it) and opens a portal session', async () => {
    const { configuration, customer } = await portalSetup();
    const loginUrl = configuration.login_page.url as string;
    expect(await (await fetch(loginUrl)).text()).toContain('name="email"');
    const unknown = await (await postForm(loginUrl, { email: 'nobody@example.com' })).text();
    expect(unknown).not.toContain('login-code');
    const codePage = await (await postForm(loginUrl, { email: 'dev@example.com' })).text();
    expect(codePage).toContain('shown here instead of being emailed');
    const code = /class="login-code">(\d{6})</.exec(codePage)?.[1] as string;
    expect((await postForm(loginUrl, { email: 'dev@example.com', code: code === '000000' ? '111111' : '000000' })).status).toBe(400);
    const fresh = /class="login-code">(\d{6})</.exec(await (await postForm(loginUrl, { email: 'dev@example.com' })).text())?.[1] as string;
    const signedIn = await postForm(loginUrl, { email: 'dev@example.com', code: fresh });
    expect(signedIn.status).toBe(303);
    const location = signedIn.headers.get('location') as string;
    expect(location).toMatch(new RegExp(`^${emulator.url}/_hosted/portal/bps_`));
    expect(emulator.state.portalSessions.newestFirst()[0]?.customer).toBe(customer.id);
  });
});
