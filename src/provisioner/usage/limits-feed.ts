/**
 * After each reporter run: this billing period's figures of every developer the run saw calls of
 * (its windows, plus the open window up to now: one more Moesif query), handed to the access
 * decision (issue 21's quotas and spend caps, through recordUsage).
 *
 * - Who: the company's billing target (the directory the reporter already loaded, subscriptions
 *   listed with their customer expanded) names the Kong developer (customer metadata
 *   kong_developer_id), the spend cap and the subscription's plan and current period. No Stripe read.
 * - Calls: Moesif's billable count for the company from the period's start to now, the same source
 *   and filter the reporter bills from; one query (paged) per distinct period start, for all companies.
 * - Amount: Stripe's own upcoming-invoice preview (the cached usage figures, read fresh), only for
 *   a developer with a spend cap and only when their calls changed: one Stripe read. Computing it
 *   from the plan's price would cost nothing but could differ from what Stripe bills (tiers,
 *   included calls, discounts, credits, fees), and a cap is about money Stripe charges.
 *   Developers whose plan has a quota but no cap need calls and the period end only (amount 0).
 * - Developers with neither a quota nor a cap are not fed: nothing would be decided.
 */
import type Stripe from 'stripe';
import type { Plan } from '../../shared/plans.ts';
import type { PeriodUsage } from '../core/usage-limits.ts';
import type { BillingTarget, CompanyDirectory } from './company-directory.ts';
import type { MoesifManagementClient } from './moesif-management-client.ts';
import type { UsageFiguresService } from './usage-figures.ts';
import type { WindowReport } from './usage-reporter.ts';
import { windowAt } from './usage-windows.ts';

/** The billing core's side (billing-wiring.ts): where figures go, the plan of a subscription, Stripe's preview. */
export interface LimitsTarget {
  recordUsage(developerId: string, usage: PeriodUsage): Promise<unknown>;
  planOfSubscription(subscription: Stripe.Subscription): Promise<Plan | undefined>;
  usageFigures: UsageFiguresService;
}

interface LimitsFeedDeps {
  target: LimitsTarget;
  moesif: Pick<MoesifManagementClient, 'countByCompany'>;
  directory: CompanyDirectory;
  /** Wall clock in ms (Moesif's times). */
  now: () => number;
  /** Seconds Stripe's clock is ahead of the wall (sandbox); 0 against Stripe. */
  stripeTimeShiftSeconds: () => number;
  /** The reporter's window: calls in the open one (not billed yet) count too. */
  windowSeconds: number;
}

export interface LimitsFeedResult {
  /** Developers whose figures went to recordUsage. */
  fed: string[];
  /** Upcoming-invoice previews read from Stripe (developers with a cap whose calls changed). */
  previews: number;
  /** Moesif count queries (one per distinct period start). */
  moesifQueries: number;
  failed: Array<{ companyId: string; error: string }>;
}

interface Candidate {
  companyId: string;
  developerId: string;
  target: BillingTarget;
  plan: Plan | undefined;
  periodStart: number;
  periodEnd: number;
}

interface LimitsFeed {
  afterRun(windows: WindowReport[]): Promise<LimitsFeedResult>;
}

