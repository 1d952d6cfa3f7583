/**
 * What a customer can do in the hosted portal, as the portal configuration allows, with the events
 * Stripe emits: replace the card (payment_method.attached, then customer.updated: the portal makes
 * it the customer's invoice_settings.default_payment_method), switch plan (same subscription, the
 * item's price swapped: customer.subscription.updated), cancel at period end
 * (customer.subscription.updated) or immediately (customer.subscription.deleted), edit the
 * customer's email, name or phone when customer_update allows it (customer.updated).
 */
import type Stripe from 'stripe';
import { callEndpoint, cardFormProblem, parseExpiry } from './checkout-completion.ts';
import type { FormObject } from './form-encoding.ts';
import { customerEndpoints } from './customers.ts';
import { attachCardByNumber, setDefaultPaymentMethod } from './payment-methods.ts';
import { StripeApiError } from './stripe-errors.ts';
import type { StoredSubscription, StripeState } from './stripe-state.ts';
import { subscriptionUpdateEndpoints } from './subscription-updates.ts';
import { viewSubscription } from './views.ts';

export class PortalActionError extends Error {}

type Configuration = Stripe.BillingPortal.Configuration;

/** Runs `change` and emits `type` for the subscription unless the change already did (the subscription endpoints may). */
function emitUnlessEmitted(state: StripeState, type: string, subscriptionId: string, change: () => void, previous?: object): void {
  const before = state.events.newestFirst().length;
  change();
  const emitted = state.events.newestFirst().slice(0, state.events.newestFirst().length - before);
  if (emitted.some((event) => event.type === type && (event.data.object as { id?: string }).id === subscriptionId)) return;
  const stored = state.subscriptions.get(subscriptionId);
  if (stored) state.events.emit(type, viewSubscription(state, stored), previous);
}

/** The subscription endpoints do the change (validation, invoices, events); their refusals show on the page. */
function runUpdate(state: StripeState, method: 'POST' | 'DELETE', subscriptionId: string, params: FormObject): void {
  try {
    callEndpoint(subscriptionUpdateEndpoints, method, '/v1/subscriptions/:id', state, params, { id: subscriptionId });
  } catch (error) {
    if (error instanceof StripeApiError) throw new PortalActionError(error.message);
    throw error;
  }
}

function customerSubscription(state: StripeState, customerId: string, subscriptionId: string): StoredSubscription {
  const subscription = state.subscriptions.get(subscriptionId);
  if (!subscription || subscription.customer !== customerId) throw new PortalActionError('No such subscription.');
  if (subscription.status === 'canceled') throw new PortalActionError('This subscription is already canceled.');
  return subscription;
}

export function replaceCard(state: StripeState, config: Configuration, customerId: string, card: { number: string; expiry: string; cvc: string }): Stripe.PaymentMethod {
  if (!config.features.payment_method_update.enabled) throw new PortalActionError('Updating the payment method is not enabled.');
  const problem = cardFormProblem(card, state.now());
  const expiry = parseExpiry(card.expiry);
  if (problem || !expiry) throw new PortalActionError(problem ?? "Your card's expiration date is incomplete.");
  try {
    const method = attachCardByNumber(state, customerId, card.number, expiry);
    setDefaultPaymentMethod(state, customerId, method.id);
    return method;
  } catch (error) {
    if (error instanceof StripeApiError) throw new PortalActionError(error.message);
    throw error;
  }
}

/** Prices the configuration lets a customer switch to. */
export function switchablePrices(config: Configuration): string[] {
  const update = config.features.subscription_update;
  if (!update.enabled || !update.default_allowed_updates.includes('price')) return [];
  return (update.products ?? []).flatMap((entry) => entry.prices);
}

export function switchPlan(state: StripeState, config: Configuration, customerId: string, subscriptionId: string, priceId: string): void {
  const subscription = customerSubscription(state, customerId, subscriptionId);
  if (!switchablePrices(config).includes(priceId)) throw new PortalActionError('This plan is not available.');
  const [item, ...others] = subscription.items;
  // Stripe's portal updates only subscriptions with a single product.
  if (!item || others.length > 0) throw new PortalActionError('This subscription cannot be updated in the portal.');
  if (item.price === priceId) throw new PortalActionError('This is already your plan.');
  const params = { items: { '0': { id: item.id, price: priceId } }, proration_behavior: config.features.subscription_update.proration_behavior };
  const previous = { items: viewSubscription(state, subscription).items };
  emitUnlessEmitted(state, 'customer.subscription.updated', subscriptionId, () => runUpdate(state, 'POST', subscriptionId, params), previous);
}

export function cancelSubscription(state: StripeState, config: Configuration, customerId: string, subscriptionId: string): void {
  const subscription = customerSubscription(state, customerId, subscriptionId);
  const cancel = config.features.subscription_cancel;
  if (!cancel.enabled) throw new PortalActionError('Canceling is not enabled.');
  if (cancel.mode === 'immediately') {
    emitUnlessEmitted(state, 'customer.subscription.deleted', subscriptionId, () => runUpdate(state, 'DELETE', subscriptionId, {}));
    return;
  }
  if (subscription.cancel_at_period_end) throw new PortalActionError('This subscription already ends at the end of the period.');
  const previous = { cancel_at_period_end: false, cancel_at: subscription.cancel_at, canceled_at: subscription.canceled_at };
  emitUnlessEmitted(state, 'customer.subscription.updated', subscriptionId, () => runUpdate(state, 'POST', subscriptionId, { cancel_at_period_end: 'true' }), previous);
}

/** Customer details the configuration lets a customer change in the portal (of those the page offers). */
export function editableCustomerFields(config: Configuration): ('email' | 'name' | 'phone')[] {
  const update = config.features.customer_update;
  if (!update.enabled) return [];
  return (['email', 'name', 'phone'] as const).filter((field) => update.allowed_updates.includes(field));
}

/** Updates the allowed customer fields through the customer endpoint (its validation, customer.updated). */
export function updateCustomerDetails(state: StripeState, config: Configuration, customerId: string, values: Record<string, string>): void {
  const allowed = editableCustomerFields(config);
  if (allowed.length === 0) throw new PortalActionError('Updating your details is not enabled.');
  if (allowed.includes('email') && !values.email?.trim()) throw new PortalActionError('Enter your email address.');
  const params: FormObject = {};
  for (const field of allowed) if (values[field] !== undefined) params[field] = values[field].trim();
  try {
    callEndpoint(customerEndpoints, 'POST', '/v1/customers/:id', state, params, { id: customerId });
  } catch (error) {
    if (error instanceof StripeApiError) throw new PortalActionError(error.message);
    throw error;
  }
}
