/**
 * /v1/billing_portal/configurations (create, retrieve, list, update) and
 * /v1/billing_portal/sessions (create). Session and login-page URLs point at emulator-hosted pages
 * on the emulator's own origin (hosted-portal.ts). As on Stripe, configurations created through
 * the API are not the default one, and a session without `configuration` needs a default
 * configuration (on Stripe, the one saved in the Dashboard).
 */
import type Stripe from 'stripe';
import { z } from 'zod';
import { pathParam, type Endpoint } from './endpoint.ts';
import { newId } from './ids.ts';
import { expand, listPage } from './list-and-expand.ts';
import { mergeMetadata, p, paginationShape, parseParams } from './params.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';

const url = () => p.string(5000).refine((v) => /^https?:\/\/[^\s]+$/.test(v), 'Not a valid URL: {value}');
const proration = () => p.oneOf(['always_invoice', 'create_prorations', 'none']);

const featuresSchema = p.hash({
  customer_update: p.hash({ enabled: p.bool(), allowed_updates: p.emptyable(p.list(p.oneOf(['address', 'email', 'name', 'phone', 'shipping', 'tax_id']))).optional() }).optional(),
  invoice_history: p.hash({ enabled: p.bool() }).optional(),
  payment_method_update: p.hash({ enabled: p.bool(), payment_method_configuration: p.accepted() }).optional(),
  subscription_cancel: p
    .hash({ enabled: p.bool(), mode: p.oneOf(['at_period_end', 'immediately']).optional(), proration_behavior: proration().optional(), cancellation_reason: p.accepted() })
    .optional(),
  subscription_update: p
    .hash({
      enabled: p.bool(),
      default_allowed_updates: p.emptyable(p.list(p.oneOf(['price', 'promotion_code', 'quantity']))).optional(),
      products: p.emptyable(p.list(p.hash({ product: p.id(), prices: p.list(p.id(), 10), adjustable_quantity: p.accepted() }), 10)).optional(),
      proration_behavior: proration().optional(),
      billing_cycle_anchor: p.accepted(),
      schedule_at_period_end: p.accepted(),
      trial_update_behavior: p.accepted(),
    })
    .optional(),
  subscription_pause: p.accepted(),
});

const shared = {
  business_profile: p.hash({ headline: p.emptyable(p.string(60)).optional(), privacy_policy_url: url().optional(), terms_of_service_url: url().optional() }).optional(),
  default_return_url: p.emptyable(url()).optional(),
  login_page: p.hash({ enabled: p.bool() }).optional(),
  metadata: p.metadata().optional(),
  name: p.emptyable(p.string(256)).optional(),
  expand: p.expand(),
};
const createSchema = p.hash({ ...shared, features: featuresSchema });
const updateSchema = p.hash({ ...shared, features: featuresSchema.optional(), active: p.bool().optional() });
const listSchema = p.hash({ ...paginationShape, active: p.bool().optional(), is_default: p.bool().optional() });
const expandOnly = p.hash({ expand: p.expand() });
const sessionSchema = p.hash({
  customer: p.id(),
  return_url: url().optional(),
  configuration: p.id().optional(),
  locale: p.accepted(),
  on_behalf_of: p.accepted(),
  flow_data: p.accepted(),
  expand: p.expand(),
});

type Features = z.output<typeof featuresSchema>;
type Configuration = Stripe.BillingPortal.Configuration;

function checkProducts(state: StripeState, products: { product: string; prices: string[] }[]): void {
  products.forEach((entry, i) => {
    if (!state.products.has(entry.product)) throw stripeErrors.missingReference('product', entry.product, `features[subscription_update][products][${i}][product]`);
    entry.prices.forEach((priceId, j) => {
      const price = state.prices.get(priceId);
      const param = `features[subscription_update][products][${i}][prices][${j}]`;
      if (!price) throw stripeErrors.missingReference('price', priceId, param);
      const owner = typeof price.product === 'string' ? price.product : price.product.id;
      if (owner !== entry.product) throw stripeErrors.invalid(`The price ${priceId} does not belong to the product ${entry.product}.`, param);
      if (!price.recurring) throw stripeErrors.invalid(`The price ${priceId} is not recurring.`, param);
    });
  });
}

