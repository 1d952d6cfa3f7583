/**
 * POST /v1/subscriptions/{id} (metadata, description, items [{id, price}] price swaps keeping the
 * ids, default_payment_method, collection_method/days_until_due, cancel_at_period_end),
 * DELETE /v1/subscriptions/{id} (cancel now) and POST /v1/subscriptions/{id}/resume (paused ones).
 */
import { addInterval } from './billing-periods.ts';
import { pathParam, type ApiCall, type Endpoint } from './endpoint.ts';
import { draftInvoice } from './invoice-builder.ts';
import { finalizeInvoice, recordDraft } from './invoice-lifecycle.ts';
import { expand } from './list-and-expand.ts';
import { mergeMetadata, p, parseParams } from './params.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { StoredSubscription, StoredSubscriptionItem, StripeState } from './stripe-state.ts';
import { changeSubscription } from './subscription-changes.ts';
import { cancelSubscriptionNow } from './subscription-cancel.ts';
import { checkOwnPaymentMethod } from './subscription-start.ts';
import { requireSubscription } from './subscriptions.ts';
import { viewSubscription } from './views.ts';

const cancellationDetails = p.hash({ comment: p.emptyable(p.string(5000)).optional(), feedback: p.accepted() });

const updateItemSchema = p.hash({
  id: p.id().optional(),
  price: p.id().optional(),
  quantity: p.int({ min: 0 }).optional(),
  metadata: p.metadata().optional(),
  deleted: p.bool().optional(),
  clear_usage: p.accepted(),
  discounts: p.accepted(),
  tax_rates: p.accepted(),
  billing_thresholds: p.accepted(),
  price_data: p.accepted(),
});

const updateSchema = p.hash({
  metadata: p.metadata().optional(),
  description: p.emptyable(p.string(500)).optional(),
  cancel_at_period_end: p.bool().optional(),
  cancellation_details: cancellationDetails.optional(),
  items: p.list(updateItemSchema, 20).optional(),
  default_payment_method: p.emptyable(p.id()).optional(),
  collection_method: p.oneOf(['charge_automatically', 'send_invoice']).optional(),
  days_until_due: p.int({ min: 0 }).optional(),
  proration_behavior: p.accepted(),
  payment_behavior: p.accepted(),
  off_session: p.accepted(),
  expand: p.expand(),
});

const cancelSchema = p.hash({
  cancellation_details: cancellationDetails.optional(),
  invoice_now: p.bool().optional(),
  prorate: p.bool().optional(),
  expand: p.expand(),
});

const resumeSchema = p.hash({ billing_cycle_anchor: p.oneOf(['now', 'unchanged']).optional(), proration_behavior: p.accepted(), proration_date: p.accepted(), expand: p.expand() });

type ItemUpdate = NonNullable<ReturnType<typeof updateSchema.parse>['items']>[number];

/** Price swaps on existing items: same item id, new price; metered items carry no quantity. */
function swapItems(state: StripeState, subscription: StoredSubscription, updates: ItemUpdate[]): StoredSubscriptionItem[] {
  const items = subscription.items.map((item) => ({ ...item }));
  updates.forEach((update, index) => {
    const param = `items[${index}]`;
    if (update.id === undefined) throw stripeErrors.invalid('The emulator only changes existing items: pass the item id with the new price.', `${param}[id]`);
    const position = items.findIndex((item) => item.id === update.id);
    const item = items[position];
    if (!item) throw stripeErrors.invalid(`Invalid subscription item id: ${update.id} is not an item of ${subscription.id}.`, `${param}[id]`);
    if (update.deleted) throw stripeErrors.invalid('The emulator does not remove subscription items; swap the price instead.', `${param}[deleted]`);
    if (update.price_data !== undefined) throw stripeErrors.invalid('The emulator does not support `price_data`; create the price first and pass `price`.', `${param}[price_data]`);
    const price = update.price === undefined ? state.prices.get(item.price) : state.prices.get(update.price);
    if (!price) throw stripeErrors.missingReference('price', update.price ?? item.price, `${param}[price]`);
    if (!price.active) throw stripeErrors.invalid('The price specified is inactive. This field only accepts active prices.', `${param}[price]`);
    if (price.type !== 'recurring' || !price.recurring) throw stripeErrors.invalid('The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.', `${param}[price]`);
    const current = state.prices.get(item.price);
    if (price.currency !== subscription.currency) throw stripeErrors.invalid('Currency fields must match across all prices on this subscription.', `${param}[price]`);
    // Stricter than Stripe (which resets the billing cycle): the emulator keeps one interval.
    if (current?.recurring && (price.recurring.interval !== current.recurring.interval || price.recurring.interval_count !== current.recurring.interval_count))
      throw stripeErrors.invalid('The emulator does not change a subscription\'s billing interval; use a price with the same interval.', `${param}[price]`);
    const metered = price.recurring.usage_type === 'metered';
    if (metered && update.quantity !== undefined) throw stripeErrors.invalid('Quantity should not be specified where usage_type is `metered`.', `${param}[quantity]`);
    const { quantity: _dropped, ...rest } = item;
    const quantity = metered ? undefined : (update.quantity ?? item.quantity ?? 1);
    items[position] = { ...rest, price: price.id, ...(quantity === undefined ? {} : { quantity }), metadata: mergeMetadata(item.metadata, update.metadata) };
  });
  return items;
}

