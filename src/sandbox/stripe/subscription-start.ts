/**
 * A new subscription's first steps: its payment method checked, then stored with
 * customer.subscription.created and its first invoice billed.
 */
import { draftInvoice, type InvoicePlan } from './invoice-builder.ts';
import { newId } from './ids.ts';
import { finalizeInvoice, recordDraft } from './invoice-lifecycle.ts';
import { chargeFails } from './payment-methods.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { StoredSubscription, StripeState } from './stripe-state.ts';
import { viewSubscription } from './views.ts';

/**
 * Stores a new subscription and bills its first invoice (billing_reason subscription_create):
 * licensed items in advance (free during a trial), nothing for metered ones. In classic billing
 * mode a metered-only subscription still gets a $0 first invoice, paid at once; in flexible mode
 * (the API default since 2025-09-30.clover) it gets none and `latest_invoice` stays null until the
 * first renewal. A charge that cannot succeed makes the subscription `incomplete`, as with
 * Stripe's default payment_behavior allow_incomplete.
 */
export function startSubscription(state: StripeState, subscription: StoredSubscription, paymentMethod: string | null): StoredSubscription {
  const at = subscription.start_date;
  const item = subscription.items[0];
  const invoiceId = newId.invoice();
  const plan: InvoicePlan = { usage: null, advance: { start: at, end: item?.current_period_end ?? at }, billingReason: 'subscription_create', ...(subscription.status === 'trialing' ? { free: 'advance' as const } : {}) };
  const draft = draftInvoice(state, subscription, plan, at, invoiceId);
  if (subscription.billing_mode.type === 'flexible' && draft.lines.data.length === 0) {
    state.subscriptions.set(subscription);
    state.events.emit('customer.subscription.created', viewSubscription(state, subscription));
    return subscription;
  }
  const cannotPay = subscription.collection_method === 'charge_automatically' && draft.amount_due > 0 && (paymentMethod === null || chargeFails(state, paymentMethod));
  const stored: StoredSubscription = { ...subscription, latest_invoice: invoiceId, ...(cannotPay ? { status: 'incomplete' as const } : {}) };
  state.subscriptions.set(stored);
  state.events.emit('customer.subscription.created', viewSubscription(state, stored));
  recordDraft(state, draft);
  finalizeInvoice(state, draft, at);
  return state.subscriptions.get(stored.id) ?? stored;
}

/** A payment method given for a subscription must be attached to its customer. */
export function checkOwnPaymentMethod(state: StripeState, customerId: string, paymentMethodId: string, param: string): void {
  const method = state.paymentMethods.get(paymentMethodId);
  if (!method) throw stripeErrors.missingReference('PaymentMethod', paymentMethodId, param);
  if (method.customer !== customerId)
    throw stripeErrors.invalid(`The customer does not have a payment method with the ID ${paymentMethodId}. The payment method must be attached to the customer.`, param);
}
