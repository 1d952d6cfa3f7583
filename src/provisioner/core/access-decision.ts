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
 */
import type Stripe from 'stripe';
import type { PaymentCollection } from '../../shared/plans.ts';

export type AccessState = 'allowed' | 'grace' | 'refused';

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
  | 'developer_removed';

export interface AccessDecision {
  access: AccessState;
  reason: AccessReason;
  /** Unix seconds when a grace ends (access 'grace' only). */
  graceEndsAt?: number;
  /** Why provisioning cannot succeed (provisioning_failed only): what the admin fixes. */
  problem?: string;
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
}

export interface AccessPolicy {
  graceDays: number;
  /** Unix seconds. */
  now: number;
}

const DAY = 24 * 60 * 60;

export function decideAccess(facts: BillingFacts, policy: AccessPolicy): AccessDecision {
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
