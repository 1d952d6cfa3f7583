/**
 * The billing engine: given the account state and a time range, applies every billing transition
 * that falls due, in time order, moving the scope's clock to each transition's time so that the
 * objects and events carry it. Driven only by clocks moved on request (a test clock's advance, the
 * emulator's account clock), never by wall-clock timers.
 *
 * Transitions: trial_will_end (3 days before a trial ends), trial end (active with a payment
 * method or end_behavior create_invoice; else canceled or paused), period end (period advances,
 * invoice drafted for the closed period; cancel_at_period_end ends the subscription), draft
 * finalization (an hour later) with the payment attempt, payment retries, send_invoice due dates,
 * and the end of dunning (subscription unpaid or canceled per the account's settings).
 */
import { addInterval, DAY_SECONDS } from './billing-periods.ts';
import { previewCustomerBalance } from './customer-balance.ts';
import { draftInvoice, upcomingInvoice, type InvoicePlan } from './invoice-builder.ts';
import { attemptPayment, finalizeInvoice, recordDraft, setDelinquent, subscriptionOf, subscriptionPaymentMethod, voidInvoice } from './invoice-lifecycle.ts';
import { newId } from './ids.ts';
import type { StoredSubscription, StripeState } from './stripe-state.ts';
import { changeSubscription, endSubscription, pauseSubscription, setStatus } from './subscription-changes.ts';
import { viewSubscription } from './views.ts';
import type { WireInvoice } from './wire-types.ts';

/** Whose objects a run covers: one test clock's customers, or (null) the customers without a clock. */
interface BillingScope {
  clockId: string | null;
}

interface Transition {
  at: number;
  apply: (at: number) => void;
}

const TRIAL_WILL_END_SECONDS = 3 * DAY_SECONDS;
const INCOMPLETE_EXPIRY_SECONDS = 23 * 3600;

function inScope(state: StripeState, customerId: unknown, scope: BillingScope): boolean {
  if (typeof customerId !== 'string') return false;
  const customer = state.customers.get(customerId);
  return (customer?.test_clock ?? null) === scope.clockId;
}

/** Sets the scope's time (the clock's frozen time, or the account clock's skip). */
function moveScopeTo(state: StripeState, scope: BillingScope, at: number): void {
  if (scope.clockId === null) {
    state.skippedSeconds = Math.max(state.skippedSeconds, at - state.wallNow());
    return;
  }
  const clock = state.testClocks.get(scope.clockId);
  if (clock && clock.frozen_time < at) state.testClocks.set({ ...clock, frozen_time: at });
}

function priceRecurring(state: StripeState, subscription: StoredSubscription) {
  const first = subscription.items[0];
  return first ? state.prices.get(first.price)?.recurring : undefined;
}

/** Opens a new period on every item and drafts the invoice for what closed, in Stripe's event order. */
function renew(state: StripeState, subscription: StoredSubscription, at: number, plan: Omit<InvoicePlan, 'advance'>, extra: Partial<StoredSubscription> = {}): void {
  const end = addInterval(at, priceRecurring(state, subscription));
  const invoiceId = newId.invoice();
  const items = subscription.items.map((item) => ({ ...item, current_period_start: at, current_period_end: end }));
  const renewed = changeSubscription(state, subscription, { ...extra, items, latest_invoice: invoiceId });
  const invoice = draftInvoice(state, renewed, { ...plan, advance: { start: at, end } }, at, invoiceId);
  // Unpaid subscriptions keep producing invoices, but as drafts that do not advance (Stripe).
  recordDraft(state, renewed.status === 'unpaid' ? { ...invoice, auto_advance: false, automatically_finalizes_at: null } : invoice);
}

