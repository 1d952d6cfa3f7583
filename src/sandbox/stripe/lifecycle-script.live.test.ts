// `npm run test:live`: the emulator's lifecycle script against real Stripe test mode. Skipped
// unless STRIPE_SECRET_KEY is an sk_test_ key. Creates (once, then reuses) a meter, a product and a
// price with lookup_key kpm_lifecycle_script_metered; its test clock (and customer) is deleted.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { runLifecycleScript } from './lifecycle-script.ts';

const key = process.env.STRIPE_SECRET_KEY ?? '';

describe.skipIf(!key.startsWith('sk_test_'))('the lifecycle script against Stripe test mode', () => {
  it('ends as on the emulator', async () => {
    const report = await runLifecycleScript(new Stripe(key), { pollMs: 2_000 });
    expect(report.afterPeriod).toEqual({ invoiceStatus: 'open', amountDue: 300, attempts: 1, subscriptionStatus: 'past_due' });
    expect(report.afterPaying).toEqual({ invoiceStatus: 'paid', subscriptionStatus: 'active' });
  });
});
