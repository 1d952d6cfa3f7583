/**
 * Benchmark 5: reconcile over 5,000 Kong developers of whom 10% were never provisioned (the
 * provisioner was down, the event hook lost). Reports the Kong, Stripe and Moesif calls the
 * reconcile engine made, Stripe writes, and wall time, with the provisioner's default pacing and
 * the reconcile command's defaults (concurrency 4, Moesif "always").
 */
import { reconcileDevelopers } from '../src/admin/reconcile/reconcile-developers.ts';
import { KongAdminClient } from '../src/kong/kong-admin-client.ts';
import type { KongDeveloper } from '../src/kong/kong-types.ts';
import { silentLogger } from '../src/provisioner/provision-log.ts';
import { createProvisionerCore } from '../src/provisioner/server.ts';
import { loadProvisionerSettings } from '../src/provisioner/settings.ts';
import { developerView } from '../src/sandbox/kong/kong-state.ts';
import { FREE_PORTS, startSandbox } from '../src/sandbox/start-sandbox.ts';
import { auditBilling } from '../src/reliability/billing-audit.ts';
import type { BenchScenario } from './bench-types.ts';
import { round } from './support/stats.ts';
import { seedWholeDevelopers } from './support/seed-billing.ts';

export const reconcileScenario: BenchScenario = {
  name: 'reconcile',
  summary: 'reconcile 5,000 developers, 10% unprovisioned: Kong and Stripe calls, wall time (~70 s)',
  async run({ quick, log }) {
    const total = quick ? 500 : 5000;
    const unprovisioned = Math.round(total * 0.1);
    const concurrency = 4;
    const sandbox = await startSandbox({ ports: FREE_PORTS, services: ['kong', 'stripe', 'moesif'], eventHook: false });
    try {
      const kong = sandbox.kong!;
      const stripe = sandbox.stripe!;
      const moesif = sandbox.moesif!;
      const settings = await loadProvisionerSettings(sandbox.env);
      const developers: KongDeveloper[] = [];
      for (let i = 0; i < total; i++)
        developers.push(developerView(kong.state.addDeveloper('default', { email: `dev-${i}@example.com`, meta: { full_name: `Developer ${i}` } })));
      // Every tenth developer is left unprovisioned, spread through the list as in real life.
      const provisioned = developers.filter((_, i) => i % 10 !== 0);
      log(`seeding ${provisioned.length} whole developers in Stripe (in process)`);
      const seedStarted = performance.now();
      await seedWholeDevelopers(stripe, settings, provisioned);
      log(`seeded in ${round((performance.now() - seedStarted) / 1000)} s`);
      stripe.counters.reset();
      moesif.counters.reset();

      const kongCalls: Record<string, number> = {};
      const kongClient = new KongAdminClient({
        adminUrl: kong.adminUrl,
        workspace: 'default',
        onRequest: (method) => (kongCalls[method] = (kongCalls[method] ?? 0) + 1),
      });
      const core = createProvisionerCore(settings, { logger: silentLogger });
      log(`reconcile: ${total} developers, ${unprovisioned} unprovisioned, concurrency ${concurrency}, ${settings.stripe.maxWritesPerSecond} writes/s`);
      const started = performance.now();
      const report = await reconcileDevelopers(
        { listDevelopers: () => kongClient.listDevelopers(), provisioner: core.provisioner, moesif: core.moesif },
        { concurrency, onProgress: (p) => log(`${p.seen} seen, ${p.fixed} fixed, ${p.failed} failed`), progressEvery: Math.max(100, total / 5) },
      );
      const wallS = (performance.now() - started) / 1000;
      core.moesif.close();

      const stripeCounters = stripe.counters.snapshot();
      const moesifCounters = moesif.counters.snapshot();
      const audit = auditBilling(stripe, moesif, developers.map((d) => d.email));
      const kongTotal = Object.values(kongCalls).reduce((a, b) => a + b, 0);
      const stripeReads = stripeCounters.total - stripeCounters.writes;
      return [
        {
          id: 'reconcile',
          title: `Reconcile: ${total.toLocaleString('en-US')} developers, ${unprovisioned} unprovisioned`,
          metrics: {
            wall_s: round(wallS),
            developers_per_s: round(total / wallS),
            fixed: report.fixed,
            already_whole: report.alreadyWhole,
            failed: report.failed,
            kong_calls: kongTotal,
            stripe_calls: stripeCounters.total,
            stripe_reads: stripeReads,
            stripe_writes: stripeCounters.writes,
            stripe_429s: stripeCounters.rateLimited,
            moesif_calls: moesifCounters.total,
            write_floor_s: round(stripeCounters.writes / settings.stripe.maxWritesPerSecond),
            whole_after: audit.whole,
            duplicates_after: audit.duplicated.length,
          },
          parameters: { developers: total, unprovisioned, concurrency, moesif_mode: 'always', provisioner_max_writes_per_s: settings.stripe.maxWritesPerSecond, kong_page_size: 1000 },
          goals: [
            { description: 'every developer whole after one run, no duplicates', met: audit.whole === total && audit.duplicated.length === 0 },
            { description: `Stripe writes only for the unprovisioned (2 x ${unprovisioned})`, met: stripeCounters.writes === 2 * unprovisioned },
          ],
          notes: [
            `Kong calls by method: ${Object.entries(kongCalls).map(([m, n]) => `${m} ${n}`).join(', ')} (developers are read in pages of 1000; the provisioner gets the developer object and does not re-read Kong)`,
            `Stripe calls by route: ${Object.entries(stripeCounters.requests).map(([r, n]) => `${r} ${n}`).join(', ')}`,
            'Moesif "always" re-sends the user and company of every developer (Moesif cannot be read back): 2 calls each',
          ],
        },
      ];
    } finally {
      await sandbox.close();
    }
  },
};
