/**
 * /v1/test_helpers/test_clocks: create, retrieve, list, delete, advance. Advancing answers
 * `advancing` at once and runs the billing engine for the clock's customers right after the
 * answer (like Stripe, a client polls until `ready`). Limits as on Stripe: at most two intervals
 * of the shortest subscription per advance.
 */
import type Stripe from 'stripe';
import { addInterval, DAY_SECONDS } from './billing-periods.ts';
import { runBilling } from './billing-engine.ts';
import { pathParam, type Endpoint } from './endpoint.ts';
import { newId } from './ids.ts';
import { expand, listPage } from './list-and-expand.ts';
import { p, paginationShape, parseParams } from './params.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';

const createSchema = p.hash({ frozen_time: p.int({ min: 0 }), name: p.string(300).optional(), customer: p.accepted(), expand: p.expand() });
const advanceSchema = p.hash({ frozen_time: p.int({ min: 0 }), expand: p.expand() });
const expandOnly = p.hash({ expand: p.expand() });
const listSchema = p.hash({ ...paginationShape });

/** Stripe deletes test clocks 30 days after creation. */
const CLOCK_LIFETIME_SECONDS = 30 * DAY_SECONDS;

function requireClock(state: StripeState, id: string): Stripe.TestHelpers.TestClock {
  const clock = state.testClocks.get(id);
  if (!clock) throw stripeErrors.notFound('test_helpers.test_clock', id);
  return clock;
}

/** The furthest a clock may move in one advance: two intervals of its shortest live subscription. */
function advanceLimit(state: StripeState, clock: Stripe.TestHelpers.TestClock): number {
  let limit = Number.POSITIVE_INFINITY;
  for (const subscription of state.subscriptions.newestFirst()) {
    if (subscription.status === 'canceled' || subscription.test_clock !== clock.id) continue;
    const recurring = subscription.items[0] ? state.prices.get(subscription.items[0].price)?.recurring : undefined;
    limit = Math.min(limit, addInterval(clock.frozen_time, recurring, 2));
  }
  return limit;
}

/** Moves the clock and runs billing for its customers; answers before the work, as Stripe does. */
function startAdvance(state: StripeState, clock: Stripe.TestHelpers.TestClock, target: number): Stripe.TestHelpers.TestClock {
  const advancing: Stripe.TestHelpers.TestClock = { ...clock, status: 'advancing', status_details: { advancing: { target_frozen_time: target } } };
  state.testClocks.set(advancing);
  state.events.emit('test_helpers.test_clock.advancing', structuredClone(advancing));
  setImmediate(() => {
    if (state.testClocks.get(clock.id)?.status !== 'advancing') return;
    try {
      runBilling(state, { clockId: clock.id }, target);
    } finally {
      const current = state.testClocks.get(clock.id);
      if (current) {
        const ready: Stripe.TestHelpers.TestClock = { ...current, frozen_time: target, status: 'ready', status_details: {} };
        state.testClocks.set(ready);
        state.events.emit('test_helpers.test_clock.ready', structuredClone(ready));
      }
    }
  });
  return advancing;
}

export const testClockEndpoints: Endpoint[] = [
  {
    method: 'POST',
    route: '/v1/test_helpers/test_clocks',
    handle({ state, params }) {
      const input = parseParams(createSchema, params);
      const now = state.now();
      const clock: Stripe.TestHelpers.TestClock = {
        id: newId.testClock(),
        object: 'test_helpers.test_clock',
        created: now,
        deletes_after: now + CLOCK_LIFETIME_SECONDS,
        frozen_time: input.frozen_time,
        livemode: false,
        name: input.name ?? null,
        status: 'ready',
        status_details: {},
      };
      state.testClocks.set(clock);
      state.events.emit('test_helpers.test_clock.created', structuredClone(clock));
      return { body: expand(state, structuredClone(clock), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/test_helpers/test_clocks/:id',
    handle(call) {
      const input = parseParams(expandOnly, call.params);
      return { body: expand(call.state, structuredClone(requireClock(call.state, pathParam(call, 'id'))), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/test_helpers/test_clocks',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      return { body: expand(state, listPage(structuredClone(state.testClocks.newestFirst()), input, '/v1/test_helpers/test_clocks', 'test_helpers.test_clock'), input.expand) };
    },
  },
  {
    method: 'DELETE',
    route: '/v1/test_helpers/test_clocks/:id',
    handle(call) {
      const { state } = call;
      const clock = requireClock(state, pathParam(call, 'id'));
      // Deleting a clock deletes the customers (and so the subscriptions) attached to it.
      for (const customer of state.customers.newestFirst()) {
        if (customer.test_clock !== clock.id) continue;
        state.customers.delete(customer.id);
        state.deletedCustomers.add(customer.id);
      }
      for (const subscription of state.subscriptions.newestFirst()) if (subscription.test_clock === clock.id) state.subscriptions.delete(subscription.id);
      for (const invoice of state.invoices.newestFirst()) if (invoice.test_clock === clock.id) state.invoices.delete(invoice.id);
      for (const method of state.paymentMethods.newestFirst()) if (method.customer !== null && state.deletedCustomers.has(method.customer as string)) state.paymentMethods.delete(method.id);
      state.testClocks.delete(clock.id);
      state.events.emit('test_helpers.test_clock.deleted', structuredClone(clock));
      return { body: { id: clock.id, object: 'test_helpers.test_clock', deleted: true } };
    },
  },
  {
    method: 'POST',
    route: '/v1/test_helpers/test_clocks/:id/advance',
    handle(call) {
      const { state } = call;
      const clock = requireClock(state, pathParam(call, 'id'));
      const input = parseParams(advanceSchema, call.params);
      if (clock.status === 'advancing') throw stripeErrors.invalid('The test clock is already advancing. Wait until it is ready before advancing it again.', undefined, 'test_clock_advancing');
      if (input.frozen_time <= clock.frozen_time)
        throw stripeErrors.invalid(`The frozen_time must be after the test clock's current frozen_time (${clock.frozen_time}).`, 'frozen_time');
      const limit = advanceLimit(state, clock);
      if (input.frozen_time > limit)
        throw stripeErrors.invalid(
          `Cannot advance the test clock more than two intervals of its shortest subscription; the furthest frozen_time now is ${limit}.`,
          'frozen_time',
        );
      return { body: expand(state, structuredClone(startAdvance(state, clock, input.frozen_time)), input.expand) };
    },
  },
];