function subscriptionTransitions(state: StripeState, subscription: StoredSubscription): Transition[] {
  const transitions: Transition[] = [];
  const periodStart = subscription.items[0]?.current_period_start ?? subscription.start_date;
  const periodEnd = subscription.items[0]?.current_period_end;
  if (subscription.status === 'incomplete') {
    // Stripe expires a subscription whose first invoice stays unpaid for 23 hours.
    transitions.push({ at: subscription.created + INCOMPLETE_EXPIRY_SECONDS, apply: (at) => expireIncomplete(state, subscription.id, at) });
  } else if (subscription.status === 'trialing' && subscription.trial_end !== null) {
    const trialEnd = subscription.trial_end;
    if (!state.trialWillEndSent.has(subscription.id))
      transitions.push({
        at: Math.max(subscription.trial_start ?? trialEnd, trialEnd - TRIAL_WILL_END_SECONDS),
        apply: () => {
          state.trialWillEndSent.add(subscription.id);
          state.events.emit('customer.subscription.trial_will_end', viewOf(state, subscription.id));
        },
      });
    transitions.push({ at: trialEnd, apply: (at) => endTrial(state, subscription.id, at) });
  } else if (periodEnd !== undefined && ['active', 'past_due', 'unpaid'].includes(subscription.status)) {
    const upcomingKey = `${subscription.id}:${periodEnd}`;
    const upcomingAt = periodEnd - state.dunning.upcomingRenewalDays * DAY_SECONDS;
    // Sent only when the period is long enough and the subscription is to renew.
    if (upcomingAt > periodStart && !subscription.cancel_at_period_end && !state.upcomingSent.has(upcomingKey))
      transitions.push({
        at: upcomingAt,
        apply: () => {
          state.upcomingSent.add(upcomingKey);
          // The upcoming invoice has no id on Stripe: it does not exist yet.
          const { id: _none, ...upcoming } = previewCustomerBalance(state, upcomingInvoice(state, subscription));
          state.events.emit('invoice.upcoming', upcoming);
        },
      });
    transitions.push({
      at: periodEnd,
      apply: (at) => {
        const current = state.subscriptions.get(subscription.id);
        if (!current) return;
        if (current.cancel_at_period_end) {
          // The final invoice bills the usage of the last period, then the subscription ends.
          const invoice = draftInvoice(state, current, { usage: { start: periodStart, end: at }, advance: null, billingReason: 'subscription_cycle' }, at);
          endSubscription(state, { ...current, latest_invoice: invoice.id }, at, 'cancellation_requested');
          recordDraft(state, invoice);
          return;
        }
        renew(state, current, at, { usage: { start: periodStart, end: at }, billingReason: 'subscription_cycle' });
      },
    });
  }
  return transitions;
}

/** incomplete → incomplete_expired; its first invoice is voided. */
function expireIncomplete(state: StripeState, id: string, at: number): void {
  const subscription = state.subscriptions.get(id);
  if (subscription?.status !== 'incomplete') return;
  const first = typeof subscription.latest_invoice === 'string' ? state.invoices.get(subscription.latest_invoice) : undefined;
  changeSubscription(state, subscription, { status: 'incomplete_expired', ended_at: at });
  if (first?.status === 'open') voidInvoice(state, first, at);
}

function viewOf(state: StripeState, id: string): object {
  const subscription = state.subscriptions.get(id);
  return subscription ? viewSubscription(state, subscription) : { id };
}

/** Trial end: with a payment method (or create_invoice) the subscription starts its first paid period. */
function endTrial(state: StripeState, id: string, at: number): void {
  const subscription = state.subscriptions.get(id);
  if (!subscription || subscription.status !== 'trialing') return;
  const hasPaymentMethod = subscriptionPaymentMethod(state, subscription) !== null;
  const behavior = subscription.trial_settings?.end_behavior.missing_payment_method ?? 'create_invoice';
  const trialPeriod = { start: subscription.trial_start ?? at, end: at };
  if (!hasPaymentMethod && behavior === 'cancel') {
    endSubscription(state, subscription, at, 'cancellation_requested');
    return;
  }
  if (!hasPaymentMethod && behavior === 'pause') {
    pauseSubscription(state, subscription);
    return;
  }
  renew(state, subscription, at, { usage: trialPeriod, billingReason: 'subscription_cycle', free: 'usage' }, { status: 'active' });
}

