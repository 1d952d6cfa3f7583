/**
 * `portal-monetization usage`: the usage reporter as a command (cron, backfill, a look at the
 * figures). Reads Moesif's billable counts and sends Stripe meter events exactly as the
 * provisioner's timer does, with the same identifiers, so running both is safe.
 */
import Stripe from 'stripe';
import { Command, InvalidArgumentError, parseArgs } from '../../shared/command-line.ts';
import { SettingError } from '../../shared/errors.ts';
import { createStripeClient } from '../../provisioner/stripe/stripe-client.ts';
import { parseStripeApiBase, parseStripeSecretKey } from '../../provisioner/stripe/stripe-settings.ts';
import { createUsageService, type UsageService } from '../../provisioner/usage/usage-service.ts';
import { parseUsageSettings, USAGE_VARIABLES, type UsageSettings } from '../../provisioner/usage/usage-settings.ts';
import { usageView } from '../../provisioner/usage/usage-view.ts';
import { windowsEndingIn } from '../../provisioner/usage/usage-windows.ts';
import { createWriteLimiter } from '../../provisioner/stripe/write-limiter.ts';
import { formatReport, formatRun, formatView } from './usage-output.ts';

interface UsageFlags {
  once?: boolean;
  dryRun?: boolean;
  from?: number;
  to?: number;
  report?: boolean;
  closeOpenWindow?: boolean;
}

function isoTime(name: string) {
  return (value: string): number => {
    const ms = Date.parse(value);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) throw new InvalidArgumentError(`${name} must be an ISO time such as 2026-12-01T00:00:00Z`);
    return Math.floor(ms / 1000);
  };
}

function usageProgram(): Command {
  const variables = USAGE_VARIABLES.map((v) => `  ${v.name.padEnd(30)} ${v.default.padEnd(26)} ${v.description}`).join('\n');
  return new Command('portal-monetization usage')
    .description(
      "Report billable calls from Moesif (Management API) to Stripe meter events, exactly once: one meter event per customer and window, with an identifier Stripe dedupes, then each closed period's true-up before Stripe finalizes its invoice.\nWithout --once it keeps running, every USAGE_REPORT_INTERVAL_SECONDS.",
    )
    .option('--once', 'one run (the due windows and true-ups), then exit: for cron')
    .option('--dry-run', 'read Moesif and Stripe, print what would be sent; send nothing')
    .option('--from <iso>', 'backfill: report the windows that end after this time (with --to)', isoTime('--from'))
    .option('--to <iso>', 'backfill: ... and at or before this time', isoTime('--to'))
    .option('--report', 'print per developer: calls in Moesif, reported to Stripe, difference (the last 24 hours, or --from/--to); send nothing')
    .option('--close-open-window', 'also report the window still open, up to now, without the ingestion lag (sandbox, demos); its later calls come with the period true-up')
    .addHelpText(
      'after',
      `
Environment:
  STRIPE_SECRET_KEY, STRIPE_API_BASE, STRIPE_MAX_WRITES_PER_SECOND, MOESIF_COMPANY_ID_SOURCE (as the provisioner), and:
${variables}

Billed: responses whose status is in BILLABLE_STATUS; never 401 (bad key), 402 and 429 (refused by
this product's plugins) or 5xx (upstream failures).

Exit status: 0 when everything due was delivered (or nothing was due), 1 when a send failed
(the next run retries it with the same identifier), 2 for a bad flag or setting.

Examples:
  npm run usage -- --once
  npm run usage -- --once --dry-run
  npm run usage -- --from 2026-12-01T00:00:00Z --to 2026-12-02T00:00:00Z
  npm run usage -- --report
  */5 * * * *  cd /srv/portal-monetization && npm run --silent usage -- --once >> usage.log 2>&1`,
    );
}

function stripeFrom(env: NodeJS.ProcessEnv): { stripe: Stripe; writesPerSecond: number; apiBase: URL | undefined } {
  const { secretKey, mode } = parseStripeSecretKey(env.STRIPE_SECRET_KEY);
  const apiBase = parseStripeApiBase(env.STRIPE_API_BASE);
  const raw = env.STRIPE_MAX_WRITES_PER_SECOND;
  const writesPerSecond = raw ? Number(raw) : mode === 'live' ? 80 : 20;
  if (!(writesPerSecond > 0 && writesPerSecond <= 100)) throw new SettingError('STRIPE_MAX_WRITES_PER_SECOND', `"${raw}" is not a rate from 1 to 100`, 'use e.g. 20 (test keys) or 80 (live keys)');
  return { stripe: createStripeClient({ secretKey, mode, apiBase, maxWritesPerSecond: writesPerSecond }), writesPerSecond, apiBase };
}

