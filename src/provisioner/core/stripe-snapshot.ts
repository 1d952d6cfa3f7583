/**
 * One bulk read of Stripe for reconcile: every customer and every subscription (`status: 'all'`),
 * 100 a page, indexed by `metadata.kong_developer_id` and by customer. Reconcile hands it to the
 * per-developer path (provisionDeveloper, access sync), which reads it instead of listing Stripe
 * per developer; the pages are paced by the same limiter as writes, so reads and writes together
 * stay under the mode's limit.
 *
 * A snapshot is stale by nature: it only ever saves a read, it never allows a write on its own.
 * A developer it does not hold, or whose customer holds no live subscription in it, is looked up
 * live (read-after-write consistent customers.list / subscriptions.list) before anything is
 * created, exactly as without a snapshot.
 *
 * Test clocks: Stripe leaves customers and subscriptions of a test clock out of customers.list and
 * subscriptions.list unless `test_clock` (or, for subscriptions, `customer`) is given, so neither
 * this snapshot nor the live lookup by email sees them. The product never makes such customers (a
 * customer cannot join a clock after creation), so only a customer made by hand on a test clock is
 * missed, and reconcile would make the developer a clock-free one. Listing every clock's members
 * would cost a read per clock on every run for a test-mode-only case, so it is not done.
 */
import type Stripe from 'stripe';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import type { StripeAccess } from './stripe-lookups.ts';

export interface StripeSnapshot {
  /** Customers tagged with this developer id, oldest first; undefined when the snapshot holds none (look up live). */
  customersOf(developerId: string): Stripe.Customer[] | undefined;
  /** All subscriptions of a customer the snapshot holds; undefined for a customer it does not hold (look up live). */
  subscriptionsOf(customerId: string): Stripe.Subscription[] | undefined;
  readonly counts: { customers: number; subscriptions: number; pages: number };
}

type Page<T> = (startingAfter: string | undefined) => Promise<Stripe.ApiList<T>>;

/** Every item of a list, each page paced by the limiter (reads count against Stripe's limit too). */
async function readAll<T extends { id: string }>(access: StripeAccess, what: string, page: Page<T>, onPage: () => void): Promise<T[]> {
  const items: T[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const list = await withStripeRetry(() => page(startingAfter), { ...access.retry, what, limiter: access.writeLimiter });
    onPage();
    items.push(...list.data);
    const last = list.data.at(-1);
    if (!list.has_more || !last) return items;
    startingAfter = last.id;
  }
}

const after = (startingAfter: string | undefined) => (startingAfter ? { starting_after: startingAfter } : {});
const oldestFirst = <T extends { created: number; id: string }>(a: T, b: T) => a.created - b.created || a.id.localeCompare(b.id);

/** Customers first, then subscriptions: a subscription made while customers were read is still seen. */
export async function readStripeSnapshot(access: StripeAccess): Promise<StripeSnapshot> {
  let pages = 0;
  const counted = () => void pages++;
  const customers = await readAll(access, 'read every customer', (s) => access.stripe.customers.list({ limit: 100, ...after(s) }), counted);
  const subscriptions = await readAll(
    access,
    'read every subscription',
    (s) => access.stripe.subscriptions.list({ status: 'all', limit: 100, ...after(s) }),
    counted,
  );
  const byDeveloper = new Map<string, Stripe.Customer[]>();
  const byCustomer = new Map<string, Stripe.Subscription[]>();
  for (const customer of customers) {
    byCustomer.set(customer.id, []);
    const developerId = customer.metadata?.kong_developer_id;
    if (!developerId) continue;
    const list = byDeveloper.get(developerId) ?? [];
    list.push(customer);
    byDeveloper.set(developerId, list);
  }
  for (const list of byDeveloper.values()) list.sort(oldestFirst);
  for (const subscription of subscriptions) {
    const customerId = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
    byCustomer.get(customerId)?.push(subscription);
  }
  return {
    customersOf: (developerId) => byDeveloper.get(developerId),
    subscriptionsOf: (customerId) => byCustomer.get(customerId),
    counts: { customers: customers.length, subscriptions: subscriptions.length, pages },
  };
}
