/** Payment methods through stripe-node: test tokens, attach/detach, defaults, card numbers for emulator pages. */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { meteredPrice, stripeError } from '../../testkit/billing-test-kit.ts';
import { attachCardByNumber } from './payment-methods.ts';
import { CardError } from './stripe-errors.ts';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

let emulator: RunningStripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  emulator = await startStripeEmulator();
  stripe = new Stripe('sk_test_pm', { ...emulator.clientOptions, maxNetworkRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

describe('payment methods', () => {
  it('attaches pm_card_visa as a new pm_ object, lists, sets it as default, detaches', async () => {
    const customer = await stripe.customers.create({ email: 'pm@example.com' });
    const method = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    expect(method.id).toMatch(/^pm_1[A-Za-z0-9]{23}$/);
    expect(method).toMatchObject({ object: 'payment_method', type: 'card', customer: customer.id, card: { brand: 'visa', last4: '4242', funding: 'credit' } });
    expect((await stripe.paymentMethods.retrieve(method.id)).customer).toBe(customer.id);
    expect((await stripe.customers.listPaymentMethods(customer.id)).data.map((m) => m.id)).toEqual([method.id]);
    expect((await stripe.paymentMethods.list({ customer: customer.id, type: 'card' })).data.map((m) => m.id)).toEqual([method.id]);

    const updated = await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: method.id } });
    expect(updated.invoice_settings.default_payment_method).toBe(method.id);

    const detached = await stripe.paymentMethods.detach(method.id);
    expect(detached.customer).toBeNull();
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({ invoice_settings: { default_payment_method: null } });
    const again = await stripe.paymentMethods.attach(method.id, { customer: customer.id }).catch((error: unknown) => error);
    expect(again).toMatchObject({ type: 'StripeInvalidRequestError', code: 'payment_method_unexpected_state' });

    const types = emulator.state.events.newestFirst().map((event) => event.type).reverse();
    expect(types).toEqual(['customer.created', 'payment_method.attached', 'customer.updated', 'customer.updated', 'payment_method.detached']);
  });

  it('refuses the chargeDeclined family on attach with a card_error, and attaches chargeCustomerFail', async () => {
    const customer = await stripe.customers.create({});
    for (const token of ['pm_card_visa_chargeDeclined', 'pm_card_visa_chargeDeclinedInsufficientFunds']) {
      const error = await stripeError(stripe.paymentMethods.attach(token, { customer: customer.id }));
      expect(error.type).toBe('StripeCardError');
      expect(error.statusCode).toBe(402);
      expect(error.code).toBe('card_declined');
    }
    const insufficient = await stripeError(stripe.paymentMethods.attach('pm_card_visa_chargeDeclinedInsufficientFunds', { customer: customer.id }));
    expect(insufficient.decline_code).toBe('insufficient_funds');
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    expect(failing.card?.last4).toBe('0341');
    expect(emulator.state.failingPaymentMethods.get(failing.id)).toBe('generic_decline');
    expect((await stripe.customers.listPaymentMethods(customer.id)).data).toHaveLength(1);
  });

  it('creates a customer with payment_method and its default in one call', async () => {
    const customer = await stripe.customers.create({ payment_method: 'pm_card_mastercard', invoice_settings: { default_payment_method: 'pm_card_mastercard' } });
    const methods = await stripe.customers.listPaymentMethods(customer.id);
    expect(methods.data[0]?.card?.brand).toBe('mastercard');
    expect(customer.invoice_settings.default_payment_method).toBe(methods.data[0]?.id);
  });

  it('validates the default payment method and other input with the param named', async () => {
    const ada = await stripe.customers.create({});
    const bob = await stripe.customers.create({});
    const bobs = await stripe.paymentMethods.attach('pm_card_visa', { customer: bob.id });
    const notOwned = await stripeError(stripe.customers.update(ada.id, { invoice_settings: { default_payment_method: bobs.id } }));
    expect(notOwned).toMatchObject({ type: 'StripeInvalidRequestError', param: 'invoice_settings[default_payment_method]' });
    const missing = await stripeError(stripe.customers.update(ada.id, { invoice_settings: { default_payment_method: 'pm_nope' } }));
    expect(missing).toMatchObject({ code: 'resource_missing', param: 'invoice_settings[default_payment_method]' });
    expect(await stripeError(stripe.paymentMethods.attach('pm_card_visa', { customer: 'cus_nope' }))).toMatchObject({ code: 'resource_missing', param: 'customer' });
    expect(await stripeError(stripe.paymentMethods.attach('pm_card_visa', {} as Stripe.PaymentMethodAttachParams))).toMatchObject({ code: 'parameter_missing', param: 'customer' });
    expect(await stripeError(stripe.paymentMethods.retrieve('pm_nope'))).toMatchObject({ statusCode: 404, param: 'id' });
    expect(await stripeError(stripe.paymentMethods.list({ customer: ada.id, type: 'sepa_debit' }))).toMatchObject({ param: 'type' });
    expect(await stripeError(stripe.paymentMethods.attach(bobs.id, { customer: ada.id }))).toMatchObject({ code: 'payment_method_unexpected_state' });
    expect(await stripeError(stripe.paymentMethods.detach('pm_nope'))).toMatchObject({ statusCode: 404, param: 'id' });
    expect(await stripeError(stripe.customers.listPaymentMethods(ada.id, { type: 'paypal' }))).toMatchObject({ param: 'type' });
    expect(await stripeError(stripe.customers.listPaymentMethods('cus_nope'))).toMatchObject({ statusCode: 404 });
    const { price } = await meteredPrice(stripe);
    expect(await stripeError(stripe.subscriptions.create({ customer: ada.id, items: [{ price: price.id }], default_payment_method: bobs.id }))).toMatchObject({ param: 'default_payment_method' });
    expect(((await stripe.customers.retrieve(ada.id)) as Stripe.Customer).invoice_settings.default_payment_method).toBeNull();
  });
});

describe('attachCardByNumber (Checkout and portal pages)', () => {
  it('maps the test card numbers', async () => {
    const customer = await stripe.customers.create({});
    const visa = attachCardByNumber(emulator.state, customer.id, '4242 4242 4242 4242', { month: 12, year: 2099 });
    expect(visa.card).toMatchObject({ brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2099 });
    const failing = attachCardByNumber(emulator.state, customer.id, '4000000000000341');
    expect(emulator.state.failingPaymentMethods.get(failing.id)).toBe('generic_decline');
    expect(() => attachCardByNumber(emulator.state, customer.id, '4000000000000002')).toThrow(CardError);
    expect(() => attachCardByNumber(emulator.state, customer.id, '4242424242424241')).toThrow(/incorrect/);
    expect(() => attachCardByNumber(emulator.state, customer.id, '4242424242424242', { month: 1, year: 2000 })).toThrow(/expiration/);
    expect((await stripe.customers.listPaymentMethods(customer.id)).data.map((m) => m.card?.last4)).toEqual(['0341', '4242']);
  });
});
