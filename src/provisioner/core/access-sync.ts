/**
 * Converges one developer's access at Kong to Stripe's truth: read the developer (Kong), their
 * customer and subscriptions (Stripe), decide, apply. Webhooks, the Kong event hook, the signup
 * page and reconcile all call this, so any one of them alone ends in the same state.
 */
import type Stripe from 'stripe';
import type { KongDeveloper } from '../../kong/kong-types.ts';
import { REMOVED_DEVELOPER_STATUSES } from '../../kong/kong-types.ts';
import type { PaymentCollection, Plan, PlansFile } from '../../shared/plans.ts';
import type { ProvisionLogger } from '../../shared/provision-log.ts';
import { accessMessage, decideAccess, decisionChangesAt, type AccessDecision, type BillingFacts } from './access-decision.ts';
import { limitFacts, type UsageSource } from './usage-limits.ts';
import { limitDefinitions, type LimitDefinitions } from './limit-bands.ts';
import { readBillingFacts } from './billing-facts.ts';
import { createCoalescer } from '../../shared/coalesce.ts';
import { underKey } from '../stripe/write-limiter.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import type { GraceTimers } from './grace-timers.ts';
import { ACCESS_TAGS, applyAccess, type AccessChange, type DeveloperPlugins } from './kong-access.ts';
import { applyRateLimitOrLog, type RateLimitChange } from './kong-rate-limit.ts';
import { DEFAULT_RATE_LIMIT_SETTINGS, type RateLimitSettings } from './rate-limit-settings.ts';
import { findCustomer } from './ensure-stripe.ts';
import { classifySubscriptions, findDeveloperSubscriptions, idOf, retryFor, type DeveloperSubscriptions, type StripeAccess } from './stripe-lookups.ts';
import { collectionOfSubscription, selectPlan } from './plan-choice.ts';
import { liftRemovalCancellation } from './developer-removal.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import type { StripeSnapshot } from './stripe-snapshot.ts';

interface AccessSyncDeps extends StripeAccess {
  kong: DeveloperPlugins & { getDeveloper(emailOrId: string): Promise<KongDeveloper | undefined> };
  workspace: string;
  defaultCollection: PaymentCollection;
  graceDays: number;
  /** Where a refused developer fixes it (PORTAL_DASHBOARD_URL). */
  fixUrl: string | undefined;
  /** The plans file: a developer without a subscription who could not get one is refused with the reason. */
  plans: PlansFile;
  /** The one way to a subscription's plan (core/plan-choice.ts); throws when Stripe cannot be read, failing the sync. */
  planOfSubscription(subscription: Stripe.Subscription): Promise<Plan | undefined>;
  timers?: GraceTimers;
  logger: ProvisionLogger;
  /** Clock in ms. */
  now?: () => number;
  /** How Kong counts the plans' rate limits (RATE_LIMIT_POLICY); local when unset. */
  rateLimit?: RateLimitSettings;
  /** This period's usage per developer (the usage reporter feeds it); without it quotas and spend caps are not enforced. */
  usage?: UsageSource;
}

export interface AccessOutcome {
  developerId: string;
  decision: AccessDecision;
  change: AccessChange;
  /** What happened to the plan's rate-limit plugin. */
  rateLimitChange: RateLimitChange;
  message: string;
  customer: Stripe.Customer | undefined;
  subscription: Stripe.Subscription | undefined;
  plan: Plan | undefined;
  facts: BillingFacts;
}

export interface SyncOptions {
  /** The developer's customer, already read. */
  customer?: Stripe.Customer;
  /** The only subscription of a developer whose objects were just created (skips the listing). */
  freshSubscription?: Stripe.Subscription;
  allowSearch?: boolean;
  /** Reconcile's bulk read: what it holds is not listed again; a developer it lacks is read live. */
  snapshot?: StripeSnapshot | undefined;
}

/** The sync options for objects a provisioning call just created (none: read them). */
export function createdSyncOptions(created: { customer: Stripe.Customer; subscription: Stripe.Subscription } | undefined): SyncOptions {
  return created ? { customer: created.customer, freshSubscription: created.subscription } : {};
}

