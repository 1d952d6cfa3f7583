/**
 * /v1/payment_methods: attach (Stripe's test tokens pm_card_… become a new pm_… object), detach,
 * retrieve, list by customer; /v1/customers/{id}/payment_methods. Cards only. `attachCardByNumber`
 * is the door for emulator pages (Checkout, customer portal) where a customer types a card number.
 */
import type Stripe from 'stripe';
import { pathParam, type Endpoint } from './endpoint.ts';
import { newId } from './ids.ts';
import { expand, listPage } from './list-and-expand.ts';
import { p, paginationShape, parseParams } from './params.ts';
import { CardError, stripeErrors } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';
import { declineError, passesLuhn, TEST_CARD_NUMBERS, TEST_PAYMENT_METHOD_TOKENS, type TestCard } from './test-cards.ts';

const attachSchema = p.hash({ customer: p.id(), expand: p.expand() });
const expandOnly = p.hash({ expand: p.expand() });
const TYPES = ['card'] as const;
const listSchema = p.hash({ ...paginationShape, customer: p.id().optional(), type: p.oneOf(TYPES).optional(), customer_account: p.accepted() });
const customerListSchema = p.hash({ ...paginationShape, type: p.oneOf(TYPES).optional(), allow_redisplay: p.oneOf(['always', 'limited', 'unspecified']).optional() });

export function requirePaymentMethod(state: StripeState, id: string, param?: string): Stripe.PaymentMethod {
  const method = state.paymentMethods.get(id);
  if (method) return method;
  throw param ? stripeErrors.missingReference('PaymentMethod', id, param) : stripeErrors.notFound('PaymentMethod', id);
}

function requireCustomer(state: StripeState, id: string, param: string): Stripe.Customer {
  const customer = state.customers.get(id);
  if (!customer) throw stripeErrors.missingReference('customer', id, param);
  return customer;
}

