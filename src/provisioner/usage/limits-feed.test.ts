// The limits feed against the Stripe and Moesif emulators: what it hands to recordUsage after a
// reporter run, and what it costs in Stripe reads. Stripe aggregates meter events late here (two
// minutes), as it does for real: the amount is read again until it holds the calls, then no more.
import { afterEach, describe, expect, it } from 'vitest';
import { createUsageBook, type PeriodUsage } from '../core/usage-limits.ts';
import { createLimitsFeed } from './limits-feed.ts';
import { createUsageFigures } from './usage-figures.ts';
import { logCalls, meteredSubscription, moveTo, reporterFor, startUsageWorld, T0, type UsageWorld } from '../../testkit/usage-test-kit.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
let world: UsageWorld;

afterEach(async () => {
  await world?.close();
});

function feedFor(world: UsageWorld) {
  const { reporter, deps } = reporterFor(world);
  const book = createUsageBook();
  const recorded: Array<{ developerId: string; usage: PeriodUsage }> = [];
  const feed = createLimitsFeed({
    target: {
      async recordUsage(developerId, usage) {
        recorded.push({ developerId, usage });
        return book.record(developerId, usage);
      },
      // No plan limits: only the spend cap asks for figures here.
      planOfSubscription: async () => undefined,
      usageFigures: createUsageFigures({ stripe: world.stripe, cacheSeconds: 60, now: () => world.clock.ms }),
    },
    moesif: deps.moesif,
    directory: deps.directory,
    now: () => world.clock.ms,
    stripeTimeShiftSeconds: () => world.stripeEmulator.state.skippedSeconds,
    windowSeconds: 3600,
  });
  return { reporter, feed, recorded, book };
}

/** Stripe requests other than meter events since the last reset. */
function stripeReads(): Record<string, number> {
  const { requests } = world.stripeEmulator.counters.snapshot();
  return Object.fromEntries(Object.entries(requests).filter(([key]) => !key.includes('meter_event')));
}

describe('limits feed', () => {
  it('feeds a capped developer Stripe’s amount; re-reads while Stripe trails the calls, then stops; others cost nothing', async () => {
    world = await startUsageWorld({ aggregationLagMs: 2 * MINUTE });
    const capped = await meteredSubscription(world, 'capped@example.com', { unit_amount_decimal: '50' });
    await world.stripe.customers.update(capped.customer.id, { metadata: { kong_developer_id: 'dev-capped', kpm_spend_cap: '100' } });
    const plain = await meteredSubscription(world, 'plain@example.com', { unit_amount_decimal: '50' });
    await world.stripe.customers.update(plain.customer.id, { metadata: { kong_developer_id: 'dev-plain' } });
    await logCalls(world, 'capped@example.com', T0 + 5 * MINUTE, [200, 200, 200]);
    await logCalls(world, 'plain@example.com', T0 + 5 * MINUTE, [200]);
    const { reporter, feed, recorded, book } = feedFor(world);

    moveTo(world, T0 + HOUR + 10 * MINUTE);
    world.stripeEmulator.counters.reset();
    const first = await feed.afterRun(await reporter.reportDue());
    // Stripe has the 3 calls but has not aggregated them: amount 0 for now, and the company stays pending.
    expect(first).toMatchObject({ fed: ['dev-capped'], previews: 1, failed: [] });
    expect(book.periodUsage('dev-capped')).toMatchObject({ calls: 3, amountSoFar: 0, currency: 'usd' });
    expect(book.periodUsage('dev-plain')).toBeUndefined();
    // Reads of the run: the directory's listing (customers expanded), the meter's name, one preview.
    expect(stripeReads()).toEqual({ 'GET /v1/subscriptions': 1, 'GET /v1/billing/meters/:id': 1, 'POST /v1/invoices/create_preview': 1 });

    // The next run has no new window, yet the pending developer is read again and gets Stripe's amount.
    moveTo(world, T0 + HOUR + 15 * MINUTE);
    world.stripeEmulator.counters.reset();
    const second = await feed.afterRun(await reporter.reportDue());
    expect(second).toMatchObject({ fed: ['dev-capped'], previews: 1 });
    expect(book.periodUsage('dev-capped')).toMatchObject({ calls: 3, amountSoFar: 150 });
    expect(stripeReads()).toEqual({ 'POST /v1/invoices/create_preview': 1 });

    // Settled and no new calls: nothing read, nothing fed.
    world.stripeEmulator.counters.reset();
    expect(await feed.afterRun(await reporter.reportDue())).toMatchObject({ fed: [], previews: 0 });
    expect(stripeReads()).toEqual({});

    // Calls in the open window are seen before it is billed (the count runs to now).
    await logCalls(world, 'capped@example.com', T0 + HOUR + 16 * MINUTE, [200]);
    moveTo(world, T0 + HOUR + 17 * MINUTE);
    const open = await feed.afterRun(await reporter.reportDue());
    expect(open).toMatchObject({ fed: ['dev-capped'], previews: 1 });
    expect(recorded.at(-1)?.usage.calls).toBe(4);
  });
});
