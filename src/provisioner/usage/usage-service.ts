/**
 * The usage reporter wired for the provisioner and the usage command: built from the settings,
 * the provisioner's Stripe client and write limiter; one run = the due windows, then the due
 * true-ups. In the provisioner a timer runs it (replicas may too: identifiers keep it exactly once).
 */
import type Stripe from 'stripe';
import type { MoesifCompanyIdSource } from '../moesif/moesif-client.ts';
import { atPriority, type WriteLimiter } from '../stripe/write-limiter.ts';
import { createCompanyDirectory } from './company-directory.ts';
import { createMoesifManagementClient } from './moesif-management-client.ts';
import { createStripeMeterSink } from './stripe-meter-sink.ts';
import { createLimitsFeed, type LimitsFeedResult, type LimitsTarget } from './limits-feed.ts';
import { runTrueUps, type TrueUpDeps, type TrueUpResult } from './true-up.ts';
import { UsageReporter, type WindowReport } from './usage-reporter.ts';
import { requireManagementToken, type UsageSettings } from './usage-settings.ts';

export interface UsageRun {
  windows: WindowReport[];
  trueUps: TrueUpResult[];
  /** With `limits`: the figures handed to the access decision after the run. */
  limits?: LimitsFeedResult;
}

export interface UsageService extends TrueUpDeps {
  run(options?: { closeOpenWindow?: boolean }): Promise<UsageRun>;
}

interface UsageServiceOptions {
  stripe: Stripe;
  writeLimiter?: WriteLimiter;
  companyIdSource: MoesifCompanyIdSource;
  dryRun?: boolean;
  now?: () => number;
  stripeTimeShiftSeconds?: () => number;
  /** The billing core: after each run, the seen developers' period figures go to its recordUsage (quotas, spend caps). */
  limits?: LimitsTarget;
}

export function createUsageService(settings: UsageSettings, options: UsageServiceOptions): UsageService {
  const moesif = createMoesifManagementClient({ apiBase: settings.managementApiBase, token: requireManagementToken(settings), billable: settings.billable });
  // Background work: a signup's writes go first on the shared Stripe budget.
  const limiter = options.writeLimiter ? atPriority(options.writeLimiter, 'low') : undefined;
  const sink = createStripeMeterSink(options.stripe, limiter);
  const directory = createCompanyDirectory(options.stripe, options.companyIdSource, options.now, limiter);
  const reporter = new UsageReporter({
    moesif,
    sink,
    directory,
    windowSeconds: settings.windowMinutes * 60,
    lagSeconds: settings.lagMinutes * 60,
    ...(options.now ? { now: options.now } : {}),
    ...(options.stripeTimeShiftSeconds ? { stripeTimeShiftSeconds: options.stripeTimeShiftSeconds } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
  });
  const deps: TrueUpDeps = { reporter, moesif, sink, directory, companyIdSource: options.companyIdSource };
  const feed = options.limits && !options.dryRun
    ? createLimitsFeed({ target: options.limits, moesif, directory, now: options.now ?? Date.now, stripeTimeShiftSeconds: options.stripeTimeShiftSeconds ?? (() => 0), windowSeconds: settings.windowMinutes * 60 })
    : undefined;
  let running: Promise<UsageRun> | undefined;
  return {
    ...deps,
    // One run at a time in a process; a run asked for meanwhile joins it.
    run(runOptions = {}) {
      running ??= (async () => {
        try {
          const windows = await reporter.reportDue(runOptions);
          const trueUps = await runTrueUps(deps, options.stripe);
          // After the meter events: a refusal follows calls Stripe already has.
          return { windows, trueUps, ...(feed ? { limits: await feed.afterRun(windows) } : {}) };
        } finally {
          running = undefined;
        }
      })();
      return running;
    },
  };
}

export interface UsageTimer {
  stop(): void;
}

/** Runs the reporter every interval (the first run one interval after start); a failed run is logged and the next one tries again. */
export function startUsageTimer(service: UsageService, intervalSeconds: number, log: (entry: Record<string, unknown>) => void): UsageTimer {
  const tick = () =>
    service.run().then(
      (result) => {
        const failed = result.windows.flatMap((w) => w.companies).filter((c) => c.outcome === 'failed').length + result.trueUps.filter((t) => t.status === 'failed').length;
        const sent = result.windows.flatMap((w) => w.companies).filter((c) => c.outcome === 'sent').length;
        const limits = result.limits ? { limits_fed: result.limits.fed.length, limits_previews: result.limits.previews, limits_failed: result.limits.failed.length } : {};
        if (sent || failed || result.trueUps.length || result.limits?.fed.length || result.limits?.failed.length)
          log({ event: 'usage_reported', windows: result.windows.length, sent, failed, true_ups: result.trueUps.map((t) => t.status), ...limits });
      },
      (error: unknown) => log({ event: 'usage_report_failed', message: error instanceof Error ? error.message : String(error) }),
    );
  const timer = setInterval(tick, intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