export function createLimitsFeed(deps: LimitsFeedDeps): LimitsFeed {
  /** Calls and period last fed per developer: unchanged ones cost no preview. */
  const last = new Map<string, { calls: number; periodEnd: number }>();
  /** Companies whose amount Stripe had not caught up with: read again next run, calls or not. */
  const unsettled = new Set<string>();

  async function feedOne(candidate: Candidate, calls: number, result: LimitsFeedResult): Promise<void> {
    // Settled: Stripe's amount already covered these calls when last read (or no amount is needed).
    const previous = last.get(candidate.developerId);
    if (previous && previous.calls === calls && previous.periodEnd === candidate.periodEnd) return;
    let usage: PeriodUsage = { calls, amountSoFar: 0, currency: currencyOf(candidate.plan), periodEnd: candidate.periodEnd };
    let settled = true;
    if (candidate.target.spendCap !== undefined) {
      result.previews++;
      const figures = await deps.target.usageFigures.figures(candidate.target.subscriptionId, { fresh: true });
      // No guessed amount: without Stripe's figure this developer waits for the next run.
      if (!figures) throw new Error('the upcoming-invoice preview could not be read');
      usage = { ...usage, amountSoFar: figures.amount_due, currency: figures.currency };
      // Stripe aggregates meter events asynchronously and the open window is billed later: until
      // its quantity holds these calls, the next run reads the amount again though calls are unchanged.
      settled = figures.calls >= calls;
    }
    await deps.target.recordUsage(candidate.developerId, usage);
    if (settled) {
      last.set(candidate.developerId, { calls, periodEnd: candidate.periodEnd });
      unsettled.delete(candidate.companyId);
    } else {
      last.delete(candidate.developerId);
      unsettled.add(candidate.companyId);
    }
    result.fed.push(candidate.developerId);
  }

  return {
    async afterRun(windows) {
      const result: LimitsFeedResult = { fed: [], previews: 0, moesifQueries: 0, failed: [] };
      const shift = deps.stripeTimeShiftSeconds();
      const until = Math.floor(deps.now() / 1000) + 1;
      const seen = new Set([...unsettled, ...windows.flatMap((w) => w.companies).filter((c) => c.calls > 0 && c.outcome !== 'not_billable').map((c) => c.companyId)]);
      // Calls of the open window (billed when it closes) are seen now: a quota is not overrun for a window's length.
      result.moesifQueries++;
      const open = await deps.moesif.countByCompany({ start: windowAt(until - 1, deps.windowSeconds).start, end: until }).catch(() => new Map<string, number>());
      for (const [companyId, calls] of open) if (calls > 0) seen.add(companyId);
      const candidates = await candidatesOf(deps, seen, result);
      for (const [periodStart, group] of groupBy(candidates, (c) => c.periodStart)) {
        result.moesifQueries++;
        let counts: Map<string, number>;
        try {
          counts = await deps.moesif.countByCompany({ start: periodStart - shift, end: until });
        } catch (error) {
          for (const c of group) result.failed.push({ companyId: c.companyId, error: messageOf(error) });
          continue;
        }
        for (const candidate of group)
          await feedOne(candidate, counts.get(candidate.companyId) ?? 0, result).catch((error: unknown) => result.failed.push({ companyId: candidate.companyId, error: messageOf(error) }));
      }
      return result;
    },
  };
}

/** Companies seen with calls whose developer has something to enforce in the current period. */
async function candidatesOf(deps: LimitsFeedDeps, seen: Set<string>, result: LimitsFeedResult): Promise<Candidate[]> {
  const stripeNow = Math.floor(deps.now() / 1000) + deps.stripeTimeShiftSeconds();
  const candidates: Candidate[] = [];
  for (const companyId of seen) {
    try {
      let target = await deps.directory.resolve(companyId);
      // A listing older than the period (the directory keeps it 15 minutes) would count the wrong
      // period: the subscription is read again, once per developer per period roll.
      if (target && periodEndOf(target) <= stripeNow) target = await deps.directory.reload?.(companyId);
      if (!target?.developerId) continue;
      const plan = await deps.target.planOfSubscription(target.subscription);
      if (!plan?.limits?.quota && target.spendCap === undefined) continue;
      const item = target.subscription.items.data[0];
      // Still ended (a canceled subscription): nothing to enforce; the decision drops an ended period's figures by itself.
      if (!item || item.current_period_end <= stripeNow) continue;
      candidates.push({ companyId, developerId: target.developerId, target, plan, periodStart: item.current_period_start, periodEnd: item.current_period_end });
    } catch (error) {
      result.failed.push({ companyId, error: messageOf(error) });
    }
  }
  return candidates;
}

const periodEndOf = (target: BillingTarget) => target.subscription.items.data[0]?.current_period_end ?? 0;

function currencyOf(plan: Plan | undefined): string {
  return plan && 'currency' in plan.price && typeof plan.price.currency === 'string' ? plan.price.currency : 'usd';
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
