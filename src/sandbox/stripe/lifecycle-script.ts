/**
 * One billing lifecycle written only with Stripe's public API (test clocks, meter events, test
 * cards), so the same script runs against the emulator (lifecycle-script.test.ts) and against real
 * Stripe test mode (lifecycle-script.live.test.ts, `npm run test:live`). What passes on one and
 * fails on the other is an emulator that is not faithful.
 */
import type Stripe from 'stripe';

const DAY = 86_400;
const LIFECYCLE_LOOKUP_KEY = 'kpm_lifecycle_script_metered';
const LIFECYCLE_EVENT_NAME = 'kpm_lifecycle_script_calls';

interface LifecycleReport {
  /** Invoice status and amount right after the period closed with a failing card. */
  afterPeriod: { invoiceStatus: string | null; amountDue: number; attempts: number; subscriptionStatus: string };
  /** After a good card and invoices.pay. */
  afterPaying: { invoiceStatus: string | null; subscriptionStatus: string };
}

/** The metered price the script subscribes to: $1.00 per call (above Stripe's minimum charge). */
async function lifecyclePrice(stripe: Stripe): Promise<Stripe.Price> {
  const existing = (await stripe.prices.list({ lookup_keys: [LIFECYCLE_LOOKUP_KEY], active: true, limit: 1 })).data[0];
  if (existing) return existing;
  const meters = await stripe.billing.meters.list({ status: 'active', limit: 100 });
  const meter =
    meters.data.find((m) => m.event_name === LIFECYCLE_EVENT_NAME) ??
    (await stripe.billing.meters.create({ display_name: 'kpm lifecycle script calls', event_name: LIFECYCLE_EVENT_NAME, default_aggregation: { formula: 'sum' } }));
  return stripe.prices.create({
    currency: 'usd',
    unit_amount: 100,
    lookup_key: LIFECYCLE_LOOKUP_KEY,
    recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
    product_data: { name: 'kpm lifecycle script' },
  });
}

async function advanceClock(stripe: Stripe, clockId: string, frozenTime: number, pollMs: number): Promise<void> {
  await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: frozenTime });
  for (let i = 0; i < 600; i++) {
    const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
    if (clock.status === 'ready') return;
    if (clock.status === 'internal_failure') throw new Error(`test clock ${clockId} failed to advance`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`test clock ${clockId} did not become ready`);
}

/** Runs the script; deletes its test clock (and so its customer) at the end. */
export async function runLifecycleScript(stripe: Stripe, options: { pollMs: number; calls?: number }): Promise<LifecycleReport> {
  const calls = options.calls ?? 3;
  const price = await lifecyclePrice(stripe);
  const start = Math.floor(Date.now() / 1000);
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: start, name: 'kpm lifecycle script' });
  try {
    const customer = await stripe.customers.create({ email: `lifecycle-${start}@example.com`, test_clock: clock.id });
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    for (let i = 0; i < calls; i++)
      await stripe.billing.meterEvents.create({
        event_name: LIFECYCLE_EVENT_NAME,
        payload: { stripe_customer_id: customer.id, value: '1' },
        identifier: `kpm-lifecycle-${customer.id}-${i}`,
        timestamp: start + 60 + i,
      });
    // Past the period end, and past the hour a draft invoice waits before it is finalized and charged
    // (not further: Smart Retries may retry as soon as a day later).
    const periodEnd = subscription.items.data[0]?.current_period_end ?? start + 31 * DAY;
    await advanceClock(stripe, clock.id, periodEnd + 2 * 3600, options.pollMs);
    const invoices = await stripe.invoices.list({ customer: customer.id, subscription: subscription.id, limit: 10 });
    const billed = invoices.data.find((invoice) => invoice.amount_due > 0);
    const afterPeriod = {
      invoiceStatus: billed?.status ?? null,
      amountDue: billed?.amount_due ?? 0,
      attempts: billed?.attempt_count ?? 0,
      subscriptionStatus: (await stripe.subscriptions.retrieve(subscription.id)).status,
    };
    const good = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: good.id } });
    if (billed?.id) await stripe.invoices.pay(billed.id);
    const afterPaying = {
      invoiceStatus: billed?.id ? (await stripe.invoices.retrieve(billed.id)).status : null,
      subscriptionStatus: (await stripe.subscriptions.retrieve(subscription.id)).status,
    };
    return { afterPeriod, afterPaying };
  } finally {
    await stripe.testHelpers.testClocks.del(clock.id).catch(() => undefined);
  }
}
