// Issue 18.2: one way to a subscription's plan for every caller, and issue 17.3: access decided
// from the subscription's own collection_method, not from the plan's configured collection.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { parsePlans } from '../../shared/plans.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import { collectionOfSubscription, planOfSubscription, selectPlan } from './plan-choice.ts';

const plans = parsePlans({
  product: { name: 'API' },
  plans: [
    { id: 'starter', name: 'Starter', default: true, price: { lookup_key: 'k_starter' } },
    { id: 'legacy', name: 'Legacy', price: { id: 'price_legacy' } },
    { id: 'enterprise', name: 'Enterprise', payment_collection: 'invoice', price: { lookup_key: 'k_enterprise' } },
    { id: 'free', name: 'Free', payment_collection: 'none', price: { lookup_key: 'k_free' } },
  ],
});

function subscription(price: { id: string; lookup_key?: string | null }, metadata: Record<string, string> = {}, collection: Stripe.Subscription['collection_method'] = 'charge_automatically') {
  return { items: { data: [{ price: { lookup_key: null, ...price } }] }, metadata, collection_method: collection } as unknown as Stripe.Subscription;
}

const noRead = async () => {
  throw new Error('no price read expected');
};

describe('planOfSubscription', () => {
  it('finds the plan by the price\'s lookup_key or id without reading Stripe', async () => {
    expect((await planOfSubscription(plans, subscription({ id: 'price_x', lookup_key: 'k_enterprise' }), noRead))?.id).toBe('enterprise');
    expect((await planOfSubscription(plans, subscription({ id: 'price_legacy' }), noRead))?.id).toBe('legacy');
  });

  it('an archived or replaced price (lookup key moved to a new price) keeps working through the subscription\'s metadata', async () => {
    const plan = await planOfSubscription(plans, subscription({ id: 'price_old' }, { plan: 'enterprise' }), async () => undefined);
    expect(plan?.id).toBe('enterprise');
  });

  it('a failed price read fails the caller (a webhook is redelivered) instead of guessing a plan', async () => {
    const failing = async () => {
      throw new ProvisionError('stripe_unavailable', 502, 'Stripe is unavailable while trying to resolve the price');
    };
    await expect(planOfSubscription(plans, subscription({ id: 'price_old' }, { plan: 'enterprise' }), failing)).rejects.toMatchObject({ code: 'stripe_unavailable' });
  });
});

describe('collectionOfSubscription', () => {
  const enterprise = plans.plans[2]!;
  const free = plans.plans[3]!;
  it('an invoice plan\'s price on a charge_automatically subscription needs a card (a portal switch is no way around it)', () => {
    expect(collectionOfSubscription({ collection_method: 'charge_automatically' }, enterprise, 'checkout')).toBe('checkout');
  });

  it('send_invoice is invoice whatever the plan (the admin\'s approval), and a free plan collects nothing', () => {
    expect(collectionOfSubscription({ collection_method: 'send_invoice' }, plans.plans[0], 'checkout')).toBe('invoice');
    expect(collectionOfSubscription({ collection_method: 'send_invoice' }, undefined, 'checkout')).toBe('invoice');
    expect(collectionOfSubscription({ collection_method: 'charge_automatically' }, free, 'checkout')).toBe('none');
  });

  it('an unknown plan follows the default, except that an "invoice" default without send_invoice needs a card', () => {
    expect(collectionOfSubscription({ collection_method: 'charge_automatically' }, undefined, 'invoice')).toBe('checkout');
    expect(collectionOfSubscription({ collection_method: 'charge_automatically' }, undefined, 'none')).toBe('none');
  });
});

describe('selectPlan', () => {
  const developer = (plan: string) => ({ id: 'd', email: 'e@example.com', status: 0, meta: JSON.stringify({ plan }) }) as never;
  it('never takes a private plan from meta.plan (the developer writes it): the default instead', () => {
    expect(selectPlan(plans, developer('enterprise')).id).toBe('starter');
    expect(selectPlan(plans, developer('free')).id).toBe('starter');
    expect(selectPlan(plans, developer('legacy')).id).toBe('legacy');
  });
});
