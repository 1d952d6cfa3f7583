/**
 * SetupIntents as Checkout's setup mode makes them (GET /v1/setup_intents/{id} and a list by
 * customer), and the transitions the hosted page drives: created when a person first submits a
 * card, `requires_payment_method` with `last_setup_error` after a decline, `succeeded` once the
 * card is attached. Creating or confirming SetupIntents through the API is not modelled.
 */
import type Stripe from 'stripe';
import { pathParam, type Endpoint } from './endpoint.ts';
import { newId } from './ids.ts';
import { expand, listPage } from './list-and-expand.ts';
import { p, paginationShape, parseParams } from './params.ts';
import { stripeErrors, type StripeApiError } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';

const expandOnly = p.hash({ expand: p.expand() });
const listSchema = p.hash({ ...paginationShape, customer: p.id().optional(), payment_method: p.id().optional(), created: p.range().optional() });

/** A new SetupIntent for a customer (emits setup_intent.created). */
export function createSetupIntent(state: StripeState, customerId: string, metadata: Record<string, string>, description: string | null): Stripe.SetupIntent {
  const id = newId.setupIntent();
  const intent: Stripe.SetupIntent = {
    id,
    object: 'setup_intent',
    allowed_payment_method_types: null,
    application: null,
    automatic_payment_methods: null,
    cancellation_reason: null,
    client_secret: `${id}_secret_${newId.secret()}`,
    created: state.now(),
    customer: customerId,
    description,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'],
    single_use_mandate: null,
    status: 'requires_payment_method',
    usage: 'off_session',
  };
  state.setupIntents.set(intent);
  state.events.emit('setup_intent.created', structuredClone(intent));
  return intent;
}

/** A declined card: the intent stays requires_payment_method with the error (emits setup_intent.setup_failed). */
export function failSetupIntent(state: StripeState, intent: Stripe.SetupIntent, error: StripeApiError & { declineCode?: string | undefined }): Stripe.SetupIntent {
  const failed: Stripe.SetupIntent = {
    ...intent,
    status: 'requires_payment_method',
    last_setup_error: {
      type: error.type === 'card_error' ? 'card_error' : 'invalid_request_error',
      message: error.message,
      ...(error.code ? { code: error.code } : {}),
      ...(error.declineCode ? { decline_code: error.declineCode } : {}),
    },
  };
  state.setupIntents.set(failed);
  state.events.emit('setup_intent.setup_failed', structuredClone(failed));
  return failed;
}

/** The card was attached: the intent succeeded with it (emits setup_intent.succeeded). */
export function succeedSetupIntent(state: StripeState, intent: Stripe.SetupIntent, paymentMethodId: string): Stripe.SetupIntent {
  const succeeded: Stripe.SetupIntent = { ...intent, status: 'succeeded', payment_method: paymentMethodId, last_setup_error: null };
  state.setupIntents.set(succeeded);
  state.events.emit('setup_intent.succeeded', structuredClone(succeeded));
  return succeeded;
}

export const setupIntentEndpoints: Endpoint[] = [
  {
    method: 'GET',
    route: '/v1/setup_intents/:id',
    handle(call) {
      const input = parseParams(expandOnly, call.params);
      const id = pathParam(call, 'id');
      const intent = call.state.setupIntents.get(id);
      if (!intent) throw stripeErrors.notFound('setupintent', id);
      return { body: expand(call.state, structuredClone(intent), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/setup_intents',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      const matching = state.setupIntents
        .newestFirst()
        .filter((i) => (input.customer === undefined || i.customer === input.customer) && (input.payment_method === undefined || i.payment_method === input.payment_method));
      return { body: expand(state, listPage(structuredClone(matching), input, '/v1/setup_intents', 'setupintent'), input.expand) };
    },
  },
];
