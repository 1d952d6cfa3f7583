/**
 * Which usage figures can change a developer's access or alerts. The decision reads the figures
 * only through "is the hard quota reached" and "is the spend cap reached" (the 429/402 messages name
 * the limit and the reset, never the count); the alerts only through the 80 % and 100 % lines.
 * So figures that keep every limit on the same side of those lines, in the same period, decide
 * exactly what the last decision did: the usage feed skips re-deciding them, which spares the
 * Stripe reads of a full access sync per developer per reporter run (and keeps a developer who
 * just reached a quota from queueing behind others whose calls merely rose).
 *
 * One exception: calls that still rise well after a limit refused them mean Kong lets them through
 * (our block edited or deleted by an admin): decided again, so the block is back within a run
 * rather than at the next reconcile.
 */
import type Stripe from 'stripe';
import type { Plan } from '../../shared/plans.ts';
import { reachedThreshold } from './usage-alerts.ts';
import { spendCapOf, type DecisionMark, type PeriodUsage } from './usage-limits.ts';

/** The limits a decision applied: the plan's quota (hard or soft: both alert) and the developer's spend cap. */
export interface LimitDefinitions {
  quota?: { calls: number; enforcement: 'hard' | 'soft' };
  spendCap?: number;
}

export function limitDefinitions(plan: Pick<Plan, 'limits'> | undefined, customer: Pick<Stripe.Customer, 'metadata'> | undefined): LimitDefinitions {
  const quota = plan?.limits?.quota;
  const spendCap = spendCapOf(customer);
  return { ...(quota ? { quota: { calls: quota.calls, enforcement: quota.enforcement } } : {}), ...(spendCap !== undefined ? { spendCap } : {}) };
}

/** Equal keys: the same limits, the same lines reached, the same period and currency (the cap's message). */
export function limitBandKey(limits: LimitDefinitions, usage: PeriodUsage): string {
  const quota = limits.quota ? `${limits.quota.enforcement}:${limits.quota.calls}:${reachedThreshold(usage.calls, limits.quota.calls) ?? 0}` : '-';
  const cap = limits.spendCap !== undefined ? `${limits.spendCap}:${reachedThreshold(usage.amountSoFar, limits.spendCap) ?? 0}` : '-';
  return `${usage.periodEnd}|${usage.currency}|${quota}|${cap}`;
}

/**
 * Past Kong's propagation (5 s by default; Konnect data planes later) with margin: a refused
 * developer whose calls rose after this long is let through by Kong. The provisioner's runs are at
 * least 30 s apart, so in production every run after a refusal checks it.
 */
export const LEAK_CHECK_AFTER_MS = 30_000;

/** Whether these figures need a decision, given what the last one went through with (and the limits the last sync of any kind used). */
export function needsDecision(mark: DecisionMark | undefined, limits: LimitDefinitions | undefined, usage: PeriodUsage, now: number): boolean {
  if (!mark || !limits || mark.bands !== limitBandKey(limits, usage)) return true;
  return mark.limitRefused && usage.calls > mark.calls && now - mark.at >= LEAK_CHECK_AFTER_MS;
}
