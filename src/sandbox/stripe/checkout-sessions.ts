/**
 * /v1/checkout/sessions: create (modes 'setup' and 'subscription'), retrieve, list, expire. The
 * session's `url` is an emulator-hosted page on the emulator's own origin (/_hosted/checkout/{id},
 * see hosted-checkout.ts), where a person types a test card; completing it is checkout-completion.ts.
 */
import type Stripe from 'stripe';
import { z } from 'zod';
import { pathParam, type Endpoint } from './endpoint.ts';
import { newId } from './ids.ts';
import { expand, inRange, listPage } from './list-and-expand.ts';
import { mergeMetadata, p, paginationShape, parseParams } from './params.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';

/** Stripe: a session expires 24 h after creation unless `expires_at` (30 min to 24 h ahead) says otherwise. */
const DEFAULT_LIFETIME_SECONDS = 24 * 60 * 60;
const MIN_LIFETIME_SECONDS = 30 * 60;

const lineItem = p.hash({ price: p.id(), quantity: p.int({ min: 1, max: 999_999 }).optional(), adjustable_quantity: p.accepted(), tax_rates: p.accepted() });

const createSchema = p.hash({
  mode: p.oneOf(['payment', 'setup', 'subscription']),
  customer: p.id().optional(),
  customer_email: p.string(800).optional(),
  currency: p.string(3).regex(/^[a-z]{3}$/, 'Invalid currency: {value}').optional(),
  line_items: p.list(lineItem, 20).optional(),
  success_url: p.string(5000).optional(),
  cancel_url: p.string(5000).optional(),
  client_reference_id: p.string(200).optional(),
  metadata: p.metadata().optional(),
  expires_at: p.int().optional(),
  allowed_payment_method_types: p.list(p.oneOf(['card']), 10).optional(),
  setup_intent_data: p.hash({ description: p.string(1000).optional(), metadata: p.metadata().optional(), on_behalf_of: p.accepted() }).optional(),
  subscription_data: p.hash({ metadata: p.metadata().optional(), description: p.string(500).optional(), trial_period_days: p.accepted() }).optional(),
  ui_mode: p.oneOf(['hosted']).optional(),
  locale: p.accepted(),
  billing_address_collection: p.accepted(),
  customer_update: p.accepted(),
  payment_method_collection: p.accepted(),
  expand: p.expand(),
});
const listSchema = p.hash({ ...paginationShape, customer: p.id().optional(), status: p.oneOf(['open', 'complete', 'expired']).optional(), created: p.range().optional(), subscription: p.id().optional() });
const expandOnly = p.hash({ expand: p.expand() });

type CreateInput = z.output<typeof createSchema>;

function checkUrl(value: string | undefined, param: string): void {
  if (value === undefined) return;
  try {
    const url = new URL(value.replaceAll('{CHECKOUT_SESSION_ID}', 'x'));
    if (url.protocol === 'http:' || url.protocol === 'https:') return;
  } catch {
    // falls through to the error
  }
  throw stripeErrors.invalid(`Not a valid URL: ${value}`, param, 'url_invalid');
}

function checkModeParams(state: StripeState, input: CreateInput): void {
  // Modelled: setup and subscription. Payment mode (one-off charges) is not part of this product.
  if (input.mode === 'payment') throw stripeErrors.invalid("The Stripe emulator does not model Checkout in 'payment' mode; use 'setup' or 'subscription'.", 'mode');
  if (input.customer !== undefined && !state.customers.has(input.customer)) throw stripeErrors.missingReference('customer', input.customer, 'customer');
  if (input.customer !== undefined && input.customer_email !== undefined)
    throw stripeErrors.invalid('You may only specify one of these parameters: customer, customer_email.', 'customer_email');
  if (input.mode === 'setup') {
    if (input.line_items) throw stripeErrors.invalid('You cannot pass `line_items` in `setup` mode.', 'line_items');
    // With dynamic payment methods (no allowed_payment_method_types) Stripe requires the currency.
    if (!input.currency && !input.allowed_payment_method_types) throw stripeErrors.parameterMissing('currency');
    // Stricter than Stripe, which can also save a card without a customer: the emulator attaches to one.
    if (!input.customer) throw stripeErrors.invalid('The Stripe emulator models setup mode for an existing customer: pass `customer`.', 'customer');
    return;
  }
  if (!input.line_items || input.line_items.length === 0) throw stripeErrors.invalid('`line_items` is required in `subscription` mode.', 'line_items');
  input.line_items.forEach((item, index) => {
    const price = state.prices.get(item.price);
    if (!price) throw stripeErrors.missingReference('price', item.price, `line_items[${index}][price]`);
    if (!price.recurring) throw stripeErrors.invalid(`The price ${item.price} is not recurring; subscription mode needs recurring prices.`, `line_items[${index}][price]`);
    if (price.recurring.usage_type === 'metered' && item.quantity !== undefined)
      throw stripeErrors.invalid('Quantity should not be specified where usage_type is `metered`. Remove quantity from `line_items`.', `line_items[${index}][quantity]`);
    if (input.currency && price.currency !== input.currency) throw stripeErrors.invalid(`The price ${item.price} is in ${price.currency}, not ${input.currency}.`, `line_items[${index}][price]`);
  });
}

