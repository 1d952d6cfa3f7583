// Calls → report → invoice for the four pricing models: the invoice Stripe finalizes bills exactly
// the billable calls (the 402s our access plugin answered and the 401s of a bad key are not on it).
import { afterEach, describe, expect, it } from 'vitest';
import { logCalls, meteredSubscription, moveTo, reporterFor, startUsageWorld, type PricingSpec, type UsageWorld } from '../../testkit/usage-test-kit.ts';
import { runTrueUps } from './true-up.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
let world: UsageWorld;

afterEach(async () => {
  await world?.close();
});

const CASES: Array<{ model: string; pricing: PricingSpec; billable: number; amount: number }> = [
  // 12 calls × 0.25¢ = 3¢
  { model: 'per unit', pricing: { unit_amount_decimal: '0.25' }, billable: 12, amount: 3 },
  // $10 per package of 5, rounded up: 6 calls = 2 packages = $20
  { model: 'package', pricing: { unit_amount: 1000, transform_quantity: { divide_by: 5, round: 'up' } }, billable: 6, amount: 2000 },
  // ≤5 @ $7, ≤10 @ $6.50, then $6: graduated 6 = $41.50
  { model: 'graduated', pricing: { tiers_mode: 'graduated', tiers: [{ up_to: 5, unit_amount: 700 }, { up_to: 10, unit_amount: 650 }, { up_to: 'inf', unit_amount: 600 }] }, billable: 6, amount: 4150 },
  // volume 6 = 6 × $6.50 = $39
  { model: 'volume', pricing: { tiers_mode: 'volume', tiers: [{ up_to: 5, unit_amount: 700 }, { up_to: 10, unit_amount: 650 }, { up_to: 'inf', unit_amount: 600 }] }, billable: 6, amount: 3900 },
];

describe('calls → report → invoice', () => {
  for (const { model, pricing, billable, amount } of CASES)
    it(`${model}: the invoice bills the billable calls only`, async () => {
      world = await startUsageWorld();
      const { subscription } = await meteredSubscription(world, `${model.replace(' ', '-')}@example.com`, pricing);
      const email = `${model.replace(' ', '-')}@example.com`;
      const periodEnd = (subscription.items.data[0]?.current_period_end ?? 0) * 1000;
      // Billable calls spread over the last three windows; refused ones beside them.
      const first = Math.ceil(billable / 2);
      await logCalls(world, email, periodEnd - 150 * MINUTE, [...Array<number>(first).fill(200), 402, 402, 401]);
      await logCalls(world, email, periodEnd - 70 * MINUTE, [...Array<number>(billable - first).fill(200), 429, 500]);
      const { reporter, deps } = reporterFor(world);
      moveTo(world, periodEnd + 10 * MINUTE);
      await reporter.reportDue();
      expect((await runTrueUps(deps, world.stripe)).map((r) => r.status)).toEqual(['matched']);
      moveTo(world, periodEnd + 2 * HOUR);
      const invoice = (await world.stripe.invoices.list({ subscription: subscription.id, limit: 1 })).data[0];
      expect([invoice?.billing_reason, invoice?.lines.data[0]?.quantity, invoice?.subtotal]).toEqual(['subscription_cycle', billable, amount]);
    });
});