export interface AccessSync {
  /** By Kong developer (object, id or email). Undefined when Kong has no such developer here. */
  syncDeveloper(developer: KongDeveloper | string, options?: SyncOptions): Promise<AccessOutcome | undefined>;
  /** By Stripe customer (webhooks). Undefined when the customer is not one of this workspace's developers. */
  syncCustomer(customerId: string): Promise<AccessOutcome | undefined>;
  /**
   * The limits (plan quota, spend cap) the last sync of this developer decided with, whatever asked
   * for it (webhook, spend-cap change, usage feed); undefined before one or after one that failed.
   */
  decidedLimits(developerId: string): LimitDefinitions | undefined;
}


/** What a webhook's customer read brings along, so the decision needs no second read. */
const CUSTOMER_EXPAND = ['subscriptions', 'test_clock'];

/** The customer's subscriptions when they came expanded with it and complete (not canceled ones: Stripe leaves those out). */
function expandedSubscriptions(customer: Stripe.Customer): Stripe.Subscription[] | undefined {
  const list = customer.subscriptions;
  return list && !list.has_more ? list.data : undefined;
}

/** The tag every plugin of ours carries (the access block's and the rate limit's): one listing finds both. */
const OUR_TAG = ACCESS_TAGS[0];

/** Thrown instead of a Kong write decided from a snapshot: the decision is made again from live reads. */
class StaleSnapshotWrite extends Error {}

function readOnlyPlugins(kong: DeveloperPlugins): DeveloperPlugins {
  const refuse = async (): Promise<never> => {
    throw new StaleSnapshotWrite('access change decided from a snapshot');
  };
  return { listDeveloperPlugins: (id, options) => kong.listDeveloperPlugins(id, options), createDeveloperPlugin: refuse, updateDeveloperPlugin: refuse, deleteDeveloperPlugin: refuse };
}

/** The plan provisioning would give this developer, or why it cannot succeed (no plan for them). */
function chosenPlanOf(plans: PlansFile, developer: KongDeveloper): { plan: Plan } | { problem: string } {
  try {
    return { plan: selectPlan(plans, developer) };
  } catch (error) {
    if (error instanceof ProvisionError && error.code === 'plan_not_found') return { problem: error.message };
    throw error;
  }
}

/** Unix seconds as Stripe sees them for this customer: a test clock's frozen time, else ours. */
async function timeOf(deps: AccessSyncDeps, customer: Stripe.Customer | undefined, now: () => number): Promise<number> {
  const clock = customer?.test_clock;
  if (clock && typeof clock === 'object') return clock.frozen_time; // expanded with the customer
  const clockId = idOf(clock);
  if (!clockId) return Math.floor(now() / 1000);
  return (await deps.stripe.testHelpers.testClocks.retrieve(clockId)).frozen_time;
}

/** The developer's subscriptions, read only when what the caller already holds may be stale. */
async function subscriptionsOf(deps: AccessSyncDeps, developer: KongDeveloper, customer: Stripe.Customer | undefined, options: SyncOptions): Promise<DeveloperSubscriptions | undefined> {
  // Read already: reconcile's snapshot, or the customer's own expanded list (a webhook's one read).
  const known = customer ? (options.snapshot?.subscriptionsOf(customer.id) ?? expandedSubscriptions(customer)) : undefined;
  // Only a live subscription is taken from those; "none" or "ended" may be stale (and an expanded list leaves canceled ones out): read again.
  const fromSnapshot = known ? classifySubscriptions(known, developer.id) : undefined;
  if (options.freshSubscription) return { current: options.freshSubscription, extra: [], ended: [] };
  if (fromSnapshot?.current) return fromSnapshot;
  return customer ? await findDeveloperSubscriptions(deps, customer.id, developer.id) : undefined;
}

