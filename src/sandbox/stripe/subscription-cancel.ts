/**
 * Cancelling a subscription now (DELETE /v1/subscriptions/{id}), as Stripe does it:
 * - `invoice_now`: a final invoice bills the metered usage not yet invoiced (current period start
 *   to now), with the `prorate` credits if asked;
 * - `prorate`: a credit for the unused time of licensed items (on the final invoice, or without
 *   one, on the customer's balance: Stripe leaves a pending proration item that the customer's
 *   next invoice picks up; the balance bills it the same way);
 * - every cancellation stops automatic collection of the customer's other finalized invoices
 *   (subscription-changes.ts endSubscription).
 *
 * Not confirmed from Stripe's docs: the final invoice's billing_reason (the emulator says
 * `subscription_update`) and whether Stripe finalizes it at once; the emulator leaves it a draft
 * for the usual hour (late usage still counts) and then charges it like any renewal invoice.
 */
import { draftInvoice, unusedTimeCredits, withTotals } from './invoice-builder.ts';
import { recordDraft } from './invoice-lifecycle.ts';
import { addToCustomerBalance } from './customer-balance.ts';
import type { StoredSubscription, StripeState } from './stripe-state.ts';
import { endSubscription } from './subscription-changes.ts';

interface CancelOptions {
  invoiceNow: boolean;
  prorate: boolean;
  comment: string | null;
}

/** The final invoice of `invoice_now`: usage since the period start, credits if prorated; a draft finalized an hour later. */
function finalInvoice(state: StripeState, subscription: StoredSubscription, at: number, prorate: boolean): string {
  const start = subscription.items[0]?.current_period_start ?? subscription.start_date;
  const draft = draftInvoice(state, subscription, { usage: { start, end: at }, advance: null, billingReason: 'subscription_update' }, at);
  const credits = prorate ? unusedTimeCredits(state, subscription, at, draft.id) : [];
  const invoice = withTotals({ ...draft, lines: { ...draft.lines, data: [...draft.lines.data, ...credits] }, automatically_finalizes_at: at + 3600 });
  recordDraft(state, invoice);
  return invoice.id;
}

export function cancelSubscriptionNow(state: StripeState, subscription: StoredSubscription, options: CancelOptions): StoredSubscription {
  const customerId = subscription.customer as string;
  const now = state.nowFor(customerId);
  const latestInvoice = options.invoiceNow ? finalInvoice(state, subscription, now, options.prorate) : subscription.latest_invoice;
  if (!options.invoiceNow && options.prorate) addToCustomerBalance(state, customerId, unusedTimeCredits(state, subscription, now, null).reduce((sum, line) => sum + line.amount, 0));
  return endSubscription(state, { ...subscription, canceled_at: now, latest_invoice: latestInvoice }, now, 'cancellation_requested', options.comment);
}
