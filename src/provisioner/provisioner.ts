/**
 * The single implementation of "make this Kong developer whole": Kong developer (the truth) ->
 * Stripe customer -> one subscription -> Moesif company and user. Used by POST /provision, the
 * Kong event hook and reconcile. This file only orchestrates; each step lives in core/:
 * - in process, calls for one developer share one flight (single-flight.ts);
 * - a developer younger than STABLE_KEY_MAX_AGE_MS gets stable idempotency keys, so the
 *   interactive paths create without looking up first (two Stripe round trips) and a repeat
 *   replays (idempotency.ts, core/ensure-stripe.ts, core/create-or-find.ts);
 * - otherwise, and always for reconcile, list-before-create finds what an earlier run or another
 *   process made (customers.list by email is read-after-write consistent; customers.search is
 *   not, and only reconcile may fall back on it);
 * - a developer whose subscriptions all ended gets no new one unless resubscribe asks;
 * - a developer made whole in the last minutes is answered from memory (core/whole-memory.ts).
 */
import type Stripe from 'stripe';
import { KongError } from '../kong/kong-errors.ts';
import type { KongAdminClient } from '../kong/kong-admin-client.ts';
import { developerStatusName, type KongDeveloper } from '../kong/kong-types.ts';
import type { PaymentCollection, Plan, PlansFile } from '../shared/plans.ts';
import type { ProvisionResult } from '../shared/provisioner-api.ts';
import { ensureCustomer, ensureSubscription, findCustomer, type EnsureContext } from './core/ensure-stripe.ts';
import { moesifRecord } from './core/moesif-record.ts';
import { planIdOfSubscription, requestedPlanId, selectPlan } from './core/plan-choice.ts';
import { classifySubscriptions, findDeveloperSubscriptions } from './core/stripe-lookups.ts';
import type { StripeSnapshot } from './core/stripe-snapshot.ts';
import { createWholeMemory, type WholeIds } from './core/whole-memory.ts';
import { ProvisionError } from './errors.ts';
import { hashEmail, usesStableKeys } from './idempotency.ts';
import type { MoesifSync } from './moesif-sync.ts';
import type { PriceResolver } from './plan-prices.ts';
import { silentLogger, type ProvisionLogger } from './provision-log.ts';
import type { MoesifCompanyIdSource } from './settings.ts';
import { createSingleFlight } from './single-flight.ts';
import type { StripeRetryOptions } from './stripe-calls.ts';
import type { WriteLimiter } from './write-limiter.ts';

export interface ProvisionerDeps {
  stripe: Stripe;
  kong: Pick<KongAdminClient, 'getDeveloper'>;
  moesif: MoesifSync;
  prices: PriceResolver;
  plans: PlansFile;
  workspace: string;
  /** Developer status codes that get provisioned. */
  provisionStatuses: number[];
  companyIdSource: MoesifCompanyIdSource;
  /** How plans that do not say collect payment (PAYMENT_COLLECTION); default 'checkout'. */
  paymentCollection?: PaymentCollection;
  writeLimiter?: WriteLimiter;
  logger?: ProvisionLogger;
  stripeRetry?: StripeRetryOptions;
  /** Clock in ms (stable-key window, memory of whole developers); default Date.now. */
  now?: () => number;
  /**
   * Interactive calls skip the Stripe lookups only for developers Kong created at or after this
   * time (ms). Default: when this provisioner was created, so developers that an earlier version
   * (other keys) may have provisioned are still looked up after an upgrade.
   */
  skipLookupsForDevelopersSince?: number;
  /** How long a developer made whole is answered from memory; default 10 minutes. */
  rememberWholeMs?: number;
  /** Most developers remembered as whole; default 10,000. */
  rememberWholeMax?: number;
  /** Longest wait for Moesif on a call that looked Stripe up; default 2 s. */
  moesifWaitAfterLookupMs?: number;
}

