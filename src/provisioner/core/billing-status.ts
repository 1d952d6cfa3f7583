/**
 * What the portal page shows a developer about their billing: plan, access and why, the Checkout
 * step when Stripe needs a card, and the customer portal's login page ("Manage billing"). Only
 * ever answered to a page that proved it is the developer's (see the HTTP layer); it holds no
 * Stripe id.
 */
import type Stripe from 'stripe';
import type { KongDeveloper } from '../../kong/kong-types.ts';
import { sha256Hex } from '../../shared/sha256.ts';
import { pageMessage, type AccessReason } from './access-decision.ts';
import type { AccessOutcome, AccessSync, SyncOptions } from './access-sync.ts';
import { retryFor, type StripeAccess } from './stripe-lookups.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import { adoptCompletedCheckouts } from './stripe-events.ts';
import { spendCapOf } from './usage-limits.ts';
import { usageAlertLine } from './usage-alerts.ts';
import type { BillingStatusResponse, BillingUsage } from '../../shared/provisioner-api.ts';

/** Metadata mark of the customer portal configuration stripe:setup manages. */
export const PORTAL_MARK = 'kong_portal_monetization';

/** Reasons a card fixes: Checkout is offered for these. */
const CARD_FIXES = new Set<AccessReason>(['payment_method_required', 'past_due_grace', 'payment_overdue', 'payment_confirmation_required', 'subscription_unpaid', 'subscription_paused']);

/** A double click or a reload within this window gets the same Checkout session. */
const CHECKOUT_REUSE_MS = 10 * 60_000;

/** The period's figures so far; usage/usage-figures.ts gives them (declared here so the core needs nothing from the usage room). */
interface UsageFiguresReader {
  figures(subscriptionId: string): Promise<BillingUsage | undefined>;
}

interface BillingStatusDeps extends StripeAccess {
  access: AccessSync;
  /** Where Checkout returns to (PORTAL_DASHBOARD_URL). */
  dashboardUrl: string | undefined;
  now?: () => number;
  /** How long the customer portal's login URL is remembered; default 10 min. */
  portalUrlCacheMs?: number;
  /** Calls and amount so far (usage/usage-figures.ts); absent: not shown. */
  usage?: UsageFiguresReader;
}

/** Subscriptions whose period is running and will be invoiced. */
const INVOICED = new Set(['active', 'trialing', 'past_due']);

export interface BillingStatusService {
  status(developer: KongDeveloper, options?: SyncOptions): Promise<BillingStatusResponse>;
  /** The status an access outcome already read implies (the signup answer). */
  fromOutcome(outcome: AccessOutcome): Promise<BillingStatusResponse>;
}

export function createBillingStatus(deps: BillingStatusDeps): BillingStatusService {
  const now = deps.now ?? Date.now;
  const cacheMs = deps.portalUrlCacheMs ?? 10 * 60_000;
  let portalUrl: { at: number; url: Promise<string | undefined> } | undefined;

  function manageUrl(): Promise<string | undefined> {
    if (portalUrl && now() - portalUrl.at < cacheMs) return portalUrl.url;
    const url = withStripeRetry(() => deps.stripe.billingPortal.configurations.list({ active: true, limit: 100 }), retryFor(deps, 'read the customer portal', false))
      .then((list) => {
        const ours = list.data.find((config) => config.metadata?.[PORTAL_MARK] === 'true');
        return ours?.login_page.enabled ? (ours.login_page.url ?? undefined) : undefined;
      })
      .catch(() => undefined);
    portalUrl = { at: now(), url };
    return url;
  }

  async function checkoutUrl(outcome: AccessOutcome): Promise<string | undefined> {
    const customer = outcome.customer;
    if (!customer || !deps.dashboardUrl || !CARD_FIXES.has(outcome.decision.reason)) return undefined;
    const currency = outcome.subscription?.currency ?? outcome.subscription?.items.data[0]?.price.currency ?? 'usd';
    const bucket = Math.floor(now() / CHECKOUT_REUSE_MS);
    const params: Stripe.Checkout.SessionCreateParams = {
      mode: 'setup',
      customer: customer.id,
      currency,
      success_url: deps.dashboardUrl,
      cancel_url: deps.dashboardUrl,
      metadata: { kong_developer_id: outcome.developerId },
    };
    const session = await withStripeRetry(
      () => deps.stripe.checkout.sessions.create(params, { idempotencyKey: `kpm-checkout-${sha256Hex(`${customer.id}\u0000${bucket}`)}` }),
      retryFor(deps, 'open a Checkout session', true),
    );
    return session.url ?? undefined;
  }

  async function fromOutcome(outcome: AccessOutcome, withUsage = true): Promise<BillingStatusResponse> {
    // A subscription this very call created has no usage yet: the signup keeps its round trips.
    const subscription = withUsage ? outcome.subscription : undefined;
    const [checkout, manage, usage] = await Promise.all([
      checkoutUrl(outcome),
      outcome.customer ? manageUrl() : Promise.resolve(undefined),
      deps.usage && subscription && INVOICED.has(subscription.status) ? deps.usage.figures(subscription.id) : Promise.resolve(undefined),
    ]);
    const alert = usageAlertLine(outcome.customer, outcome.subscription?.items.data[0]?.current_period_end, outcome.plan, outcome.facts, usage?.amount_due);
    return {
      plan: outcome.plan?.id ?? null,
      plan_name: outcome.plan?.name ?? null,
      access: outcome.decision.access,
      reason: outcome.decision.reason,
      message: pageMessage(outcome.decision),
      ...(outcome.decision.graceEndsAt ? { grace_ends_at: new Date(outcome.decision.graceEndsAt * 1000).toISOString() } : {}),
      ...(checkout ? { checkout_url: checkout } : {}),
      ...(manage ? { manage_url: manage } : {}),
      ...(outcome.decision.reason === 'payment_confirmation_required' && outcome.facts.confirmPaymentUrl ? { confirm_url: outcome.facts.confirmPaymentUrl } : {}),
      ...(usage ? { usage } : {}),
      ...(outcome.customer ? { spend_cap: spendCapOf(outcome.customer) ?? null } : {}),
      ...(alert ? { usage_alert: alert } : {}),
    };
  }

  return {
    fromOutcome,
    async status(developer, options) {
      let outcome = await deps.access.syncDeveloper(developer, options);
      if (!outcome) throw new Error('developer vanished from Kong while reading its billing');
      // Checkout sends the developer back before (or without) its webhook: adopt the card here too.
      // (Not for a customer created by this very call: no Checkout of theirs can exist yet.)
      const fresh = options?.freshSubscription !== undefined;
      if (!fresh && outcome.decision.reason === 'payment_method_required' && outcome.customer && (await adoptCompletedCheckouts(deps, outcome.customer.id)) > 0)
        outcome = (await deps.access.syncDeveloper(developer)) ?? outcome;
      return fromOutcome(outcome, !fresh);
    },
  };
}
