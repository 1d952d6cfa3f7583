/**
 * The billing half of the provisioner core: access sync (Stripe -> Kong), the billing status the
 * page shows, Stripe event handling, and developer removal, all built on the same Stripe client,
 * limiter and Kong client as provisioning.
 */
import type Stripe from 'stripe';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { createAccessSync, type AccessOutcome, type AccessSync } from '../core/access-sync.ts';
import { createBillingStatus, type BillingStatusService } from '../core/billing-status.ts';
import { endSubscriptionOfRemovedDeveloper, type RemovalOutcome } from '../core/developer-removal.ts';
import type { DeveloperPlugins } from '../core/kong-access.ts';
import { createGraceTimers, type GraceTimers } from '../core/grace-timers.ts';
import { createUsageBook, type PeriodUsage, type UsageBook } from '../core/usage-limits.ts';
import { setSpendCap } from '../core/spend-cap.ts';
import { limitBandKey, needsDecision } from '../core/limit-bands.ts';
import { sendUsageAlerts, type AlertChannel } from '../core/usage-alerts.ts';
import { handleStripeEvent, type EventOutcome } from '../core/stripe-events.ts';
import type { StripeAccess } from '../core/stripe-lookups.ts';
import type { ProvisionLogger } from '../../shared/provision-log.ts';
import type { Provisioner } from '../core/provisioner.ts';
import { NO_BILLING_SETTINGS, type ProvisionerSettings } from '../settings/settings.ts';
import { atPriority } from '../stripe/write-limiter.ts';
import { REMOVED_DEVELOPER_STATUSES, type KongDeveloper } from '../../kong/kong-types.ts';
import { createUsageFigures, type UsageFiguresService } from '../usage/usage-figures.ts';

const LIMIT_REFUSALS = new Set<string>(['quota_exceeded', 'spend_cap_reached']);

/** What billing needs from Kong: portal developers (KongAdminClient) or hosted-signup consumers (ConsumerDirectory). */
type BillingKong = DeveloperPlugins & Pick<KongAdminClient, 'getDeveloper' | 'updateDeveloperMeta'>;

export interface BillingCore {
  access: AccessSync;
  billing: BillingStatusService;
  timers: GraceTimers;
  handleStripeEvent(event: Stripe.Event): Promise<EventOutcome>;
  /**
   * A Kong event says a developer was deleted, revoked or rejected: Kong is read first, and only a
   * developer Kong shows as removed (or no longer has) loses billing per ON_DEVELOPER_REMOVED and
   * access. A replayed event of a developer approved since changes nothing.
   */
  removeDeveloper(developer: { id: string; email: string; deleted: boolean }): Promise<{ removal: RemovalOutcome; access: AccessOutcome | undefined }>;
  /** This process's usage figures per developer (issue 21's quotas and spend caps read them). */
  usage: UsageBook;
  /**
   * Where the usage reporter (issue 23) plugs in: after each run, one call per developer with this
   * period's figures. Figures that cross a limit's line (80 %, 100 %) or start a period re-decide the
   * developer's access (quota, spend cap) and send the alerts; others cost nothing (core/limit-bands.ts).
   * Answers the sync's outcome, or undefined when nothing was re-decided.
   */
  recordUsage(developerId: string, usage: PeriodUsage): Promise<AccessOutcome | undefined>;
  /** What the usage reporter's limits feed reads: the plan of a subscription, Stripe's upcoming-invoice figures (cached, shared with the page). */
  planOfSubscription(subscription: Stripe.Subscription): ReturnType<Provisioner['planOfSubscription']>;
  usageFigures: UsageFiguresService;
  /** Stores the developer's spend cap (cents; null removes it) on their Stripe customer and re-decides access. */
  setSpendCap(developer: KongDeveloper, cap: number | null): Promise<AccessOutcome>;
}

