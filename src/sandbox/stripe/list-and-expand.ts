/**
 * Stripe's list envelope with cursor pagination, and `expand[]` (ids replaced by objects,
 * `tiers` added to prices only when asked, `data.` paths inside lists).
 */
import type Stripe from 'stripe';
import { stripeErrors, type ResourceName } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';
import { viewById, viewSubscription } from './views.ts';
import { withPayments } from './payment-intents.ts';

interface PageParams {
  limit?: number | undefined;
  starting_after?: string | undefined;
  ending_before?: string | undefined;
}

/** One page of `newestFirst` (already filtered) as Stripe's list object. */
export function listPage<T extends { id: string }>(newestFirst: readonly T[], page: PageParams, url: string, resource: ResourceName): Stripe.ApiList<T> {
  const limit = page.limit ?? 10;
  let start = 0;
  let end = newestFirst.length;
  if (page.starting_after !== undefined) {
    const index = newestFirst.findIndex((item) => item.id === page.starting_after);
    if (index < 0) throw stripeErrors.missingReference(resource, page.starting_after, 'starting_after');
    start = index + 1;
  } else if (page.ending_before !== undefined) {
    const index = newestFirst.findIndex((item) => item.id === page.ending_before);
    if (index < 0) throw stripeErrors.missingReference(resource, page.ending_before, 'ending_before');
    end = index;
    start = Math.max(0, end - limit);
  }
  const data = newestFirst.slice(start, Math.min(end, start + limit));
  const hasMore = page.ending_before !== undefined ? start > 0 : start + limit < end;
  return { object: 'list', data, has_more: hasMore, url };
}

const cannotExpand = (path: string) => stripeErrors.invalid(`This property cannot be expanded (${path}).`, 'expand');

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expandAt(state: StripeState, node: unknown, segments: readonly string[], path: string): void {
  if (Array.isArray(node)) {
    node.forEach((item) => expandAt(state, item, segments, path));
    return;
  }
  const [head, ...rest] = segments;
  if (!isRecord(node) || head === undefined) throw cannotExpand(path);
  if (head === 'tiers' && node.object === 'price' && rest.length === 0) {
    const tiers = state.priceTiers.get(String(node.id));
    if (tiers) node.tiers = structuredClone(tiers);
    return;
  }
  if (head === 'payments' && node.object === 'invoice' && rest.length === 0) {
    const invoice = state.invoices.get(String(node.id));
    if (invoice) node.payments = withPayments(state, invoice).payments;
    return;
  }
  if (head === 'subscriptions' && node.object === 'customer') {
    node.subscriptions = customerSubscriptions(state, String(node.id));
    if (rest.length > 0) expandAt(state, node.subscriptions, rest, path);
    return;
  }
  if (!(head in node)) throw cannotExpand(path);
  let value = node[head];
  if (typeof value === 'string') {
    const expanded = viewById(state, value);
    if (!expanded) throw cannotExpand(path);
    node[head] = expanded;
    value = expanded;
  } else if (rest.length === 0 && value !== null && !isRecord(value)) {
    throw cannotExpand(path);
  }
  if (rest.length > 0 && value !== null) expandAt(state, value, rest, path);
}

/**
 * A customer's `subscriptions` (only present when expanded, since API version 2020-08-27): the
 * subscriptions that have not been canceled, newest first, as a list of at most 10 with
 * `has_more` (Stripe documents the field as "the customer's current subscriptions" and lists
 * like `GET /v1/subscriptions` without a status; the page size of the embedded list is not
 * documented, so the emulator takes Stripe's default list size and callers must page past it).
 */
function customerSubscriptions(state: StripeState, customerId: string): Stripe.ApiList<unknown> {
  const current = state.subscriptions.newestFirst().filter((subscription) => subscription.customer === customerId && subscription.status !== 'canceled');
  const page = listPage(current, { limit: 10 }, `/v1/customers/${customerId}/subscriptions`, 'subscription');
  return { ...page, data: page.data.map((subscription) => viewSubscription(state, subscription)) };
}

/** Applies expand paths in place (at most four levels deep, like Stripe) and returns the object. */
export function expand<T extends object>(state: StripeState, object: T, paths: readonly string[] | undefined): T {
  for (const path of paths ?? []) {
    const segments = path.split('.');
    if (segments.length > 4) throw stripeErrors.invalid(`You cannot expand more than 4 levels of a property. Property: ${path}`, 'expand');
    expandAt(state, object, segments, path);
  }
  return object;
}

type RangeFilter = number | { gt?: number | undefined; gte?: number | undefined; lt?: number | undefined; lte?: number | undefined };

/** Stripe's `created` filters: an exact unix time or gt/gte/lt/lte bounds. */
export function inRange(value: number, range: RangeFilter | undefined): boolean {
  if (range === undefined) return true;
  if (typeof range === 'number') return value === range;
  return (
    (range.gt === undefined || value > range.gt) &&
    (range.gte === undefined || value >= range.gte) &&
    (range.lt === undefined || value < range.lt) &&
    (range.lte === undefined || value <= range.lte)
  );
}
