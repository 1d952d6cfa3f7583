/**
 * Benchmark 5: reconcile over 5,000 Kong developers of whom 10% were never provisioned (the
 * provisioner was down, the event hook lost). Reports the Kong, Stripe and Moesif calls the
 * reconcile engine made, Stripe writes, and wall time, wired like the reconcile command (bulk
 * Stripe snapshot, access sync, Moesif batches, concurrency 4, Moesif "always").
 */
import type { BenchScenario } from './bench-types.ts';
import { runReconcileBench } from './support/reconcile-run.ts';
import { round } from './support/stats.ts';

export const reconcileScenario: BenchScenario = {
  name: 'reconcile',
  summary: 'reconcile 5,000 developers, 10% unprovisioned: Kong and Stripe calls, wall time (~70 s)',
  async run({ quick, log }) {
    const total = quick ? 500 : 5000;
    const unprovisioned = Math.round(total * 0.1);
    const concurrency = 4;
    const run = await runReconcileBench({ total, unprovisioned, concurrency, log });
    const kongTotal = Object.values(run.kongCalls).reduce((a, b) => a + b, 0);
    // Per unprovisioned developer: customers.list by email, create, subscriptions.list of the new customer, create.
    const allowed = run.stripe.writes + 2 * unprovisioned + run.snapshotPages + 5;
    return [
      {
        id: 'reconcile',
        title: `Reconcile: ${total.toLocaleString('en-US')} developers, ${unprovisioned} unprovisioned`,
        metrics: {
          wall_s: round(run.wallS),
          developers_per_s: round(total / run.wallS),
          fixed: run.report.fixed,
          already_whole: run.report.alreadyWhole,
          failed: run.report.failed,
          kong_calls: kongTotal,
          stripe_calls: run.stripe.total,
          stripe_reads: run.stripe.reads,
          stripe_writes: run.stripe.writes,
          stripe_snapshot_pages: run.snapshotPages,
          stripe_429s: run.stripe.rateLimited,
          moesif_calls: run.moesifCalls,
          write_floor_s: round(run.stripe.writes / run.maxWritesPerSecond),
          access_changes: run.accessChanges,
          whole_after: run.whole,
          duplicates_after: run.duplicates,
        },
        parameters: { developers: total, unprovisioned, concurrency, moesif_mode: 'always', provisioner_max_writes_per_s: run.maxWritesPerSecond, kong_page_size: 1000, stripe_page_size: 100 },
        goals: [
          { description: 'every developer whole after one run, no duplicates', met: run.whole === total && run.duplicates === 0 },
          { description: `Stripe writes only for the unprovisioned (2 x ${unprovisioned})`, met: run.stripe.writes === 2 * unprovisioned },
          { description: 'Stripe calls <= writes + one lookup per write + snapshot pages + 5', met: run.stripe.total <= allowed },
          { description: 'Moesif calls <= developers/100 + 10', met: run.moesifCalls <= total / 100 + 10 },
        ],
        notes: [
          `Kong calls by method: ${Object.entries(run.kongCalls).map(([m, n]) => `${m} ${n}`).join(', ')} (developers in pages of 1000; not counted: access sync's read of each developer's plugins, through the provisioner's own Kong client)`,
          `Stripe calls by route: ${Object.entries(run.stripe.requests).map(([r, n]) => `${r} ${n}`).join(', ')}`,
          'Stripe is read once in bulk (customers, then subscriptions with status "all", 100 a page, paced by the write limiter); only developers it lacks are listed live, and only before a create',
          'Moesif "always" re-sends the user and company of every developer, in /batch calls of up to 500 (a batch leaves after 5 s or when full)',
        ],
      },
    ];
  },
};
