/**
 * /v1/subscriptions: create (customer + recurring prices; a metered-only subscription needs no
 * payment method, a licensed non-zero one does, like Stripe), retrieve, update (metadata,
 * description, cancel_at_period_end), list (customer, price, status: canceled ones hidden unless
 * asked), cancel (DELETE). /v1/subscription_items: retrieve and list by subscription.
 */
import { z } from 'zod';
import { pathParam, type ApiCall, type Endpoint } from './endpoint.ts';
import { addInterval } from './billing-periods.ts';
import { checkOwnPaymentMethod, startSubscription } from './subscription-start.ts';
import { newId } from './ids.ts';
import { expand, inRange, listPage } from './list-and-expand.ts';
import { mergeMetadata, p, paginationShape, parseParams } from './params.ts';
import { StripeApiError, stripeErrors } from './stripe-errors.ts';
import type { StoredSubscription, StoredSubscriptionItem, StripeState } from './stripe-state.ts';
import { viewSubscription, viewSubscriptionItem } from './views.ts';
import type { WirePrice } from './wire-types.ts';

const STATUSES = ['active', 'all', 'canceled', 'ended', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing', 'unpaid'] as const;

const itemSchema = p.hash({
  price: p.id().optional(),
  quantity: p.int({ min: 0 }).optional(),
  metadata: p.metadata().optional(),
  price_data: p.accepted(),
  tax_rates: p.accepted(),
  discounts: p.accepted(),
  billing_thresholds: p.accepted(),
});

const trialSettingsSchema = p.hash({ end_behavior: p.hash({ missing_payment_method: p.oneOf(['cancel', 'create_invoice', 'pause']) }) });

/** Stripe's limit on subscriptions per customer of a test clock. */
const SUBSCRIPTIONS_PER_CLOCK_CUSTOMER = 3;

const createSchema = p.hash({
  customer: p.id(),
  items: p.list(itemSchema, 20),
  metadata: p.metadata().optional(),
  description: p.string(500).optional(),
  collection_method: p.oneOf(['charge_automatically', 'send_invoice']).optional(),
  days_until_due: p.int({ min: 0 }).optional(),
  default_payment_method: p.id().optional(),
  payment_behavior: p.oneOf(['allow_incomplete', 'default_incomplete', 'error_if_incomplete', 'pending_if_incomplete']).optional(),
  off_session: p.bool().optional(),
  trial_period_days: p.int({ min: 0, max: 730 }).optional(),
  cancel_at_period_end: p.bool().optional(),
  currency: p.string(3).optional(),
  expand: p.expand(),
  add_invoice_items: p.accepted(),
  application_fee_percent: p.accepted(),
  automatic_tax: p.accepted(),
  backdate_start_date: p.accepted(),
  billing_cycle_anchor: p.accepted(),
  billing_cycle_anchor_config: p.accepted(),
  billing_mode: p.hash({ type: p.oneOf(['classic', 'flexible']), flexible: p.hash({ proration_discounts: p.oneOf(['included', 'itemized']).optional() }).optional() }).optional(),
  billing_thresholds: p.accepted(),
  cancel_at: p.accepted(),
  default_source: p.accepted(),
  default_tax_rates: p.accepted(),
  discounts: p.accepted(),
  invoice_settings: p.accepted(),
  on_behalf_of: p.accepted(),
  payment_settings: p.accepted(),
  pending_invoice_item_interval: p.accepted(),
  proration_behavior: p.accepted(),
  transfer_data: p.accepted(),
  trial_end: p.accepted(),
  trial_from_plan: p.accepted(),
  trial_settings: trialSettingsSchema.optional(),
});

const listSchema = p.hash({
  ...paginationShape,
  customer: p.id().optional(),
  price: p.id().optional(),
  status: p.oneOf(STATUSES).optional(),
  created: p.range().optional(),
  collection_method: p.oneOf(['charge_automatically', 'send_invoice']).optional(),
  current_period_end: p.accepted(),
  current_period_start: p.accepted(),
  automatic_tax: p.accepted(),
  test_clock: p.id().optional(),
});

const expandOnly = p.hash({ expand: p.expand() });
const itemListSchema = p.hash({ ...paginationShape, subscription: p.id() });

type CreateInput = z.output<typeof createSchema>;

export function requireSubscription(state: StripeState, id: string): StoredSubscription {
  const subscription = state.subscriptions.get(id);
  if (!subscription) throw stripeErrors.notFound('subscription', id);
  return subscription;
}

/** The prices of the items, checked the way Stripe checks them. */
function checkItems(state: StripeState, items: CreateInput['items']): { price: WirePrice; quantity: number | undefined; metadata: Record<string, string> }[] {
  if (items.length === 0) throw stripeErrors.parameterMissing('items');
  const seen = new Set<string>();
  const checked = items.map((item, index) => {
    const param = `items[${index}]`;
    if (item.price_data !== undefined) throw stripeErrors.invalid('The emulator does not support `price_data`; create the price first and pass `price`.', `${param}[price_data]`);
    if (item.price === undefined) throw stripeErrors.parameterMissing(`${param}[price]`);
    const price = state.prices.get(item.price);
    if (!price) throw stripeErrors.missingReference('price', item.price, `${param}[price]`);
    if (!price.active) throw stripeErrors.invalid(`The price specified is inactive. This field only accepts active prices.`, `${param}[price]`);
    if (price.type !== 'recurring' || !price.recurring)
      throw stripeErrors.invalid('The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.', `${param}[price]`);
    if (price.recurring.usage_type === 'metered' && item.quantity !== undefined)
      throw stripeErrors.invalid(`Quantity should not be specified where usage_type is \`metered\`. Remove quantity from \`${param}\`.`, `${param}[quantity]`);
    if (seen.has(price.id)) throw stripeErrors.invalid(`Cannot add multiple subscription items with the same price: ${price.id}`, `${param}[price]`);
    seen.add(price.id);
    return { price, quantity: price.recurring.usage_type === 'metered' ? undefined : (item.quantity ?? 1), metadata: mergeMetadata({}, item.metadata) };
  });
  const [first, ...rest] = checked;
  for (const other of rest) {
    if (other.price.currency !== first?.price.currency || other.price.recurring?.interval !== first.price.recurring?.interval || other.price.recurring?.interval_count !== first.price.recurring?.interval_count)
      throw stripeErrors.invalid('Currency and interval fields must match across all prices on this subscription.', 'items');
  }
  return checked;
}

/** Licensed items with a non-zero amount are charged up front; metered usage is billed later. */
function chargesUpFront(items: ReturnType<typeof checkItems>): boolean {
  return items.some(({ price, quantity }) => price.recurring?.usage_type !== 'metered' && (quantity ?? 0) > 0 && (price.billing_scheme === 'tiered' || (price.unit_amount ?? 1) > 0));
}

type Customer = NonNullable<ReturnType<StripeState['customers']['get']>>;
type CheckedItems = ReturnType<typeof checkItems>;

/** The create call's own checks: collection method and days_until_due, the payment method's owner, a test clock's subscription limit. */
function checkCreate(state: StripeState, input: CreateInput, customer: Customer): StoredSubscription['collection_method'] {
  const collectionMethod = input.collection_method ?? 'charge_automatically';
  if (collectionMethod === 'send_invoice' && input.days_until_due === undefined) throw stripeErrors.parameterMissing('days_until_due');
  if (collectionMethod !== 'send_invoice' && input.days_until_due !== undefined)
    throw stripeErrors.invalid('days_until_due can only be set when collection_method is send_invoice.', 'days_until_due');
  if (input.default_payment_method !== undefined) checkOwnPaymentMethod(state, customer.id, input.default_payment_method, 'default_payment_method');
  if (typeof customer.test_clock === 'string') {
    const live = state.subscriptions.newestFirst().filter((subscription) => subscription.customer === customer.id && subscription.status !== 'canceled').length;
    if (live >= SUBSCRIPTIONS_PER_CLOCK_CUSTOMER)
      throw stripeErrors.invalid(`A customer on a test clock can have at most ${SUBSCRIPTIONS_PER_CLOCK_CUSTOMER} subscriptions.`, 'customer', 'test_clock_subscription_limit_reached');
  }
  return collectionMethod;
}

/** Trialing or active; incomplete (default_incomplete) or refused when something is due now and there is no way to pay. */
function initialStatus(input: CreateInput, customer: Customer, items: CheckedItems, collectionMethod: StoredSubscription['collection_method'], trialEnd: number | null): StoredSubscription['status'] {
  const paymentMethod = input.default_payment_method ?? customer.invoice_settings.default_payment_method;
  const hasPaymentMethod = Boolean(paymentMethod ?? customer.default_source);
  if (collectionMethod !== 'charge_automatically' || trialEnd || hasPaymentMethod || !chargesUpFront(items)) return trialEnd ? 'trialing' : 'active';
  const behavior = input.payment_behavior ?? 'allow_incomplete';
  if (behavior === 'default_incomplete') return 'incomplete';
  throw new StripeApiError(
    400,
    'invalid_request_error',
    'This customer has no attached payment source or default payment method. Please consider adding a default payment method.',
    'resource_missing',
  );
}

function newSubscriptionItems(items: CheckedItems, id: string, now: number, periodEnd: number): StoredSubscriptionItem[] {
  return items.map(({ price, quantity, metadata }) => ({
    id: newId.subscriptionItem(),
    object: 'subscription_item',
    billing_thresholds: null,
    created: now,
    current_period_end: periodEnd,
    current_period_start: now,
    current_trial: null,
    discounts: [],
    metadata,
    price: price.id,
    ...(quantity === undefined ? {} : { quantity }),
    subscription: id,
    tax_rates: [],
  }));
}

/** The new subscription as Stripe stores it, before it starts (subscription-start.ts). */
function newSubscription(input: CreateInput, customer: Customer, created: { id: string; now: number; trialEnd: number | null; status: StoredSubscription['status']; collectionMethod: StoredSubscription['collection_method']; currency: string; items: StoredSubscriptionItem[] }): StoredSubscription {
  const { id, now, trialEnd, status, collectionMethod } = created;
  return {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: trialEnd ?? now,
    billing_cycle_anchor_config: null,
    billing_mode: billingModeOf(input.billing_mode, now),
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: input.cancel_at_period_end ?? false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: collectionMethod,
    created: now,
    currency: created.currency,
    customer: customer.id,
    customer_account: null,
    days_until_due: input.days_until_due ?? null,
    default_payment_method: input.default_payment_method ?? null,
    default_source: null,
    default_tax_rates: [],
    description: input.description ?? null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } },
    items: created.items,
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: mergeMetadata({}, input.metadata),
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: now,
    status,
    test_clock: customer.test_clock ?? null,
    transfer_data: null,
    trial_end: trialEnd,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: input.trial_settings?.end_behavior.missing_payment_method ?? 'create_invoice' } },
    trial_start: trialEnd ? now : null,
  };
}