function applyFeatures(state: StripeState, current: Configuration['features'], input: Features): Configuration['features'] {
  const next = structuredClone(current);
  if (input.customer_update) next.customer_update = { enabled: input.customer_update.enabled, allowed_updates: input.customer_update.allowed_updates ?? next.customer_update.allowed_updates };
  if (input.invoice_history) next.invoice_history = { enabled: input.invoice_history.enabled };
  if (input.payment_method_update) next.payment_method_update = { enabled: input.payment_method_update.enabled, payment_method_configuration: null };
  if (input.subscription_cancel) {
    const { enabled, mode, proration_behavior } = input.subscription_cancel;
    next.subscription_cancel = { ...next.subscription_cancel, enabled, mode: mode ?? next.subscription_cancel.mode, proration_behavior: proration_behavior ?? next.subscription_cancel.proration_behavior };
  }
  if (input.subscription_update) {
    const update = input.subscription_update;
    const products = update.products === undefined ? next.subscription_update.products : (update.products ?? []);
    checkProducts(state, products ?? []);
    next.subscription_update = {
      ...next.subscription_update,
      enabled: update.enabled,
      default_allowed_updates: update.default_allowed_updates ?? next.subscription_update.default_allowed_updates,
      products: (products ?? []).map((entry) => ({ product: entry.product, prices: [...entry.prices], adjustable_quantity: { enabled: false, maximum: null, minimum: 1 } })),
      proration_behavior: update.proration_behavior ?? next.subscription_update.proration_behavior,
    };
  }
  const update = next.subscription_update;
  if (update.enabled && (update.default_allowed_updates.length === 0 || (update.products ?? []).length === 0))
    throw stripeErrors.invalid('To enable subscription updates, provide default_allowed_updates and at least one product with its prices.', 'features[subscription_update]');
  return next;
}

const OFF: Configuration['features'] = {
  customer_update: { allowed_updates: [], enabled: false },
  invoice_history: { enabled: false },
  payment_method_update: { enabled: false, payment_method_configuration: null },
  subscription_cancel: { cancellation_reason: { enabled: false, feedback_options: null, options: [] }, enabled: false, mode: 'at_period_end', proration_behavior: 'none' },
  // Pausing is not modelled: it stays off.
  subscription_pause: { duration: { interval_options: [], type: 'indefinite' }, enabled: false },
  subscription_update: {
    billing_cycle_anchor: null,
    default_allowed_updates: [],
    enabled: false,
    products: [],
    proration_behavior: 'none',
    schedule_at_period_end: { conditions: [] },
    trial_update_behavior: 'end_trial',
  },
};

function loginUrl(origin: string, configurationId: string): string {
  return `${origin}/_hosted/portal-login/${configurationId}`;
}

function requireConfiguration(state: StripeState, id: string, param?: string): Configuration {
  const configuration = state.portalConfigurations.get(id);
  if (configuration) return configuration;
  throw param ? stripeErrors.missingReference('configuration', id, param) : stripeErrors.notFound('configuration', id);
}

/** The configuration with `input` applied (create: onto an all-off one). */
function configure(state: StripeState, base: Configuration, input: z.output<typeof updateSchema>, origin: string): Configuration {
  const loginEnabled = input.login_page?.enabled ?? base.login_page.enabled;
  return {
    ...base,
    ...(input.active !== undefined ? { active: input.active } : {}),
    business_profile: { ...base.business_profile, ...(input.business_profile ?? {}) } as Configuration['business_profile'],
    ...(input.default_return_url !== undefined ? { default_return_url: input.default_return_url } : {}),
    features: input.features ? applyFeatures(state, base.features, input.features) : base.features,
    // Stripe gives a configuration a shareable login link once login_page.enabled is set.
    login_page: { enabled: loginEnabled, url: loginEnabled ? loginUrl(origin, base.id) : null },
    metadata: mergeMetadata(base.metadata ?? {}, input.metadata),
    ...(input.name !== undefined ? { name: input.name } : {}),
    updated: state.now(),
  };
}

