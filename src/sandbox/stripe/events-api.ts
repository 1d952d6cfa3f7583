/**
 * GET /v1/events and /v1/events/{id}: the account's event log, newest first, limited to the last
 * 30 days as on Stripe. Filters: `type` (one type or a group with `*`, e.g. `invoice.*`), `types`
 * (up to 20 exact types, not with `type`), `created`, `delivery_success`.
 */
import { z } from 'zod';
import { pathParam, type Endpoint } from './endpoint.ts';
import type { WireEvent } from './events.ts';
import { inRange, listPage } from './list-and-expand.ts';
import { p, paginationShape, parseParams } from './params.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';

const EVENT_RETENTION_SECONDS = 30 * 24 * 60 * 60;

const listSchema = p.hash({
  ...paginationShape,
  type: p.string(5000).optional(),
  types: p.list(p.string(5000), 20).optional(),
  created: p.range().optional(),
  delivery_success: p.bool().optional(),
});
const retrieveSchema = p.hash({ expand: p.expand() });

function typeMatcher(pattern: string): (type: string) => boolean {
  if (!pattern.includes('*')) return (type) => type === pattern;
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  const regex = new RegExp(`^${source}$`);
  return (type) => regex.test(type);
}

function retained(state: StripeState): WireEvent[] {
  const oldest = state.now() - EVENT_RETENTION_SECONDS;
  return state.events.newestFirst().filter((event) => event.created >= oldest);
}

type ListInput = z.output<typeof listSchema>;

function matches(event: WireEvent, input: ListInput): boolean {
  if (input.type !== undefined && !typeMatcher(input.type)(event.type)) return false;
  if (input.types !== undefined && !input.types.includes(event.type)) return false;
  // Stripe: delivery_success=false returns events still pending or not delivered to every endpoint.
  if (input.delivery_success !== undefined && (event.pending_webhooks === 0) !== input.delivery_success) return false;
  return inRange(event.created, input.created);
}

export const eventEndpoints: Endpoint[] = [
  {
    method: 'GET',
    route: '/v1/events',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      if (input.type !== undefined && input.types !== undefined)
        throw stripeErrors.invalid('You may only specify one of these parameters: type, types.', 'types');
      const page = listPage(structuredClone(retained(state).filter((event) => matches(event, input))), input, '/v1/events', 'event');
      return { body: page };
    },
  },
  {
    method: 'GET',
    route: '/v1/events/:id',
    handle(call) {
      parseParams(retrieveSchema, call.params);
      const id = pathParam(call, 'id');
      const event = retained(call.state).find((candidate) => candidate.id === id);
      if (!event) throw stripeErrors.notFound('event', id);
      return { body: structuredClone(event) };
    },
  },
];
