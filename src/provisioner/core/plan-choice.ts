/**
 * Which plan a developer is on. At first provisioning it is the plan the developer picked at
 * signup (meta.plan) or the default. Afterwards Stripe is the truth: the plan is the one whose
 * price the subscription bills, whatever meta.plan says now (a developer can edit their meta in
 * the portal; that must not change what they pay).
 */
import type Stripe from 'stripe';
import { parseDeveloperMeta, type KongDeveloper } from '../../kong/kong-types.ts';
import { defaultPlan, type Plan, type PlansFile } from '../../shared/plans.ts';
import { ProvisionError } from '../errors.ts';

export function requestedPlanId(developer: KongDeveloper): string | undefined {
  const requested = parseDeveloperMeta(developer.meta).plan;
  return typeof requested === 'string' ? requested : undefined;
}

/** The plan a new subscription gets: meta.plan if offered, else the default. */
export function selectPlan(plans: PlansFile, developer: KongDeveloper): Plan {
  const requested = requestedPlanId(developer);
  const chosen = requested !== undefined ? plans.plans.find((plan) => plan.id === requested) : undefined;
  const plan = chosen ?? defaultPlan(plans);
  if (!plan)
    throw new ProvisionError(
      'plan_not_found',
      422,
      requested !== undefined ? `plan "${requested}" is not offered and there is no default plan` : 'the developer chose no plan and there is no default plan',
      { hint: `pick one of: ${plans.plans.map((p) => p.id).join(', ')}` },
    );
  return plan;
}

/** The price a subscription bills (its first item's). */
export function subscriptionPriceId(subscription: Stripe.Subscription): string | undefined {
  return subscription.items.data[0]?.price.id;
}

/**
 * The plan id of an existing subscription: the plan whose price it bills, else the plan recorded
 * in its metadata at creation (a price the plans file no longer lists).
 */
export function planIdOfSubscription(subscription: Stripe.Subscription, planForPrice: (priceId: string) => Plan | undefined): string | undefined {
  const priceId = subscriptionPriceId(subscription);
  return (priceId ? planForPrice(priceId)?.id : undefined) ?? subscription.metadata?.plan;
}

export function developerName(developer: KongDeveloper): string | undefined {
  const name = parseDeveloperMeta(developer.meta).full_name;
  return typeof name === 'string' && name.trim() ? name.trim().slice(0, 256) : undefined;
}
