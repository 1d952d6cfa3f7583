/**
 * Reads what the access decision needs from Stripe: the developer's current subscription, whether
 * Stripe has a payment method to charge, and since when money is overdue.
 */
import type Stripe from 'stripe';
import type { PaymentCollection } from '../../shared/plans.ts';
import type { BillingFacts } from './access-decision.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import { idOf, listAll, retryFor, type DeveloperSubscriptions, type StripeAccess } from './stripe-lookups.ts';

/** The payment method Stripe would charge for this subscription, in Stripe's own order. */
export function chargeablePaymentMethod(customer: Stripe.Customer | undefined, subscription: Stripe.Subscription | undefined): string | undefined {
  return idOf(subscription?.default_payment_method) ?? idOf(subscription?.default_source) ?? idOf(customer?.invoice_settings?.default_payment_method) ?? idOf(customer?.default_source);
}

/** When an open invoice became overdue: its first charge (at finalization) or its missed due date. */
function overdueSinceOf(invoice: Stripe.Invoice): number | undefined {
  if (invoice.collection_method === 'send_invoice') return invoice.due_date ?? undefined;
  return invoice.status_transitions?.finalized_at ?? invoice.created;
}

/** Open invoices of a subscription, with their payments (an includable field, at no extra read). */
async function openInvoices(access: StripeAccess, subscription: string): Promise<Stripe.Invoice[]> {
  return listAll(access, 'list open invoices', (startingAfter) =>
    access.stripe.invoices.list({ subscription, status: 'open', limit: 100, expand: ['data.payments'], ...(startingAfter ? { starting_after: startingAfter } : {}) }),
  );
}

/**
 * The hosted invoice page of an open invoice whose payment the bank held for authentication
 * (3-D Secure: its PaymentIntent is `requires_action`), where the developer confirms it. Only an
 * invoice with a payment still open costs a read (its PaymentIntent).
 */
async function paymentToConfirm(access: StripeAccess, invoices: readonly Stripe.Invoice[]): Promise<string | undefined> {
  for (const invoice of invoices) {
    const pending = invoice.payments?.data.find((payment) => payment.status === 'open' && payment.payment.type === 'payment_intent');
    const intentId = idOf(pending?.payment.payment_intent);
    if (!intentId || !invoice.hosted_invoice_url) continue;
    const intent = await withStripeRetry(() => access.stripe.paymentIntents.retrieve(intentId), retryFor(access, 'read the payment of an open invoice', false));
    if (intent.status === 'requires_action') return invoice.hosted_invoice_url;
  }
  return undefined;
}

export async function readBillingFacts(
  access: StripeAccess,
  customer: Stripe.Customer | undefined,
  subscriptions: DeveloperSubscriptions | undefined,
  paymentCollection: PaymentCollection,
): Promise<BillingFacts> {
  const subscription = subscriptions?.current;
  let overdueSince: number | undefined;
  let confirmPaymentUrl: string | undefined;
  if (subscription?.status === 'past_due') {
    const open = await openInvoices(access, subscription.id);
    const dates = open.map(overdueSinceOf).filter((at): at is number => at !== undefined);
    overdueSince = dates.length ? Math.min(...dates) : undefined;
    confirmPaymentUrl = await paymentToConfirm(access, open);
  }
  return {
    subscription,
    hasEndedSubscription: (subscriptions?.ended.length ?? 0) > 0,
    hasPaymentMethod: chargeablePaymentMethod(customer, subscription) !== undefined,
    paymentCollection,
    overdueSince,
    ...(confirmPaymentUrl ? { confirmPaymentUrl } : {}),
  };
}
