/**
 * The period true-up: before Stripe finalizes a period's invoice (about an hour after the period
 * ends; the draft's `automatically_finalizes_at`), compare Moesif's billable calls for the period
 * with what Stripe's meter holds, and send the difference once.
 *
 * Stripe aggregates meter events asynchronously, so a summary may not hold an event sent seconds
 * ago. The check is made per window: each window has exactly one event of ours, so an hour of the
 * summary holding nothing while Moesif has calls there means either the event never went out
 * (a crash: it is sent now, with the window's own identifier) or Stripe has not aggregated it yet
 * (its identifier answers "already exists"). Either way the true-up waits for the next run rather
 * than count a lagging summary as missing usage. Only when every window with calls shows in the
 * summary is the difference sent, under one identifier per customer, meter and period, so a second
 * run or replica can never add it twice. Calls Moesif ingests after that are reported as late.
 */
import type Stripe from 'stripe';
import type { BillingTarget, CompanyDirectory } from './company-directory.ts';
import type { MoesifManagementClient } from './moesif-management-client.ts';
import { usageIdentifier, type UsageSink } from './stripe-meter-sink.ts';
import { windowIdentifier, type UsageReporter } from './usage-reporter.ts';
import { windowsOfPeriod, windowTimestamp, type UsageWindow } from './usage-windows.ts';

interface TrueUpCandidate {
  customerId: string;
  subscriptionId: string;
  /** The closed period, Stripe time. */
  period: UsageWindow;
  /** When Stripe finalizes the draft (Stripe time). */
  finalizesAt: number;
}

type TrueUpStatus = 'matched' | 'trued_up' | 'already_trued_up' | 'deferred' | 'over_reported' | 'not_billable' | 'dry_run' | 'failed';

export interface TrueUpResult {
  subscriptionId: string;
  customerId: string;
  period: UsageWindow;
  status: TrueUpStatus;
  moesifCalls?: number;
  stripeUsage?: number;
  sent?: number;
  /** Late calls of earlier periods (Moesif over Stripe in the 32 days before this period) added to this true-up. */
  carried?: number;
  /** Windows re-sent because the summary did not hold them (filled: Stripe had none; lagging: it had). */
  filled?: number;
  lagging?: number;
  error?: string;
}

const HOUR = 3600;
const floorHour = (t: number) => Math.floor(t / HOUR) * HOUR;

/** Draft subscription invoices made in the last two hours: the periods that just closed. */
async function findTrueUpCandidates(stripe: Stripe, stripeNow: number): Promise<TrueUpCandidate[]> {
  const candidates: TrueUpCandidate[] = [];
  for await (const invoice of stripe.invoices.list({ status: 'draft', created: { gte: stripeNow - 2 * HOUR }, limit: 100 })) {
    const subscription = invoice.parent?.subscription_details?.subscription;
    if (!subscription || invoice.billing_reason === 'subscription_create') continue;
    candidates.push({
      customerId: typeof invoice.customer === 'string' ? invoice.customer : (invoice.customer?.id ?? ''),
      subscriptionId: typeof subscription === 'string' ? subscription : subscription.id,
      period: { start: invoice.period_start, end: invoice.period_end },
      finalizesAt: invoice.automatically_finalizes_at ?? invoice.created + HOUR,
    });
  }
  return candidates;
}

export interface TrueUpDeps {
  reporter: UsageReporter;
  moesif: MoesifManagementClient;
  sink: UsageSink;
  directory: CompanyDirectory;
  companyIdSource: 'subscription' | 'customer';
}

/** The identifier of a period's true-up: at most one per customer, meter and period. */
function trueUpIdentifier(target: BillingTarget, period: UsageWindow): string {
  return usageIdentifier('trueup', [target.customerId, target.eventName, period.start, period.end]);
}

interface PeriodUsage {
  windows: UsageWindow[];
  moesif: Map<number, number>;
  stripe: Map<number, number>;
  /** Stripe hour bucket that holds a window's event. */
  bucketOf: (window: UsageWindow) => number;
}

async function readPeriod(deps: TrueUpDeps, target: BillingTarget, companyId: string, period: UsageWindow): Promise<PeriodUsage> {
  const { reporter } = deps;
  const shift = reporter.toStripeTime(0);
  const windows = windowsOfPeriod({ start: period.start - shift, end: period.end - shift }, reporter.options.windowSeconds);
  const first = windows[0] as UsageWindow;
  const last = windows[windows.length - 1] as UsageWindow;
  const bucketOf = (window: UsageWindow) => floorHour(reporter.toStripeTime(windowTimestamp(window)));
  const [moesif, stripe] = await Promise.all([
    deps.moesif.countByWindow(companyId, { start: first.start, end: last.end }, reporter.options.windowSeconds),
    deps.sink.hourlyUsage(target.meterId, target.customerId, bucketOf(first), bucketOf(last) + HOUR),
  ]);
  return { windows, moesif, stripe, bucketOf };
}

