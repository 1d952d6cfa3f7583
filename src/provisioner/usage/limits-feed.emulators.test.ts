// The usage reporter feeding plan limits, end to end: the whole sandbox (Kong, Stripe, Moesif,
// provisioner). Real calls through Kong's proxy reach Moesif; one reporter run, wired to the
// provisioner's billing core as server.ts wires its timer, sends the meter events and then the
// period's figures to recordUsage, which refuses at Kong: 429 past a hard quota, 402 past a spend
// cap, the payment message when payment is refused too.
import { FREE_PRICING, TEN_DOLLARS_A_CALL, testPlan, writePlansWith } from '../../testkit/plans-fixtures.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBillingSandbox, type BillingSandbox } from '../../testkit/billing-sandbox.ts';
import { createUsageService, type UsageRun, type UsageService } from './usage-service.ts';
import { parseUsageSettings } from './usage-settings.ts';

let billing: BillingSandbox;
let dir: string;


beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpm-limits-feed-'));
  const plansFile = await writePlansWith(dir, [
    testPlan('free3', { payment_collection: 'none', included: 3, limits: { quota: { calls: 3, enforcement: 'hard' } } }, FREE_PRICING),
    testPlan('paid3', { limits: { quota: { calls: 3, enforcement: 'hard' } } }, TEN_DOLLARS_A_CALL),
  ]);
  // Meter events aggregate at once here; a lag only delays the amount by a run (see limits-feed.ts).
  billing = await startBillingSandbox({ plansFile, stripeEmulator: { meterAggregationLagMs: 0 } });
}, 60_000);
afterAll(async () => {
  await billing?.close();
  await rm(dir, { recursive: true, force: true });
});

let service: UsageService | undefined;
/** One reporter run as the provisioner's timer makes it (one long-lived service), closing the open window so the calls just made count. */
async function reporterRun(): Promise<UsageRun> {
  await billing.sandbox.kong!.settle();
  const core = billing.sandbox.provisioner!;
  service ??= createUsageService(parseUsageSettings(billing.sandbox.env), {
    stripe: core.stripe,
    companyIdSource: 'subscription',
    stripeTimeShiftSeconds: () => billing.sandbox.stripe!.state.skippedSeconds,
    limits: core.billing,
  });
  const run = await service.run({ closeOpenWindow: true });
  await billing.settle();
  return run;
}

const call = (key: string) => fetch(`${billing.sandbox.kong!.proxyUrl}/test-service/x`, { headers: { apikey: key } });
async function calls(key: string, n: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < n; i++) seen.push(await billing.callStatus(key));
  return seen;
}
/** The page's proven billing-status request (POST /provision of a provisioned developer). */
async function pageStatus(dev: { email: string; developer: { id: string } }) {
  const response = await fetch(`${billing.sandbox.provisioner!.url}/provision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: dev.email, developer_id: dev.developer.id }),
  });
  return ((await response.json()) as { billing?: { access: string; reason: string; message: string } }).billing;
}
const messageOf = async (response: Response) => ((await response.json()) as { message: string }).message;

describe('the reporter feeds quotas and spend caps', () => {
  it('N+1 calls on a hard quota of N: one run, then 429 naming the limit and the reset; 200 again once the period resets', async () => {
    const dev = await billing.signUp('free3', 'feedquota');
    expect(await calls(dev.key, 4)).toEqual([200, 200, 200, 200]);
    const run = await reporterRun();
    expect(run.limits).toMatchObject({ fed: [dev.developer.id], previews: 0, failed: [] });

    const refused = await call(dev.key);
    expect(refused.status).toBe(429);
    const subscription = (await billing.stripe.subscriptions.list({ customer: dev.customer.id })).data[0]!;
    const periodEnd = subscription.items.data[0]!.current_period_end;
    const reset = `${new Date(periodEnd * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    const message = await messageOf(refused);
    expect(message).toMatch(/^Quota reached: your plan allows 3 calls per billing period\./);
    expect(message).toContain(`It resets at ${reset}`);
    // The page shows the same decision.
    expect(await pageStatus(dev)).toMatchObject({ access: 'refused', reason: 'quota_exceeded', message: expect.stringContaining(`resets at ${reset}`) });

    // The Stripe clock passes the period's end: the decision drops the ended period's figures.
    await billing.advanceDays((periodEnd - billing.sandbox.stripe!.state.now()) / 86_400 + 1);
    expect(await billing.callStatus(dev.key)).toBe(200);
  });

  it('a spend cap reached through real calls: 402 "spend cap reached"; unchanged calls read no preview', async () => {
    const dev = await billing.signUp('bundle', 'feedcap');
    await billing.addCard(dev.customer.id, 'pm_card_visa');
    const set = await fetch(`${billing.sandbox.provisioner!.url}/billing/spend-cap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: dev.email, developer_id: dev.developer.id, spend_cap: 1000 }),
    });
    expect(set.status).toBe(200);
    expect(await calls(dev.key, 1)).toEqual([200]);
    const run = await reporterRun();
    // One Stripe read for this developer (the only one with a cap): the preview.
    expect(run.limits?.fed).toContain(dev.developer.id);
    expect(run.limits).toMatchObject({ previews: 1, failed: [] });

    const refused = await call(dev.key);
    expect(refused.status).toBe(402);
    expect(await messageOf(refused)).toMatch(/^Spend cap reached: this period's usage has reached the monthly cap of 10\.00 USD you set\./);
    expect(await pageStatus(dev)).toMatchObject({ access: 'refused', reason: 'spend_cap_reached' });
    // A later run with no new calls: the developer is seen only if Moesif has calls in its windows; nothing new is read.
    const again = await reporterRun();
    expect(again.limits?.previews ?? 0).toBe(0);
    expect(await billing.callStatus(dev.key)).toBe(402);
  });

  it('past due and over quota: the payment message wins once payment is refused', async () => {
    const dev = await billing.signUp('paid3', 'feedboth');
    await billing.addCard(dev.customer.id, 'pm_card_chargeCustomerFail');
    expect(await calls(dev.key, 1)).toEqual([200]);
    await reporterRun();
    // The first period's invoice fails: past due, in grace (still allowed).
    const first = (await billing.stripe.subscriptions.list({ customer: dev.customer.id })).data[0]!;
    await billing.advanceDays((first.items.data[0]!.current_period_end - billing.sandbox.stripe!.state.now()) / 86_400 + 0.5);
    expect((await billing.stripe.subscriptions.retrieve(first.id)).status).toBe('past_due');
    expect(await calls(dev.key, 4)).toEqual([200, 200, 200, 200]);
    const run = await reporterRun();
    expect(run.limits?.fed).toContain(dev.developer.id);
    expect(run.limits?.failed).toEqual([]);
    // In grace the quota is what refuses.
    expect((await call(dev.key)).status).toBe(429);

    // The grace ends unpaid: payment refuses, and its message is the one shown though the quota is still reached.
    await billing.advanceDays(7);
    const refused = await call(dev.key);
    expect(refused.status).toBe(402);
    const message = await messageOf(refused);
    expect(message).toMatch(/^Payment overdue: your last invoice could not be paid\./);
    expect(await pageStatus(dev)).toMatchObject({ access: 'refused', reason: 'payment_overdue' });
  });
});
