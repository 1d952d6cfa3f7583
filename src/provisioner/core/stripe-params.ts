/**
 * The Stripe objects a developer gets, as create params. Names and emails come from Kong, the
 * price from the plans file: nothing a browser sends reaches these.
 */
import type Stripe from 'stripe';
import type { KongDeveloper } from '../../kong/kong-types.ts';
import { DEFAULT_DAYS_UNTIL_DUE, paymentCollectionOf, type PaymentCollection, type Plan } from '../../shared/plans.ts';
import { developerName } from './plan-choice.ts';

function ownerMetadata(developer: KongDeveloper, workspace: string, plan: Plan): Record<string, string> {
  return { kong_developer_id: developer.id, kong_workspace: workspace, plan: plan.id };
}

export function customerParams(developer: KongDeveloper, workspace: string, plan: Plan): Stripe.CustomerCreateParams {
  const name = developerName(developer);
  return { email: developer.email, ...(name ? { name } : {}), metadata: ownerMetadata(developer, workspace, plan) };
}

export function subscriptionParams(
  developer: KongDeveloper,
  workspace: string,
  customerId: string,
  plan: Plan,
  priceId: string,
  defaultCollection: PaymentCollection,
): Stripe.SubscriptionCreateParams {
  const collection = paymentCollectionOf(plan, defaultCollection);
  return {
    customer: customerId,
    items: [{ price: priceId }],
    metadata: ownerMetadata(developer, workspace, plan),
    // Explicit, so a change of Stripe's default (classic until 2025-09-30.clover, flexible since)
    // cannot move how our invoices are built: flexible makes no $0 first invoice for a metered-only
    // subscription, so `latest_invoice` is null until the first renewal (nothing here reads it).
    billing_mode: { type: 'flexible' },
    ...(collection === 'invoice' ? { collection_method: 'send_invoice', days_until_due: plan.days_until_due ?? DEFAULT_DAYS_UNTIL_DUE } : {}),
    ...(plan.trial_days !== undefined
      ? {
          trial_period_days: plan.trial_days,
          trial_settings: { end_behavior: { missing_payment_method: plan.trial_end_without_payment_method ?? 'create_invoice' } },
        }
      : {}),
  };
}