function createSubscription({ state, params }: ApiCall) {
  const input = parseParams(createSchema, params);
  const customer = state.customers.get(input.customer);
  if (!customer) throw stripeErrors.missingReference('customer', input.customer, 'customer');
  const items = checkItems(state, input.items);
  const collectionMethod = checkCreate(state, input, customer);
  const now = state.nowFor(customer.id);
  const trialEnd = input.trial_period_days ? now + input.trial_period_days * 86400 : null;
  const status = initialStatus(input, customer, items, collectionMethod, trialEnd);
  const paymentMethod = input.default_payment_method ?? customer.invoice_settings.default_payment_method;
  const id = newId.subscription();
  const firstPrice = items[0]?.price as WirePrice;
  // During a trial the first period is the trial itself.
  const periodEnd = trialEnd ?? addInterval(now, firstPrice.recurring);
  const storedItems = newSubscriptionItems(items, id, now, periodEnd);
  const subscription = newSubscription(input, customer, { id, now, trialEnd, status, collectionMethod, currency: firstPrice.currency, items: storedItems });
  return { body: expand(state, viewSubscription(state, startSubscription(state, subscription, typeof paymentMethod === 'string' ? paymentMethod : null)), input.expand) };
}

/**
 * Subscriptions created through the API default to flexible billing mode since 2025-09-30.clover
 * (the emulator speaks 2026-10-28.endive); `classic` only when asked for.
 */
