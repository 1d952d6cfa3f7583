/**
 * The single implementation of "make this Kong developer whole": Kong developer (the truth) ->
 * Stripe customer -> metered subscription -> Moesif company and user. Used by POST /provision,
 * the Kong event hook and reconcile. Exactly once comes from these layers:
 * - in process, calls for one developer share one flight;
 * - for a developer younger than STABLE_KEY_MAX_AGE_MS, every path and process sends the same
 *   stable idempotency key for the customer and for the subscription, so a second create
 *   replays the first object; the interactive paths therefore create without looking up first
 *   (two Stripe round trips), and answer an idempotency_error (changed name or plan) by looking up;
 * - otherwise, and always for reconcile and inspection, list-before-create finds what an earlier
 *   run or another process made (customers.list by email is read-after-write consistent;
 *   customers.search is not and is never used), and param keys make a retried write replay;
 * - a developer this process made whole in the last minutes is answered from memory, so a repeat
 *   call writes nothing.
 */
import type Stripe from 'stripe';
import { KongError } from '../kong/kong-errors.ts';
import type { KongAdminClient } from '../kong/kong-admin-client.ts';
import { developerStatusName, parseDeveloperMeta, type KongDeveloper } from '../kong/kong-types.ts';
import { defaultPlan, type Plan, type PlansFile } from '../shared/plans.ts';
import type { ProvisionResult } from '../shared/provisioner-api.ts';
import { ProvisionError } from './errors.ts';
import { hashEmail, idempotencyKey, stableIdempotencyKey, usesStableKeys } from './idempotency.ts';
import type { MoesifRecord, MoesifSync } from './moesif-sync.ts';
import type { PriceResolver } from './plan-prices.ts';
import { silentLogger, type ProvisionLogger } from './provision-log.ts';
import type { MoesifCompanyIdSource } from './settings.ts';
import { createSingleFlight } from './single-flight.ts';
import { isStripeError, withStripeRetry, type StripeRetryOptions } from './stripe-calls.ts';
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
  writeLimiter?: WriteLimiter;
  logger?: ProvisionLogger;
  stripeRetry?: StripeRetryOptions;
  /** Clock in ms (stable-key window, memory of whole developers); default Date.now. */
  now?: () => number;
  /**
   * Interactive calls skip the Stripe lookups only for developers Kong created at or after this
   * time (ms). Default: when this provisioner was created, so developers that an earlier version
   * (param keys, no stable keys) may have provisioned are still looked up after an upgrade.
   */
  skipLookupsForDevelopersSince?: number;
  /** How long a developer made whole is answered from memory; default 10 minutes. */
  rememberWholeMs?: number;
  /** Most developers remembered as whole; default 10,000. */
  rememberWholeMax?: number;
  /**
   * Longest wait for Moesif on a call that looked Stripe up (reconcile, a retry after a restart,
   * an older developer); default 2 s. Calls on the direct path use the Moesif sync's own bound.
   */
  moesifWaitAfterLookupMs?: number;
}

/** ProvisionResult plus what this call wrote to Stripe. */
export interface ProvisionOutcome extends ProvisionResult {
  created: { customer: boolean; subscription: boolean };
}

export type MissingPart = 'customer' | 'subscription';

