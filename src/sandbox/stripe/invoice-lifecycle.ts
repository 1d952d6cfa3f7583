/**
 * What happens to an invoice after it is drafted, with Stripe's events: finalize (number, due
 * date, invoice.finalized, invoice.sent for send_invoice), payment attempts against the invoice's,
 * subscription's or customer's default payment method (invoice.paid + invoice.payment_succeeded,
 * or invoice.payment_failed with a retry per the dunning schedule), void, mark uncollectible,
 * and the subscription status that follows (past_due, back to active when paid).
 */
import { DAY_SECONDS } from './billing-periods.ts';
import { addToCustomerBalance, applyCustomerBalance, belowMinimumCharge } from './customer-balance.ts';
import { dueDate, refreshDraft } from './invoice-builder.ts';
import { recordCharge, type ChargeResult } from './payment-intents.ts';
import { declineError, HARD_DECLINE_CODES } from './test-cards.ts';
import type { StoredSubscription, StripeState } from './stripe-state.ts';
import { CardError, StripeApiError } from './stripe-errors.ts';
import { setStatus } from './subscription-changes.ts';
import type { WireInvoice } from './wire-types.ts';

export function subscriptionOf(state: StripeState, invoice: WireInvoice): StoredSubscription | undefined {
  const id = invoice.parent?.subscription_details?.subscription;
  return typeof id === 'string' ? state.subscriptions.get(id) : undefined;
}

/** Stores an invoice change and emits `type` (invoice.updated-style events carry no previous attributes here). */
function save(state: StripeState, invoice: WireInvoice, ...types: string[]): WireInvoice {
  state.invoices.set(invoice);
  for (const type of types) state.events.emit(type, structuredClone(invoice));
  return invoice;
}

/** Stores a new draft and emits invoice.created. */
export function recordDraft(state: StripeState, invoice: WireInvoice): WireInvoice {
  return save(state, invoice, 'invoice.created');
}

function nextNumber(state: StripeState, customerId: string): string {
  const customer = state.customers.get(customerId);
  if (!customer) return `DELETED-${String(state.invoices.size).padStart(4, '0')}`;
  const sequence = customer.next_invoice_sequence ?? 1;
  state.customers.set({ ...customer, next_invoice_sequence: sequence + 1 });
  return `${customer.invoice_prefix}-${String(sequence).padStart(4, '0')}`;
}

/** Total dunning length: the sum of the retry gaps (the last retry ends dunning). */
function dunningLength(state: StripeState): number {
  return state.dunning.retryDays.reduce((sum, days) => sum + days, 0) * DAY_SECONDS;
}

/**
 * Finalizes a draft (usage re-read first, the customer's balance applied) and, with auto_advance,
 * collects it: charges it (charge_automatically) or sends it (send_invoice). A zero invoice is
 * paid on the spot; one below the minimum charge is marked paid and carried to the balance.
 */
export function finalizeInvoice(state: StripeState, draft: WireInvoice, at: number, collect = draft.auto_advance !== false): WireInvoice {
  const refreshed = applyCustomerBalance(state, refreshDraft(state, draft));
  const subscription = subscriptionOf(state, refreshed);
  const sendInvoice = refreshed.collection_method === 'send_invoice';
  const finalized = save(
    state,
    {
      ...refreshed,
      status: 'open',
      number: nextNumber(state, refreshed.customer as string),
      automatically_finalizes_at: null,
      effective_at: at,
      due_date: sendInvoice ? dueDate(subscription, at) : null,
      hosted_invoice_url: `${state.hostedOrigin}/_hosted/invoice/${refreshed.id}`,
      status_transitions: { ...refreshed.status_transitions, finalized_at: at },
    },
    'invoice.finalized',
  );
  if (finalized.amount_due === 0) return markPaid(state, finalized, at, false);
  if (!collect) return finalized;
  if (belowMinimumCharge(finalized)) return carryToBalance(state, finalized, at);
  if (sendInvoice) {
    const dueAt = finalized.due_date ?? at;
    state.invoiceBilling.set(finalized.id, { dunningEndsAt: dueAt + dunningLength(state), overdueHandled: false });
    return save(state, finalized, 'invoice.sent');
  }
  return attemptPayment(state, finalized, at).invoice;
}

