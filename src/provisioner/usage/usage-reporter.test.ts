// The usage reporter against the Stripe and Moesif emulators: billable calls reach Stripe's meter
// exactly once whatever happens around the send (two reporters, a crash half way, 429/500, a
// restart), refused calls never do, and the true-up waits out a lagging summary instead of
// counting twice.
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageSink } from './stripe-meter-sink.ts';
import { runTrueUps } from './true-up.ts';
import type { WindowReport } from './usage-reporter.ts';
import { logCalls, meteredSubscription, moveTo, reporterFor, startUsageWorld, stripeTotal, T0, type UsageWorld } from '../../testkit/usage-test-kit.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
let world: UsageWorld;

afterEach(async () => {
  await world?.close();
});

/** Three developers with calls in the 12:00–13:00 window: billable, refused by us (402, 429, 401), failed upstream (503), the caller's 404. */
async function busyWindow() {
  const developers = [];
  for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) developers.push(await meteredSubscription(world, email));
  await logCalls(world, 'a@example.com', T0 + 5 * MINUTE, [200, 200, 201, 304, 402, 402, 401, 429, 503]);
  await logCalls(world, 'b@example.com', T0 + 30 * MINUTE, [200, 404]);
  await logCalls(world, 'c@example.com', T0 + 59 * MINUTE, [200, 200, 200]);
  return developers.map((d) => d.customer.id);
}
const EXPECTED = [4, 1, 3];

const outcomesOf = (reports: WindowReport[]) => reports.flatMap((r) => r.companies.map((c) => c.outcome));

function totals(customers: string[]): number[] {
  return customers.map((customer) => stripeTotal(world, customer));
}

describe('usage reporter: one meter event per customer and window, exactly once', () => {
  it('waits for the ingestion lag, then bills only 100-399 (never 401, 402, 429, 5xx or 404)', async () => {
    world = await startUsageWorld();
    const customers = await busyWindow();
    const { reporter } = reporterFor(world);
    moveTo(world, T0 + HOUR + 9 * MINUTE);
    expect(outcomesOf(await reporter.reportDue())).toEqual([]);
    moveTo(world, T0 + HOUR + 10 * MINUTE);
    expect(outcomesOf(await reporter.reportDue())).toEqual(['sent', 'sent', 'sent']);
    expect(totals(customers)).toEqual(EXPECTED);
    expect(world.stripeEmulator.state.meterEvents.map((e) => e.timestamp)).toEqual([1, 1, 1].map(() => (T0 + HOUR) / 1000 - 1));
    // The next run reads nothing again: the window is done in this process.
    expect(await reporter.reportDue()).toEqual([]);
  });

  it('two reporters at once (replicas) send the same identifiers: Stripe keeps one of each', async () => {
    world = await startUsageWorld();
    const customers = await busyWindow();
    moveTo(world, T0 + HOUR + 10 * MINUTE);
    const [first, second] = await Promise.all([reporterFor(world).reporter.reportDue(), reporterFor(world).reporter.reportDue()]);
    const outcomes = outcomesOf([...first, ...second]).sort();
    expect(outcomes).toEqual(['already_delivered', 'already_delivered', 'already_delivered', 'sent', 'sent', 'sent']);
    expect(totals(customers)).toEqual(EXPECTED);
  });

  it('a crash after half a window, then a restart: the rest is sent, nothing twice', async () => {
    world = await startUsageWorld();
    const customers = await busyWindow();
    moveTo(world, T0 + HOUR + 10 * MINUTE);
    const real = reporterFor(world).deps.sink;
    let sends = 0;
    const crashing: UsageSink = {
      get sendCalls() {
        return real.sendCalls;
      },
      hourlyUsage: (...args) => real.hourlyUsage(...args),
      totalUsage: (...args) => real.totalUsage(...args),
      async send(report) {
        if (++sends > 1) throw new Error('process killed');
        return real.send(report);
      },
    };
    const crashed = await reporterFor(world, { sink: crashing, concurrency: 1 }).reporter.reportDue();
    expect(outcomesOf(crashed)).toEqual(['sent', 'failed', 'failed']);
    const restarted = await reporterFor(world).reporter.reportDue();
    expect(outcomesOf(restarted).sort()).toEqual(['already_delivered', 'sent', 'sent']);
    expect(totals(customers)).toEqual(EXPECTED);
    // A third run (another restart) changes nothing.
    await reporterFor(world).reporter.reportDue();
    expect(totals(customers)).toEqual(EXPECTED);
    expect(world.stripeEmulator.state.meterEvents).toHaveLength(3);
  });

  it('Stripe 429 and a 500 after the write mid-batch: retried or re-run, Stripe’s total equals Moesif’s', async () => {
    world = await startUsageWorld();
    const customers = await busyWindow();
    moveTo(world, T0 + HOUR + 10 * MINUTE);
    const faults = world.stripeEmulator.faults;
    faults.add({ method: 'POST', path: '/v1/billing/meter_events', kind: '429', when: 'before', times: 2 });
    // Applied, then the answer is a 500 (and stripe-node's retries hit more 500s): the run fails this one.
    faults.add({ method: 'POST', path: '/v1/billing/meter_events', kind: '500', when: 'after', times: 1 });
    faults.add({ method: 'POST', path: '/v1/billing/meter_events', kind: '500', when: 'before', times: 2 });
    const { reporter } = reporterFor(world, { concurrency: 1 });
    const first = await reporter.reportDue();
    expect(outcomesOf(first)).toContain('failed');
    faults.clear();
    expect(outcomesOf(await reporter.reportDue())).toContain('already_delivered');
    expect(totals(customers)).toEqual(EXPECTED);
  });

  it('a dry run reads Moesif and Stripe and sends nothing', async () => {
    world = await startUsageWorld();
    await busyWindow();
    moveTo(world, T0 + HOUR + 10 * MINUTE);
    const reports = await reporterFor(world, { dryRun: true }).reporter.reportDue();
    expect(reports.flatMap((r) => r.companies).map((c) => `${c.calls} ${c.outcome}`).sort()).toEqual(['1 would_send', '3 would_send', '4 would_send']);
    expect(world.stripeEmulator.state.meterEvents).toHaveLength(0);
  });
});

