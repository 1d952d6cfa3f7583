/**
 * /v1/billing/meters (create, retrieve, update, list, deactivate, reactivate: no delete, no lookup
 * key, so callers match on the unique event_name) and /v1/billing/meter_events (create).
 */
import type Stripe from 'stripe';
import { z } from 'zod';
import { pathParam, type ApiCall, type Endpoint } from './endpoint.ts';
import { newId } from './ids.ts';
import { expand, listPage } from './list-and-expand.ts';
import { p, paginationShape, parseParams } from './params.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { MeterEventError, StripeState } from './stripe-state.ts';

const createSchema = p.hash({
  display_name: p.string(250).min(1, 'Invalid {param}: must not be empty'),
  event_name: p.string(100).regex(/^\S+$/, 'Invalid {param}: must not contain whitespace'),
  default_aggregation: p.hash({ formula: p.oneOf(['sum', 'count', 'last']) }),
  customer_mapping: p.hash({ event_payload_key: p.string(100).min(1), type: p.oneOf(['by_id']) }).optional(),
  value_settings: p.hash({ event_payload_key: p.string(100).min(1) }).optional(),
  event_time_window: p.oneOf(['day', 'hour']).optional(),
  expand: p.expand(),
});
const updateSchema = p.hash({ display_name: p.string(250).min(1).optional(), expand: p.expand() });
const expandOnly = p.hash({ expand: p.expand() });
const listSchema = p.hash({ ...paginationShape, status: p.oneOf(['active', 'inactive']).optional() });

const meterEventSchema = p.hash({
  event_name: p.string(100).min(1),
  payload: z.record(z.string(), z.string({ error: 'Invalid string: {value}' }), { error: 'Invalid hash' }),
  identifier: p.string(100).min(1).optional(),
  timestamp: p.int({ min: 0 }).optional(),
});

/** Identifiers stay unique for (at least) 24 hours, like Stripe. */
const IDENTIFIER_WINDOW_SECONDS = 24 * 60 * 60;

/**
 * What Stripe's asynchronous validation would refuse (an error report instead of a 400 on the
 * request); such an event is kept (its identifier is spent) but never aggregated.
 */
function asyncValidationError(state: StripeState, event: Stripe.Billing.MeterEvent): Pick<MeterEventError, 'code' | 'message'> | undefined {
  const meter = state.meters.newestFirst().find((candidate) => candidate.event_name === event.event_name);
  if (!meter) return { code: 'no_meter', message: `No active meter was found for event_name ${event.event_name}.` };
  if (meter.status !== 'active') return { code: 'archived_meter', message: `The meter for event_name ${event.event_name} is inactive.` };
  const customerId = event.payload[meter.customer_mapping.event_payload_key];
  if (customerId === undefined) return { code: 'meter_event_no_customer_defined', message: `payload.${meter.customer_mapping.event_payload_key} is missing.` };
  if (!state.customers.has(customerId) || state.deletedCustomers.has(customerId)) return { code: 'meter_event_customer_not_found', message: `No customer ${customerId}.` };
  const value = event.payload[meter.value_settings.event_payload_key];
  if (value !== undefined && !/^-?\d+(\.\d+)?$/.test(value)) return { code: 'meter_event_invalid_value', message: `payload.${meter.value_settings.event_payload_key} is not a number.` };
  return undefined;
}

function requireMeter(state: StripeState, id: string): Stripe.Billing.Meter {
  const meter = state.meters.get(id);
  if (!meter) throw stripeErrors.notFound('billing meter', id);
  return meter;
}

function setStatus(call: ApiCall, status: Stripe.Billing.Meter.Status) {
  const { state } = call;
  const meter = requireMeter(state, pathParam(call, 'id'));
  const input = parseParams(expandOnly, call.params);
  if (meter.status === status) throw stripeErrors.invalid(`This meter is already ${status}.`);
  if (status === 'active' && state.meterByEventName(meter.event_name))
    throw stripeErrors.invalid(`An active meter with event_name '${meter.event_name}' already exists.`, 'event_name');
  const now = state.now();
  const updated: Stripe.Billing.Meter = { ...meter, status, status_transitions: { deactivated_at: status === 'inactive' ? now : null }, updated: now };
  state.meters.set(updated);
  state.events.emit(status === 'inactive' ? 'billing.meter.deactivated' : 'billing.meter.reactivated', structuredClone(updated));
  return { body: expand(state, structuredClone(updated), input.expand) };
}

