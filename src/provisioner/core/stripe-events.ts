/**
 * What a Stripe event means for a developer. Events arrive twice, late and out of order, so none
 * is trusted for state: each names a customer, and the customer's current state is read back
 * from Stripe and applied (access-sync.ts). Two events also carry work of their own:
 * - checkout.session.completed (setup mode): Stripe attaches the card but does not make it the
 *   customer's default, so invoices would still fail; we set it, then retry open invoices;
 * - customer.subscription.updated with another price (a plan switch in the customer portal):
 *   the developer's meta.plan in Kong follows, so the portal shows the plan they pay for.
 */
import type Stripe from 'stripe';
import { parseDeveloperMeta, type KongDeveloper } from '../../kong/kong-types.ts';
import { sha256Hex } from '../../shared/sha256.ts';
import { classifyStripeError, stripeErrorOf } from '../../shared/stripe-errors.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import { underKey } from '../stripe/write-limiter.ts';
import type { AccessOutcome, AccessSync } from './access-sync.ts';
import { idOf, listAll, retryFor, type StripeAccess } from './stripe-lookups.ts';

/** The events the provisioner needs (stripe:setup registers exactly these; doctor checks them). */
// Not payment_method.attached (a card is only charged once it is a default: customer.updated
// says so) nor invoice.payment_succeeded (invoice.paid covers it): each event costs Stripe reads.
export const STRIPE_WEBHOOK_EVENTS = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'customer.updated',
  'invoice.paid',
  'invoice.payment_failed',
  // A charge held for 3-D Secure; Stripe's docs list it beside invoice.payment_failed, and it is
  // not confirmed that payment_failed always comes with it, so both are taken (a burst for one
  // customer is coalesced into one read-back).
  'invoice.payment_action_required',
  'invoice.marked_uncollectible',
] as const;

interface StripeEventDeps extends StripeAccess {
  access: AccessSync;
  kong: { updateDeveloperMeta(developerId: string, meta: string): Promise<unknown> };
}

export interface EventOutcome {
  action: 'synced' | 'ignored';
  reason?: string;
  access?: AccessOutcome;
}

function customerIdOf(event: Stripe.Event): string | undefined {
  const object = event.data.object as { object?: string; id?: string; customer?: string | { id: string } | null };
  return object.object === 'customer' ? object.id : idOf(object.customer);
}

/** Makes the card a completed setup-mode Checkout collected the customer's default, once. */
async function adoptCheckoutCard(deps: StripeAccess, session: Stripe.Checkout.Session): Promise<void> {
  const intentId = idOf(session.setup_intent);
  if (session.mode !== 'setup' || session.status !== 'complete' || !intentId || typeof session.customer !== 'string') return;
  const intent = await withStripeRetry(() => deps.stripe.setupIntents.retrieve(intentId), retryFor(deps, 'read the Checkout setup intent', false));
  const paymentMethod = idOf(intent.payment_method);
  if (intent.status !== 'succeeded' || !paymentMethod) return;
  const customerId = session.customer;
  await withStripeRetry(
    () =>
      deps.stripe.customers.update(
        customerId,
        { invoice_settings: { default_payment_method: paymentMethod } },
        { idempotencyKey: `kpm-default-pm-${sha256Hex(`${session.id}\u0000${paymentMethod}`)}` },
      ),
    retryFor(deps, 'make the Checkout card the default', true),
  );
}

/** Completed setup-mode Checkouts of the last day whose card is not the default yet; answers how many were adopted. */
export async function adoptCompletedCheckouts(deps: StripeAccess, customerId: string): Promise<number> {
  const since = Math.floor(Date.now() / 1000) - 24 * 60 * 60;
  const sessions = await withStripeRetry(
    () => deps.stripe.checkout.sessions.list({ customer: customerId, status: 'complete', limit: 10 }),
    retryFor(deps, 'list completed Checkouts', false),
  );
  let adopted = 0;
  for (const session of sessions.data) {
    if (session.mode !== 'setup' || session.created < since) continue;
    await adoptCheckoutCard(deps, session);
    adopted += 1;
  }
  return adopted;
}

