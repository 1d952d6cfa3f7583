/**
 * Stripe's truth about a developer's subscription -> API access at Kong. Pure: the same facts
 * give the same answer whether a webhook, the Kong event hook or reconcile asked.
 *
 * | Stripe                                   | access  |
 * |------------------------------------------|---------|
 * | active, trialing                         | allowed |
 * | active under "checkout" without a card   | refused (payment_method_required) |
 * | past_due, within the grace               | grace   |
 * | past_due, past the grace                 | refused (payment_overdue) |
 * | past_due, the bank wants the payment authenticated (3-D Secure) | grace, then refused (payment_confirmation_required) |
 * | unpaid, paused, incomplete               | refused |
 * | only ended subscriptions (canceled, ...) | refused (subscription_ended) |
 * | none, and provisioning cannot succeed    | refused (provisioning_failed) |
 * | none yet, card collection ("checkout")   | refused (not_provisioned) |
 * | none yet, invoice or free collection     | allowed (not_provisioned) |
 * | developer revoked/rejected/deleted       | refused (developer_removed) |
 *
 * Kong allows one request-termination per consumer, so one decision picks the one message: a
 * payment refusal (402) wins over a hard quota reached (429, quota_exceeded), which wins over a
 * spend cap reached (402, spend_cap_reached). Both limits lift when their period ends (the usage
 * figures then belong to a past period) or when the facts change (an upgrade, a raised cap).
 */
import type Stripe from 'stripe';
import type { PaymentCollection } from '../../shared/plans.ts';

type AccessState = 'allowed' | 'grace' | 'refused';

export type AccessReason =
  | 'active'
  | 'trialing'
  | 'not_provisioned'
  | 'past_due_grace'
  | 'payment_overdue'
  | 'payment_method_required'
  | 'payment_confirmation_required'
  | 'subscription_unpaid'
  | 'subscription_paused'
  | 'subscription_incomplete'
  | 'subscription_ended'
  | 'provisioning_failed'
  | 'developer_removed'
  | 'quota_exceeded'
  | 'spend_cap_reached';

export interface AccessDecision {
  access: AccessState;
  reason: AccessReason;
  /** Unix seconds when a grace ends (access 'grace' only). */
  graceEndsAt?: number;
  /** Why provisioning cannot succeed (provisioning_failed only): what the admin fixes. */
  problem?: string;
  /** The limit that refuses (quota_exceeded, spend_cap_reached): what the message names. */
  limit?: { quota?: QuotaFacts; spendCap?: SpendCapFacts };
}

/** A hard quota and the calls counted against it this period (the usage reporter's figure). */
export interface QuotaFacts {
  /** Calls per billing period the plan allows. */
  limit: number;
  /** Calls counted so far this period. */
  used: number;
  /** Unix seconds the period ends: the quota resets then. */
  resetsAt: number;
}

/** The developer's monthly spend cap and what this period has cost so far (Stripe's invoice preview). */
export interface SpendCapFacts {
  /** Minor units of `currency`. */
  cap: number;
  /** Minor units of `currency`: amount due so far this period. */
  spent: number;
  currency: string;
  /** Unix seconds the period ends. */
  resetsAt: number;
}

export interface BillingFacts {
  /** The subscription that has not ended, if any. */
  subscription: Pick<Stripe.Subscription, 'status'> | undefined;
  /** Whether the developer ever had a subscription that has since ended. */
  hasEndedSubscription: boolean;
  /** A payment method Stripe would charge (subscription's or customer's default). */
  hasPaymentMethod: boolean;
  paymentCollection: PaymentCollection;
  /** Unix seconds of the first failed payment (or missed due date) of what is owed now. */
  overdueSince: number | undefined;
  /** The developer is no longer approved in Kong (revoked, rejected) or was deleted. */
  developerRemoved?: boolean;
  /** Set when the developer has no subscription and provisioning one cannot succeed (e.g. no such plan). */
  provisioningProblem?: string;
  /**
   * Set when an open invoice's payment waits for the developer to authenticate it (3-D Secure,
   * PaymentIntent requires_action): the hosted invoice page where they confirm it.
   */
  confirmPaymentUrl?: string;
  /** The plan's hard quota with this period's usage; absent without a hard quota or without figures. */
  quota?: QuotaFacts;
  /** The developer's spend cap with this period's amount so far; absent without a cap or without figures. */
  spendCap?: SpendCapFacts;
}

