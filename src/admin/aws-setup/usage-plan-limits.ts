/**
 * A plan's limits as an AWS usage plan's throttle and quota, and the UpdateUsagePlan patch that
 * makes a usage plan match. AWS applies both on a best-effort basis (its docs: targets, not
 * guaranteed ceilings), so the product's own reporter-based quota stays the authority; the usage
 * plan's quota is a backstop, and its throttle is the plan's rate limit on AWS.
 *
 * - rate (calls per second/minute/hour, fixed windows at Kong) → throttle: rateLimit = the lowest
 *   long-run rate any window allows (calls ÷ window seconds, rounded up to 6 decimals, never below
 *   the plan), burstLimit = the shortest window's calls (what a developer may send at once at the
 *   start of a window). A token bucket so set lets at most 2 × calls through in any window-long
 *   stretch, as fixed windows do across a window boundary.
 * - hard quota (calls per billing period) → quota: MONTH, offset 0, limit 2 × calls. AWS counts
 *   calendar months (UTC) while a Stripe period runs from the signup day, so one calendar month can
 *   hold the end of one period and the start of the next: a quota of `calls` would refuse calls the
 *   plan pays for. Only for prices stripe:setup manages (monthly); an existing price's period is not
 *   known here, so its plan gets no AWS quota.
 * - soft quota, or none → no quota (a soft quota never refuses: the overage is billed).
 * - no rate → no throttle (the usage plan must not refuse what the plan allows; protect a backend
 *   with stage or method throttling instead).
 */
import type { PatchOperation, UsagePlan } from '@aws-sdk/client-api-gateway';
import { MonetizationError } from '../../shared/errors.ts';
import { RATE_WINDOWS, type Plan, type RateWindow } from '../../shared/plans.ts';

interface UsagePlanThrottle {
  rateLimit: number;
  burstLimit: number;
}
interface UsagePlanQuota {
  limit: number;
  period: 'MONTH';
  offset: 0;
}
/** What a usage plan should hold for one plan; undefined = none. */
export interface UsagePlanLimits {
  throttle: UsagePlanThrottle | undefined;
  quota: UsagePlanQuota | undefined;
  /** Why, in words, for the command's table and doctor. */
  notes: string[];
}

const WINDOW_SECONDS: Record<RateWindow, number> = { second: 1, minute: 60, hour: 3600 };
/** A calendar month overlaps at most two monthly billing periods. */
const PERIODS_PER_CALENDAR_MONTH = 2;
/** AWS's integer fields are 32-bit. */
const AWS_INT_MAX = 2_147_483_647;

const roundUp6 = (n: number) => Math.ceil(n * 1e6 - 1e-9) / 1e6;

function throttleOf(plan: Plan, index: number): UsagePlanThrottle | undefined {
  const rate = plan.limits?.rate;
  if (!rate) return undefined;
  const windows = RATE_WINDOWS.filter((w) => rate[w] !== undefined);
  const shortest = windows[0] as RateWindow;
  const burstLimit = rate[shortest] as number;
  if (burstLimit > AWS_INT_MAX)
    throw new MonetizationError('aws_limit_too_large', `plans.${index}.limits.rate.${shortest} (plan ${plan.id}): ${burstLimit} calls is more than an AWS usage plan's burst limit can hold (${AWS_INT_MAX})`, {
      hint: 'lower the rate limit in the plans file; AWS also caps every usage plan at the account-level throttle',
    });
  const rateLimit = roundUp6(Math.min(...windows.map((w) => (rate[w] as number) / WINDOW_SECONDS[w])));
  return { rateLimit, burstLimit };
}

function quotaOf(plan: Plan): UsagePlanQuota | undefined {
  const quota = plan.limits?.quota;
  if (quota?.enforcement !== 'hard' || !('pricing' in plan.price)) return undefined;
  return { limit: Math.min(AWS_INT_MAX, quota.calls * PERIODS_PER_CALENDAR_MONTH), period: 'MONTH', offset: 0 };
}