function billingModeOf(requested: CreateInput['billing_mode'], now: number): StoredSubscription['billing_mode'] {
  if (requested?.type === 'classic') return { flexible: null, type: 'classic', updated_at: now };
  return { flexible: { proration_discounts: requested?.flexible?.proration_discounts ?? 'included' }, type: 'flexible', updated_at: now };
}

function matchesStatus(status: StoredSubscription['status'], filter: (typeof STATUSES)[number] | undefined): boolean {
  if (filter === undefined) return status !== 'canceled';
  if (filter === 'all') return true;
  if (filter === 'ended') return status === 'canceled' || status === 'incomplete_expired';
  return status === filter;
}

export const subscriptionEndpoints: Endpoint[] = [
  { method: 'POST', route: '/v1/subscriptions', handle: createSubscription },
  {
    method: 'GET',
    route: '/v1/subscriptions/:id',
    handle(call) {
      const input = parseParams(expandOnly, call.params);
      return { body: expand(call.state, viewSubscription(call.state, requireSubscription(call.state, pathParam(call, 'id'))), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/subscriptions',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      if (input.customer !== undefined && !state.customers.has(input.customer)) throw stripeErrors.missingReference('customer', input.customer, 'customer');
      const matching = state.subscriptions
        .newestFirst()
        .filter(
          (subscription) =>
            matchesStatus(subscription.status, input.status) &&
            (input.customer === undefined || subscription.customer === input.customer) &&
            (input.price === undefined || subscription.items.some((item) => item.price === input.price)) &&
            (input.collection_method === undefined || subscription.collection_method === input.collection_method) &&
            // Like customers.list: without customer or test_clock, test-clock subscriptions are left out (Stripe).
            (input.test_clock !== undefined ? subscription.test_clock === input.test_clock : input.customer !== undefined || subscription.test_clock === null) &&
            inRange(subscription.created, input.created),
        );
      // Only the page is rendered (rendering every match per page made listing them all quadratic).
      const page = listPage(matching, input, '/v1/subscriptions', 'subscription');
      return { body: expand(state, { ...page, data: page.data.map((subscription) => viewSubscription(state, subscription)) }, input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/subscription_items/:id',
    handle(call) {
      const input = parseParams(expandOnly, call.params);
      const id = pathParam(call, 'id');
      const item = call.state.subscriptions
        .newestFirst()
        .flatMap((subscription) => subscription.items)
        .find((candidate) => candidate.id === id);
      if (!item) throw stripeErrors.notFound('subscription_item', id);
      return { body: expand(call.state, viewSubscriptionItem(call.state, item), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/subscription_items',
    handle({ state, params }) {
      const input = parseParams(itemListSchema, params);
      const subscription = state.subscriptions.get(input.subscription);
      if (!subscription) throw stripeErrors.missingReference('subscription', input.subscription, 'subscription');
      const items = [...subscription.items].reverse().map((item) => viewSubscriptionItem(state, item));
      return { body: expand(state, listPage(items, input, `/v1/subscription_items?subscription=${subscription.id}`, 'subscription_item'), input.expand) };
    },
  },
];