interface AccessPolicy {
  graceDays: number;
  /** Unix seconds. */
  now: number;
}

const DAY = 24 * 60 * 60;

export function decideAccess(facts: BillingFacts, policy: AccessPolicy): AccessDecision {
  const payment = decidePayment(facts, policy);
  // A payment refusal wins: paying is what the developer must fix first.
  if (payment.access === 'refused') return payment;
  return decideLimits(facts, policy) ?? payment;
}

/** The refusal a reached limit makes, or undefined. Figures of a period that has ended no longer count. */
function decideLimits(facts: BillingFacts, policy: AccessPolicy): AccessDecision | undefined {
  const { quota, spendCap } = facts;
  if (quota && policy.now < quota.resetsAt && quota.used >= quota.limit) return { access: 'refused', reason: 'quota_exceeded', limit: { quota } };
  if (spendCap && policy.now < spendCap.resetsAt && spendCap.spent >= spendCap.cap) return { access: 'refused', reason: 'spend_cap_reached', limit: { spendCap } };
  return undefined;
}

/** The HTTP status Kong answers a refused developer with: 429 for a quota, 402 (payment) for everything else. */
export function refusalStatus(decision: AccessDecision): number {
  return decision.reason === 'quota_exceeded' ? 429 : 402;
}

/** When a refusal or grace lifts by itself (Unix seconds), for the timer that re-decides then. */
export function decisionChangesAt(decision: AccessDecision): number | undefined {
  if (decision.access === 'grace') return decision.graceEndsAt;
  return decision.limit?.quota?.resetsAt ?? decision.limit?.spendCap?.resetsAt;
}

function decidePayment(facts: BillingFacts, policy: AccessPolicy): AccessDecision {
  if (facts.developerRemoved) return { access: 'refused', reason: 'developer_removed' };
  const subscription = facts.subscription;
  if (!subscription) {
    if (facts.hasEndedSubscription) return { access: 'refused', reason: 'subscription_ended' };
    if (facts.provisioningProblem !== undefined) return { access: 'refused', reason: 'provisioning_failed', problem: facts.provisioningProblem };
    // No subscription found is no proof there is none (an email change, a failed read): under card
    // collection it is a refusal, which the next successful provisioning lifts.
    return facts.paymentCollection === 'checkout' ? { access: 'refused', reason: 'not_provisioned' } : { access: 'allowed', reason: 'not_provisioned' };
  }
  switch (subscription.status) {
    case 'trialing':
      return { access: 'allowed', reason: 'trialing' };
    case 'active':
      if (facts.paymentCollection === 'checkout' && !facts.hasPaymentMethod) return { access: 'refused', reason: 'payment_method_required' };
      return { access: 'allowed', reason: 'active' };
    case 'past_due': {
      // A payment held for authentication follows the grace of a failed one; only the fix differs.
      const confirm = facts.confirmPaymentUrl !== undefined;
      // No date for the first failure means we cannot prove a grace is running: refuse.
      if (facts.overdueSince === undefined) return { access: 'refused', reason: confirm ? 'payment_confirmation_required' : 'payment_overdue' };
      const graceEndsAt = facts.overdueSince + Math.round(policy.graceDays * DAY);
      if (policy.now < graceEndsAt) return { access: 'grace', reason: confirm ? 'payment_confirmation_required' : 'past_due_grace', graceEndsAt };
      return { access: 'refused', reason: confirm ? 'payment_confirmation_required' : 'payment_overdue' };
    }
    case 'unpaid':
      return { access: 'refused', reason: 'subscription_unpaid' };
    case 'paused':
      return { access: 'refused', reason: 'subscription_paused' };
    case 'incomplete':
      return { access: 'refused', reason: 'subscription_incomplete' };
    case 'canceled':
    case 'incomplete_expired':
      return { access: 'refused', reason: 'subscription_ended' };
    default:
      // A status this version does not know: refusing costs a support ticket, allowing costs money.
      return { access: 'refused', reason: 'subscription_incomplete' };
  }
}

