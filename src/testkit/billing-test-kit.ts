/** Shared setup for the billing lifecycle tests: an emulator, stripe-node, a metered price and clock helpers. */
import Stripe from 'stripe';
import { expect } from 'vitest';
import type { RunningStripeEmulator } from '../sandbox/stripe/stripe-emulator.ts';

/** 2026-01-01T00:00:00Z: month periods from here end on the 1st. */
export const T0 = Date.UTC(2026, 0, 1) / 1000;
export const DAY = 86_400;
export const FEB_1 = Date.UTC(2026, 1, 1) / 1000;

export async function stripeError(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

export async function meteredPrice(stripe: Stripe, unitAmountDecimal = '0.25', existingMeter?: Stripe.Billing.Meter) {
  const meter = existingMeter ?? await stripe.billing.meters.create({ display_name: 'API calls', event_name: `calls_${Math.random().toString(36).slice(2)}`, default_aggregation: { formula: 'sum' } });
  const product = await stripe.products.create({ name: 'API' });
  const price = await stripe.prices.create({
    currency: 'usd',
    product: product.id,
    unit_amount_decimal: Stripe.Decimal.from(unitAmountDecimal),
    recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
  });
  return { meter, product, price };
}

/** Advances a test clock and polls until it is ready, as a client of Stripe has to. */
export async function advanceClock(stripe: Stripe, clockId: string, frozenTime: number): Promise<Stripe.TestHelpers.TestClock> {
  const started = await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: frozenTime });
  expect(started.status).toBe('advancing');
  for (let polls = 0; polls < 200; polls += 1) {
    const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
    if (clock.status === 'ready') return clock;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`test clock ${clockId} never became ready`);
}

/** Event types recorded for one object id, oldest first. */
export function eventTypesFor(emulator: RunningStripeEmulator, objectId: string): string[] {
  return emulator.state.events
    .newestFirst()
    .reverse()
    .filter((event) => (event.data.object as { id?: string }).id === objectId)
    .map((event) => event.type);
}

export function eventTypes(emulator: RunningStripeEmulator): string[] {
  return emulator.state.events
    .newestFirst()
    .reverse()
    .map((event) => event.type);
}
