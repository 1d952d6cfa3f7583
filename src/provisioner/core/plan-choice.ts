/**
 * Which plan a developer is on. At first provisioning it is the plan the developer picked at
 * signup (meta.plan) or the default. Afterwards Stripe is the truth: the plan is the one whose
 * price the subscription bills, whatever meta.plan says now (a developer can edit their meta in
 * the portal; that must not change what they pay).
 */
import type Stripe from 'stripe';
import { parseDeveloperMeta, type KongDeveloper } from '../../kong/kong-types.ts';
import { defaultPlan, paymentCollectionOf, selectablePlans, type PaymentCollection, type Plan, type PlansFile } from '../../shared/plans.ts';
import { ProvisionError } from '../../shared/provision-error.ts';

export function requestedPlanId(developer: KongDeveloper): string | undefined {
  const requested = parseDeveloperMeta(developer.meta).plan;
  return typeof requested === 'string' ? requested : undefined;
}

/**
 * The plan a new subscription gets: meta.plan if developers may pick it, else the default. A
 * private plan (invoice, free) is never taken from meta.plan, which the developer writes: the admin
 * assigns it in Stripe (see the notes on plan approval).
 */
export function selectPlan(plans: PlansFile, developer: KongDeveloper): Plan {
  const requested = requestedPlanId(developer);
  const chosen = requested !== undefined ? selectablePlans(plans).find((plan) => plan.id === requested) : undefined;
  const plan = chosen ?? defaultPlan(plans);
  if (!plan)
    throw new ProvisionError(
      'plan_not_found',
      422,
      requested !== undefined ? `plan "${requested}" is not offered and there is no default plan` : 'the developer chose no plan and there is no default plan',
      { hint: `pick one of: ${selectablePlans(plans).map((p) => p.id).join(', ')}` },
    );
  return plan;
}

/**
 * The one way to find an existing subscription's plan, for every caller: the plan whose price it
 * bills (by the price's lookup_key or id, without a read; else by the prices Stripe resolves for
 * the plans file), else the plan recorded in its metadata at creation (a price stripe:setup has
 * since archived or replaced). `planForPrice` throws when Stripe cannot be read: the caller fails
 * (a webhook is redelivered) rather than deciding from a guess.
 */
export async function planOfSubscription(
  plans: PlansFile,
  subscription: Pick<Stripe.Subscription, 'items' | 'metadata'>,
  planForPrice: (priceId: string) => Promise<Plan | undefined>,
): Promise<Plan | undefined> {
  const price = subscription.items.data[0]?.price;
  if (price) {
    const direct = plans.plans.find((plan) => ('id' in plan.price ? plan.price.id === price.id : !!price.lookup_key && plan.price.lookup_key === price.lookup_key));
    const plan = direct ?? (await planForPrice(price.id));
    if (plan) return plan;
  }
  const recorded = subscription.metadata?.plan;
  return recorded ? plans.plans.find((plan) => plan.id === recorded) : undefined;
}

/**
 * How the developer of this subscription pays, decided from the subscription itself, never from
 * what the plan says it should be: Stripe emails invoices only when the subscription says
 * send_invoice (a developer who switched to an "invoice" plan's price in the customer portal still
 * has charge_automatically, and needs a card). A free plan ("none") is taken from the plan.
 */
export function collectionOfSubscription(
  subscription: Pick<Stripe.Subscription, 'collection_method'>,
  plan: Plan | undefined,
  defaultCollection: PaymentCollection,
): PaymentCollection {
  if (subscription.collection_method === 'send_invoice') return 'invoice';
  const configured = plan ? paymentCollectionOf(plan, defaultCollection) : defaultCollection;
  return configured === 'none' ? 'none' : 'checkout';
}

export function developerName(developer: KongDeveloper): string | undefined {
  const name = parseDeveloperMeta(developer.meta).full_name;
  return typeof name === 'string' && name.trim() ? name.trim().slice(0, 256) : undefined;
}