export function createBillingCore(
  settings: ProvisionerSettings,
  deps: StripeAccess & { kong: BillingKong; provisioner: Pick<Provisioner, 'planOfSubscription'>; logger: ProvisionLogger; now?: () => number; alertChannels?: readonly AlertChannel[] },
): BillingCore {
  const billingSettings = settings.billing ?? NO_BILLING_SETTINGS;
  const now = deps.now ?? Date.now;
  // Stripe's rate limit counts reads and writes together: access syncs (a burst of webhooks)
  // read through the same budget the writes use, instead of meeting a 429 storm.
  // They are background work: a signup's writes go first.
  deps = { ...deps, readLimiter: deps.readLimiter ?? (deps.writeLimiter ? atPriority(deps.writeLimiter, 'low') : undefined) };
  const timers = createGraceTimers({ logger: deps.logger, ...(deps.now ? { now: deps.now } : {}) });
  const usage = createUsageBook();
  const access = createAccessSync({
    usage,
    ...deps,
    workspace: settings.kong.workspace,
    defaultCollection: billingSettings.paymentCollection,
    graceDays: billingSettings.graceDays,
    fixUrl: billingSettings.dashboardUrl,
    plans: settings.plans,
    planOfSubscription: (subscription) => deps.provisioner.planOfSubscription(subscription),
    timers,
    ...(settings.rateLimit ? { rateLimit: settings.rateLimit } : {}),
  });
  const usageFigures = createUsageFigures({ stripe: deps.stripe, ...(deps.readLimiter ? { limiter: deps.readLimiter } : {}), cacheSeconds: settings.usage?.previewCacheSeconds ?? 60, ...(deps.now ? { now: deps.now } : {}) });
  const billing = createBillingStatus({ ...deps, access, dashboardUrl: billingSettings.dashboardUrl, usage: usageFigures });

  return {
    access,
    billing,
    timers,
    usage,
    usageFigures,
    planOfSubscription: (subscription) => deps.provisioner.planOfSubscription(subscription),
    setSpendCap: (developer, cap) => setSpendCap({ ...deps, access }, developer, cap),
    async recordUsage(developerId, figures) {
      usage.record(developerId, figures);
      // The same limits with every line (80 %, 100 %) on the same side in the same period decide and
      // alert what the last decision did: no Stripe read. A failed decision or claim marks nothing.
      if (!needsDecision(usage.decided(developerId), access.decidedLimits(developerId), figures, now())) return undefined;
      const outcome = await access.syncDeveloper(developerId);
      let unclaimed = 0;
      // Alerts after the decision: the refusal at 100 % is in place when the developer reads the email.
      if (outcome?.customer?.email && deps.alertChannels?.length)
        ({ unclaimed } = await sendUsageAlerts({ ...deps, channels: deps.alertChannels }, { plan: outcome.plan, customer: outcome.customer, usage: figures, developerId, email: outcome.customer.email }));
      const decidedWith = access.decidedLimits(developerId);
      if (outcome && decidedWith && unclaimed === 0)
        usage.markDecided(developerId, { bands: limitBandKey(decidedWith, figures), calls: figures.calls, limitRefused: LIMIT_REFUSALS.has(outcome.decision.reason), at: now() });
      return outcome;
    },
    handleStripeEvent: (event) => handleStripeEvent({ ...deps, access, getDeveloper: (id) => deps.kong.getDeveloper(id) }, event),
    async removeDeveloper(event) {
      // The event's payload only names who; Kong says whether they are removed now.
      const current = await deps.kong.getDeveloper(event.id);
      if (current && !REMOVED_DEVELOPER_STATUSES.has(current.status)) {
        deps.logger.info({ event: 'developer_removal_ignored', developer_id: event.id, reason: 'Kong shows the developer as not removed' });
        return { removal: { subscriptionId: undefined, action: 'not_removed' }, access: undefined };
      }
      const developer = { id: event.id, email: current?.email ?? event.email, meta: current?.meta };
      const removal = await endSubscriptionOfRemovedDeveloper(deps, developer, billingSettings.onDeveloperRemoved, settings.kong.workspace, deps.now);
      // A deleted developer's consumer (and its keys) went with it: nothing to block at Kong.
      const outcome = current ? await access.syncDeveloper(current) : undefined;
      deps.logger.info({ event: 'developer_removed', developer_id: event.id, deleted: !current, subscription: removal.action });
      return { removal, access: outcome };
    },
  };
}