function logChanges(logger: ProvisionLogger, outcome: { developerId: string; decision: AccessDecision; change: AccessChange; rateLimitChange: RateLimitChange; subscription: Stripe.Subscription | undefined }, limitedBy: Plan | undefined): void {
  const { developerId, decision, change, rateLimitChange, subscription } = outcome;
  if (change !== 'unchanged')
    logger.info({ event: 'access', developer_id: developerId, access: decision.access, reason: decision.reason, change, subscription_status: subscription?.status ?? null });
  if (!['unchanged', 'conflict', 'failed'].includes(rateLimitChange))
    logger.info({ event: 'rate_limit', developer_id: developerId, change: rateLimitChange, plan: limitedBy?.id ?? null });
}

/** The customer an event names, with its developer, when it is one of ours in this workspace (one read). */
async function customerOfEvent(deps: AccessSyncDeps, customerId: string): Promise<{ customer: Stripe.Customer; developerId: string } | undefined> {
  let customer: Stripe.Customer | Stripe.DeletedCustomer;
  try {
    // One read per event: the customer with its subscriptions and test clock (Stripe's budget counts reads).
    customer = await withStripeRetry(() => deps.stripe.customers.retrieve(customerId, { expand: CUSTOMER_EXPAND }), retryFor(deps, 'read the customer', false));
  } catch (error) {
    // No such customer (another account's event, or one made up): nothing to act on, and a 500 would
    // have Stripe redeliver it for days.
    if ((error as { cause?: { statusCode?: number } }).cause?.statusCode !== 404) throw error;
    deps.logger.warn({ event: 'stripe_customer_missing', customer: customerId });
    return undefined;
  }
  if ('deleted' in customer && customer.deleted) return undefined;
  const live = customer as Stripe.Customer;
  const developerId = live.metadata?.kong_developer_id;
  // Another workspace's (or another product's) customer: not ours to act on.
  if (!developerId || (live.metadata.kong_workspace && live.metadata.kong_workspace !== deps.workspace)) return undefined;
  return { customer: live, developerId };
}

/** What the decision needs to know about one developer: customer, subscription, its plan, the billing facts and the plan that limits the calls. */
async function readDeveloperBilling(deps: AccessSyncDeps, developer: KongDeveloper, options: SyncOptions, now: () => number) {
  const customer = options.customer ?? (await findCustomer(deps, developer, { allowSearch: options.allowSearch, snapshot: options.snapshot }))[0];
  const subscriptions = await subscriptionsOf(deps, developer, customer, options);
  const developerRemoved = REMOVED_DEVELOPER_STATUSES.has(developer.status);
  // Approved again after a removal: the period-end cancellation that removal made is lifted.
  if (subscriptions?.current && !developerRemoved) subscriptions.current = await liftRemovalCancellation(deps, subscriptions.current, now);
  const subscription = subscriptions?.current ?? subscriptions?.ended[0];
  const plan = subscription ? await deps.planOfSubscription(subscription) : undefined;
  // Decided from the subscription itself (its collection_method), never from what the plan intends.
  const collection = subscription ? collectionOfSubscription(subscription, plan, deps.defaultCollection) : deps.defaultCollection;
  const chosen = subscription ? undefined : chosenPlanOf(deps.plans, developer);
  const facts: BillingFacts = {
    ...(await readBillingFacts(deps, customer, subscriptions, collection)),
    developerRemoved,
    ...(chosen && 'problem' in chosen ? { provisioningProblem: chosen.problem } : {}),
  };
  // The subscription's plan limits the calls; before there is one, the plan provisioning will give.
  const limitedBy = developerRemoved ? undefined : (plan ?? (chosen && 'plan' in chosen ? chosen.plan : undefined));
  Object.assign(facts, limitFacts(limitedBy, customer, deps.usage?.periodUsage(developer.id)));
  return { customer, subscription, plan, facts, limitedBy };
}