/** The payment method a charge uses: the invoice's, then the subscription's, then the customer's default. */
function paymentMethodFor(state: StripeState, invoice: WireInvoice, explicit?: string): string | null {
  if (explicit) return explicit;
  if (typeof invoice.default_payment_method === 'string') return invoice.default_payment_method;
  const subscription = subscriptionOf(state, invoice);
  if (subscription) return subscriptionPaymentMethod(state, subscription);
  const fallback = state.customers.get(invoice.customer as string)?.invoice_settings.default_payment_method;
  return typeof fallback === 'string' ? fallback : null;
}

/** The subscription's default payment method, else its customer's invoice_settings default. */
export function subscriptionPaymentMethod(state: StripeState, subscription: StoredSubscription): string | null {
  if (typeof subscription.default_payment_method === 'string') return subscription.default_payment_method;
  const fallback = state.customers.get(subscription.customer as string)?.invoice_settings.default_payment_method;
  return typeof fallback === 'string' ? fallback : null;
}

interface PaymentAttempt {
  invoice: WireInvoice;
  /** Why the charge failed (a card_error, or no payment method). */
  error?: StripeApiError;
}

/** What a charge of `methodId` does: on-session means the customer just authenticated (hosted invoice page). */
function chargeResult(state: StripeState, methodId: string, onSession: boolean): ChargeResult {
  const declineCode = state.failingPaymentMethods.get(methodId);
  if (declineCode !== undefined) return { status: 'requires_payment_method', error: declineError({ declineCode }) };
  if (state.authenticationPaymentMethods.has(methodId) && !onSession) return { status: 'requires_action' };
  return { status: 'succeeded' };
}

/**
 * One charge of an open invoice, recorded on its PaymentIntent. A decline schedules the next retry
 * while retries remain, unless it is a hard decline; no payment method means no retry (Stripe).
 * A charge the bank wants authenticated (3-D Secure) is not retried either: the customer confirms
 * it on the hosted invoice page (invoice.payment_action_required).
 */
export function attemptPayment(state: StripeState, invoice: WireInvoice, at: number, explicitPaymentMethod?: string, onSession = false): PaymentAttempt {
  const methodId = paymentMethodFor(state, invoice, explicitPaymentMethod);
  const attempted: WireInvoice = { ...invoice, attempt_count: invoice.attempt_count + 1, attempted: true };
  if (methodId === null)
    return failAttempt(state, attempted, at, false, new StripeApiError(400, 'invalid_request_error', 'The customer has no default payment method to charge.', 'invoice_no_payment_method_types'));
  const result = chargeResult(state, methodId, onSession);
  recordCharge(state, attempted, methodId, result, at);
  if (result.status === 'succeeded') return { invoice: markPaid(state, attempted, at, true) };
  if (result.status === 'requires_action') {
    const error = new CardError('Your card was declined. This transaction requires authentication.', 'authentication_required', 'authentication_required');
    return failAttempt(state, attempted, at, false, error, 'invoice.payment_action_required');
  }
  return failAttempt(state, attempted, at, !HARD_DECLINE_CODES.has(result.error.declineCode ?? ''), result.error);
}

/** A failed attempt: invoice.payment_failed (and `also`), the next retry if `retry`, delinquent and past_due. */
function failAttempt(state: StripeState, attempted: WireInvoice, at: number, retry: boolean, error: StripeApiError, also?: string): PaymentAttempt {
  const gap = state.dunning.retryDays[attempted.attempt_count - 1];
  const nextAttempt = retry && gap !== undefined ? at + gap * DAY_SECONDS : null;
  const failed = save(state, { ...attempted, next_payment_attempt: nextAttempt }, 'invoice.payment_failed', ...(also ? [also] : []));
  if (!state.invoiceBilling.has(failed.id)) state.invoiceBilling.set(failed.id, { dunningEndsAt: at + dunningLength(state), overdueHandled: true });
  setDelinquent(state, failed.customer as string, true);
  const subscription = subscriptionOf(state, failed);
  if (subscription && (subscription.status === 'active' || subscription.status === 'trialing')) setStatus(state, subscription, 'past_due');
  return { invoice: failed, error };
}