function newPaymentMethod(state: StripeState, card: TestCard, customerId: string | null, expiry?: { month: number; year: number }): Stripe.PaymentMethod {
  const created = customerId ? state.nowFor(customerId) : state.now();
  const year = new Date(created * 1000).getUTCFullYear();
  return {
    id: newId.paymentMethod(),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null, tax_id: null },
    card: {
      brand: card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      display_brand: card.brand,
      exp_month: expiry?.month ?? 12,
      exp_year: expiry?.year ?? year + 1,
      // Same card, same fingerprint (Stripe derives it from the number).
      fingerprint: `${card.brand}${card.last4}`.padEnd(16, '0').slice(0, 16),
      funding: card.funding,
      generated_from: null,
      last4: card.last4,
      networks: { available: [card.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created,
    customer: customerId,
    customer_account: null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
}

/** Attaches a new card to a customer, refusing declining cards the way Stripe does on attach. */
function attachCard(state: StripeState, customerId: string, card: TestCard, expiry?: { month: number; year: number }): Stripe.PaymentMethod {
  if (card.outcome === 'declined') throw declineError(card);
  const method = newPaymentMethod(state, card, customerId, expiry);
  state.paymentMethods.set(method);
  if (card.outcome === 'charge_fails') state.failingPaymentMethods.set(method.id, card.declineCode ?? 'generic_decline');
  if (card.outcome === 'requires_authentication') state.authenticationPaymentMethods.add(method.id);
  state.events.emit('payment_method.attached', structuredClone(method));
  return method;
}

/**
 * Attaches a card typed by a customer (Checkout, customer portal) to `customerId`. Test cards:
 * 4242424242424242 succeeds, 4000000000000002 is declined (throws a CardError), 4000000000000341
 * attaches and then every charge fails. Other numbers are refused as Stripe test mode does.
 */
export function attachCardByNumber(state: StripeState, customerId: string, cardNumber: string, expiry?: { month: number; year: number }): Stripe.PaymentMethod {
  requireCustomer(state, customerId, 'customer');
  const digits = cardNumber.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(digits) || !passesLuhn(digits)) throw new CardError('Your card number is incorrect.', 'incorrect_number', undefined, 'number');
  if (expiry) {
    const now = new Date(state.nowFor(customerId) * 1000);
    const expired = expiry.year < now.getUTCFullYear() || (expiry.year === now.getUTCFullYear() && expiry.month < now.getUTCMonth() + 1);
    if (expiry.month < 1 || expiry.month > 12) throw new CardError("Your card's expiration month is invalid.", 'invalid_expiry_month', undefined, 'exp_month');
    if (expired) throw new CardError("Your card's expiration year is invalid.", 'invalid_expiry_year', undefined, 'exp_year');
  }
  const card = TEST_CARD_NUMBERS[digits];
  if (!card) throw new CardError('Your card was declined. Your request was in test mode, but used a non test card.', 'card_declined', 'test_mode_live_card');
  return attachCard(state, customerId, card, expiry);
}

/** Whether an off-session charge of this payment method does not succeed (declined, or needs 3-D Secure). */
export function chargeFails(state: StripeState, paymentMethodId: string): boolean {
  return state.failingPaymentMethods.has(paymentMethodId) || state.authenticationPaymentMethods.has(paymentMethodId);
}

/** Sets a customer's invoice_settings.default_payment_method (must be attached to it) and emits customer.updated. */
export function setDefaultPaymentMethod(state: StripeState, customerId: string, paymentMethodId: string | null, param = 'invoice_settings[default_payment_method]'): Stripe.Customer {
  const customer = requireCustomer(state, customerId, 'customer');
  if (paymentMethodId !== null) {
    const method = requirePaymentMethod(state, paymentMethodId, param);
    if (method.customer !== customerId)
      throw stripeErrors.invalid(`The PaymentMethod ${paymentMethodId} does not belong to the Customer you supplied ${customerId}. Please attach it first.`, param);
  }
  const previous = customer.invoice_settings.default_payment_method;
  if (previous === paymentMethodId) return customer;
  const updated: Stripe.Customer = { ...customer, invoice_settings: { ...customer.invoice_settings, default_payment_method: paymentMethodId } };
  state.customers.set(updated);
  state.events.emit('customer.updated', structuredClone(updated), { invoice_settings: { default_payment_method: previous } });
  return updated;
}

/** Attaches a payment method given by id or test token (customers.create({payment_method}), the attach route). */
export function attachPaymentMethod(state: StripeState, idOrToken: string, customerId: string, param?: string): Stripe.PaymentMethod {
  const token = TEST_PAYMENT_METHOD_TOKENS[idOrToken];
  if (token) return attachCard(state, customerId, token);
  const method = requirePaymentMethod(state, idOrToken, param);
  if (method.customer === customerId) return method;
  if (method.customer !== null) throw stripeErrors.invalid('The payment method you provided has already been attached to a customer.', param, 'payment_method_unexpected_state');
  if (state.spentPaymentMethods.has(idOrToken))
    throw stripeErrors.invalid(
      'This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.',
      param,
      'payment_method_unexpected_state',
    );
  const attached: Stripe.PaymentMethod = { ...method, customer: customerId };
  state.paymentMethods.set(attached);
  state.events.emit('payment_method.attached', structuredClone(attached));
  return attached;
}

function detach(state: StripeState, method: Stripe.PaymentMethod): Stripe.PaymentMethod {
  const customerId = typeof method.customer === 'string' ? method.customer : method.customer?.id;
  if (!customerId) throw stripeErrors.invalid(`The payment method ${method.id} is not attached to a customer.`);
  // Stripe drops a detached payment method from the defaults that pointed at it.
  const customer = state.customers.get(customerId);
  if (customer?.invoice_settings.default_payment_method === method.id) setDefaultPaymentMethod(state, customerId, null);
  for (const subscription of state.subscriptions.newestFirst()) {
    if (subscription.default_payment_method === method.id) state.subscriptions.set({ ...subscription, default_payment_method: null });
  }
  const detached: Stripe.PaymentMethod = { ...method, customer: null };
  state.paymentMethods.set(detached);
  state.spentPaymentMethods.add(method.id);
  state.events.emit('payment_method.detached', structuredClone(detached), { customer: customerId });
  return detached;
}

function ofCustomer(state: StripeState, customerId: string): Stripe.PaymentMethod[] {
  return state.paymentMethods.newestFirst().filter((method) => method.customer === customerId);
}

export const paymentMethodEndpoints: Endpoint[] = [
  {
    method: 'POST',
    route: '/v1/payment_methods/:id/attach',
    handle(call) {
      const { state } = call;
      const id = pathParam(call, 'id');
      const input = parseParams(attachSchema, call.params);
      if (!TEST_PAYMENT_METHOD_TOKENS[id]) requirePaymentMethod(state, id);
      requireCustomer(state, input.customer, 'customer');
      return { body: expand(state, structuredClone(attachPaymentMethod(state, id, input.customer)), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/payment_methods/:id/detach',
    handle(call) {
      const input = parseParams(expandOnly, call.params);
      const method = requirePaymentMethod(call.state, pathParam(call, 'id'));
      return { body: expand(call.state, structuredClone(detach(call.state, method)), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/payment_methods/:id',
    handle(call) {
      const input = parseParams(expandOnly, call.params);
      const id = pathParam(call, 'id');
      const token = TEST_PAYMENT_METHOD_TOKENS[id];
      // Stripe answers a test token with a fresh, unattached payment method each time.
      const method = token ? newPaymentMethod(call.state, token, null) : requirePaymentMethod(call.state, id);
      return { body: expand(call.state, structuredClone(method), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/payment_methods',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      // Without a customer Stripe lists only payment methods not attached to any customer (Treasury); none here.
      if (input.customer !== undefined) requireCustomer(state, input.customer, 'customer');
      const matching = input.customer === undefined ? [] : ofCustomer(state, input.customer);
      return { body: expand(state, listPage(structuredClone(matching), input, '/v1/payment_methods', 'PaymentMethod'), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/customers/:id/payment_methods',
    handle(call) {
      const { state } = call;
      const input = parseParams(customerListSchema, call.params);
      const customer = state.customers.get(pathParam(call, 'id'));
      if (!customer) throw stripeErrors.notFound('customer', pathParam(call, 'id'));
      const matching = ofCustomer(state, customer.id);
      return { body: expand(state, listPage(structuredClone(matching), input, `/v1/customers/${customer.id}/payment_methods`, 'PaymentMethod'), input.expand) };
    },
  },
];
