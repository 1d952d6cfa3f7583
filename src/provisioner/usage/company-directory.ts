/**
 * Moesif company → who to bill: the Stripe customer, the subscription and the meter of its
 * metered price. The company id is the subscription id (MOESIF_COMPANY_ID_SOURCE=subscription,
 * the default) or the customer id (`customer`). Answers are cached: a subscription's customer
 * never changes, and a price change (plan switch) is picked up when the entry expires.
 */
import type Stripe from 'stripe';

export interface BillingTarget {
  customerId: string;
  subscriptionId: string;
  meterId: string;
  eventName: string;
}

export interface CompanyDirectory {
  /** undefined: no live metered subscription for this company (nothing to bill, reported as such). */
  resolve(companyId: string): Promise<BillingTarget | undefined>;
}

const CACHE_MS = 15 * 60_000;
const idOf = (value: string | { id: string }) => (typeof value === 'string' ? value : value.id);

export function createCompanyDirectory(stripe: Stripe, source: 'subscription' | 'customer', now: () => number = Date.now): CompanyDirectory {
  const cache = new Map<string, { target: BillingTarget | undefined; at: number }>();
  const meterNames = new Map<string, string>();

  async function eventNameOf(meterId: string): Promise<string> {
    const known = meterNames.get(meterId);
    if (known) return known;
    const meter = await stripe.billing.meters.retrieve(meterId);
    meterNames.set(meterId, meter.event_name);
    return meter.event_name;
  }

  async function targetOf(subscription: Stripe.Subscription): Promise<BillingTarget | undefined> {
    const item = subscription.items.data.find((candidate) => candidate.price.recurring?.meter);
    const meterId = item?.price.recurring?.meter;
    if (!meterId) return undefined;
    return { customerId: idOf(subscription.customer), subscriptionId: subscription.id, meterId, eventName: await eventNameOf(meterId) };
  }

  async function lookup(companyId: string): Promise<BillingTarget | undefined> {
    if (source === 'customer') {
      const list = await stripe.subscriptions.list({ customer: companyId, status: 'all', limit: 10 });
      // The live one, else the latest (a usage window may close after the subscription ended).
      const chosen = list.data.find((s) => !['canceled', 'incomplete_expired'].includes(s.status)) ?? list.data[0];
      return chosen ? targetOf(chosen) : undefined;
    }
    if (!companyId.startsWith('sub_')) return undefined;
    try {
      return await targetOf(await stripe.subscriptions.retrieve(companyId));
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  return {
    async resolve(companyId) {
      const cached = cache.get(companyId);
      if (cached && now() - cached.at < CACHE_MS) return cached.target;
      const target = await lookup(companyId);
      cache.set(companyId, { target, at: now() });
      return target;
    },
  };
}
