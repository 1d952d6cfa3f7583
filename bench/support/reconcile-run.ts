/**
 * One reconcile run for the benches, wired like `portal-monetization reconcile`: the provisioner's
 * core, the bulk Stripe snapshot, access sync and the command's Moesif batching, against the
 * sandbox's emulators. Seeds `total` Kong developers, makes all but `unprovisioned` of them whole
 * in Stripe first (in process, unpaced), then counts every call the run makes. Steady state: the
 * sandbox's webhook endpoint is removed (its deliveries to a provisioner that is not running would
 * flood the run) and PAYMENT_COLLECTION is none, so access at Kong already matches Stripe and the
 * run measures reads; each access change would add two live Stripe reads (the stale-snapshot guard).
 */
import Stripe from 'stripe';
import { RECONCILE_MOESIF_BATCHING } from '../../src/admin/reconcile/reconcile-command.ts';
import { reconcileDevelopers, type ReconcileReport } from '../../src/admin/reconcile/reconcile-developers.ts';
import { KongAdminClient } from '../../src/kong/kong-admin-client.ts';
import type { KongDeveloper } from '../../src/kong/kong-types.ts';
import { readStripeSnapshot } from '../../src/provisioner/core/stripe-snapshot.ts';
import { silentLogger } from '../../src/shared/provision-log.ts';
import { createProvisionerCore } from '../../src/provisioner/compose.ts';
import { loadProvisionerSettings } from '../../src/provisioner/settings/settings.ts';
import { auditBilling } from '../../src/testkit/billing-audit.ts';
import { developerView } from '../../src/sandbox/kong/kong-state.ts';
import { FREE_PORTS, startSandbox } from '../../src/dev/start-sandbox.ts';
import type { StripeEmulatorKnobs } from '../../src/sandbox/stripe/stripe-emulator.ts';
import { seedWholeDevelopers } from './seed-billing.ts';
import { round } from './stats.ts';

interface ReconcileRunOptions {
  total: number;
  unprovisioned: number;
  concurrency: number;
  /** Emulator limits in force during the run (not while seeding), e.g. Stripe's test mode: 25 and 25. */
  stripeLimits?: Pick<StripeEmulatorKnobs, 'writeRateLimit' | 'readRateLimit'>;
  log: (line: string) => void;
}

interface ReconcileRunFigures {
  report: ReconcileReport;
  wallS: number;
  kongCalls: Record<string, number>;
  stripe: { total: number; reads: number; writes: number; rateLimited: number; requests: Record<string, number> };
  moesifCalls: number;
  snapshotPages: number;
  maxWritesPerSecond: number;
  whole: number;
  duplicates: number;
  accessChanges: number;
}

export async function runReconcileBench(options: ReconcileRunOptions): Promise<ReconcileRunFigures> {
  const { total, unprovisioned, log } = options;
  const sandbox = await startSandbox({ ports: FREE_PORTS, services: ['kong', 'stripe', 'moesif'], eventHook: false });
  try {
    const kong = sandbox.kong!;
    const stripe = sandbox.stripe!;
    const moesif = sandbox.moesif!;
    const settings = await loadProvisionerSettings({ ...sandbox.env, PAYMENT_COLLECTION: 'none' });
    const admin = new Stripe(settings.stripe.secretKey, { ...stripe.clientOptions, maxNetworkRetries: 0 });
    for (const endpoint of (await admin.webhookEndpoints.list({ limit: 100 })).data) await admin.webhookEndpoints.del(endpoint.id);
    const developers: KongDeveloper[] = [];
    for (let i = 0; i < total; i++)
      developers.push(developerView(kong.state.addDeveloper('default', { email: `dev-${i}@example.com`, meta: { full_name: `Developer ${i}` } })));
    // The unprovisioned are spread through the list as in real life.
    const every = Math.max(1, Math.floor(total / Math.max(1, unprovisioned)));
    const missing = new Set(developers.filter((_, i) => i % every === 0).slice(0, unprovisioned).map((d) => d.id));
    log(`seeding ${total - missing.size} whole developers in Stripe (in process)`);
    const seedStarted = performance.now();
    await seedWholeDevelopers(stripe, settings, developers.filter((d) => !missing.has(d.id)));
    log(`seeded in ${round((performance.now() - seedStarted) / 1000)} s`);
    if (options.stripeLimits) stripe.configure(options.stripeLimits);
    stripe.counters.reset();
    moesif.counters.reset();

    const kongCalls: Record<string, number> = {};
    const kongClient = new KongAdminClient({ adminUrl: kong.adminUrl, workspace: 'default', onRequest: (method) => (kongCalls[method] = (kongCalls[method] ?? 0) + 1) });
    const core = createProvisionerCore(settings, { logger: silentLogger, moesifSync: RECONCILE_MOESIF_BATCHING });
    let snapshotPages = 0;
    log(`reconcile: ${total} developers, ${missing.size} unprovisioned, concurrency ${options.concurrency}, ${settings.stripe.maxWritesPerSecond} Stripe calls/s paced`);
    const started = performance.now();
    const report = await reconcileDevelopers(
      {
        listDevelopers: () => kongClient.listDevelopers(),
        provisioner: core.provisioner,
        moesif: core.moesif,
        syncAccess: (developer, syncOptions) => core.billing.access.syncDeveloper(developer, syncOptions),
        readSnapshot: async () => {
          const snapshot = await readStripeSnapshot(core);
          snapshotPages = snapshot.counts.pages;
          log(`snapshot: ${snapshot.counts.customers} customers, ${snapshot.counts.subscriptions} subscriptions in ${snapshotPages} pages, ${round((performance.now() - started) / 1000)} s`);
          return snapshot;
        },
      },
      { concurrency: options.concurrency, onProgress: (p) => log(`${p.seen} seen, ${p.fixed} fixed, ${p.failed} failed`), progressEvery: Math.max(100, total / 5) },
    );
    const wallS = (performance.now() - started) / 1000;
    core.moesif.close();
    const counters = stripe.counters.snapshot();
    const audit = auditBilling(stripe, moesif, developers.map((d) => d.email));
    return {
      report,
      wallS,
      kongCalls,
      stripe: { total: counters.total, reads: counters.total - counters.writes, writes: counters.writes, rateLimited: counters.rateLimited, requests: counters.requests },
      moesifCalls: moesif.counters.snapshot().total,
      snapshotPages,
      maxWritesPerSecond: settings.stripe.maxWritesPerSecond,
      whole: audit.whole,
      duplicates: audit.duplicated.length,
      accessChanges: report.accessChanges.length,
    };
  } finally {
    await sandbox.close();
  }
}
