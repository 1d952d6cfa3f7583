/**
 * Benchmark: plan limits (issue 21) on the whole sandbox (Kong, Stripe, Moesif, provisioner).
 *
 * - Quota to refusal: developers on a hard quota of 3 calls make their 3rd call at spread-out
 *   moments while the reporter runs on a short interval (the bench's own loop, as the provisioner's
 *   timer does, since USAGE_REPORT_INTERVAL_SECONDS cannot go below 30); each then calls on until
 *   Kong's proxy answers 429. Kong's propagation knob is set to its 5 s `db_update_frequency`
 *   default. Goal: p95 <= the interval + the propagation (+ one run's wall time, which is reported).
 * - Plugin writes per plan change: Kong plugin writes (create, replace, delete) while the provisioner
 *   handles one plan switch in Stripe (webhook to Kong). Goal <= 2.
 * - Spend-cap Stripe calls: developers with a cap calling through an emulated hour of reporter runs
 *   at the default 300 s interval (12 runs back to back), counting every Stripe call by route.
 */
import { FREE_PRICING, testPlan, writePlansWith } from '../src/testkit/plans-fixtures.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KONG_DB_UPDATE_FREQUENCY_MS } from '../src/sandbox/kong/index.ts';
import { startBillingSandbox, type BillingSandbox, type SignedUp } from '../src/testkit/billing-sandbox.ts';
import { createUsageService, type UsageService } from '../src/provisioner/usage/usage-service.ts';
import { parseUsageSettings } from '../src/provisioner/usage/usage-settings.ts';
import type { BenchScenario } from './bench-types.ts';
import { percentile, round } from './support/stats.ts';

const QUOTA = 3;
const INTERVAL_MS = 2000;
const PROPAGATION_MS = KONG_DB_UPDATE_FREQUENCY_MS;
const POLL_MS = 50;
const HOUR_RUNS = 3600 / 300;


function writePlans(dir: string): Promise<string> {
  return writePlansWith(dir, [
    testPlan('benchquota', { payment_collection: 'none', included: QUOTA, limits: { quota: { calls: QUOTA, enforcement: 'hard' } } }, FREE_PRICING),
    testPlan('benchrate', { payment_collection: 'none', limits: { rate: { hour: 3 } } }, FREE_PRICING),
    testPlan('benchfaster', { payment_collection: 'none', limits: { rate: { second: 2, hour: 5 } } }, FREE_PRICING),
    testPlan('benchopen', { payment_collection: 'none' }, FREE_PRICING),
  ]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function reporter(billing: BillingSandbox): UsageService {
  const core = billing.sandbox.provisioner!;
  return createUsageService(parseUsageSettings(billing.sandbox.env), {
    stripe: core.stripe,
    companyIdSource: 'subscription',
    stripeTimeShiftSeconds: () => billing.sandbox.stripe!.state.skippedSeconds,
    limits: core.billing,
  });
}

/** From the call that reaches the quota to the first 429, per developer, with the reporter on a short loop. */
async function quotaToRefusal(billing: BillingSandbox, developers: SignedUp[], log: (line: string) => void) {
  const service = reporter(billing);
  billing.sandbox.kong!.state.proxyView.setDelay(PROPAGATION_MS);
  const runsMs: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      await service.run();
      runsMs.push(performance.now() - started);
      await sleep(Math.max(0, INTERVAL_MS - (performance.now() - started)));
    }
  })();
  const latencies: number[] = [];
  const overrun: number[] = [];
  try {
    await Promise.all(
      developers.map(async (dev, i) => {
        // Spread the moments the quota is reached over several intervals.
        await sleep(Math.round((i * INTERVAL_MS * 1.37) % (INTERVAL_MS * 3)));
        for (let call = 0; call < QUOTA; call++) await billing.callStatus(dev.key);
        const reached = performance.now();
        let allowed = 0;
        while ((await billing.callStatus(dev.key)) !== 429) {
          allowed++;
          if (performance.now() - reached > 60_000) throw new Error(`${dev.email}: no 429 within 60 s of reaching the quota`);
          await sleep(POLL_MS);
        }
        latencies.push(performance.now() - reached);
        overrun.push(allowed);
      }),
    );
  } finally {
    stopped = true;
    await loop;
    billing.sandbox.kong!.state.proxyView.setDelay(0);
  }
  log(`quota to refusal: ${latencies.map((ms) => round(ms / 1000)).join(', ')} s`);
  return { latencies, overrun, runsMs };
}

