/**
 * The two Stripe writes of provisioning, each create-or-find:
 * - the customer, found by the emails Kong has known for the developer (an email change updates
 *   the same customer, never makes a second);
 * - the subscription: the developer's current one whatever its price; none ever -> create; only
 *   ended ones -> nothing, unless an explicit resubscribe asks (an ended subscription is a debt
 *   or a choice, and re-creating it on every reconcile run would wipe the debt).
 */
import type Stripe from 'stripe';
import type { KongDeveloper } from '../../kong/kong-types.ts';
import type { PaymentCollection, Plan } from '../../shared/plans.ts';
import { sha256Hex } from '../../shared/sha256.ts';
import { idempotencyKey, stableIdempotencyKey } from '../stripe/idempotency.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import { createOrFind } from './create-or-find.ts';
import { customerParams, subscriptionParams } from './stripe-params.ts';
import { classifySubscriptions, findDeveloperCustomers, findDeveloperSubscriptions, rememberedDeveloperCustomer, retryFor, searchDeveloperCustomers, type StripeAccess } from './stripe-lookups.ts';
import type { StripeSnapshot } from './stripe-snapshot.ts';

export interface EnsureContext extends StripeAccess {
  workspace: string;
  defaultCollection: PaymentCollection;
}

interface CustomerOptions {
  /** With stable keys a create of an existing customer replays it, so the lookup can be skipped. */
  stable: boolean;
  lookupFirst: boolean;
  /** Emails the developer had before (an email change seen by the event hook). */
  previousEmails?: readonly string[];
  /** Reconcile only: fall back on customers.search by developer id (it lags on new customers). */
  allowSearch?: boolean;
  /** Runs before a customer is created (throws to create nothing, e.g. the plan has no price). */
  beforeCreate?: () => void;
  /** Reconcile's bulk read: a customer it holds needs no lookup; one it lacks is still looked up live. */
  snapshot?: StripeSnapshot | undefined;
}

interface EnsuredCustomer {
  customer: Stripe.Customer;
  created: boolean;
  duplicates: Stripe.Customer[];
  emailUpdated: boolean;
}

/**
 * The developer's customers, found by developer id: the snapshot's index, the customer id
 * remembered on the developer (checked against Stripe's metadata), then the emails Kong has known
 * for them, confirmed by metadata.kong_developer_id. Never the email alone.
 */
export async function findCustomer(ctx: Pick<EnsureContext, 'stripe' | 'retry' | 'readLimiter' | 'writeLimiter' | 'workspace'>, developer: KongDeveloper, options: Pick<CustomerOptions, 'previousEmails' | 'allowSearch' | 'snapshot'>) {
  const known = options.snapshot?.customersOf(developer.id);
  if (known?.length) return known;
  // An email change leaves the customer on an email Kong no longer shows: its id still finds it.
  const remembered = await rememberedDeveloperCustomer(ctx, developer, ctx.workspace);
  if (remembered) return [remembered];
  // The snapshot indexes every customer by developer id, which is what search would find (and search lags).
  if (options.snapshot) return findDeveloperCustomers(ctx, developer.id, [developer.email, ...(options.previousEmails ?? [])]);
  let found = await findDeveloperCustomers(ctx, developer.id, [developer.email, ...(options.previousEmails ?? [])]);
  if (!found.length && options.allowSearch) found = await searchDeveloperCustomers(ctx, developer.id);
  return found;
}

/** Kong's email is the truth: a customer still on an old email gets the new one. */
async function followEmail(ctx: EnsureContext, customer: Stripe.Customer, developer: KongDeveloper): Promise<{ customer: Stripe.Customer; updated: boolean }> {
  if (customer.email === developer.email) return { customer, updated: false };
  const key = `kpm-customer-email-${sha256Hex(`${ctx.workspace}\u0000${developer.id}\u0000${customer.id}\u0000${developer.email}`)}`;
  const updated = await withStripeRetry(
    () => ctx.stripe.customers.update(customer.id, { email: developer.email }, { idempotencyKey: key }),
    retryFor(ctx, 'update the customer email', true),
  );
  return { customer: updated, updated: true };
}