/**
 * A new default payment method: retry what is owed now instead of waiting days for Stripe's
 * next scheduled retry. A decline is Stripe's answer, not our failure.
 */
async function payOpenInvoices(deps: StripeAccess, customer: Stripe.Customer): Promise<number> {
  const pm = idOf(customer.invoice_settings?.default_payment_method);
  if (!pm) return 0;
  const open = await listAll(deps, 'list open invoices', (startingAfter) =>
    deps.stripe.invoices.list({ customer: customer.id, status: 'open', limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
  );
  let paid = 0;
  for (const invoice of open) {
    if (invoice.collection_method !== 'charge_automatically' || !invoice.id) continue;
    const invoiceId = invoice.id;
    try {
      await withStripeRetry(
        () => deps.stripe.invoices.pay(invoiceId, {}, { idempotencyKey: `kpm-pay-${sha256Hex(`${invoiceId}\u0000${pm}`)}` }),
        retryFor(deps, 'pay an open invoice', true),
      );
      paid += 1;
    } catch (error) {
      if (!classifyStripeError(stripeErrorOf(error))?.cardDeclined) throw error;
    }
  }
  return paid;
}

/** Kong's meta.plan follows the plan the subscription bills. */
async function followPlan(deps: StripeEventDeps, outcome: AccessOutcome, developer: KongDeveloper | undefined): Promise<void> {
  if (!developer || !outcome.plan) return;
  const meta = parseDeveloperMeta(developer.meta);
  if (meta.plan === outcome.plan.id) return;
  await deps.kong.updateDeveloperMeta(developer.id, JSON.stringify({ ...meta, plan: outcome.plan.id }));
}

export async function handleStripeEvent(
  deps: StripeEventDeps & { getDeveloper(id: string): Promise<KongDeveloper | undefined> },
  event: Stripe.Event,
): Promise<EventOutcome> {
  const customerId = customerIdOf(event);
  if (!customerId) return { action: 'ignored', reason: 'the event names no customer' };
  // The event's Stripe reads go by this customer and the event's time: a backlog of older events waits (write-limiter.ts).
  return underKey(deps.readLimiter, customerId, () => applyCustomerEvent(deps, event, customerId), event.created);
}

async function applyCustomerEvent(
  deps: StripeEventDeps & { getDeveloper(id: string): Promise<KongDeveloper | undefined> },
  event: Stripe.Event,
  customerId: string,
): Promise<EventOutcome> {
  // Every subscription starts with a $0 invoice paid at once: it settles no debt, so it cannot change access.
  const invoice = event.data.object as { object?: string; amount_paid?: number; amount_due?: number };
  if (event.type === 'invoice.paid' && invoice.object === 'invoice' && invoice.amount_due === 0)
    return { action: 'ignored', reason: 'a $0 invoice changes nothing' };
  if (event.type === 'checkout.session.completed') await adoptCheckoutCard(deps, event.data.object);
  const paymentMethodChanged =
    event.type === 'checkout.session.completed' ||
    (event.type === 'customer.updated' && event.data.previous_attributes !== undefined && 'invoice_settings' in event.data.previous_attributes);
  const access = await deps.access.syncCustomer(customerId);
  if (!access) return { action: 'ignored', reason: 'not a customer of this workspace' };
  // access.customer was read by this sync, after the Checkout card (if any) became the default.
  if (paymentMethodChanged && access.customer && access.decision.access !== 'allowed') {
    if ((await payOpenInvoices(deps, access.customer)) > 0) return { action: 'synced', access: (await deps.access.syncCustomer(customerId)) ?? access };
  }
  if (event.type.startsWith('customer.subscription.')) await followPlan(deps, access, await deps.getDeveloper(access.developerId));
  return { action: 'synced', access };
}
