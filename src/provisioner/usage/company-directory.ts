/**
 * Moesif company → who to bill: the Stripe customer, the subscription and the meter of its
 * metered price. The company id is the subscription id (MOESIF_COMPANY_ID_SOURCE=subscription,
 * the default) or the customer id (`customer`). The directory is loaded in bulk (subscriptions
 * listed 100 a page, paced by the Stripe limiter: pages, not a call per developer) and kept 15
 * minutes; a company unknown to it (a signup since) is looked up on its own.
 */
import type Stripe from 'stripe';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import type { WriteLimiter } from '../stripe/write-limiter.ts';
import { spendCapOf } from '../core/usage-limits.ts';

export interface BillingTarget {
  customerId: string;
  subscriptionId: string;
  meterId: string;
  eventName: string;
  /** The Kong developer paying (the customer's metadata.kong_developer_id), when the customer names one. */
  developerId?: string;
  /** The developer's spend cap (minor units) as the customer's metadata held it when loaded. */
  spendCap?: number;
  /** The subscription as listed (its plan; its item's current period, Stripe time). */
  subscription: Stripe.Subscription;
}

export interface CompanyDirectory {
  /** undefined: no metered subscription for this company (nothing to bill, reported as such). */
  resolve(companyId: string): Promise<BillingTarget | undefined>;
  /** Reads the company's subscription again (one Stripe read) and keeps that: a listing older than its period. */
  reload?(companyId: string): Promise<BillingTarget | undefined>;
}

const CACHE_MS = 15 * 60_000;
const idOf = (value: string | { id: string }) => (typeof value === 'string' ? value : value.id);
const ENDED = new Set(['canceled', 'incomplete_expired']);

function targetFrom(subscription: Stripe.Subscription, meterId: string, eventName: string): BillingTarget {
  // The customer comes expanded with the subscription (no read of its own): who the developer is, and their cap.
  const customer = typeof subscription.customer === 'string' || subscription.customer.deleted ? undefined : subscription.customer;
  const developerId = customer?.metadata?.kong_developer_id;
  const spendCap = spendCapOf(customer);
  return {
    customerId: idOf(subscription.customer),
    subscriptionId: subscription.id,
    meterId,
    eventName,
    subscription,
    ...(developerId ? { developerId } : {}),
    ...(spendCap !== undefined ? { spendCap } : {}),
  };
}

export function createCompanyDirectory(stripe: Stripe, source: 'subscription' | 'customer', now: () => number = Date.now, limiter?: WriteLimiter): CompanyDirectory {
  const meterNames = new Map<string, string>();
  const single = new Map<string, { target: BillingTarget | undefined; at: number }>();
  let bulk: { at: number; targets: Promise<Map<string, BillingTarget>> } | undefined;
  const call = <T>(fn: () => Promise<T>, what: string) => withStripeRetry(fn, { limiter, what });

  async function eventNameOf(meterId: string): Promise<string> {
    const known = meterNames.get(meterId);
    if (known) return known;
    const meter = await call(() => stripe.billing.meters.retrieve(meterId), 'read a billing meter');
    meterNames.set(meterId, meter.event_name);
    return meter.event_name;
  }

  async function targetOf(subscription: Stripe.Subscription): Promise<BillingTarget | undefined> {
    const meterId = subscription.items.data.find((candidate) => candidate.price.recurring?.meter)?.price.recurring?.meter;
    return meterId ? targetFrom(subscription, meterId, await eventNameOf(meterId)) : undefined;
  }

  const keyOf = (target: BillingTarget) => (source === 'subscription' ? target.subscriptionId : target.customerId);

  async function loadAll(): Promise<Map<string, BillingTarget>> {
    const targets = new Map<string, BillingTarget>();
    let startingAfter: string | undefined;
    for (;;) {
      const page = await call(() => stripe.subscriptions.list({ limit: 100, status: 'all', expand: ['data.customer'], ...(startingAfter ? { starting_after: startingAfter } : {}) }), 'list subscriptions');
      for (const subscription of page.data) {
        const target = ENDED.has(subscription.status) ? undefined : await targetOf(subscription);
        // A live subscription wins over an ended one of the same customer.
        if (target && !targets.has(keyOf(target))) targets.set(keyOf(target), target);
      }
      if (!page.has_more || page.data.length === 0) return targets;
      startingAfter = page.data[page.data.length - 1]?.id;
    }
  }

  async function lookup(companyId: string): Promise<BillingTarget | undefined> {
    if (source === 'customer') {
      const list = await call(() => stripe.subscriptions.list({ customer: companyId, status: 'all', limit: 10, expand: ['data.customer'] }), 'list a customer’s subscriptions');
      const chosen = list.data.find((s) => !ENDED.has(s.status)) ?? list.data[0];
      return chosen ? targetOf(chosen) : undefined;
    }
    if (!companyId.startsWith('sub_')) return undefined;
    try {
      return await targetOf(await call(() => stripe.subscriptions.retrieve(companyId, { expand: ['customer'] }), 'read a subscription'));
    } catch (error) {
      const status = (error as { statusCode?: number; cause?: { statusCode?: number } }).cause?.statusCode ?? (error as { statusCode?: number }).statusCode;
      if (status === 404) return undefined;
      throw error;
    }
  }

  return {
    async resolve(companyId) {
      if (!bulk || now() - bulk.at >= CACHE_MS) {
        const targets = loadAll();
        bulk = { at: now(), targets };
        targets.catch(() => (bulk = undefined));
      }
      const known = (await bulk.targets).get(companyId);
      if (known) return known;
      const cached = single.get(companyId);
      if (cached && now() - cached.at < CACHE_MS) return cached.target;
      const target = await lookup(companyId);
      single.set(companyId, { target, at: now() });
      return target;
    },
    async reload(companyId) {
      const target = await lookup(companyId);
      (await bulk?.targets.catch(() => undefined))?.delete(companyId);
      single.set(companyId, { target, at: now() });
      return target;
    },
  };
}