function expiresAt(state: StripeState, requested: number | undefined): number {
  const now = state.now();
  if (requested === undefined) return now + DEFAULT_LIFETIME_SECONDS;
  if (requested < now + MIN_LIFETIME_SECONDS || requested > now + DEFAULT_LIFETIME_SECONDS)
    throw stripeErrors.invalid('The `expires_at` timestamp must be between 30 minutes and 24 hours after Checkout Session creation.', 'expires_at');
  return requested;
}

function amountOf(state: StripeState, items: CreateInput['line_items']): number | null {
  if (!items) return null;
  return items.reduce((sum, item) => {
    const price = state.prices.get(item.price);
    return price?.recurring?.usage_type === 'metered' ? sum : sum + (price?.unit_amount ?? 0) * (item.quantity ?? 1);
  }, 0);
}

function newSession(state: StripeState, input: CreateInput, origin: string): Stripe.Checkout.Session {
  const id = newId.checkoutSession();
  const amount = amountOf(state, input.line_items);
  const currency = input.currency ?? (input.line_items?.[0] ? (state.prices.get(input.line_items[0].price)?.currency ?? null) : null);
  const session = {
    id,
    object: 'checkout.session',
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: input.allowed_payment_method_types ?? null,
    amount_subtotal: amount,
    amount_total: amount,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: input.cancel_url ?? null,
    client_reference_id: input.client_reference_id ?? null,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: state.now(),
    currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: input.customer ?? null,
    customer_account: null,
    customer_creation: input.mode === 'subscription' && !input.customer ? 'always' : null,
    customer_details: null,
    customer_email: input.customer_email ?? null,
    discounts: [],
    expires_at: expiresAt(state, input.expires_at),
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: mergeMetadata({}, input.metadata),
    mode: input.mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: input.mode === 'subscription' ? 'always' : null,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ['card'],
    payment_status: input.mode === 'setup' ? 'no_payment_required' : 'unpaid',
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    success_url: input.success_url ?? null,
    total_details: amount === null ? null : { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted',
    url: `${origin}/_hosted/checkout/${id}`,
    wallet_options: null,
  } satisfies Stripe.Checkout.Session;
  return session;
}

/** Expires an open session (by request or because expires_at passed) and emits checkout.session.expired. */
function expireSession(state: StripeState, session: Stripe.Checkout.Session): Stripe.Checkout.Session {
  const expired: Stripe.Checkout.Session = { ...session, status: 'expired', url: null };
  state.checkoutSessions.set(expired);
  state.events.emit('checkout.session.expired', structuredClone(expired));
  return expired;
}

/** The session as it is now: an open one past expires_at has expired (Stripe expires them on time). */
export function currentSession(state: StripeState, id: string): Stripe.Checkout.Session | undefined {
  const session = state.checkoutSessions.get(id);
  if (session && session.status === 'open' && state.now() >= session.expires_at) return expireSession(state, session);
  return session;
}

function requireSession(state: StripeState, id: string): Stripe.Checkout.Session {
  const session = currentSession(state, id);
  if (!session) throw stripeErrors.notFound('checkout.session', id);
  return session;
}

export const checkoutSessionEndpoints: Endpoint[] = [
  {
    method: 'POST',
    route: '/v1/checkout/sessions',
    handle({ state, params, origin }) {
      const input = parseParams(createSchema, params);
      checkUrl(input.success_url, 'success_url');
      checkUrl(input.cancel_url, 'cancel_url');
      checkModeParams(state, input);
      const session = newSession(state, input, origin ?? 'http://127.0.0.1');
      state.checkoutSessions.set(session);
      if (input.line_items) state.checkoutLineItems.set(session.id, input.line_items.map(({ price, quantity }) => ({ price, quantity })));
      return { body: expand(state, structuredClone(session), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/checkout/sessions/:id',
    handle(call) {
      const input = parseParams(expandOnly, call.params);
      return { body: expand(call.state, structuredClone(requireSession(call.state, pathParam(call, 'id'))), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/checkout/sessions/:id/expire',
    handle(call) {
      const input = parseParams(expandOnly, call.params);
      const session = requireSession(call.state, pathParam(call, 'id'));
      if (session.status !== 'open') throw stripeErrors.invalid('Only Checkout Sessions with a status in ["open"] can be expired.', undefined, 'checkout_session_not_open');
      return { body: expand(call.state, structuredClone(expireSession(call.state, session)), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/checkout/sessions',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      const matching = state.checkoutSessions
        .newestFirst()
        .map((session) => currentSession(state, session.id) ?? session)
        .filter(
          (s) =>
            (input.customer === undefined || s.customer === input.customer) &&
            (input.status === undefined || s.status === input.status) &&
            (input.subscription === undefined || s.subscription === input.subscription) &&
            inRange(s.created, input.created),
        );
      return { body: expand(state, listPage(structuredClone(matching), input, '/v1/checkout/sessions', 'checkout.session'), input.expand) };
    },
  },
];