export function createAccessSync(deps: AccessSyncDeps): AccessSync {
  const now = deps.now ?? Date.now;
  /** Per developer with a limit: what the last successful sync decided with (a plan change or a new cap shows here at once). */
  const decided = new Map<string, LimitDefinitions>();

  /** The access block and the rate limit, from one listing of our plugins. */
  async function applyPlugins(kong: DeveloperPlugins, developerId: string, decision: AccessDecision, message: string, limitedBy: Plan | undefined) {
    const ours = await kong.listDeveloperPlugins(developerId, { tags: [OUR_TAG] });
    const change = await applyAccess(kong, developerId, decision, message, ours);
    // A gateway that holds plan rate limits itself (AWS: the usage plan's throttle, aws-setup) gets no plugin.
    const rateLimitChange: RateLimitChange =
      deps.kong.planRateLimits === 'gateway' ? 'unchanged' : await applyRateLimitOrLog(kong, developerId, limitedBy?.limits?.rate, deps.rateLimit ?? DEFAULT_RATE_LIMIT_SETTINGS, ours, deps.logger);
    return { change, rateLimitChange };
  }

  async function syncDeveloper(input: KongDeveloper | string, options: SyncOptions = {}) {
    const developer = typeof input === 'string' ? await deps.kong.getDeveloper(input) : input;
    if (!developer) return undefined;
    const { customer, subscription, plan, facts, limitedBy } = await readDeveloperBilling(deps, developer, options, now);
    const decision = decideAccess(facts, { graceDays: deps.graceDays, now: await timeOf(deps, customer, now) });
    const message = accessMessage(decision, deps.fixUrl);
    let applied: { change: AccessChange; rateLimitChange: RateLimitChange };
    try {
      applied = await applyPlugins(options.snapshot ? readOnlyPlugins(deps.kong) : deps.kong, developer.id, decision, message, limitedBy);
    } catch (error) {
      // A snapshot may be stale (a card added since it was read): it never changes Kong on its own.
      if (!(error instanceof StaleSnapshotWrite)) throw error;
      return syncDeveloper(developer, { ...options, snapshot: undefined });
    }
    // A grace ends, a quota or spend cap resets: re-decided then even if nothing else happens.
    const changesAt = decisionChangesAt(decision);
    if (changesAt !== undefined) deps.timers?.arm(developer.id, changesAt * 1000, () => forgetOnFailure(developer.id, () => syncDeveloper(developer.id)));
    else deps.timers?.disarm(developer.id);
    const limits = limitDefinitions(limitedBy, customer);
    if (limits.quota || limits.spendCap !== undefined) decided.set(developer.id, limits);
    else decided.delete(developer.id);
    const outcome = { developerId: developer.id, decision, change: applied.change, rateLimitChange: applied.rateLimitChange, message, customer, subscription, plan, facts };
    logChanges(deps.logger, outcome, limitedBy);
    return outcome;
  }

  // A burst of events for one customer (a Checkout emits four) costs two read-backs, not four.
  const coalesce = createCoalescer<AccessOutcome | undefined>();

  // Under the person's key, the reads of a sync asked for now go before a backlog queued earlier (write-limiter.ts).
  return {
    syncDeveloper: (developer, options) => {
      const id = typeof developer === 'string' ? developer : developer.id;
      return underKey(deps.readLimiter, id, () => forgetOnFailure(id, () => syncDeveloper(developer, options)));
    },
    syncCustomer: (customerId) => underKey(deps.readLimiter, customerId, () => coalesce(customerId, () => syncCustomerNow(customerId))),
    decidedLimits: (developerId) => decided.get(developerId),
  };

  /** A sync that failed may have left Kong behind the figures: the next usage run decides again. */
  async function forgetOnFailure<T>(developerId: string, sync: () => Promise<T>): Promise<T> {
    try {
      return await sync();
    } catch (error) {
      decided.delete(developerId);
      throw error;
    }
  }

  async function syncCustomerNow(customerId: string): Promise<AccessOutcome | undefined> {
    const found = await customerOfEvent(deps, customerId);
    return found && forgetOnFailure(found.developerId, () => syncDeveloper(found.developerId, { customer: found.customer }));
  }
}