export const billingEndpoints: Endpoint[] = [
  {
    method: 'POST',
    route: '/v1/billing/meters',
    handle({ state, params }) {
      const input = parseParams(createSchema, params);
      if (state.meterByEventName(input.event_name))
        throw stripeErrors.invalid(`An active meter with event_name '${input.event_name}' already exists.`, 'event_name');
      const now = state.now();
      const meter: Stripe.Billing.Meter = {
        id: newId.meter(),
        object: 'billing.meter',
        created: now,
        customer_mapping: { event_payload_key: input.customer_mapping?.event_payload_key ?? 'stripe_customer_id', type: 'by_id' },
        default_aggregation: { formula: input.default_aggregation.formula },
        display_name: input.display_name,
        event_name: input.event_name,
        event_time_window: input.event_time_window ?? null,
        livemode: false,
        status: 'active',
        status_transitions: { deactivated_at: null },
        updated: now,
        value_settings: { event_payload_key: input.value_settings?.event_payload_key ?? 'value' },
      };
      state.meters.set(meter);
      state.events.emit('billing.meter.created', structuredClone(meter));
      return { body: expand(state, structuredClone(meter), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/billing/meters/:id',
    handle(call) {
      const input = parseParams(expandOnly, call.params);
      return { body: expand(call.state, structuredClone(requireMeter(call.state, pathParam(call, 'id'))), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/billing/meters/:id',
    handle(call) {
      const meter = requireMeter(call.state, pathParam(call, 'id'));
      const input = parseParams(updateSchema, call.params);
      const updated = { ...meter, ...(input.display_name !== undefined ? { display_name: input.display_name } : {}), updated: call.state.now() };
      call.state.meters.set(updated);
      call.state.events.emit('billing.meter.updated', structuredClone(updated), { display_name: meter.display_name, updated: meter.updated });
      return { body: expand(call.state, structuredClone(updated), input.expand) };
    },
  },
  { method: 'POST', route: '/v1/billing/meters/:id/deactivate', handle: (call) => setStatus(call, 'inactive') },
  { method: 'POST', route: '/v1/billing/meters/:id/reactivate', handle: (call) => setStatus(call, 'active') },
  {
    method: 'GET',
    route: '/v1/billing/meters',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      const matching = state.meters.newestFirst().filter((meter) => input.status === undefined || meter.status === input.status);
      return { body: expand(state, listPage(structuredClone(matching), input, '/v1/billing/meters', 'billing meter'), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/billing/meter_events',
    handle({ state, params }) {
      const input = parseParams(meterEventSchema, params);
      // Only the shape, the timestamp window and the identifier are checked on the request: the
      // meter, the customer and the value are validated asynchronously (Stripe's meter error reports).
      const meter = state.meterByEventName(input.event_name);
      const customerId = input.payload[meter?.customer_mapping.event_payload_key ?? 'stripe_customer_id'];
      // Timestamps are judged against the customer's time (its test clock's frozen time, if any).
      const now = customerId && state.customers.has(customerId) ? state.nowFor(customerId) : state.now();
      const timestamp = input.timestamp ?? now;
      // Stripe accepts events from the past 35 days and up to 5 minutes into the future.
      if (timestamp < now - 35 * 24 * 60 * 60 || timestamp > now + 5 * 60)
        throw stripeErrors.invalid('Timestamp must be within the past 35 days and not more than 5 minutes in the future.', 'timestamp');
      // Dedupe window measured in account time (when Stripe received the events).
      const received = state.now();
      if (input.identifier !== undefined && state.meterEvents.some((event) => event.identifier === input.identifier && event.created > received - IDENTIFIER_WINDOW_SECONDS))
        throw stripeErrors.invalid(`An event already exists with identifier ${input.identifier}.`, 'identifier');
      const event: Stripe.Billing.MeterEvent = {
        object: 'billing.meter_event',
        created: received,
        event_name: input.event_name,
        identifier: input.identifier ?? newId.meterEventIdentifier(),
        livemode: false,
        payload: { ...input.payload },
        timestamp,
      };
      state.meterEvents.push(event);
      state.meterEventReceivedMs.set(event, state.wallMs());
      const error = asyncValidationError(state, event);
      if (error) state.meterEventErrors.push({ ...error, identifier: event.identifier, event_name: event.event_name, created: received });
      return { body: structuredClone(event) };
    },
  },
];