const day = (at: number | undefined) => new Date((at ?? 0) * 1000).toISOString().slice(0, 10);
/** The moment a limit resets, to the minute, in UTC: a developer refused for a day wants the hour. */
const moment = (at: number | undefined) => `${new Date((at ?? 0) * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** An amount in minor units, e.g. "50.00 USD" (zero-decimal currencies have no minor unit). */
export function formatCap(minor: number, currency: string): string {
  const zeroDecimal = ['jpy', 'krw', 'vnd', 'clp', 'pyg', 'ugx', 'xaf', 'xof', 'bif', 'djf', 'gnf', 'kmf', 'mga', 'rwf', 'vuv', 'xpf'].includes(currency.toLowerCase());
  return `${zeroDecimal ? String(minor) : (minor / 100).toFixed(2)} ${currency.toUpperCase()}`;
}

function limitMessage(decision: AccessDecision, where: string): string {
  const quota = decision.limit?.quota;
  if (decision.reason === 'quota_exceeded')
    return `Quota reached: your plan allows ${(quota?.limit ?? 0).toLocaleString('en-US')} calls per billing period. It resets at ${moment(quota?.resetsAt)}; upgrade your plan${where} to continue now.`;
  const cap = decision.limit?.spendCap;
  return `Spend cap reached: this period's usage has reached the monthly cap of ${formatCap(cap?.cap ?? 0, cap?.currency ?? 'usd')} you set. Raise the cap${where} or wait for the period to reset at ${moment(cap?.resetsAt)}.`;
}

/**
 * What the developer reads in the 402 body and on the dashboard banner. A payment to confirm names
 * where the billing panel is, not the hosted invoice URL: the 402 reaches whoever holds the key.
 */
export function accessMessage(decision: AccessDecision, fixUrl: string | undefined): string {
  const where = fixUrl ? ` at ${fixUrl}` : ' in the developer portal';
  switch (decision.reason) {
    case 'payment_confirmation_required':
      return decision.access === 'grace'
        ? `Your bank asks you to confirm your last payment. Confirm it${where} before ${day(decision.graceEndsAt)} to keep access.`
        : `Payment needs your confirmation: your bank asked you to authenticate your last payment. Confirm it${where} to restore access.`;
    case 'payment_method_required':
      return `Payment required: add a payment method${where} to use this API.`;
    case 'payment_overdue':
      return `Payment overdue: your last invoice could not be paid. Update your payment method${where} to restore access.`;
    case 'past_due_grace':
      return `Your last payment failed. Update your payment method${where} before ${new Date((decision.graceEndsAt ?? 0) * 1000).toISOString().slice(0, 10)} to keep access.`;
    case 'subscription_unpaid':
      return `Access suspended: invoices are unpaid. Pay them${where} to restore access.`;
    case 'subscription_paused':
      return `Access paused: your trial ended without a payment method. Add one${where} to resume.`;
    case 'subscription_incomplete':
      return `Access suspended: your subscription is not active. See${where}.`;
    case 'subscription_ended':
      return `Your subscription has ended. Subscribe again${where} to use this API.`;
    case 'developer_removed':
      return 'Access revoked: this developer account is no longer active.';
    case 'quota_exceeded':
    case 'spend_cap_reached':
      return limitMessage(decision, where);
    case 'provisioning_failed':
      return `Access refused: billing could not be set up for this account (${decision.problem ?? 'unknown problem'}). Contact the API provider.`;
    case 'not_provisioned':
      return decision.access === 'refused'
        ? `Access pending: billing for this account is not set up yet. Try again in a minute${fixUrl ? ` or sign in at ${fixUrl}` : ''}; contact the API provider if this persists.`
        : 'Access allowed.';
    default:
      return 'Access allowed.';
  }
}

/** The same reasons as the page says them (the developer is already in the portal: no "where"). */
export function pageMessage(decision: AccessDecision): string {
  switch (decision.reason) {
    case 'payment_confirmation_required':
      return decision.access === 'grace'
        ? `Your bank asks you to confirm your last payment. Confirm it before ${day(decision.graceEndsAt)} to keep API access.`
        : 'Your bank asks you to confirm your last payment, so API access is suspended. Confirm the payment to restore it.';
    case 'payment_method_required':
      return 'Add a payment method to start using the API.';
    case 'payment_overdue':
      return 'Your last invoice could not be paid, so API access is suspended. Update your payment method to restore it.';
    case 'past_due_grace':
      return `Your last payment failed. Update your payment method before ${new Date((decision.graceEndsAt ?? 0) * 1000).toISOString().slice(0, 10)} to keep API access.`;
    case 'subscription_paused':
      return 'Your trial ended without a payment method. Add one to resume API access.';
    default:
      return accessMessage(decision, undefined);
  }
}