export async function ensureCustomer(ctx: EnsureContext, developer: KongDeveloper, plan: Plan, options: CustomerOptions): Promise<EnsuredCustomer> {
  if (options.lookupFirst) {
    const [existing, ...duplicates] = await findCustomer(ctx, developer, options);
    if (existing) {
      const { customer, updated } = await followEmail(ctx, existing, developer);
      return { customer, created: false, duplicates, emailUpdated: updated };
    }
  }
  options.beforeCreate?.();
  const params = customerParams(developer, ctx.workspace, plan);
  const key = options.stable
    ? stableIdempotencyKey({ workspace: ctx.workspace, developerId: developer.id, step: 'customer' })
    : idempotencyKey({ workspace: ctx.workspace, developerId: developer.id, step: 'customer', params });
  const { object, created } = await createOrFind(
    ctx,
    'create the customer',
    key,
    (idempotencyKey) => ctx.stripe.customers.create(params, { idempotencyKey }),
    // Stripe refused the key (used with other params: the developer's email changed since the
    // first create): a customer exists. Found by developer id; search is the last resort here only.
    async () => (await findCustomer(ctx, developer, { previousEmails: options.previousEmails, allowSearch: true }))[0],
  );
  if (created) return { customer: object, created, duplicates: [], emailUpdated: false };
  // A replayed or found customer may still carry an earlier email: Kong's is the truth.
  const { customer, updated } = await followEmail(ctx, object, developer);
  return { customer, created, duplicates: [], emailUpdated: updated };
}

type EnsuredSubscription =
  | { kind: 'current'; subscription: Stripe.Subscription; created: boolean }
  /** Every subscription of the developer ended; nothing was created. */
  | { kind: 'ended'; subscription: Stripe.Subscription };

interface SubscriptionOptions {
  stable: boolean;
  lookupFirst: boolean;
  /** Create a new subscription even though earlier ones ended (the explicit path only). */
  resubscribe?: boolean;
  /** Reconcile's bulk read: a live subscription it holds is used; otherwise the customer's are listed live. */
  snapshot?: StripeSnapshot | undefined;
}

export async function ensureSubscription(
  ctx: EnsureContext,
  developer: KongDeveloper,
  customerId: string,
  newPlan: () => Promise<{ plan: Plan; price: Stripe.Price }>,
  options: SubscriptionOptions,
): Promise<EnsuredSubscription> {
  let replaces: string | undefined;
  if (options.lookupFirst && !options.resubscribe && options.snapshot) {
    const known = options.snapshot.subscriptionsOf(customerId);
    const current = known ? classifySubscriptions(known, developer.id).current : undefined;
    // Only a live subscription is taken from the snapshot: "none" or "ended" may be stale, so they are read again.
    if (current) return { kind: 'current', subscription: current, created: false };
  }
  if (options.lookupFirst || options.resubscribe) {
    const found = await findDeveloperSubscriptions(ctx, customerId, developer.id);
    if (found.current) return { kind: 'current', subscription: found.current, created: false };
    const lastEnded = found.ended[0];
    if (lastEnded && !options.resubscribe) return { kind: 'ended', subscription: lastEnded };
    replaces = lastEnded?.id;
  }
  const { plan, price } = await newPlan();
  const params = subscriptionParams(developer, ctx.workspace, customerId, plan, price.id, ctx.defaultCollection);
  const key =
    options.stable || replaces
      ? stableIdempotencyKey({ workspace: ctx.workspace, developerId: developer.id, step: 'subscription', ...(replaces ? { replaces } : {}) })
      : idempotencyKey({ workspace: ctx.workspace, developerId: developer.id, step: 'subscription', params });
  const { object, created } = await createOrFind(
    ctx,
    'create the subscription',
    key,
    (idempotencyKey) => ctx.stripe.subscriptions.create(params, { idempotencyKey }),
    async () => (await findDeveloperSubscriptions(ctx, customerId, developer.id)).current,
  );
  return { kind: 'current', subscription: object, created };
}