/** Marks an invoice paid; the subscription returns to active when nothing else is outstanding. */
export function markPaid(state: StripeState, invoice: WireInvoice, at: number, charged: boolean): WireInvoice {
  const paid: WireInvoice = {
    ...invoice,
    status: 'paid',
    amount_paid: invoice.amount_due,
    amount_remaining: 0,
    attempted: true,
    next_payment_attempt: null,
    status_transitions: { ...invoice.status_transitions, paid_at: at },
  };
  state.invoiceBilling.delete(invoice.id);
  // Paid out of band: Stripe sends invoice.paid but no payment_succeeded (no payment happened).
  save(state, paid, ...(charged || invoice.amount_due === 0 ? ['invoice.paid', 'invoice.payment_succeeded'] : ['invoice.paid']));
  settleSubscription(state, paid);
  return paid;
}

/**
 * Too small to charge: Stripe marks the invoice paid without a payment and adds the amount to the
 * customer's balance as a debit, which the next finalized invoice bills (invoice.paid only).
 */
function carryToBalance(state: StripeState, invoice: WireInvoice, at: number): WireInvoice {
  addToCustomerBalance(state, invoice.customer as string, invoice.amount_due);
  const carried: WireInvoice = {
    ...invoice,
    status: 'paid',
    amount_remaining: 0,
    ending_balance: (invoice.ending_balance ?? 0) + invoice.amount_due,
    next_payment_attempt: null,
    status_transitions: { ...invoice.status_transitions, paid_at: at },
  };
  state.invoiceBilling.delete(invoice.id);
  save(state, carried, 'invoice.paid');
  settleSubscription(state, carried);
  return carried;
}

/** After an invoice stops being owed (paid, voided, uncollectible): past_due/unpaid → active if nothing else is open. */
function settleSubscription(state: StripeState, invoice: WireInvoice): void {
  const customerOwes = state.invoices.newestFirst().some((other) => other.id !== invoice.id && other.customer === invoice.customer && other.status === 'open' && state.invoiceBilling.has(other.id));
  if (!customerOwes) setDelinquent(state, invoice.customer as string, false);
  const subscription = subscriptionOf(state, invoice);
  if (!subscription || (subscription.status !== 'past_due' && subscription.status !== 'unpaid')) return;
  const stillOwed = state.invoices.newestFirst().some((other) => other.id !== invoice.id && other.status === 'open' && subscriptionOf(state, other)?.id === subscription.id && state.invoiceBilling.has(other.id));
  if (!stillOwed) setStatus(state, subscription, 'active');
}

/**
 * customer.delinquent: true once an automatic charge failed or a sent invoice is past due,
 * false again when nothing is owed (with customer.updated).
 */
export function setDelinquent(state: StripeState, customerId: string, delinquent: boolean): void {
  const customer = state.customers.get(customerId);
  if (!customer || customer.delinquent === delinquent) return;
  const updated = { ...customer, delinquent };
  state.customers.set(updated);
  state.events.emit('customer.updated', structuredClone(updated), { delinquent: customer.delinquent });
}

export function voidInvoice(state: StripeState, invoice: WireInvoice, at: number): WireInvoice {
  state.invoiceBilling.delete(invoice.id);
  const voided = save(
    state,
    { ...invoice, status: 'void', amount_remaining: 0, next_payment_attempt: null, status_transitions: { ...invoice.status_transitions, voided_at: at } },
    'invoice.voided',
  );
  settleSubscription(state, voided);
  return voided;
}

export function markUncollectible(state: StripeState, invoice: WireInvoice, at: number): WireInvoice {
  state.invoiceBilling.delete(invoice.id);
  const marked = save(
    state,
    { ...invoice, status: 'uncollectible', next_payment_attempt: null, status_transitions: { ...invoice.status_transitions, marked_uncollectible_at: at } },
    'invoice.marked_uncollectible',
  );
  settleSubscription(state, marked);
  return marked;
}
