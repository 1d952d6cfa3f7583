/**
 * Reading a developer's objects back from Stripe. Customers are found by the email Kong holds
 * (customers.list by email is read-after-write consistent) and confirmed by
 * `metadata.kong_developer_id`; customers.search lags and is only for reconcile, for customers
 * old enough to be indexed. Subscriptions are all of the customer's, whatever their price.
 */
import type Stripe from 'stripe';
import { classifyStripeError, stripeErrorOf } from '../../shared/stripe-errors.ts';
import { withStripeRetry, type StripeRetryOptions } from '../stripe/stripe-calls.ts';
import type { WriteLimiter } from '../stripe/write-limiter.ts';

export interface StripeAccess {
  stripe: Stripe;
  retry?: StripeRetryOptions;
  /** Taken before every write. */
  writeLimiter?: WriteLimiter | undefined;
  /** Taken before every read when set (webhook handling shares the write budget: Stripe's limit counts both). */
  readLimiter?: WriteLimiter | undefined;
}

/** Statuses after which a subscription bills nothing more and cannot come back. */
const ENDED_STATUSES: ReadonlySet<Stripe.Subscription.Status> = new Set(['canceled', 'incomplete_expired']);

/** The id of an expandable Stripe field: the id itself, or the expanded object's id. */
export function idOf(ref: string | { id: string } | null | undefined): string | undefined {
  return typeof ref === 'string' ? ref : (ref?.id ?? undefined);
}

export function retryFor(access: StripeAccess, what: string, write: boolean) {
  return { ...access.retry, what, limiter: write ? access.writeLimiter : access.readLimiter };
}

/** Every item of a Stripe list, page by page (100 a page). */
export async function listAll<T extends { id: string }>(
  access: StripeAccess,
  what: string,
  page: (startingAfter: string | undefined) => Promise<Stripe.ApiList<T>>,
): Promise<T[]> {
  const items: T[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const list = await withStripeRetry(() => page(startingAfter), retryFor(access, what, false));
    items.push(...list.data);
    const last = list.data.at(-1);
    if (!list.has_more || !last) return items;
    startingAfter = last.id;
  }
}

const oldestFirst = <T extends { created: number; id: string }>(a: T, b: T) => a.created - b.created || a.id.localeCompare(b.id);

/** Customers tagged with this developer id under any of these emails, oldest first. */
export async function findDeveloperCustomers(access: StripeAccess, developerId: string, emails: readonly string[]): Promise<Stripe.Customer[]> {
  const found = new Map<string, Stripe.Customer>();
  for (const email of new Set(emails)) {
    const customers = await listAll(access, 'look up the customer', (startingAfter) =>
      access.stripe.customers.list({ email, limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
    );
    for (const customer of customers) if (customer.metadata?.kong_developer_id === developerId) found.set(customer.id, customer);
  }
  return [...found.values()].sort(oldestFirst);
}

/** The key of the developer's Kong meta where provisioning remembers the Stripe customer id. */
export const CUSTOMER_META_KEY = 'kpm_customer';

/** The customer id remembered in a developer's meta, if it looks like one. */
function rememberedCustomerId(meta: string | null | undefined): string | undefined {
  let remembered: unknown;
  try {
    remembered = (JSON.parse(meta ?? '{}') as Record<string, unknown> | null)?.[CUSTOMER_META_KEY];
  } catch {
    return undefined;
  }
  return typeof remembered === 'string' && /^cus_[A-Za-z0-9]{1,64}$/.test(remembered) ? remembered : undefined;
}

/**
 * The customer remembered on the developer, read back by id (read-after-write consistent, unlike
 * search) and trusted only when Stripe's own metadata names this developer and workspace: the
 * developer can edit their meta, so the id there is a hint, never a proof.
 */
export async function rememberedDeveloperCustomer(
  access: StripeAccess,
  developer: { id: string; meta?: string | null | undefined },
  workspace: string,
): Promise<Stripe.Customer | undefined> {
  const remembered = rememberedCustomerId(developer.meta);
  if (!remembered) return undefined;
  let customer: Stripe.Customer | Stripe.DeletedCustomer;
  try {
    customer = await withStripeRetry(() => access.stripe.customers.retrieve(remembered), retryFor(access, 'read the remembered customer', false));
  } catch (error) {
    // A customer id that does not exist (deleted for good, or typed in by the developer) is no hint.
    if (classifyStripeError(stripeErrorOf(error))?.notFound) return undefined;
    throw error;
  }
  if ('deleted' in customer && customer.deleted) return undefined;
  const live = customer as Stripe.Customer;
  const owner = live.metadata?.kong_developer_id;
  const ws = live.metadata?.kong_workspace;
  return owner === developer.id && (ws === undefined || ws === workspace) ? live : undefined;
}

/**
 * Customers by developer id through customers.search, for reconcile only: it finds a customer
 * whose email no longer matches Kong's (an email change nobody told us about), but its index
 * lags, so a customer made in the last hour may be missing.
 */
export async function searchDeveloperCustomers(access: StripeAccess, developerId: string): Promise<Stripe.Customer[]> {
  if (!/^[A-Za-z0-9-]+$/.test(developerId)) return [];
  const result = await withStripeRetry(
    () => access.stripe.customers.search({ query: `metadata['kong_developer_id']:'${developerId}'`, limit: 100 }),
    retryFor(access, 'search the customer by developer id', false),
  );
  return result.data.filter((customer) => customer.metadata?.kong_developer_id === developerId).sort(oldestFirst);
}

export interface DeveloperSubscriptions {
  /** The oldest subscription that has not ended (it may be past_due, unpaid or paused). */
  current: Stripe.Subscription | undefined;
  /** Other subscriptions that have not ended (should be none). */
  extra: Stripe.Subscription[];
  /** Ended ones (canceled, incomplete_expired), newest first. */
  ended: Stripe.Subscription[];
}

/** Sorts a customer's subscriptions; ones tagged for another developer are not this developer's. */
export function classifySubscriptions(subscriptions: readonly Stripe.Subscription[], developerId: string): DeveloperSubscriptions {
  const mine = subscriptions.filter((sub) => {
    const owner = sub.metadata?.kong_developer_id;
    return owner === undefined || owner === developerId;
  });
  const live = mine.filter((sub) => !ENDED_STATUSES.has(sub.status)).sort(oldestFirst);
  const ended = mine.filter((sub) => ENDED_STATUSES.has(sub.status)).sort((a, b) => oldestFirst(b, a));
  return { current: live[0], extra: live.slice(1), ended };
}

export async function findDeveloperSubscriptions(access: StripeAccess, customerId: string, developerId: string): Promise<DeveloperSubscriptions> {
  const all = await listAll(access, 'look up the subscription', (startingAfter) =>
    access.stripe.subscriptions.list({ customer: customerId, status: 'all', limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
  );
  return classifySubscriptions(all, developerId);
}