/** ProvisionResult plus what this call wrote to Stripe. */
export interface ProvisionOutcome extends ProvisionResult {
  created: { customer: boolean; subscription: boolean };
  /** Set when every subscription of the developer ended: nothing was created, access stays refused. */
  ended?: { status: Stripe.Subscription.Status };
  /** The customer still had an earlier email and now has Kong's. */
  emailUpdated?: boolean;
  /**
   * Both objects when this call created them (fresh, so the access decision needs no re-read).
   * Never a replayed or looked-up object: those may be stale (a card added since).
   */
  createdObjects?: { customer: Stripe.Customer; subscription: Stripe.Subscription };
}

export type MissingPart = 'customer' | 'subscription';

/** Read-only view of one developer's state in Stripe (reconcile counts "already whole" with it). */
export interface DeveloperInspection {
  developerId: string;
  status: string;
  provisionable: boolean;
  /** Plan the developer is on (Stripe's), or would get (meta.plan or the default); undefined with planError set when none. */
  plan: string | undefined;
  planError: string | undefined;
  priceId: string | undefined;
  customerId: string | undefined;
  subscriptionId: string | undefined;
  /** Status of the subscription when it ended or is unpaid (then nothing is missing: it is not re-created). */
  endedStatus: Stripe.Subscription.Status | undefined;
  /** Other customers carrying this developer id (should be none). */
  duplicateCustomerIds: string[];
  missing: MissingPart[];
  /** Customer and subscription exist. Moesif cannot be read back through the Collector API. */
  whole: boolean;
  /** This process still has a Moesif record queued for retry. */
  moesifPending: boolean;
}

/**
 * - 'interactive' (POST /provision, the event hook): a developer made whole here recently is
 *   answered from memory; a young developer's objects are created without a lookup first;
 * - 'reconcile': always read Stripe before writing, so a whole developer costs reads only.
 */
export type ProvisionMode = 'interactive' | 'reconcile';

export interface ProvisionOptions {
  /** Default: 'interactive' for an email or id, 'reconcile' for a developer object. */
  mode?: ProvisionMode;
  /** Earlier emails of the developer (the event hook's old_entity), to find the customer after a change. */
  previousEmails?: readonly string[];
  /** Give a developer whose subscriptions all ended a new one (reconcile --resubscribe only). */
  resubscribe?: boolean;
  /**
   * Reconcile's bulk read of Stripe (core/stripe-snapshot.ts), used instead of listing what it
   * holds; anything it lacks is still looked up live before a create. Moesif is not waited for
   * (reconcile flushes it once at the end).
   */
  snapshot?: StripeSnapshot;
}

export interface Provisioner {
  /** Email or Kong developer id (looked up in Kong), or a developer object already read from Kong. */
  provisionDeveloper(emailOrDeveloper: string | KongDeveloper, options?: ProvisionOptions): Promise<ProvisionOutcome>;
  inspectDeveloper(emailOrDeveloper: string | KongDeveloper, options?: { snapshot?: StripeSnapshot }): Promise<DeveloperInspection>;
  /** Whether a developer's status is in PROVISION_STATUSES. */
  isProvisionable(developer: Pick<KongDeveloper, 'status'>): boolean;
  /** The plan of the plans file whose price is this price id, if any. */
  planForPrice(priceId: string): Promise<Plan | undefined>;
}

type Step = 'kong' | 'plan' | 'customer' | 'subscription' | 'moesif';
type StepTimer = <T>(step: Step, work: () => Promise<T>) => Promise<T>;

/** How the Stripe part of a call went, for the log line. */
type StripePath = 'remembered' | 'direct' | 'lookup';

type MadeWhole = ProvisionOutcome & { stripePath: StripePath };