/** Read-only view of one developer's state in Stripe (reconcile counts "already whole" with it). */
export interface DeveloperInspection {
  developerId: string;
  status: string;
  provisionable: boolean;
  /** Plan the developer gets (meta.plan or the default); undefined with planError set when none. */
  plan: string | undefined;
  planError: string | undefined;
  priceId: string | undefined;
  customerId: string | undefined;
  subscriptionId: string | undefined;
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
 *   answered from memory; a young developer's customer and subscription are created without a
 *   lookup first (stable keys make that exactly once);
 * - 'reconcile': always read Stripe before writing, so a whole developer costs reads only.
 */
export type ProvisionMode = 'interactive' | 'reconcile';

export interface ProvisionOptions {
  /** Default: 'interactive' for an email or id, 'reconcile' for a developer object (reconcile walks Kong pages). */
  mode?: ProvisionMode;
}

export interface Provisioner {
  /** Email or Kong developer id (looked up in Kong), or a developer object already read from Kong. */
  provisionDeveloper(emailOrDeveloper: string | KongDeveloper, options?: ProvisionOptions): Promise<ProvisionOutcome>;
  inspectDeveloper(emailOrDeveloper: string | KongDeveloper): Promise<DeveloperInspection>;
  /** Whether a developer's status is in PROVISION_STATUSES. */
  isProvisionable(developer: Pick<KongDeveloper, 'status'>): boolean;
}

type Step = 'kong' | 'plan' | 'customer' | 'subscription' | 'moesif';

const DEAD_SUBSCRIPTION = new Set(['canceled', 'incomplete_expired']);

/** How the Stripe part of a call went, for the log line. */
type StripePath = 'remembered' | 'direct' | 'lookup';

type MadeWhole = ProvisionOutcome & { stripePath: StripePath };

interface WholeIds {
  customerId: string;
  subscriptionId: string;
  at: number;
}

/** stripe-node puts the response headers on the returned object; Stripe marks replays. */
function wasReplayed(object: object): boolean {
  return (object as Partial<Stripe.Response<object>>).lastResponse?.headers?.['idempotent-replayed'] === 'true';
}

export function createProvisioner(deps: ProvisionerDeps): Provisioner {
  const logger = deps.logger ?? silentLogger;
  const now = deps.now ?? Date.now;
  const skipLookupsSince = deps.skipLookupsForDevelopersSince ?? now();
  const rememberWholeMs = deps.rememberWholeMs ?? 10 * 60_000;
  const rememberWholeMax = deps.rememberWholeMax ?? 10_000;
  const moesifWaitAfterLookupMs = deps.moesifWaitAfterLookupMs ?? 2_000;
  const flights = createSingleFlight();
  // Developer id + price id -> what this process made whole; insertion order is age order.
  const whole = new Map<string, WholeIds>();
  // Lowercased email and id -> the interactive makeWhole running for that developer.
  const joinable = new Map<string, Promise<MadeWhole>>();
  const retry = (what: string, write: boolean) => ({ ...deps.stripeRetry, what, limiter: write ? deps.writeLimiter : undefined });

  const isProvisionable = (developer: Pick<KongDeveloper, 'status'>) => deps.provisionStatuses.includes(developer.status);

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

  function selectPlan(developer: KongDeveloper): Plan {
    const requested = parseDeveloperMeta(developer.meta).plan;
    const chosen = typeof requested === 'string' ? deps.plans.plans.find((plan) => plan.id === requested) : undefined;
    const plan = chosen ?? defaultPlan(deps.plans);
    if (!plan)
      throw new ProvisionError(
        'plan_not_found',
        422,
        typeof requested === 'string' ? `plan "${requested}" is not offered and there is no default plan` : 'the developer chose no plan and there is no default plan',
        { hint: `pick one of: ${deps.plans.plans.map((p) => p.id).join(', ')}` },
      );
    return plan;
  }

  function developerName(developer: KongDeveloper): string | undefined {
    const name = parseDeveloperMeta(developer.meta).full_name;
    return typeof name === 'string' && name.trim() ? name.trim().slice(0, 256) : undefined;
  }

  /** Customers tagged with this developer id, oldest first. */
  async function findCustomers(developer: KongDeveloper): Promise<Stripe.Customer[]> {
    const matches: Stripe.Customer[] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const page: Stripe.ApiList<Stripe.Customer> = await withStripeRetry(
        () => deps.stripe.customers.list({ email: developer.email, limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
        retry('look up the customer', false),
      );
      matches.push(...page.data.filter((customer) => customer.metadata?.kong_developer_id === developer.id));
      const last = page.data.at(-1);
      if (!page.has_more || !last) break;
      startingAfter = last.id;
    }
    return matches.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
  }

  /** The oldest live subscription of this customer to this price. */
  async function findSubscription(customerId: string, priceId: string): Promise<Stripe.Subscription | undefined> {
    const matches: Stripe.Subscription[] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const page: Stripe.ApiList<Stripe.Subscription> = await withStripeRetry(
        () => deps.stripe.subscriptions.list({ customer: customerId, price: priceId, limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
        retry('look up the subscription', false),
      );
      matches.push(...page.data.filter((sub) => !DEAD_SUBSCRIPTION.has(sub.status) && sub.items.data.some((item) => item.price.id === priceId)));
      const last = page.data.at(-1);
      if (!page.has_more || !last) break;
      startingAfter = last.id;
    }
    return matches.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id))[0];
  }

  /**
   * A create failed, but the object may exist anyway; list again before giving up:
   * - 'raced': the key is in use or was used with other params (another process got there);
   * - 'applied': a 5xx or lost connection, where Stripe may have applied the write and saved the
   *   error for the key (replaying it for 24 h), so only a fresh list can tell.
   */
  const recoveryAfterFailedWrite = (error: unknown): 'raced' | 'applied' | undefined => {
    const cause = error instanceof ProvisionError ? error.cause : error;
    if (!isStripeError(cause)) return undefined;
    if (cause.type === 'StripeIdempotencyError' || cause.code === 'idempotency_key_in_use') return 'raced';
    if (cause.type === 'StripeConnectionError' || cause.type === 'StripeAPIError' || (cause.statusCode ?? 0) >= 500) return 'applied';
    return undefined;
  };

  /**
   * Writes `create` and, when it fails in a way that may hide an existing object (a race, or a
   * write Stripe may have applied), looks up before giving up. `created` is false when Stripe
   * replayed an earlier write or the object was found.
   */
  async function createOrFind<T extends object>(
    create: () => Promise<T>,
    find: () => Promise<T | undefined>,
    what: string,
  ): Promise<{ object: T; created: boolean }> {
    try {
      const object = await withStripeRetry(create, retry(what, true));
      return { object, created: !wasReplayed(object) };
    } catch (error) {
      const recovery = recoveryAfterFailedWrite(error);
      if (!recovery) throw error;
      const found = await find();
      if (found) return { object: found, created: recovery === 'applied' };
      throw error;
    }
  }

  function customerParams(developer: KongDeveloper, plan: Plan): Stripe.CustomerCreateParams {
    const name = developerName(developer);
    return {
      email: developer.email,
      ...(name ? { name } : {}),
      metadata: { kong_developer_id: developer.id, kong_workspace: deps.workspace, plan: plan.id },
    };
  }

  function subscriptionParams(developer: KongDeveloper, customer: Stripe.Customer, plan: Plan, price: Stripe.Price): Stripe.SubscriptionCreateParams {
    return {
      customer: customer.id,
      items: [{ price: price.id }],
      metadata: { kong_developer_id: developer.id, kong_workspace: deps.workspace, plan: plan.id },
    };
  }

  /** `lookupFirst: false` only with stable keys, where a create of an existing customer replays it. */
  async function ensureCustomer(developer: KongDeveloper, plan: Plan, stable: boolean, lookupFirst: boolean): Promise<{ customer: Stripe.Customer; created: boolean }> {
    if (lookupFirst) {
      const existing = (await findCustomers(developer))[0];
      if (existing) return { customer: existing, created: false };
    }
    const params = customerParams(developer, plan);
    const key = stable
      ? stableIdempotencyKey({ workspace: deps.workspace, developerId: developer.id, step: 'customer' })
      : idempotencyKey({ workspace: deps.workspace, developerId: developer.id, step: 'customer', params });
    const { object, created } = await createOrFind(
      () => deps.stripe.customers.create(params, { idempotencyKey: key }),
      async () => (await findCustomers(developer))[0],
      'create the customer',
    );
    return { customer: object, created };
  }

  async function ensureSubscription(
    developer: KongDeveloper,
    customer: Stripe.Customer,
    plan: Plan,
    price: Stripe.Price,
    stable: boolean,
    lookupFirst: boolean,
  ): Promise<{ subscription: Stripe.Subscription; created: boolean }> {
    if (lookupFirst) {
      const existing = await findSubscription(customer.id, price.id);
      if (existing) return { subscription: existing, created: false };
    }
    const params = subscriptionParams(developer, customer, plan, price);
    const key = stable
      ? stableIdempotencyKey({ workspace: deps.workspace, developerId: developer.id, step: 'subscription', priceId: price.id })
      : idempotencyKey({ workspace: deps.workspace, developerId: developer.id, step: 'subscription', params });
    const { object, created } = await createOrFind(
      () => deps.stripe.subscriptions.create(params, { idempotencyKey: key }),
      () => findSubscription(customer.id, price.id),
      'create the subscription',
    );
    return { subscription: object, created };
  }

  const wholeKey = (developer: KongDeveloper, price: Stripe.Price) => `${developer.id}\u0000${price.id}`;

  function rememberedWhole(developer: KongDeveloper, price: Stripe.Price): WholeIds | undefined {
    const ids = whole.get(wholeKey(developer, price));
    if (ids && now() - ids.at < rememberWholeMs) return ids;
    if (ids) whole.delete(wholeKey(developer, price));
    return undefined;
  }

  function rememberWhole(developer: KongDeveloper, price: Stripe.Price, customerId: string, subscriptionId: string): void {
    const key = wholeKey(developer, price);
    whole.delete(key);
    whole.set(key, { customerId, subscriptionId, at: now() });
    while (whole.size > rememberWholeMax) whole.delete(whole.keys().next().value as string);
  }

  function moesifRecord(developer: KongDeveloper, plan: Plan, customerId: string, subscriptionId: string): MoesifRecord {
    const companyId = deps.companyIdSource === 'customer' ? customerId : subscriptionId;
    const name = developerName(developer);
    const stripeIds = { stripe_customer_id: customerId, stripe_subscription_id: subscriptionId };
    return {
      developerId: developer.id,
      company: { company_id: companyId, metadata: { ...stripeIds, plan: plan.id, kong_workspace: deps.workspace } },
      user: {
        user_id: developer.email,
        company_id: companyId,
        metadata: { email: developer.email, ...(name ? { name } : {}), ...stripeIds, kong_developer_id: developer.id, kong_workspace: deps.workspace, plan: plan.id },
      },
    };
  }

  async function makeWhole(developer: KongDeveloper, mode: ProvisionMode, time: StepTimer): Promise<MadeWhole> {
    if (!isProvisionable(developer))
      throw new ProvisionError(
        'developer_not_provisionable',
        409,
        `developer status is "${developerStatusName(developer.status)}" (${developer.status}); only ${deps.provisionStatuses.map((s) => developerStatusName(s)).join(', ')} developers are provisioned`,
        { hint: 'approve the developer in Kong Manager, or widen PROVISION_STATUSES' },
      );
    const plan = selectPlan(developer);
    const price = await time('plan', () => deps.prices.priceFor(plan));
    const interactive = mode === 'interactive';
    const remembered = interactive ? rememberedWhole(developer, price) : undefined;
    let ids: { customerId: string; subscriptionId: string };
    let created = { customer: false, subscription: false };
    let stripePath: StripePath;
    if (remembered) {
      ids = remembered;
      stripePath = 'remembered';
    } else {
      const stable = usesStableKeys(developer.created_at, now());
      // Skipping the lookups is exactly once only if every object of this developer was written
      // with the stable keys: young, and created after this version started (see the deps doc).
      const lookupFirst = !(interactive && stable && developer.created_at * 1000 >= Math.floor(skipLookupsSince / 1000) * 1000);
      stripePath = lookupFirst ? 'lookup' : 'direct';
      const { customer, created: customerCreated } = await time('customer', () => ensureCustomer(developer, plan, stable, lookupFirst));
      const { subscription, created: subscriptionCreated } = await time('subscription', () =>
        ensureSubscription(developer, customer, plan, price, stable, lookupFirst),
      );
      ids = { customerId: customer.id, subscriptionId: subscription.id };
      created = { customer: customerCreated, subscription: subscriptionCreated };
      rememberWhole(developer, price, customer.id, subscription.id);
    }
    // Off the critical path where it is one: a fresh signup on the direct path, or a repeat. A
    // call that had to look Stripe up is a repair, not a signup in progress: it waits for Moesif
    // (bounded, so a hanging Collector cannot hold reconcile), and its answer says what Moesif holds.
    const record = moesifRecord(developer, plan, ids.customerId, ids.subscriptionId);
    const moesif = await time('moesif', () => deps.moesif.sync(record, stripePath === 'lookup' ? { waitMs: moesifWaitAfterLookupMs } : {}));
    return { developerId: developer.id, customerId: ids.customerId, subscriptionId: ids.subscriptionId, plan: plan.id, moesif, created, stripePath };
  }

  /** One makeWhole per developer at a time; interactive ones can be joined by email or id. */
  function makeWholeOnce(developer: KongDeveloper, mode: ProvisionMode, time: StepTimer): Promise<MadeWhole> {
    return flights.run(`developer:${developer.id}`, async () => {
      const work = makeWhole(developer, mode, time);
      const names = mode === 'interactive' ? [developer.id.toLowerCase(), developer.email.trim().toLowerCase()] : [];
      for (const name of names) joinable.set(name, work);
      try {
        return await work;
      } finally {
        for (const name of names) if (joinable.get(name) === work) joinable.delete(name);
      }
    });
  }

  async function provisionLogged(input: string | KongDeveloper, mode: ProvisionMode): Promise<ProvisionOutcome> {
    const started = performance.now();
    const ms: Partial<Record<Step, number>> = {};
    const time: StepTimer = async (step, work) => {
      const at = performance.now();
      try {
        return await work();
      } finally {
        ms[step] = Math.round(performance.now() - at);
      }
    };
    let developer: KongDeveloper | undefined = typeof input === 'string' ? undefined : input;
    let developerId = developer?.id;
    const base = () => ({
      event: 'provision',
      developer_id: developerId ?? null,
      email_hash: hashEmail(developer?.email ?? (typeof input === 'string' ? input : '')),
    });
    try {
      // The event hook usually starts on this developer a moment before the page's call: join it
      // without a Kong read of our own.
      const running = typeof input === 'string' && mode === 'interactive' ? joinable.get(input.trim().toLowerCase()) : undefined;
      let made: MadeWhole;
      if (running) {
        made = await running;
      } else {
        const found = developer ?? (await time('kong', () => fetchDeveloper(input as string)));
        developer = found;
        developerId = found.id;
        made = await makeWholeOnce(found, mode, time);
      }
      const { stripePath, ...outcome } = made;
      developerId = outcome.developerId;
      logger.info({
        ...base(),
        outcome: 'ok',
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

  return {
    isProvisionable,
    provisionDeveloper(input, options = {}) {
      const mode = options.mode ?? (typeof input === 'string' ? 'interactive' : 'reconcile');
      // Concurrent calls with the same email share one Kong lookup and one log line.
      const key = typeof input === 'string' ? `lookup:${mode}:${input.trim().toLowerCase()}` : `object:${mode}:${input.id}`;
      return flights.run(key, () => provisionLogged(input, mode));
    },

    async inspectDeveloper(input) {
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
        duplicateCustomerIds: [],
        missing: [],
        whole: false,
        moesifPending: deps.moesif.isPending(developer.id),
      };
      let price: Stripe.Price | undefined;
      try {
        const plan = selectPlan(developer);
        inspection.plan = plan.id;
        price = await deps.prices.priceFor(plan);
        inspection.priceId = price.id;
      } catch (error) {
        if (!(error instanceof ProvisionError) || (error.code !== 'plan_not_found' && error.code !== 'plan_price_not_found')) throw error;
        inspection.planError = error.message;
      }
      const [customer, ...duplicates] = await findCustomers(developer);
      inspection.customerId = customer?.id;
      inspection.duplicateCustomerIds = duplicates.map((c) => c.id);
      if (customer && price) inspection.subscriptionId = (await findSubscription(customer.id, price.id))?.id;
      if (!inspection.customerId) inspection.missing.push('customer');
      if (!inspection.subscriptionId) inspection.missing.push('subscription');
      inspection.whole = inspection.missing.length === 0;
      return inspection;
    },
  };
}

type StepTimer = <T>(step: Step, work: () => Promise<T>) => Promise<T>;
