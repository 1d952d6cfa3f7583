/**
 * Turns stored records into API objects: copies (callers may mutate them for expansion),
 * subscriptions with their items' current price and legacy `plan`, and expansion by id.
 */
import type { WirePlan, WirePrice, WireSubscription, WireSubscriptionItem } from './wire-types.ts';
import type { StoredSubscription, StoredSubscriptionItem, StripeState } from './stripe-state.ts';

function viewPrice(price: WirePrice): WirePrice {
  return structuredClone(price);
}

/** The legacy Plan object Stripe still embeds in subscription items, derived from the price. */
function planFromPrice(price: WirePrice): WirePlan {
  const recurring = price.recurring;
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: recurring?.interval ?? 'month',
    interval_count: recurring?.interval_count ?? 1,
    livemode: false,
    metadata: { ...price.metadata },
    meter: recurring?.meter ?? null,
    nickname: price.nickname,
    product: typeof price.product === 'string' ? price.product : price.product.id,
    tiers_mode: price.tiers_mode,
    transform_usage: price.transform_quantity ? { ...price.transform_quantity } : null,
    trial_period_days: null,
    usage_type: recurring?.usage_type ?? 'licensed',
  };
}

export function viewSubscriptionItem(state: StripeState, item: StoredSubscriptionItem): WireSubscriptionItem {
  const price = state.prices.get(item.price);
  if (!price) throw new Error(`emulator state is inconsistent: subscription item ${item.id} points at missing price ${item.price}`);
  return { ...structuredClone(item), price: viewPrice(price), plan: planFromPrice(price) };
}

export function viewSubscription(state: StripeState, subscription: StoredSubscription): WireSubscription {
  const items = subscription.items.map((item) => viewSubscriptionItem(state, item));
  return {
    ...structuredClone(subscription),
    items: { object: 'list', data: items, has_more: false, url: `/v1/subscription_items?subscription=${subscription.id}` },
  };
}

/** Any object by id, as the API shows it (for expand). */
export function viewById(state: StripeState, id: string): object | undefined {
  const customer = state.customers.get(id);
  if (customer) return structuredClone(customer);
  if (state.deletedCustomers.has(id)) return { id, object: 'customer', deleted: true };
  const price = state.prices.get(id);
  if (price) return viewPrice(price);
  const product = state.products.get(id);
  if (product) return structuredClone(product);
  const subscription = state.subscriptions.get(id);
  if (subscription) return viewSubscription(state, subscription);
  const meter = state.meters.get(id);
  if (meter) return structuredClone(meter);
  const paymentMethod = state.paymentMethods.get(id);
  if (paymentMethod) return structuredClone(paymentMethod);
  const invoice = state.invoices.get(id);
  if (invoice) return structuredClone(invoice);
  const intent = state.paymentIntents.get(id);
  if (intent) return structuredClone(intent);
  const clock = state.testClocks.get(id);
  if (clock) return structuredClone(clock);
  const checkoutObject = state.setupIntents.get(id) ?? state.checkoutSessions.get(id) ?? state.portalConfigurations.get(id);
  if (checkoutObject) return structuredClone(checkoutObject);
  return undefined;
}