function invoiceTransitions(state: StripeState, invoice: WireInvoice): Transition[] {
  const transitions: Transition[] = [];
  if (invoice.status === 'draft' && invoice.auto_advance && invoice.automatically_finalizes_at !== null) {
    transitions.push({ at: invoice.automatically_finalizes_at, apply: (at) => withInvoice(state, invoice.id, 'draft', (current) => finalizeInvoice(state, current, at)) });
  }
  if (invoice.status !== 'open') return transitions;
  if (invoice.collection_method === 'charge_automatically' && invoice.next_payment_attempt !== null) {
    transitions.push({ at: invoice.next_payment_attempt, apply: (at) => withInvoice(state, invoice.id, 'open', (current) => attemptPayment(state, current, at).invoice) });
  }
  const billing = state.invoiceBilling.get(invoice.id);
  if (invoice.collection_method === 'send_invoice' && invoice.due_date !== null && billing && !billing.overdueHandled) {
    transitions.push({
      at: invoice.due_date,
      apply: () => {
        billing.overdueHandled = true;
        setDelinquent(state, invoice.customer as string, true);
        const subscription = subscriptionOf(state, invoice);
        if (subscription?.status === 'active') setStatus(state, subscription, 'past_due');
      },
    });
  }
  if (billing?.dunningEndsAt != null && (invoice.next_payment_attempt === null || invoice.next_payment_attempt > billing.dunningEndsAt)) {
    transitions.push({ at: billing.dunningEndsAt, apply: (at) => endDunning(state, invoice.id, at) });
  }
  return transitions;
}

function withInvoice(state: StripeState, id: string, status: WireInvoice['status'], apply: (invoice: WireInvoice) => void): void {
  const invoice = state.invoices.get(id);
  if (invoice?.status === status) apply(invoice);
}

/** The last retry failed (or the due date passed long enough ago): unpaid or canceled per the account's settings. */
function endDunning(state: StripeState, invoiceId: string, at: number): void {
  const billing = state.invoiceBilling.get(invoiceId);
  if (billing) billing.dunningEndsAt = null;
  const invoice = state.invoices.get(invoiceId);
  if (invoice?.status !== 'open') return;
  if (invoice.next_payment_attempt !== null) state.invoices.set({ ...invoice, next_payment_attempt: null });
  const subscription = subscriptionOf(state, invoice);
  if (!subscription || (subscription.status !== 'past_due' && subscription.status !== 'active')) return;
  if (state.dunning.finalStatus === 'canceled') endSubscription(state, subscription, at, 'payment_failed');
  else setStatus(state, subscription, 'unpaid');
}

function dueTransitions(state: StripeState, scope: BillingScope): Transition[] {
  const subscriptions = state.subscriptions.newestFirst().filter((subscription) => inScope(state, subscription.customer, scope));
  const invoices = state.invoices.newestFirst().filter((invoice) => inScope(state, invoice.customer, scope));
  return [...subscriptions.flatMap((subscription) => subscriptionTransitions(state, subscription)), ...invoices.flatMap((invoice) => invoiceTransitions(state, invoice))];
}

/**
 * Runs billing for `scope` up to `until` (inclusive): repeatedly applies the earliest due
 * transition, then moves the scope's clock to `until`. Returns how many transitions ran.
 */
export function runBilling(state: StripeState, scope: BillingScope, until: number): number {
  let applied = 0;
  for (;;) {
    const next = dueTransitions(state, scope)
      .filter((transition) => transition.at <= until)
      .sort((a, b) => a.at - b.at)[0];
    if (!next) break;
    moveScopeTo(state, scope, next.at);
    next.apply(next.at);
    applied += 1;
    if (applied > 100_000) throw new Error('billing engine: too many transitions (a transition does not settle)');
  }
  moveScopeTo(state, scope, until);
  return applied;
}