/** Kong plugin writes while the provisioner handles one plan switch in Stripe. */
async function pluginWritesPerChange(billing: BillingSandbox, dev: SignedUp, toPlan: string): Promise<{ plugin: number; other: number }> {
  const state = billing.sandbox.kong!.state;
  const counts = { plugin: 0, other: 0 };
  const originals = { putPlugin: state.putPlugin, deletePlugin: state.deletePlugin, updateDeveloper: state.updateDeveloper, addKey: state.addKey, deleteKey: state.deleteKey };
  state.putPlugin = (...args) => (counts.plugin++, originals.putPlugin.apply(state, args));
  state.deletePlugin = (...args) => (counts.plugin++, originals.deletePlugin.apply(state, args));
  state.updateDeveloper = (...args) => (counts.other++, originals.updateDeveloper.apply(state, args));
  state.addKey = (...args) => (counts.other++, originals.addKey.apply(state, args));
  state.deleteKey = (...args) => (counts.other++, originals.deleteKey.apply(state, args));
  try {
    const subscription = (await billing.stripe.subscriptions.list({ customer: dev.customer.id })).data[0]!;
    const price = (await billing.stripe.prices.list({ lookup_keys: [`kpm_${toPlan}_monthly`] })).data[0]!;
    await billing.stripe.subscriptions.update(subscription.id, { items: [{ id: subscription.items.data[0]!.id, price: price.id }], proration_behavior: 'none' });
    await billing.settle();
  } finally {
    Object.assign(state, originals);
  }
  return counts;
}

/** Stripe calls by route over an emulated hour of reporter runs (back to back) for capped developers calling between runs. */
async function spendCapHour(billing: BillingSandbox, capped: SignedUp[]) {
  const service = reporter(billing);
  await service.run(); // the directory's first load and earlier calls are not the hour's
  await billing.settle();
  const counters = billing.sandbox.stripe!.counters;
  counters.reset();
  let previews = 0;
  for (let run = 0; run < HOUR_RUNS; run++) {
    // Each capped developer calls in every other interval (the rest idle), so changed and unchanged calls both occur.
    for (const [i, dev] of capped.entries()) if ((run + i) % 2 === 0) await billing.callStatus(dev.key);
    await billing.sandbox.kong!.settle();
    const result = await service.run();
    previews += result.limits?.previews ?? 0;
  }
  return { previews, snapshot: counters.snapshot() };
}

async function setCap(billing: BillingSandbox, dev: SignedUp, cents: number): Promise<void> {
  const response = await fetch(`${billing.sandbox.provisioner!.url}/billing/spend-cap`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: dev.email, developer_id: dev.developer.id, spend_cap: cents }),
  });
  if (response.status !== 200) throw new Error(`setting the spend cap answered ${response.status}`);
}

