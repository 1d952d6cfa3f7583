/**
 * Subscription state changes with the events Stripe sends for them: customer.subscription.updated
 * (with previous_attributes), .deleted, .paused, .resumed.
 */
import { previousAttributes } from './customers.ts';
import type { StoredSubscription, StripeState } from './stripe-state.ts';
import { viewSubscription } from './views.ts';

type SubscriptionPatch = Partial<Omit<StoredSubscription, 'id' | 'object'>>;

/** The API view of the old values of the fields a change touched (items rendered as a list). */
function previousOf(state: StripeState, before: StoredSubscription, after: StoredSubscription): object | undefined {
  const previous = previousAttributes(viewSubscription(state, before), viewSubscription(state, after));
  return previous;
}

/** Applies a change, stores it and emits customer.subscription.updated (nothing when nothing changed). */
export function changeSubscription(state: StripeState, subscription: StoredSubscription, patch: SubscriptionPatch): StoredSubscription {
  const updated: StoredSubscription = { ...subscription, ...patch };
  const previous = previousOf(state, subscription, updated);
  state.subscriptions.set(updated);
  if (previous) state.events.emit('customer.subscription.updated', viewSubscription(state, updated), previous);
  return updated;
}

/** Stripe stops automatic collection of a customer's finalized invoices when a subscription is canceled (API reference, Cancel a subscription). */
function stopAutomaticCollection(state: StripeState, customerId: string): void {
  for (const invoice of state.invoices.newestFirst()) {
    if (invoice.customer !== customerId || invoice.status !== 'open' || (invoice.auto_advance === false && invoice.next_payment_attempt === null)) continue;
    const stopped = { ...invoice, auto_advance: false, next_payment_attempt: null };
    state.invoices.set(stopped);
    const billing = state.invoiceBilling.get(invoice.id);
    if (billing) billing.dunningEndsAt = null;
    state.events.emit('invoice.updated', structuredClone(stopped), { auto_advance: invoice.auto_advance, next_payment_attempt: invoice.next_payment_attempt });
  }
}

/**
 * Ends a subscription now: status canceled and customer.subscription.deleted; the customer's
 * finalized invoices are no longer collected automatically (they stay open, no more retries).
 */
export function endSubscription(
  state: StripeState,
  subscription: StoredSubscription,
  at: number,
  reason: 'cancellation_requested' | 'payment_failed' | 'payment_disputed',
  comment: string | null = subscription.cancellation_details?.comment ?? null,
): StoredSubscription {
  const canceled: StoredSubscription = {
    ...subscription,
    status: 'canceled',
    canceled_at: subscription.canceled_at ?? at,
    ended_at: at,
    cancellation_details: { comment, feedback: subscription.cancellation_details?.feedback ?? null, feedback_option: null, reason },
  };
  state.subscriptions.set(canceled);
  stopAutomaticCollection(state, subscription.customer as string);
  state.events.emit('customer.subscription.deleted', viewSubscription(state, canceled), previousOf(state, subscription, canceled));
  return canceled;
}

/** Pauses a subscription (trial ended without a payment method, end_behavior pause). */
export function pauseSubscription(state: StripeState, subscription: StoredSubscription): StoredSubscription {
  const paused = changeSubscription(state, subscription, { status: 'paused' });
  state.events.emit('customer.subscription.paused', viewSubscription(state, paused));
  return paused;
}

/** Sets a status, emitting the update only when it changes. */
export function setStatus(state: StripeState, subscription: StoredSubscription, status: StoredSubscription['status']): StoredSubscription {
  return subscription.status === status ? subscription : changeSubscription(state, subscription, { status });
}
