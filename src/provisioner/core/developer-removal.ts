/**
 * A developer deleted, revoked or rejected in Kong stops being billed as the admin chose
 * (ON_DEVELOPER_REMOVED): 'period_end' (default) lets the paid-for period run out and bills its
 * usage; 'now' cancels at once (Stripe still invoices usage already metered when asked to);
 * 'never' leaves the subscription alone. Access is refused separately (access-sync.ts); a deleted
 * developer's consumer is gone with its keys anyway.
 */
import type Stripe from 'stripe';
import { sha256Hex } from '../../shared/sha256.ts';
import { withStripeRetry } from '../stripe-calls.ts';
import { findDeveloperCustomers, findDeveloperSubscriptions, retryFor, type StripeAccess } from './stripe-lookups.ts';

export const REMOVAL_POLICIES = ['period_end', 'now', 'never'] as const;
export type RemovalPolicy = (typeof REMOVAL_POLICIES)[number];

export interface RemovalOutcome {
  subscriptionId: string | undefined;
  action: 'canceled' | 'cancel_at_period_end' | 'already_ending' | 'kept' | 'no_subscription';
}

export async function endSubscriptionOfRemovedDeveloper(
  access: StripeAccess,
  developer: { id: string; email: string },
  policy: RemovalPolicy,
): Promise<RemovalOutcome> {
  const [customer] = await findDeveloperCustomers(access, developer.id, [developer.email]);
  const subscription: Stripe.Subscription | undefined = customer ? (await findDeveloperSubscriptions(access, customer.id, developer.id)).current : undefined;
  if (!subscription) return { subscriptionId: undefined, action: 'no_subscription' };
  if (policy === 'never') return { subscriptionId: subscription.id, action: 'kept' };
  const key = (what: string) => `kpm-removal-${what}-${sha256Hex(subscription.id)}`;
  if (policy === 'now') {
    await withStripeRetry(
      () => access.stripe.subscriptions.cancel(subscription.id, { invoice_now: true }, { idempotencyKey: key('now') }),
      retryFor(access, 'cancel the subscription of a removed developer', true),
    );
    return { subscriptionId: subscription.id, action: 'canceled' };
  }
  if (subscription.cancel_at_period_end) return { subscriptionId: subscription.id, action: 'already_ending' };
  await withStripeRetry(
    () => access.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true }, { idempotencyKey: key('period-end') }),
    retryFor(access, 'end the subscription of a removed developer at period end', true),
  );
  return { subscriptionId: subscription.id, action: 'cancel_at_period_end' };
}