describe('usage reporter: the period true-up', () => {
  /** A subscription whose period ends at T0 + 1 month; calls in its last two windows. */
  async function periodEnding() {
    const { customer, subscription } = await meteredSubscription(world, 'late@example.com');
    const periodEnd = (subscription.items.data[0]?.current_period_end ?? 0) * 1000;
    await logCalls(world, 'late@example.com', periodEnd - 90 * MINUTE, [200, 200]);
    await logCalls(world, 'late@example.com', periodEnd - 30 * MINUTE, [200, 402]);
    return { customer: customer.id, subscription: subscription.id, periodEnd };
  }

  it('adds late calls once, waiting while Stripe’s summary lags, and the invoice bills them all', async () => {
    world = await startUsageWorld({ aggregationLagMs: 60_000 });
    const { customer, subscription, periodEnd } = await periodEnding();
    const { reporter, deps } = reporterFor(world);
    moveTo(world, periodEnd + 10 * MINUTE); // the draft exists; the last windows are due
    await reporter.reportDue();
    expect(stripeTotal(world, customer)).toBe(3);
    // A call Moesif ingests only now, in the period's last window.
    await logCalls(world, 'late@example.com', periodEnd - 5 * MINUTE, [200]);
    const lagging = await runTrueUps(deps, world.stripe);
    expect(lagging.map((r) => [r.subscriptionId, r.status, r.lagging])).toEqual([[subscription, 'deferred', 2]]);
    expect(stripeTotal(world, customer)).toBe(3);
    world.clock.ms += 61_000;
    const trued = await runTrueUps(deps, world.stripe);
    expect(trued.map((r) => [r.status, r.moesifCalls, r.stripeUsage, r.sent])).toEqual([['trued_up', 4, 3, 1]]);
    // Again while the true-up itself lags in the summary, and from another replica: never twice.
    expect((await runTrueUps(reporterFor(world).deps, world.stripe)).map((r) => r.status)).toEqual(['already_trued_up']);
    world.clock.ms += 61_000;
    expect((await runTrueUps(deps, world.stripe)).map((r) => r.status)).toEqual(['matched']);
    expect(stripeTotal(world, customer)).toBe(4);
    moveTo(world, periodEnd + 2 * HOUR); // Stripe finalizes the draft
    const invoice = (await world.stripe.invoices.list({ subscription, limit: 1 })).data[0];
    expect(invoice?.status).not.toBe('draft');
    expect(invoice?.lines.data.map((line) => line.quantity)).toEqual([4]);
  });

  it('a call Moesif ingests after the true-up is carried into the next period’s invoice, never lost', async () => {
    world = await startUsageWorld();
    const { customer, subscription, periodEnd } = await periodEnding();
    // A card, so the subscription lives on into the next period.
    const card = await world.stripe.paymentMethods.attach('pm_card_visa', { customer });
    await world.stripe.customers.update(customer, { invoice_settings: { default_payment_method: card.id } });
    const { reporter, deps } = reporterFor(world);
    moveTo(world, periodEnd + 10 * MINUTE);
    await reporter.reportDue();
    expect((await runTrueUps(deps, world.stripe)).map((r) => r.status)).toEqual(['matched']);
    moveTo(world, periodEnd + 2 * HOUR); // the first invoice is finalized with 3 calls
    // Two calls of the closed period arrive in Moesif only now.
    await logCalls(world, 'late@example.com', periodEnd - 20 * MINUTE, [200, 200]);
    const nextEnd = ((await world.stripe.subscriptions.retrieve(subscription)).items.data[0]?.current_period_end ?? 0) * 1000;
    await logCalls(world, 'late@example.com', nextEnd - 30 * MINUTE, [200]);
    moveTo(world, nextEnd + 10 * MINUTE);
    await reporterFor(world).reporter.reportDue();
    const trued = await runTrueUps(deps, world.stripe);
    expect(trued.map((r) => [r.status, r.moesifCalls, r.stripeUsage, r.carried, r.sent])).toEqual([['trued_up', 1, 1, 2, 2]]);
    moveTo(world, nextEnd + 2 * HOUR);
    const invoices = (await world.stripe.invoices.list({ subscription, limit: 10 })).data.filter((i) => i.billing_reason === 'subscription_cycle');
    expect(invoices.map((i) => i.lines.data[0]?.quantity)).toEqual([3, 3]);
    expect(stripeTotal(world, customer)).toBe(6);
  });

  it('fills a window a crash never sent, then trues up on the next run', async () => {
    world = await startUsageWorld();
    const { customer, periodEnd } = await periodEnding();
    moveTo(world, periodEnd + 10 * MINUTE);
    const { deps } = reporterFor(world);
    const filled = await runTrueUps(deps, world.stripe);
    expect(filled.map((r) => [r.status, r.filled])).toEqual([['deferred', 2]]);
    expect((await runTrueUps(deps, world.stripe)).map((r) => r.status)).toEqual(['matched']);
    expect(stripeTotal(world, customer)).toBe(3);
  });
});
