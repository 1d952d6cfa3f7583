import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLifecycleScript } from './lifecycle-script.ts';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

let emulator: RunningStripeEmulator;
beforeAll(async () => {
  emulator = await startStripeEmulator();
});
afterAll(async () => {
  await emulator?.close();
});

describe('the lifecycle script (the same one `npm run test:live` runs against Stripe test mode)', () => {
  it('a failing card leaves the period invoice open and the subscription past_due; a good card and invoices.pay settle both', async () => {
    const stripe = new Stripe('sk_test_lifecycle', { ...emulator.clientOptions, maxNetworkRetries: 0 });
    const report = await runLifecycleScript(stripe, { pollMs: 20 });
    // 3 calls at $1.00.
    expect(report.afterPeriod).toEqual({ invoiceStatus: 'open', amountDue: 300, attempts: 1, subscriptionStatus: 'past_due' });
    expect(report.afterPaying).toEqual({ invoiceStatus: 'paid', subscriptionStatus: 'active' });
  });
});
