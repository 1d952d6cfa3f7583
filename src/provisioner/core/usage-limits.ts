/**
 * The seam between the usage reporter (issue 23) and the access decision. The reporter, after each
 * run, records each developer's figures for the current billing period in a UsageBook and asks
 * the access sync to re-decide the developers whose figures changed; the sync reads them back here
 * and turns them, with the plan's hard quota and the developer's spend cap (Stripe customer
 * metadata), into the quota and spend-cap facts of access-decision.ts.
 *
 * The book is per process: a provisioner that did not run the reporter has no figures and decides
 * on payment alone until its own reporter run (no limit is enforced from guessed figures).
 */
import type Stripe from 'stripe';
import type { Plan } from '../../shared/plans.ts';
import type { QuotaFacts, SpendCapFacts } from './access-decision.ts';

/** One developer's usage in the current billing period, as the reporter knows it. */
export interface PeriodUsage {
  /** Calls counted so far this period (Moesif's count for the subscription). */
  calls: number;
  /** Amount due so far this period in minor units of `currency` (Stripe's invoices.createPreview). */
  amountSoFar: number;
  currency: string;
  /** Unix seconds the billing period ends (the subscription item's current_period_end). */
  periodEnd: number;
}

export interface UsageSource {
  periodUsage(developerId: string): PeriodUsage | undefined;
}

export interface UsageBook extends UsageSource {
  /** Stores the figures; true when they differ from the last ones (then the developer is re-decided). */
  record(developerId: string, usage: PeriodUsage): boolean;
  forget(developerId: string): void;
  /** The last figures whose decision and alerts went through (limit-bands.ts). */
  decided(developerId: string): DecisionMark | undefined;
  markDecided(developerId: string, mark: DecisionMark): void;
}

/** What the usage feed's last decision of a developer went through with. */
export interface DecisionMark {
  /** limitBandKey of the limits and figures decided. */
  bands: string;
  calls: number;
  /** A limit (quota, spend cap) refused the developer. */
  limitRefused: boolean;
  /** Clock in ms. */
  at: number;
}

export function createUsageBook(): UsageBook {
  const figures = new Map<string, PeriodUsage>();
  const decided = new Map<string, DecisionMark>();
  return {
    decided: (developerId) => decided.get(developerId),
    markDecided: (developerId, mark) => void decided.set(developerId, { ...mark }),
    periodUsage: (developerId) => figures.get(developerId),
    record(developerId, usage) {
      const previous = figures.get(developerId);
      figures.set(developerId, { ...usage });
      return !previous || previous.calls !== usage.calls || previous.amountSoFar !== usage.amountSoFar || previous.periodEnd !== usage.periodEnd || previous.currency !== usage.currency;
    },
    forget(developerId) {
      figures.delete(developerId);
      decided.delete(developerId);
    },
  };
}

/** The customer metadata key holding the developer's monthly spend cap, in minor units of the subscription's currency. */
export const SPEND_CAP_METADATA_KEY = 'kpm_spend_cap';

/** The cap in minor units, or undefined: none set, or a value that is not a whole non-negative number (edited by hand in Stripe). */
export function spendCapOf(customer: Pick<Stripe.Customer, 'metadata'> | undefined): number | undefined {
  const raw = customer?.metadata?.[SPEND_CAP_METADATA_KEY];
  if (raw === undefined || !/^\d{1,12}$/.test(raw)) return undefined;
  return Number(raw);
}

/** The quota and spend-cap facts for the decision; each absent when there is no limit or no figure. */
export function limitFacts(plan: Pick<Plan, 'limits'> | undefined, customer: Pick<Stripe.Customer, 'metadata'> | undefined, usage: PeriodUsage | undefined): { quota?: QuotaFacts; spendCap?: SpendCapFacts } {
  if (!usage) return {};
  const quota = plan?.limits?.quota;
  const cap = spendCapOf(customer);
  return {
    ...(quota?.enforcement === 'hard' ? { quota: { limit: quota.calls, used: usage.calls, resetsAt: usage.periodEnd } } : {}),
    ...(cap !== undefined ? { spendCap: { cap, spent: usage.amountSoFar, currency: usage.currency, resetsAt: usage.periodEnd } } : {}),
  };
}
