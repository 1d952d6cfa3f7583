/**
 * /v1/webhook_endpoints: create (the `whsec_…` signing secret is shown only in this answer, as on
 * Stripe), retrieve, update (url, enabled_events, disabled, description, metadata), delete, list.
 */
import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import { z } from 'zod';
import { pathParam, type Endpoint } from './endpoint.ts';
import { newId } from './ids.ts';
import { expand, listPage } from './list-and-expand.ts';
import { mergeMetadata, p, paginationShape, parseParams } from './params.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';
import { WEBHOOK_API_VERSIONS, WEBHOOK_EVENT_TYPES } from './webhook-event-types.ts';

/** Stripe allows 16 webhook endpoints per account and mode. */
const MAX_WEBHOOK_ENDPOINTS = 16;

const urlParam = () =>
  p.string(5000).refine((value) => {
    try {
      const url = new URL(value);
      // Live mode wants https; test mode (the only mode emulated) also takes http.
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'Invalid URL: {value}. URLs must begin with http:// or https://');

const enabledEvents = () =>
  p
    .list(z.string({ error: 'Invalid string: {value}' }).refine((type) => type === '*' || WEBHOOK_EVENT_TYPES.has(type), 'Invalid {param}: unknown event type {value}'), 300)
    .refine((list) => list.length > 0, 'Invalid {param}: must contain at least one event type');

const createSchema = p.hash({
  url: urlParam(),
  enabled_events: enabledEvents(),
  api_version: z.string({ error: 'Invalid string: {value}' }).refine((v) => WEBHOOK_API_VERSIONS.has(v), 'Invalid api_version: {value}').optional(),
  description: p.emptyable(p.string(5000)).optional(),
  metadata: p.metadata().optional(),
  connect: p.bool().optional(),
  expand: p.expand(),
});

const updateSchema = p.hash({
  url: urlParam().optional(),
  enabled_events: enabledEvents().optional(),
  disabled: p.bool().optional(),
  description: p.emptyable(p.string(5000)).optional(),
  metadata: p.metadata().optional(),
  expand: p.expand(),
});

const retrieveSchema = p.hash({ expand: p.expand() });
const listSchema = p.hash(paginationShape);

const SECRET_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Stripe's signing secrets are `whsec_` and 32 letters and digits (base64url's `-` and `_` never occur). */
function newSecret(): string {
  return `whsec_${Array.from(randomBytes(32), (byte) => SECRET_ALPHABET[byte % SECRET_ALPHABET.length]).join('')}`;
}

function requireEndpoint(state: StripeState, id: string): Stripe.WebhookEndpoint {
  const endpoint = state.webhookEndpoints.get(id);
  if (!endpoint) throw stripeErrors.notFound('webhook endpoint', id);
  return endpoint;
}

/** The endpoint as every answer but create's shows it: without the secret. */
function publicView(endpoint: Stripe.WebhookEndpoint): Stripe.WebhookEndpoint {
  const { secret: _secret, ...rest } = structuredClone(endpoint);
  return rest;
}

export const webhookEndpointEndpoints: Endpoint[] = [
  {
    method: 'POST',
    route: '/v1/webhook_endpoints',
    handle({ state, params }) {
      const input = parseParams(createSchema, params);
      if (input.connect === true) throw stripeErrors.invalid('Connect webhook endpoints are not supported by the Stripe emulator.', 'connect');
      if (state.webhookEndpoints.size >= MAX_WEBHOOK_ENDPOINTS)
        throw stripeErrors.invalid(`You have reached the maximum of ${MAX_WEBHOOK_ENDPOINTS} test webhook endpoints.`, 'url');
      const endpoint: Stripe.WebhookEndpoint = {
        id: newId.webhookEndpoint(),
        object: 'webhook_endpoint',
        // Without api_version the account's default version applies; the emulator speaks one.
        api_version: input.api_version ?? null,
        application: null,
        created: state.now(),
        description: input.description ?? null,
        enabled_events: [...new Set(input.enabled_events)],
        livemode: false,
        metadata: mergeMetadata({}, input.metadata),
        status: 'enabled',
        url: input.url,
      };
      const secret = newSecret();
      state.webhookEndpoints.set(endpoint);
      state.webhookSecrets.set(endpoint.id, secret);
      return { body: expand(state, { ...structuredClone(endpoint), secret }, input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/webhook_endpoints/:id',
    handle(call) {
      const input = parseParams(retrieveSchema, call.params);
      return { body: expand(call.state, publicView(requireEndpoint(call.state, pathParam(call, 'id'))), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/webhook_endpoints/:id',
    handle(call) {
      const { state } = call;
      const input = parseParams(updateSchema, call.params);
      const endpoint = requireEndpoint(state, pathParam(call, 'id'));
      const updated: Stripe.WebhookEndpoint = {
        ...endpoint,
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.enabled_events !== undefined ? { enabled_events: [...new Set(input.enabled_events)] } : {}),
        ...(input.disabled !== undefined ? { status: input.disabled ? 'disabled' : 'enabled' } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        metadata: mergeMetadata(endpoint.metadata, input.metadata),
      };
      state.webhookEndpoints.set(updated);
      return { body: expand(state, publicView(updated), input.expand) };
    },
  },
  {
    method: 'DELETE',
    route: '/v1/webhook_endpoints/:id',
    handle(call) {
      const { state } = call;
      const id = pathParam(call, 'id');
      requireEndpoint(state, id);
      state.webhookEndpoints.delete(id);
      state.webhookSecrets.delete(id);
      return { body: { id, object: 'webhook_endpoint', deleted: true } };
    },
  },
  {
    method: 'GET',
    route: '/v1/webhook_endpoints',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      const page = listPage(state.webhookEndpoints.newestFirst().map(publicView), input, '/v1/webhook_endpoints', 'webhook endpoint');
      return { body: expand(state, page, input.expand) };
    },
  },
];

/** True when an endpoint wants events of this type ('*' = all). */
export function endpointWants(endpoint: Stripe.WebhookEndpoint, type: string): boolean {
  return endpoint.status === 'enabled' && (endpoint.enabled_events.includes('*') || endpoint.enabled_events.includes(type));
}