function createConfiguration(state: StripeState, params: z.output<typeof createSchema>, origin: string): Configuration {
  const base: Configuration = {
    id: newId.portalConfiguration(),
    object: 'billing_portal.configuration',
    active: true,
    application: null,
    business_profile: { headline: null, privacy_policy_url: null, terms_of_service_url: null },
    created: state.now(),
    default_return_url: null,
    features: OFF,
    is_default: false,
    livemode: false,
    login_page: { enabled: false, url: null },
    metadata: {},
    name: null,
    updated: state.now(),
  };
  return configure(state, base, params, origin);
}

function createSession(state: StripeState, input: z.output<typeof sessionSchema>, origin: string): Stripe.BillingPortal.Session {
  if (input.flow_data !== undefined) throw stripeErrors.invalid('The Stripe emulator does not model portal flows (flow_data).', 'flow_data');
  if (!state.customers.has(input.customer)) throw stripeErrors.missingReference('customer', input.customer, 'customer');
  const configuration = input.configuration
    ? requireConfiguration(state, input.configuration, 'configuration')
    : state.portalConfigurations.newestFirst().find((c) => c.is_default && c.active);
  if (!configuration)
    throw stripeErrors.invalid(
      "You can't create a portal session in test mode until you save your customer portal settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal.",
    );
  if (!configuration.active) throw stripeErrors.invalid(`The configuration ${configuration.id} is not active.`, 'configuration');
  const id = newId.portalSession();
  return {
    id,
    object: 'billing_portal.session',
    configuration: configuration.id,
    created: state.now(),
    customer: input.customer,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: input.return_url ?? configuration.default_return_url,
    url: `${origin}/_hosted/portal/${id}`,
  };
}

/** Opens a portal session from the hosted login page (same object as the API creates). */
export function openPortalSession(state: StripeState, customer: string, configurationId: string, origin: string): Stripe.BillingPortal.Session {
  const session = createSession(state, { customer, configuration: configurationId }, origin);
  state.portalSessions.set(session);
  state.events.emit('billing_portal.session.created', structuredClone(session));
  return session;
}

export const portalEndpoints: Endpoint[] = [
  {
    method: 'POST',
    route: '/v1/billing_portal/configurations',
    handle({ state, params, origin }) {
      const input = parseParams(createSchema, params);
      const configuration = createConfiguration(state, input, origin ?? 'http://127.0.0.1');
      state.portalConfigurations.set(configuration);
      state.events.emit('billing_portal.configuration.created', structuredClone(configuration));
      return { body: expand(state, structuredClone(configuration), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/billing_portal/configurations/:id',
    handle(call) {
      const input = parseParams(updateSchema, call.params);
      const current = requireConfiguration(call.state, pathParam(call, 'id'));
      const updated = configure(call.state, current, input, call.origin ?? 'http://127.0.0.1');
      call.state.portalConfigurations.set(updated);
      call.state.events.emit('billing_portal.configuration.updated', structuredClone(updated));
      return { body: expand(call.state, structuredClone(updated), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/billing_portal/configurations/:id',
    handle(call) {
      const input = parseParams(expandOnly, call.params);
      return { body: expand(call.state, structuredClone(requireConfiguration(call.state, pathParam(call, 'id'))), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/billing_portal/configurations',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      const matching = state.portalConfigurations
        .newestFirst()
        .filter((c) => (input.active === undefined || c.active === input.active) && (input.is_default === undefined || c.is_default === input.is_default));
      return { body: expand(state, listPage(structuredClone(matching), input, '/v1/billing_portal/configurations', 'configuration'), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/billing_portal/sessions',
    handle({ state, params, origin }) {
      const input = parseParams(sessionSchema, params);
      const session = createSession(state, input, origin ?? 'http://127.0.0.1');
      state.portalSessions.set(session);
      state.events.emit('billing_portal.session.created', structuredClone(session));
      return { body: expand(state, structuredClone(session), input.expand) };
    },
  },
];