export function createProvisioner(deps: ProvisionerDeps): Provisioner {
  const logger = deps.logger ?? silentLogger;
  const now = deps.now ?? Date.now;
  const skipLookupsSince = deps.skipLookupsForDevelopersSince ?? now();
  const moesifWaitAfterLookupMs = deps.moesifWaitAfterLookupMs ?? 2_000;
  const flights = createSingleFlight();
  const memory = createWholeMemory({ ttlMs: deps.rememberWholeMs ?? 10 * 60_000, maxEntries: deps.rememberWholeMax ?? 10_000, now });
  // Lowercased email and id -> the interactive makeWhole running for that developer.
  const joinable = new Map<string, Promise<MadeWhole>>();
  const ctx: EnsureContext = {
    stripe: deps.stripe,
    retry: deps.stripeRetry,
    writeLimiter: deps.writeLimiter,
    workspace: deps.workspace,
    defaultCollection: deps.paymentCollection ?? 'checkout',
  };

  const isProvisionable = (developer: Pick<KongDeveloper, 'status'>) => deps.provisionStatuses.includes(developer.status);

  async function planForPrice(priceId: string): Promise<Plan | undefined> {
    for (const plan of deps.plans.plans) {
      const price = await deps.prices.priceFor(plan).catch(() => undefined);
      if (price?.id === priceId) return plan;
    }
    return undefined;
  }

  async function fetchDeveloper(emailOrId: string): Promise<KongDeveloper> {
    let developer: KongDeveloper | undefined;
    try {
      developer = await deps.kong.getDeveloper(emailOrId);
    } catch (error) {
      // The answer goes to browsers: name Kong and the failure kind, keep URLs for the log.
      const kind = error instanceof KongError ? error.code : 'kong_error';
      throw new ProvisionError('kong_unavailable', 502, `Kong failed while reading the developer (${kind})`, { cause: error });
    }
    if (!developer)
      throw new ProvisionError('developer_not_found', 404, `no developer with this email in Kong workspace "${deps.workspace}"`, {
        hint: 'sign up in the portal first',
      });
    return developer;
  }

  function requireProvisionable(developer: KongDeveloper): void {
    if (isProvisionable(developer)) return;
    throw new ProvisionError(
      'developer_not_provisionable',
      409,
      `developer status is "${developerStatusName(developer.status)}" (${developer.status}); only ${deps.provisionStatuses.map((s) => developerStatusName(s)).join(', ')} developers are provisioned`,
      { hint: 'approve the developer in Kong Manager, or widen PROVISION_STATUSES' },
    );
  }

  async function stripePart(developer: KongDeveloper, mode: ProvisionMode, options: ProvisionOptions, time: StepTimer) {
    const stable = usesStableKeys(developer.created_at, now());
    // Skipping the lookups is exactly once only if every object of this developer was written
    // with the stable keys: young, and created after this version started (see the deps doc).
    const fresh = developer.created_at * 1000 >= Math.floor(skipLookupsSince / 1000) * 1000;
    const lookupFirst = !(mode === 'interactive' && stable && fresh && !options.previousEmails?.length);
    const firstPlan = selectPlan(deps.plans, developer);
    // The price is resolved first so a plan without one creates nothing, not even a customer;
    // a developer who already has a subscription does not need it.
    const price = await time('plan', () => deps.prices.priceFor(firstPlan).then((value) => ({ value }), (error: unknown) => ({ error })));
    const needPrice = (): Stripe.Price => {
      if ('error' in price) throw price.error;
      return price.value;
    };
    if (!lookupFirst) needPrice();
    const { customer, created: customerCreated, emailUpdated } = await time('customer', () =>
      ensureCustomer(ctx, developer, firstPlan, {
        stable,
        lookupFirst,
        previousEmails: options.previousEmails,
        allowSearch: mode === 'reconcile',
        beforeCreate: needPrice,
        snapshot: options.snapshot,
      }),
    );
    const newPlan = async () => ({ plan: firstPlan, price: needPrice() });
    const subscription = await time('subscription', () =>
      ensureSubscription(ctx, developer, customer.id, newPlan, { stable, lookupFirst, resubscribe: options.resubscribe, snapshot: options.snapshot }),
    );
    const planId = subscription.kind === 'current' && subscription.created ? firstPlan.id : await planOf(subscription.subscription, firstPlan);
    return { customer, customerCreated, emailUpdated, subscription, planId, stripePath: (lookupFirst ? 'lookup' : 'direct') as StripePath };
  }

  /** A live subscription in the snapshot is taken as is; anything else is read live (the snapshot may be stale). */
  async function subscriptionsOf(customerId: string, developerId: string, snapshot: StripeSnapshot | undefined) {
    const known = snapshot?.subscriptionsOf(customerId);
    const classified = known ? classifySubscriptions(known, developerId) : undefined;
    return classified?.current ? classified : findDeveloperSubscriptions(ctx, customerId, developerId);
  }

  async function planOf(subscription: Stripe.Subscription, fallback: Plan): Promise<string> {
    const priceId = subscription.items.data[0]?.price.id;
    const plan = priceId ? await planForPrice(priceId) : undefined;
    return planIdOfSubscription(subscription, () => plan) ?? fallback.id;
  }

  async function makeWhole(developer: KongDeveloper, mode: ProvisionMode, options: ProvisionOptions, time: StepTimer): Promise<MadeWhole> {
    requireProvisionable(developer);
    const remembered = mode === 'interactive' && !options.previousEmails?.length ? memory.get(developer.id) : undefined;
    let ids: WholeIds;
    let stripePath: StripePath = 'remembered';
    let created = { customer: false, subscription: false };
    let extra: Pick<ProvisionOutcome, 'ended' | 'emailUpdated' | 'createdObjects'> = {};
    if (remembered) ids = remembered;
    else {
      const part = await stripePart(developer, mode, options, time);
      ids = { customerId: part.customer.id, subscriptionId: part.subscription.subscription.id, planId: part.planId };
      stripePath = part.stripePath;
      created = { customer: part.customerCreated, subscription: part.subscription.kind === 'current' && part.subscription.created };
      if (part.emailUpdated) extra.emailUpdated = true;
      if (created.customer && created.subscription) extra.createdObjects = { customer: part.customer, subscription: part.subscription.subscription };
      // Unpaid is not over in Stripe's terms, but like an ended one it gets nothing new: it is a debt.
      if (part.subscription.kind === 'ended' || part.subscription.subscription.status === 'unpaid')
        extra = { ...extra, ended: { status: part.subscription.subscription.status } };
      else memory.remember(developer.id, ids);
      const requested = requestedPlanId(developer);
      if (requested !== undefined && requested !== ids.planId && !created.subscription)
        logger.info({ event: 'plan_change_ignored', developer_id: developer.id, plan: ids.planId, requested_plan: requested });
    }
    // Off the critical path on a fresh signup or a repeat; a call that had to look Stripe up is a
    // repair and waits for Moesif (bounded), so its answer says what Moesif holds.
    const record = moesifRecord(developer, deps.workspace, ids.planId, ids, deps.companyIdSource);
    const waits = stripePath === 'lookup' && !options.snapshot;
    const moesif = await time('moesif', () => deps.moesif.sync(record, waits ? { waitMs: moesifWaitAfterLookupMs } : {}));
    return { developerId: developer.id, customerId: ids.customerId, subscriptionId: ids.subscriptionId, plan: ids.planId, moesif, created, stripePath, ...extra };
  }

  /** One makeWhole per developer at a time; interactive ones can be joined by email or id. */
  function makeWholeOnce(developer: KongDeveloper, mode: ProvisionMode, options: ProvisionOptions, time: StepTimer): Promise<MadeWhole> {
    return flights.run(`developer:${developer.id}`, async () => {
      const work = makeWhole(developer, mode, options, time);
      const names = mode === 'interactive' ? [developer.id.toLowerCase(), developer.email.trim().toLowerCase()] : [];
      for (const name of names) joinable.set(name, work);
      try {
        return await work;
      } finally {
        for (const name of names) if (joinable.get(name) === work) joinable.delete(name);
      }
    });
  }

  async function provisionLogged(input: string | KongDeveloper, mode: ProvisionMode, options: ProvisionOptions): Promise<ProvisionOutcome> {
    const started = performance.now();
    const ms: Partial<Record<Step, number>> = {};
    const time: StepTimer = async (step, work) => {
      const at = performance.now();
      try {
        return await work();
      } finally {
        ms[step] = (ms[step] ?? 0) + Math.round(performance.now() - at);
      }
    };
    let developer: KongDeveloper | undefined = typeof input === 'string' ? undefined : input;
    const base = () => ({
      event: 'provision',
      developer_id: developer?.id ?? null,
      email_hash: hashEmail(developer?.email ?? (typeof input === 'string' ? input : '')),
    });
    try {
      // The event hook usually starts on this developer a moment before the page's call: join it.
      const running = typeof input === 'string' && mode === 'interactive' ? joinable.get(input.trim().toLowerCase()) : undefined;
      let made: MadeWhole;
      if (running) made = await running;
      else {
        developer ??= await time('kong', () => fetchDeveloper(input as string));
        made = await makeWholeOnce(developer, mode, options, time);
      }
      const { stripePath, ...outcome } = made;
      logger.info({
        ...base(),
        developer_id: outcome.developerId,
        outcome: outcome.ended ? 'ended' : 'ok',
        plan: outcome.plan,
        created: outcome.created,
        stripe: running ? 'joined' : stripePath,
        moesif: outcome.moesif,
        ms: { ...ms, total: Math.round(performance.now() - started) },
      });
      return outcome;
    } catch (error) {
      const code = error instanceof ProvisionError ? error.code : 'internal_error';
      const detail = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : undefined;
      const fields = { ...base(), outcome: 'error', code, message: (error as Error).message, detail, ms: { ...ms, total: Math.round(performance.now() - started) } };
      if (error instanceof ProvisionError && error.status < 500) logger.info(fields);
      else logger.error(fields);
      throw error;
    }
  }

  async function inspectDeveloper(input: string | KongDeveloper, options: { snapshot?: StripeSnapshot } = {}): Promise<DeveloperInspection> {
    const developer = typeof input === 'string' ? await fetchDeveloper(input) : input;
    const inspection: DeveloperInspection = {
      developerId: developer.id,
      status: developerStatusName(developer.status),
      provisionable: isProvisionable(developer),
      plan: undefined,
      planError: undefined,
      priceId: undefined,
      customerId: undefined,
      subscriptionId: undefined,
      endedStatus: undefined,
      duplicateCustomerIds: [],
      missing: [],
      whole: false,
      moesifPending: deps.moesif.isPending(developer.id),
    };
    const [customer, ...duplicates] = await findCustomer(ctx, developer, { allowSearch: true, snapshot: options.snapshot });
    inspection.customerId = customer?.id;
    inspection.duplicateCustomerIds = duplicates.map((c) => c.id);
    const subscriptions = customer ? await subscriptionsOf(customer.id, developer.id, options.snapshot) : undefined;
    const subscription = subscriptions?.current ?? subscriptions?.ended[0];
    try {
      const plan = selectPlan(deps.plans, developer);
      inspection.plan = subscription ? await planOf(subscription, plan) : plan.id;
      inspection.priceId = subscription?.items.data[0]?.price.id ?? (await deps.prices.priceFor(plan)).id;
    } catch (error) {
      if (!(error instanceof ProvisionError) || (error.code !== 'plan_not_found' && error.code !== 'plan_price_not_found')) throw error;
      inspection.planError = error.message;
    }
    inspection.subscriptionId = subscription?.id;
    if (subscription && (!subscriptions?.current || subscription.status === 'unpaid')) inspection.endedStatus = subscription.status;
    if (!inspection.customerId) inspection.missing.push('customer');
    if (!inspection.subscriptionId) inspection.missing.push('subscription');
    inspection.whole = inspection.missing.length === 0;
    return inspection;
  }

  return {
    isProvisionable,
    planForPrice,
    provisionDeveloper(input, options = {}) {
      const mode = options.mode ?? (typeof input === 'string' ? 'interactive' : 'reconcile');
      // Concurrent calls with the same email share one Kong lookup and one log line.
      const key = typeof input === 'string' ? `lookup:${mode}:${input.trim().toLowerCase()}` : `object:${mode}:${input.id}`;
      return flights.run(options.resubscribe ? `resubscribe:${key}` : key, () => provisionLogged(input, mode, options));
    },
    inspectDeveloper,
  };
}
