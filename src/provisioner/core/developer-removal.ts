/**
 * A developer deleted, revoked or rejected in Kong stops being billed as the admin chose
 * (ON_DEVELOPER_REMOVED): 'period_end' (default) lets the paid-for period run out and bills its
 * usage; 'now' cancels at once (Stripe still invoices usage already metered when asked to);
 * 'never' leaves the subscription alone. Access is refused separately (access-sync.ts); a deleted
 * developer's consumer is gone with its keys anyway.
 *
 * Only this workspace's customers are touched: Kong's event hooks are global, and two provisioners
 * sharing one Stripe account must not end each other's subscriptions. A period-end cancellation
 * made here is marked on the subscription, so a re-approval can lift it (and only it: a
 * cancellation the developer chose in the customer portal carries no mark).
 */
import type Stripe from 'stripe';
import { sha256Hex } from '../../shared/sha256.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import { findDeveloperCustomers, findDeveloperSubscriptions, rememberedDeveloperCustomer, retryFor, type StripeAccess } from './stripe-lookups.ts';

export const REMOVAL_POLICIES = ['period_end', 'now', 'never'] as const;
export type RemovalPolicy = (typeof REMOVAL_POLICIES)[number];

/** Subscription metadata: when a removal set cancel_at_period_end (unix seconds), and when a re-approval lifted it. */
const REMOVED_MARK = 'kpm_removed_at';
const RESTORED_MARK = 'kpm_restored_at';

export interface RemovalOutcome {
  subscriptionId: string | undefined;
  action: 'canceled' | 'cancel_at_period_end' | 'already_ending' | 'kept' | 'no_subscription' | 'not_removed';
}

interface RemovedDeveloper {
  id: string;
  email: string;
  /** The developer's meta as Kong last showed it (the remembered customer id), when known. */
  meta?: string | null;
}

async function currentSubscriptionOf(access: StripeAccess, developer: RemovedDeveloper, workspace: string): Promise<Stripe.Subscription | undefined> {
  const remembered = await rememberedDeveloperCustomer(access, { id: developer.id, meta: developer.meta }, workspace);
  const candidates = remembered ? [remembered] : developer.email ? await findDeveloperCustomers(access, developer.id, [developer.email]) : [];
  // Another workspace's customer for the same developer id is not ours to end.
  const customer = candidates.find((c) => (c.metadata?.kong_workspace ?? workspace) === workspace);
  return customer ? (await findDeveloperSubscriptions(access, customer.id, developer.id)).current : undefined;
}

export async function endSubscriptionOfRemovedDeveloper(
  access: StripeAccess,
  developer: RemovedDeveloper,
  policy: RemovalPolicy,
  workspace: string,
  now: () => number = Date.now,
): Promise<RemovalOutcome> {
  const subscription = await currentSubscriptionOf(access, developer, workspace);
  if (!subscription) return { subscriptionId: undefined, action: 'no_subscription' };
  if (policy === 'never') return { subscriptionId: subscription.id, action: 'kept' };
  const key = (what: string) => `kpm-removal-${what}-${sha256Hex(`${subscription.id}\u0000${subscription.metadata?.[RESTORED_MARK] ?? ''}`)}`;
  if (policy === 'now') {
    await withStripeRetry(
      () => access.stripe.subscriptions.cancel(subscription.id, { invoice_now: true }, { idempotencyKey: key('now') }),
      retryFor(access, 'cancel the subscription of a removed developer', true),
    );
    return { subscriptionId: subscription.id, action: 'canceled' };
  }
  if (subscription.cancel_at_period_end) return { subscriptionId: subscription.id, action: 'already_ending' };
  await withStripeRetry(
    () =>
      access.stripe.subscriptions.update(
        subscription.id,
        { cancel_at_period_end: true, metadata: { [REMOVED_MARK]: String(Math.floor(now() / 1000)) } },
        { idempotencyKey: key('period-end') },
      ),
    retryFor(access, 'end the subscription of a removed developer at period end', true),
  );
  return { subscriptionId: subscription.id, action: 'cancel_at_period_end' };
}

/**
 * A developer approved again: a period-end cancellation a removal made is lifted (else "ended
 * stays ended" would keep a paying developer out at period end). Answers the subscription as it
 * is now.
 */
export async function liftRemovalCancellation(access: StripeAccess, subscription: Stripe.Subscription, now: () => number = Date.now): Promise<Stripe.Subscription> {
  const removedAt = subscription.metadata?.[REMOVED_MARK];
  if (!subscription.cancel_at_period_end || !removedAt) return subscription;
  return withStripeRetry(
    () =>
      access.stripe.subscriptions.update(
        subscription.id,
        { cancel_at_period_end: false, metadata: { [REMOVED_MARK]: '', [RESTORED_MARK]: String(Math.floor(now() / 1000)) } },
        { idempotencyKey: `kpm-removal-lifted-${sha256Hex(`${subscription.id}\u0000${removedAt}`)}` },
      ),
    retryFor(access, 'lift the removal cancellation of a re-approved developer', true),
  );
}