/** Days before a period whose late calls a true-up carries into it (Stripe accepts events 35 days back). */
const CARRY_DAYS = 32;

/**
 * Calls of earlier periods Moesif ingested after their true-up: Moesif's count over the 32 days
 * before this period's first window, less what Stripe holds for the same windows. Both sides count
 * the same range, so it is what earlier true-ups could not bill any more; never negative (an
 * earlier over-report is reported there, not taken back here).
 */
async function lateFromEarlierPeriods(deps: TrueUpDeps, target: BillingTarget, companyId: string, usage: PeriodUsage): Promise<number> {
  const first = usage.windows[0] as UsageWindow;
  const window = deps.reporter.options.windowSeconds;
  const from = first.start - CARRY_DAYS * 86_400;
  const [moesif, stripe] = await Promise.all([
    deps.moesif.countCompany(companyId, { start: from, end: first.start }),
    deps.sink.totalUsage(target.meterId, target.customerId, usage.bucketOf({ start: from, end: from + window }), usage.bucketOf(first)),
  ]);
  return Math.max(0, moesif - stripe);
}

/** Re-sends (same identifier) each window whose calls the summary does not show yet. */
async function resendMissing(deps: TrueUpDeps, target: BillingTarget, usage: PeriodUsage): Promise<{ filled: number; lagging: number }> {
  let filled = 0;
  let lagging = 0;
  for (const window of usage.windows) {
    const calls = usage.moesif.get(window.start) ?? 0;
    if (calls === 0 || (usage.stripe.get(usage.bucketOf(window)) ?? 0) > 0) continue;
    const identifier = windowIdentifier(target.customerId, target.eventName, window);
    const outcome = await deps.sink.send({ eventName: target.eventName, customerId: target.customerId, value: calls, timestamp: deps.reporter.toStripeTime(windowTimestamp(window)), identifier });
    if (outcome === 'sent') filled++;
    else lagging++;
  }
  return { filled, lagging };
}

async function trueUpPeriod(deps: TrueUpDeps, candidate: TrueUpCandidate): Promise<TrueUpResult> {
  const base = { subscriptionId: candidate.subscriptionId, customerId: candidate.customerId, period: candidate.period };
  try {
    const companyId = deps.companyIdSource === 'subscription' ? candidate.subscriptionId : candidate.customerId;
    const target = await deps.directory.resolve(companyId);
    if (!target) return { ...base, status: 'not_billable' };
    const usage = await readPeriod(deps, target, companyId, candidate.period);
    if (usage.windows.length === 0) return { ...base, status: 'matched', moesifCalls: 0, stripeUsage: 0 };
    const moesifCalls = [...usage.moesif.values()].reduce((a, b) => a + b, 0);
    const stripeUsage = usage.windows.reduce((sum, window) => sum + (usage.stripe.get(usage.bucketOf(window)) ?? 0), 0);
    const counts = { moesifCalls, stripeUsage };
    if (deps.reporter.options.dryRun) return { ...base, ...counts, status: 'dry_run', sent: Math.max(0, moesifCalls - stripeUsage) };
    const missing = await resendMissing(deps, target, usage);
    if (missing.filled + missing.lagging > 0) return { ...base, ...counts, ...missing, status: 'deferred' };
    const carried = await lateFromEarlierPeriods(deps, target, companyId, usage);
    const difference = moesifCalls - stripeUsage + carried;
    if (moesifCalls < stripeUsage && difference <= 0) return { ...base, ...counts, carried, status: 'over_reported' };
    if (difference <= 0) return { ...base, ...counts, carried, status: 'matched' };
    const last = usage.windows[usage.windows.length - 1] as UsageWindow;
    const outcome = await deps.sink.send({ eventName: target.eventName, customerId: target.customerId, value: difference, timestamp: deps.reporter.toStripeTime(windowTimestamp(last)), identifier: trueUpIdentifier(target, candidate.period) });
    return { ...base, ...counts, carried, status: outcome === 'sent' ? 'trued_up' : 'already_trued_up', sent: outcome === 'sent' ? difference : 0 };
  } catch (error) {
    return { ...base, status: 'failed', error: error instanceof Error ? error.message : String(error) };
  }
}

/** True-ups due now: periods whose calls Moesif has all (lag passed) and whose invoice is still a draft. */
export async function runTrueUps(deps: TrueUpDeps, stripe: Stripe): Promise<TrueUpResult[]> {
  const { reporter } = deps;
  const stripeNow = reporter.toStripeTime(reporter.nowSeconds());
  const due = (await findTrueUpCandidates(stripe, stripeNow)).filter((c) => stripeNow >= c.period.end + reporter.options.lagSeconds && stripeNow < c.finalizesAt);
  const results: TrueUpResult[] = [];
  for (const candidate of due) results.push(await trueUpPeriod(deps, candidate));
  return results;
}