function update(call: ApiCall) {
  const { state } = call;
  const subscription = requireSubscription(state, pathParam(call, 'id'));
  const input = parseParams(updateSchema, call.params);
  const touchesBilling = [input.description, input.cancel_at_period_end, input.items, input.default_payment_method, input.collection_method, input.days_until_due].some((v) => v !== undefined);
  if (subscription.status === 'canceled' && touchesBilling) throw stripeErrors.invalid('A canceled subscription can only update its cancellation_details and metadata.');
  if (input.default_payment_method) checkOwnPaymentMethod(state, subscription.customer as string, input.default_payment_method, 'default_payment_method');
  const collectionMethod = input.collection_method ?? subscription.collection_method;
  if (collectionMethod === 'send_invoice' && (input.days_until_due ?? subscription.days_until_due) === null) throw stripeErrors.parameterMissing('days_until_due');
  if (collectionMethod === 'charge_automatically' && input.days_until_due !== undefined)
    throw stripeErrors.invalid('days_until_due can only be set when collection_method is send_invoice.', 'days_until_due');
  const items = input.items ? swapItems(state, subscription, input.items) : subscription.items;
  const now = state.nowFor(subscription.customer as string);
  const periodEnd = subscription.items[0]?.current_period_end ?? now;
  const patch: Partial<StoredSubscription> = {
    items,
    metadata: mergeMetadata(subscription.metadata, input.metadata),
    collection_method: collectionMethod,
    days_until_due: collectionMethod === 'send_invoice' ? (input.days_until_due ?? subscription.days_until_due) : null,
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.default_payment_method !== undefined ? { default_payment_method: input.default_payment_method } : {}),
    // Stripe records the request time in canceled_at and the period end in cancel_at.
    ...(input.cancel_at_period_end !== undefined
      ? { cancel_at_period_end: input.cancel_at_period_end, cancel_at: input.cancel_at_period_end ? periodEnd : null, canceled_at: input.cancel_at_period_end ? now : null }
      : {}),
    ...(input.cancellation_details?.comment !== undefined
      ? { cancellation_details: { ...(subscription.cancellation_details ?? { feedback: null, feedback_option: null, reason: null }), comment: input.cancellation_details.comment } }
      : {}),
  };
  const updated = changeSubscription(state, subscription, patch);
  return { body: expand(state, viewSubscription(state, updated), input.expand) };
}

export const subscriptionUpdateEndpoints: Endpoint[] = [
  { method: 'POST', route: '/v1/subscriptions/:id', handle: update },
  {
    method: 'DELETE',
    route: '/v1/subscriptions/:id',
    handle(call) {
      const { state } = call;
      const subscription = requireSubscription(state, pathParam(call, 'id'));
      const input = parseParams(cancelSchema, call.params);
      if (subscription.status === 'canceled') throw stripeErrors.invalid(`This subscription (${subscription.id}) is already canceled.`);
      const canceled = cancelSubscriptionNow(state, subscription, { invoiceNow: input.invoice_now ?? false, prorate: input.prorate ?? false, comment: input.cancellation_details?.comment ?? null });
      return { body: expand(state, viewSubscription(state, canceled), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/subscriptions/:id/resume',
    handle(call) {
      const { state } = call;
      const subscription = requireSubscription(state, pathParam(call, 'id'));
      const input = parseParams(resumeSchema, call.params);
      if (subscription.status !== 'paused') throw stripeErrors.invalid(`Only paused subscriptions can be resumed; ${subscription.id} is ${subscription.status}.`, undefined, 'subscription_not_paused');
      const now = state.nowFor(subscription.customer as string);
      const recurring = subscription.items[0] ? state.prices.get(subscription.items[0].price)?.recurring : undefined;
      const end = addInterval(now, recurring);
      const draft = draftInvoice(state, subscription, { usage: null, advance: { start: now, end }, billingReason: 'subscription_update' }, now);
      const items = subscription.items.map((item) => ({ ...item, current_period_start: now, current_period_end: end }));
      const resumed = changeSubscription(state, subscription, { status: 'active', items, billing_cycle_anchor: now, latest_invoice: draft.id });
      state.events.emit('customer.subscription.resumed', viewSubscription(state, resumed));
      recordDraft(state, draft);
      finalizeInvoice(state, draft, now);
      return { body: expand(state, viewSubscription(state, state.subscriptions.get(resumed.id) ?? resumed), input.expand) };
    },
  },
];