function notesOf(plan: Plan, throttle: UsagePlanThrottle | undefined, quota: UsagePlanQuota | undefined): string[] {
  const planQuota = plan.limits?.quota;
  const notes = [throttle ? `rate limit → throttle ${formatThrottle(throttle)}` : 'no rate limit → no throttle'];
  if (quota) notes.push(`hard quota ${planQuota?.calls} per billing period → AWS backstop ${quota.limit} per calendar month (UTC); the product's own count refuses at ${planQuota?.calls}`);
  else if (planQuota?.enforcement === 'hard') notes.push("hard quota, but the price is not managed by stripe:setup (its billing period is unknown here) → no AWS quota; the product's own count refuses");
  else if (planQuota) notes.push('soft quota (the overage is billed, never refused) → no AWS quota');
  else notes.push('no quota → no AWS quota');
  return notes;
}

/** The usage plan limits for plans[index]; throws MonetizationError naming the plan when AWS cannot hold them. */
export function usagePlanLimitsOf(plan: Plan, index: number): UsagePlanLimits {
  const throttle = throttleOf(plan, index);
  const quota = quotaOf(plan);
  return { throttle, quota, notes: notesOf(plan, throttle, quota) };
}

export function formatThrottle(throttle: { rateLimit?: number; burstLimit?: number } | undefined): string {
  return throttle ? `${throttle.rateLimit}/s burst ${throttle.burstLimit}` : 'none';
}

export function formatQuota(quota: { limit?: number; period?: string; offset?: number } | undefined): string {
  return quota ? `${quota.limit}/${quota.period}${quota.offset ? ` offset ${quota.offset}` : ''}` : 'none';
}

/** AWS keeps rateLimit as a double: equal within a millionth. */
const sameRate = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) <= 1e-6 * Math.max(1, b);

function throttlePatch(current: UsagePlan['throttle'], wanted: UsagePlanThrottle | undefined): PatchOperation[] {
  if (!wanted) return current ? [{ op: 'remove', path: '/throttle' }] : [];
  // Absent: add both fields; present: replace only the fields that differ.
  const op = current ? 'replace' : 'add';
  const ops: PatchOperation[] = [];
  if (!current || !sameRate(current.rateLimit, wanted.rateLimit)) ops.push({ op, path: '/throttle/rateLimit', value: String(wanted.rateLimit) });
  if (!current || current.burstLimit !== wanted.burstLimit) ops.push({ op, path: '/throttle/burstLimit', value: String(wanted.burstLimit) });
  return ops;
}

function quotaPatch(current: UsagePlan['quota'], wanted: UsagePlanQuota | undefined): PatchOperation[] {
  if (!wanted) return current ? [{ op: 'remove', path: '/quota' }] : [];
  const op = current ? 'replace' : 'add';
  const ops: PatchOperation[] = [];
  if (!current || current.limit !== wanted.limit) ops.push({ op, path: '/quota/limit', value: String(wanted.limit) });
  if (!current || current.period !== wanted.period) ops.push({ op, path: '/quota/period', value: wanted.period });
  if (!current || (current.offset ?? 0) !== wanted.offset) ops.push({ op, path: '/quota/offset', value: String(wanted.offset) });
  return ops;
}

/** The UpdateUsagePlan operations that make `current` hold `wanted`; none when it already does. */
export function usagePlanPatch(current: Pick<UsagePlan, 'throttle' | 'quota'>, wanted: Pick<UsagePlanLimits, 'throttle' | 'quota'>): PatchOperation[] {
  return [...throttlePatch(current.throttle, wanted.throttle), ...quotaPatch(current.quota, wanted.quota)];
}

export function formatOperation(operation: PatchOperation): string {
  return `${operation.op} ${operation.path}${operation.value === undefined ? '' : ` = ${operation.value}`}`;
}