/**
 * Against the sandbox's Stripe emulator, meter event times follow its account clock (moved by
 * `/_emulator/time/advance`); it answers GET /_emulator/time. Real Stripe has no such route: 0.
 */
async function emulatorClockShift(apiBase: URL | undefined): Promise<number> {
  if (!apiBase) return 0;
  try {
    const response = await fetch(new URL('/_emulator/time', apiBase), { signal: AbortSignal.timeout(2000) });
    if (!response.ok) return 0;
    const body = (await response.json()) as { skipped_seconds?: unknown };
    return typeof body.skipped_seconds === 'number' ? body.skipped_seconds : 0;
  } catch {
    return 0;
  }
}

function companyIdSource(env: NodeJS.ProcessEnv): 'subscription' | 'customer' {
  const raw = (env.MOESIF_COMPANY_ID_SOURCE ?? '').trim();
  if (raw === '' || raw === 'subscription') return 'subscription';
  if (raw === 'customer') return 'customer';
  throw new SettingError('MOESIF_COMPANY_ID_SOURCE', 'must be "subscription" or "customer"');
}

function rangeWindows(flags: UsageFlags, settings: UsageSettings, now: number): ReturnType<typeof windowsEndingIn> {
  const to = flags.to ?? now - settings.lagMinutes * 60;
  const from = flags.from ?? to - 24 * 3600;
  return windowsEndingIn(from, to, settings.windowMinutes * 60);
}

async function runOnce(service: UsageService, stripe: Stripe, flags: UsageFlags, settings: UsageSettings): Promise<number> {
  const now = service.reporter.nowSeconds();
  if (flags.report) {
    console.log(formatView(await usageView(service, stripe, rangeWindows(flags, settings, now))));
    return 0;
  }
  if (flags.from !== undefined) {
    const reports = await service.reporter.backfill(rangeWindows(flags, settings, now));
    console.log(formatReport(reports, flags.dryRun ?? false));
    return reports.some((r) => r.companies.some((c) => c.outcome === 'failed')) ? 1 : 0;
  }
  const run = await service.run(flags.closeOpenWindow ? { closeOpenWindow: true } : {});
  console.log(formatRun(run, flags.dryRun ?? false));
  const failed = run.windows.some((w) => w.companies.some((c) => c.outcome === 'failed')) || run.trueUps.some((t) => t.status === 'failed');
  return failed ? 1 : 0;
}

export async function runUsageCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseArgs<UsageFlags>(usageProgram(), argv);
  if (!parsed.ok) return parsed.exitCode;
  const flags = parsed.options;
  if ((flags.from === undefined) !== (flags.to === undefined) && !flags.report) throw new SettingError('--from/--to', 'give both, or neither', 'e.g. --from 2026-12-01T00:00:00Z --to 2026-12-02T00:00:00Z');
  if (flags.from !== undefined && flags.to !== undefined && flags.to <= flags.from) throw new SettingError('--to', 'must be after --from');
  const settings = parseUsageSettings(env);
  if (settings.mode !== 'provisioner' && !flags.report)
    throw new SettingError('USAGE_REPORTING', `is "${settings.mode}": this product does not report usage (Moesif's billing meter does, or nobody)`, 'set USAGE_REPORTING=provisioner (the default) to report from here; never let two reporters bill the same price');
  const { stripe, writesPerSecond, apiBase } = stripeFrom(env);
  const shift = await emulatorClockShift(apiBase);
  const service = createUsageService(settings, {
    stripe,
    writeLimiter: createWriteLimiter({ ratePerSecond: writesPerSecond }),
    companyIdSource: companyIdSource(env),
    ...(flags.dryRun ? { dryRun: true } : {}),
    ...(shift ? { stripeTimeShiftSeconds: () => shift } : {}),
  });
  // The write limiter's pacing timer does not hold the process open: this does, until the work is done.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    if (flags.once || flags.report || flags.from !== undefined || flags.dryRun) return await runOnce(service, stripe, flags, settings);
    return await runForever(service, stripe, flags, settings);
  } finally {
    clearInterval(keepAlive);
  }
}

async function runForever(service: UsageService, stripe: Stripe, flags: UsageFlags, settings: UsageSettings): Promise<number> {
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  while (!stopped) {
    await runOnce(service, stripe, flags, settings).catch((error: unknown) => console.error(`usage: run failed: ${(error as Error).message}`));
    for (let waited = 0; waited < settings.intervalSeconds && !stopped; waited++) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return 0;
}
