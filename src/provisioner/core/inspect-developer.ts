/**
 * Read-only view of one developer's state in Stripe (reconcile's dry run and "already whole"
 * count, doctor): what exists, what is missing, and whether the subscription ended.
 */
import type Stripe from 'stripe';
import type { KongDeveloper } from '../../kong/kong-types.ts';
import { developerStatusName } from '../../kong/kong-types.ts';
import type { Plan, PlansFile } from '../../shared/plans.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import type { MoesifSync } from '../moesif/moesif-sync.ts';
import type { PriceResolver } from './plan-prices.ts';
import type { DeveloperInspection } from './provisioner-types.ts';
import { findCustomer, type EnsureContext } from './ensure-stripe.ts';
import { selectPlan } from './plan-choice.ts';
import { classifySubscriptions, findDeveloperSubscriptions } from './stripe-lookups.ts';
import type { StripeSnapshot } from './stripe-snapshot.ts';

/** A live subscription in the snapshot is taken as is; anything else is read live (the snapshot may be stale). */
async function subscriptionsOf(ctx: EnsureContext, customerId: string, developerId: string, snapshot: StripeSnapshot | undefined) {
  const known = snapshot?.subscriptionsOf(customerId);
  const classified = known ? classifySubscriptions(known, developerId) : undefined;
  return classified?.current ? classified : findDeveloperSubscriptions(ctx, customerId, developerId);
}

interface InspectDeps {
  ctx: EnsureContext;
  plans: PlansFile;
  prices: PriceResolver;
  moesif: Pick<MoesifSync, 'isPending'>;
  isProvisionable(developer: Pick<KongDeveloper, 'status'>): boolean;
  fetchDeveloper(emailOrId: string): Promise<KongDeveloper>;
  planOf(subscription: Stripe.Subscription, fallback: Plan): Promise<string>;
}

export async function inspectDeveloperIn(deps: InspectDeps, input: string | KongDeveloper, snapshot?: StripeSnapshot): Promise<DeveloperInspection> {
  const developer = typeof input === 'string' ? await deps.fetchDeveloper(input) : input;
  const inspection: DeveloperInspection = {
    developerId: developer.id,
    status: developerStatusName(developer.status),
    provisionable: deps.isProvisionable(developer),
    plan: undefined,
    planError: undefined,
    priceId: undefined,
    customerId: undefined,
    subscriptionId: undefined,
    endedStatus: undefined,
    duplicateCustomerIds: [],
    missing: [],
    whole: false,
    moesifPending: deps.moesif.isPending(developer.id),
  };
  const [customer, ...duplicates] = await findCustomer(deps.ctx, developer, { allowSearch: true, snapshot });
  inspection.customerId = customer?.id;
  inspection.duplicateCustomerIds = duplicates.map((c) => c.id);
  const subscriptions = customer ? await subscriptionsOf(deps.ctx, customer.id, developer.id, snapshot) : undefined;
  const subscription = subscriptions?.current ?? subscriptions?.ended[0];
  try {
    const plan = selectPlan(deps.plans, developer);
    inspection.plan = subscription ? await deps.planOf(subscription, plan) : plan.id;
    inspection.priceId = subscription?.items.data[0]?.price.id ?? (await deps.prices.priceFor(plan)).id;
  } catch (error) {
    if (!(error instanceof ProvisionError) || (error.code !== 'plan_not_found' && error.code !== 'plan_price_not_found')) throw error;
    inspection.planError = error.message;
  }
  inspection.subscriptionId = subscription?.id;
  if (subscription && (!subscriptions?.current || subscription.status === 'unpaid')) inspection.endedStatus = subscription.status;
  if (!inspection.customerId) inspection.missing.push('customer');
  if (!inspection.subscriptionId) inspection.missing.push('subscription');
  inspection.whole = inspection.missing.length === 0;
  return inspection;
}