export const planLimitsScenario: BenchScenario = {
  name: 'plan-limits',
  summary: 'plan limits: quota reached to 429 at Kong (p50/p95), Kong plugin writes per plan change, spend-cap Stripe calls per developer per hour',
  async run({ quick, log }) {
    const dir = await mkdtemp(join(tmpdir(), 'kpm-bench-limits-'));
    const billing = await startBillingSandbox({ plansFile: await writePlans(dir) });
    try {
      const quotaDevs = quick ? 4 : 8;
      const cappedDevs = quick ? 2 : 4;
      log(`signing up ${quotaDevs} developers on a hard quota of ${QUOTA} calls`);
      const onQuota: SignedUp[] = [];
      for (let i = 0; i < quotaDevs; i++) onQuota.push(await billing.signUp('benchquota', 'bquota'));
      const { latencies, overrun, runsMs } = await quotaToRefusal(billing, onQuota, log);

      log('plan changes: rate 3/h -> 2/s + 5/h (plugin patched), quota reached -> no limits (refusal lifted, plugin removed)');
      const rated = await billing.signUp('benchrate', 'bswitch');
      const rateChange = await pluginWritesPerChange(billing, rated, 'benchfaster');
      const lifted = await pluginWritesPerChange(billing, onQuota[0]!, 'benchopen');

      log(`spend caps: ${cappedDevs} capped developers over an emulated hour (${HOUR_RUNS} runs)`);
      const capped: SignedUp[] = [];
      for (let i = 0; i < cappedDevs; i++) {
        const dev = await billing.signUp('bundle', 'bcap');
        await billing.addCard(dev.customer.id, 'pm_card_visa');
        await setCap(billing, dev, 1_000_000);
        capped.push(dev);
      }
      const hour = await spendCapHour(billing, capped);
      const previewCalls = hour.snapshot.requests['POST /v1/invoices/create_preview'] ?? 0;
      const byRoute = Object.entries(hour.snapshot.requests).map(([route, n]) => `${route}: ${n}`).join(', ');

      const p50 = percentile(latencies, 50) / 1000;
      const p95 = percentile(latencies, 95) / 1000;
      const goalS = (INTERVAL_MS + PROPAGATION_MS) / 1000;
      const worstPluginWrites = Math.max(rateChange.plugin, lifted.plugin);
      return [
        {
          id: 'plan-limits',
          title: `Plan limits: ${quotaDevs} developers reach a hard quota, 2 plan changes, ${cappedDevs} capped developers over an hour of runs`,
          metrics: {
            quota_to_429_p50_s: round(p50, 2),
            quota_to_429_p95_s: round(p95, 2),
            calls_allowed_past_quota_at_20_per_s_max: Math.max(...overrun),
            reporter_run_p50_ms: round(percentile(runsMs, 50)),
            plugin_writes_rate_plan_change: rateChange.plugin,
            plugin_writes_quota_lifting_change: lifted.plugin,
            other_kong_writes_per_change_max: Math.max(rateChange.other, lifted.other),
            create_preview_per_capped_dev_per_hour: round(previewCalls / cappedDevs, 2),
            stripe_calls_per_capped_dev_per_hour: round(hour.snapshot.total / cappedDevs, 2),
          },
          parameters: {
            quota_calls: QUOTA,
            report_interval_s: INTERVAL_MS / 1000,
            kong_propagation_s: PROPAGATION_MS / 1000,
            proxy_poll_ms: POLL_MS,
            emulated_hour_runs: HOUR_RUNS,
            emulated_interval_s: 300,
            capped_developers: cappedDevs,
          },
          goals: [
            { description: `quota to 429 p95 <= report interval (${INTERVAL_MS / 1000} s) + Kong propagation (${PROPAGATION_MS / 1000} s)`, met: p95 <= goalS },
            { description: 'Kong plugin writes per plan change <= 2', met: worstPluginWrites <= 2 },
            { description: `spend-cap previews per capped developer per hour <= runs per hour (${HOUR_RUNS})`, met: previewCalls / cappedDevs <= HOUR_RUNS },
          ],
          notes: [
            `Kong propagation: the emulator's fixed ${PROPAGATION_MS / 1000} s delay (db_update_frequency default); real Kong polls, so a change lands 0-5 s later: the emulator is the slower case.`,
            'The goal leaves out the run\'s own work: the quota reached just after a run\'s Moesif count waits for the next run\'s count (up to the interval), which then re-decides only developers whose figures crossed a line (80 %, 100 %) or a period: one access sync (a few Stripe reads, one Kong write) each. Calls that rise past a quota already refused cost nothing (before: a full sync each, queued on the Stripe read budget ahead of those who had just crossed).',
            `The 429 is seen by a client polling every ${POLL_MS} ms: each figure may be late by up to that.`,
            'The report interval is the bench\'s own 2 s loop (the setting\'s minimum is 30 s); production latency is up to USAGE_REPORT_INTERVAL_SECONDS + the run + propagation.',
            'Plugin writes: Kong plugin create/replace/delete; other writes (developer, keys) are counted apart.',
            `Stripe calls over the hour, all routes (reporter and feed; calls between runs in every other interval): ${byRoute || 'none'}.`,
          ],
        },
      ];
    } finally {
      await billing.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
