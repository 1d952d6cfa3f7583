/**
 * Benchmark 5b: how reconcile's Stripe calls grow with the portal. Reconciles 5,000, 20,000 and
 * 50,000 developers (100 of them unprovisioned each time) with Stripe's test-mode limits in force
 * in the emulator (25 reads/s, 25 writes/s). Whole developers cost no Stripe call of their own: the
 * calls grow by the snapshot's pages, about 2 per 100 developers (a customer page and a
 * subscription page), not 2 per developer as with per-developer lookups.
 */
import type { MetricValue } from './bench-types.ts';
import type { BenchScenario } from './bench-types.ts';
import { runReconcileBench } from './support/reconcile-run.ts';
import { round } from './support/stats.ts';

const TEST_MODE_LIMIT = 25;

export const reconcileScaleScenario: BenchScenario = {
  name: 'reconcile-scale',
  summary: 'reconcile 5,000 / 20,000 / 50,000 developers at Stripe test-mode limits: calls per 100 developers, wall time (~10 min)',
  async run({ quick, log }) {
    const sizes = quick ? [500, 2000] : (process.env.BENCH_RECONCILE_SIZES ?? '5000,20000,50000').split(',').map(Number);
    const unprovisioned = quick ? 20 : 100;
    const metrics: Record<string, MetricValue> = {};
    const points: Array<{ size: number; calls: number }> = [];
    const goals = [];
    for (const size of sizes) {
      const run = await runReconcileBench({
        total: size,
        unprovisioned,
        concurrency: 4,
        stripeLimits: { writeRateLimit: TEST_MODE_LIMIT, readRateLimit: TEST_MODE_LIMIT },
        log: (line) => log(`[${size}] ${line}`),
      });
      points.push({ size, calls: run.stripe.total });
      Object.assign(metrics, {
        [`stripe_calls_${size}`]: run.stripe.total,
        [`stripe_writes_${size}`]: run.stripe.writes,
        [`stripe_snapshot_pages_${size}`]: run.snapshotPages,
        [`stripe_429s_${size}`]: run.stripe.rateLimited,
        [`moesif_calls_${size}`]: run.moesifCalls,
        [`kong_calls_${size}`]: Object.values(run.kongCalls).reduce((a, b) => a + b, 0),
        [`wall_s_${size}`]: round(run.wallS),
        [`access_changes_${size}`]: run.accessChanges,
      });
      goals.push({ description: `${size}: every developer whole, no duplicates, none failed`, met: run.whole === size && run.duplicates === 0 && run.report.failed === 0 });
      goals.push({ description: `${size}: Moesif calls <= developers/100 + 10`, met: run.moesifCalls <= size / 100 + 10 });
    }
    const first = points[0];
    const last = points.at(-1);
    const slope = first && last && last.size > first.size ? ((last.calls - first.calls) / (last.size - first.size)) * 100 : null;
    metrics.stripe_calls_per_100_more_developers = slope === null ? null : round(slope);
    goals.push({ description: 'Stripe calls grow by <= 2.5 per 100 developers (bulk pages), not ~2 per developer', met: slope === null ? null : slope <= 2.5 });
    return [
      {
        id: 'reconcile-scale',
        title: `Reconcile at scale: ${sizes.map((s) => s.toLocaleString('en-US')).join(' / ')} developers, ${unprovisioned} unprovisioned, Stripe test-mode limits`,
        metrics,
        parameters: { sizes: sizes.join(','), unprovisioned, concurrency: 4, emulator_read_limit_per_s: TEST_MODE_LIMIT, emulator_write_limit_per_s: TEST_MODE_LIMIT, stripe_page_size: 100 },
        goals,
        notes: [
          'The per-developer design (before): customers.list by email + subscriptions.list per developer, i.e. ~2.2 calls per developer; 50,000 developers = ~110,000 calls, over an hour at 25 reads/s',
          'Each run: snapshot pages (customers + subscriptions) + 4 calls per unprovisioned developer (live lookup before each of the 2 creates) + a few price reads',
        ],
      },
    ];
  },
};
