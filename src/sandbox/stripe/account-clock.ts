/**
 * The emulator-only account clock for customers without a test clock (the ones the provisioner
 * creates): account time = wall time + skipped seconds. `POST /_emulator/time/advance` stands for
 * real time passing: it skips ahead and runs the billing engine over the skipped range, exactly
 * as a test clock advance does for its customers. `GET /_emulator/time` reads it. Not on Stripe.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { emulatorError } from '../faults/emulator-control.ts';
import { runBilling } from './billing-engine.ts';
import type { StripeState } from './stripe-state.ts';

const advanceSchema = z.union([
  z.object({ seconds: z.number().int().min(0).max(10 * 365 * 86_400) }).strict(),
  z.object({ to: z.number().int().min(0) }).strict(),
]);

export interface AccountTime {
  /** Account time (unix seconds). */
  now: number;
  wall: number;
  skipped_seconds: number;
}

export function accountTime(state: StripeState): AccountTime {
  return { now: state.now(), wall: state.wallNow(), skipped_seconds: state.skippedSeconds };
}

/** Moves account time forward to `to` and applies the billing that falls due on the way. */
export function advanceAccountClock(state: StripeState, to: number): { time: AccountTime; transitions: number } {
  if (to < state.now()) throw new RangeError(`account time only moves forward: ${to} is before ${state.now()}`);
  const transitions = runBilling(state, { clockId: null }, to);
  return { time: accountTime(state), transitions };
}

export function mountAccountClockRoutes(app: Hono, state: StripeState): void {
  app.get('/_emulator/time', (c) => c.json(accountTime(state)));
  app.post('/_emulator/time/advance', async (c) => {
    const parsed = advanceSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json(emulatorError('Send {"seconds": n} or {"to": unixSeconds}.'), 400);
    const to = 'seconds' in parsed.data ? state.now() + parsed.data.seconds : parsed.data.to;
    if (to < state.now()) return c.json(emulatorError(`"to" (${to}) is before the account time (${state.now()}); time only moves forward.`), 400);
    return c.json(advanceAccountClock(state, to));
  });
}
