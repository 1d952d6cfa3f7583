/**
 * Reads what the access decision needs from Stripe: the developer's current subscription, whether
 * Stripe has a payment method to charge, and since when money is overdue.
 */
import type Stripe from 'stripe';
import type { PaymentCollection } from '../../shared/plans.ts';
import type { BillingFacts } from './access-decision.ts';
import { idOf, listAll, type DeveloperSubscriptions, type StripeAccess } from './stripe-lookups.ts';

/** The payment method Stripe would charge for this subscription, in Stripe's own order. */
export function chargeablePaymentMethod(customer: Stripe.Customer | undefined, subscription: Stripe.Subscription | undefined): string | undefined {
  return idOf(subscription?.default_payment_method) ?? idOf(subscription?.default_source) ?? idOf(customer?.invoice_settings?.default_payment_method) ?? idOf(customer?.default_source);
}

/** When an open invoice became overdue: its first charge (at finalization) or its missed due date. */
export function overdueSinceOf(invoice: Stripe.Invoice): number | undefined {
  if (invoice.collection_method === 'send_invoice') return invoice.due_date ?? undefined;
  return invoice.status_transitions?.finalized_at ?? invoice.created;
}

export async function openInvoices(access: StripeAccess, subscriptionId: string): Promise<Stripe.Invoice[]> {
  return listAll(access, 'list open invoices', (startingAfter) =>
    access.stripe.invoices.list({ subscription: subscriptionId, status: 'open', limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
  );
}

export async function readBillingFacts(
  access: StripeAccess,
  customer: Stripe.Customer | undefined,
  subscriptions: DeveloperSubscriptions | undefined,
  paymentCollection: PaymentCollection,
): Promise<BillingFacts> {
  const subscription = subscriptions?.current;
  let overdueSince: number | undefined;
  if (subscription?.status === 'past_due') {
    const dates = (await openInvoices(access, subscription.id)).map(overdueSinceOf).filter((at): at is number => at !== undefined);
    overdueSince = dates.length ? Math.min(...dates) : undefined;
  }
  return {
    subscription,
    hasEndedSubscription: (subscriptions?.ended.length ?? 0) > 0,
    hasPaymentMethod: chargeablePaymentMethod(customer, subscription) !== undefined,
    paymentCollection,
    overdueSince,
  };
}
