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
import { KongError } from '../../kong/kong-errors.ts';
import { developerStatusName, parseDeveloperMeta, type KongDeveloper } from '../../kong/kong-types.ts';
import { CUSTOMER_META_KEY } from './stripe-lookups.ts';
import type { Plan } from '../../shared/plans.ts';
import { ensureCustomer, ensureSubscription, type EnsureContext } from './ensure-stripe.ts';
import { moesifRecord } from './moesif-record.ts';
import { planOfSubscription as planOfSubscriptionIn, requestedPlanId, selectPlan } from './plan-choice.ts';
import type { StripeSnapshot } from './stripe-snapshot.ts';
import { createWholeMemory, type WholeIds } from './whole-memory.ts';
import type { ProvisionerDeps, ProvisionMode, ProvisionOptions, ProvisionOutcome, Provisioner } from './provisioner-types.ts';
import { inspectDeveloperIn } from './inspect-developer.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import { hashEmail, usesStableKeys } from '../stripe/idempotency.ts';
import { silentLogger, type ProvisionLogger } from '../../shared/provision-log.ts';
import { createSingleFlight } from '../../shared/single-flight.ts';

export type { DeveloperInspection, ProvisionOutcome, Provisioner } from './provisioner-types.ts';

type Step = 'kong' | 'plan' | 'customer' | 'subscription' | 'moesif';
type StepTimer = <T>(step: Step, work: () => Promise<T>) => Promise<T>;

/** How the Stripe part of a call went, for the log line. */
type StripePath = 'remembered' | 'direct' | 'lookup';

type MadeWhole = ProvisionOutcome & { stripePath: StripePath };

// Developer id -> the makeWhole running for them, with what it was told.
interface RunningFlight {
  email: string;
  /** The Moesif user the flight registers (custom_id, else the email): AWS's replacement key is a new one for the same developer. */
  moesifUser: string;
  previousEmails: string[];
  work: Promise<MadeWhole>;
}

/** What the steps of one provisioner share. */
interface Core {
  deps: ProvisionerDeps;
  logger: ProvisionLogger;
  now: () => number;
  skipLookupsSince: number;
  moesifWaitAfterLookupMs: number;
  flights: ReturnType<typeof createSingleFlight>;
  memory: ReturnType<typeof createWholeMemory>;
  /** Lowercased email and id -> the interactive makeWhole running for that developer. */
  joinable: Map<string, Promise<MadeWhole>>;
  runningFor: Map<string, RunningFlight>;
  ctx: EnsureContext;
}

/**
 * The plan whose resolved Stripe price is this one. A plan whose price Stripe does not have is
 * skipped; any other failure is thrown, so a caller deciding access fails instead of guessing.
 */
async function planForPrice(deps: ProvisionerDeps, priceId: string): Promise<Plan | undefined> {
  for (const plan of deps.plans.plans) {
    let price: Stripe.Price;
    try {
      price = await deps.prices.priceFor(plan);
    } catch (error) {
      if (error instanceof ProvisionError && error.code === 'plan_price_not_found') continue;
      throw error;
    }
    if (price.id === priceId) return plan;
  }
  return undefined;
}

async function fetchDeveloper(deps: ProvisionerDeps, emailOrId: string): Promise<KongDeveloper> {
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

function requireProvisionable(deps: ProvisionerDeps, developer: KongDeveloper): void {
  if (deps.provisionStatuses.includes(developer.status)) return;
  throw new ProvisionError(
    'developer_not_provisionable',
    409,
    `developer status is "${developerStatusName(developer.status)}" (${developer.status}); only ${deps.provisionStatuses.map((s) => developerStatusName(s)).join(', ')} developers are provisioned`,
    { hint: 'approve the developer in Kong Manager, or widen PROVISION_STATUSES' },
  );
}

async function stripePart(core: Core, developer: KongDeveloper, mode: ProvisionMode, options: ProvisionOptions, time: StepTimer) {
  const { deps, ctx, now, skipLookupsSince } = core;
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
  await rememberCustomer(core, developer, customer.id);
  const newPlan = async () => ({ plan: firstPlan, price: needPrice() });
  const subscription = await time('subscription', () =>
    ensureSubscription(ctx, developer, customer.id, newPlan, { stable, lookupFirst, resubscribe: options.resubscribe, snapshot: options.snapshot }),
  );
  const planId = subscription.kind === 'current' && subscription.created ? firstPlan.id : await planOf(deps, subscription.subscription, firstPlan);
  return { customer, customerCreated, emailUpdated, subscription, planId, stripePath: (lookupFirst ? 'lookup' : 'direct') as StripePath };
}

/**
 * Keeps the customer id in the developer's Kong meta, so the customer is found by the developer,
 * not by an email that may change (stripe-lookups.ts rememberedDeveloperCustomer). Best effort:
 * the emails still find the customer without it.
 */
async function rememberCustomer({ deps, logger }: Core, developer: KongDeveloper, customerId: string): Promise<void> {
  if (!deps.kong.updateDeveloperMeta || parseDeveloperMeta(developer.meta)[CUSTOMER_META_KEY] === customerId) return;
  try {
    // Read again just before the write: Kong replaces meta whole, and the developer (or a plan
    // switch following Stripe) may have changed it since this call read it.
    const current = await deps.kong.getDeveloper(developer.id);
    if (!current) return;
    const meta = parseDeveloperMeta(current.meta);
    if (meta[CUSTOMER_META_KEY] === customerId) return;
    await deps.kong.updateDeveloperMeta(developer.id, JSON.stringify({ ...meta, [CUSTOMER_META_KEY]: customerId }));
  } catch (error) {
    logger.warn({ event: 'customer_not_remembered', developer_id: developer.id, message: (error as Error).message.slice(0, 200) });
  }
}

/** The plan id provisioning reports (Moesif, the page): informational, so a failed price read falls back on the metadata. */
async function planOf(deps: ProvisionerDeps, subscription: Stripe.Subscription, fallback: Plan): Promise<string> {
  const plan = await planOfSubscriptionIn(deps.plans, subscription, (priceId) => planForPrice(deps, priceId)).catch(() => undefined);
  return plan?.id ?? subscription.metadata?.plan ?? fallback.id;
}

async function makeWhole(core: Core, developer: KongDeveloper, mode: ProvisionMode, options: ProvisionOptions, time: StepTimer): Promise<MadeWhole> {
  const { deps, logger, memory, moesifWaitAfterLookupMs } = core;
  requireProvisionable(deps, developer);
  const known = mode === 'interactive' && !options.previousEmails?.length ? memory.get(developer.id) : undefined;
  // Remembered with another email: the customer may still carry it, so Stripe is read (and follows).
  const remembered = known && known.email === developer.email ? known : undefined;
  let ids: WholeIds;
  let stripePath: StripePath = 'remembered';
  let created = { customer: false, subscription: false };
  let extra: Pick<ProvisionOutcome, 'ended' | 'emailUpdated' | 'createdObjects'> = {};
  if (remembered) ids = remembered;
  else {
    const part = await stripePart(core, developer, mode, options, time);
    ids = { customerId: part.customer.id, subscriptionId: part.subscription.subscription.id, planId: part.planId, email: developer.email };
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
  // Reconcile (a snapshot) does not wait per developer: it flushes Moesif once at the end.
  const waits = stripePath === 'lookup' && !options.snapshot;
  const moesif = await time('moesif', () => deps.moesif.sync(record, waits ? { waitMs: moesifWaitAfterLookupMs } : {}));
  return { developerId: developer.id, customerId: ids.customerId, subscriptionId: ids.subscriptionId, plan: ids.planId, moesif, created, stripePath, ...extra };
}

const moesifUserOf = (developer: KongDeveloper) => developer.custom_id || developer.email;

/**
 * Whether a call can be answered by the flight already running for its developer: not when it
 * knows more (another email, earlier emails the running one was not told, another Moesif user), or
 * the customer would stay on an email Kong no longer shows, the previous emails would be lost, or
 * a replacement key's calls would have no Moesif user in the developer's company.
 */
function canJoin(running: RunningFlight | undefined, developer: KongDeveloper, options: ProvisionOptions): boolean {
  if (!running) return true;
  return running.email === developer.email && running.moesifUser === moesifUserOf(developer) && (options.previousEmails ?? []).every((email) => running.previousEmails.includes(email));
}

/**
 * One makeWhole per developer at a time; interactive ones can be joined by email or id. A call that
 * cannot join waits for the running one and then starts its own: the check and the start are one
 * synchronous step, so nothing can slip in between (a waiter that resumes sees the next flight).
 */
async function makeWholeOnce(core: Core, developer: KongDeveloper, mode: ProvisionMode, options: ProvisionOptions, time: StepTimer): Promise<MadeWhole> {
  const { joinable, runningFor } = core;
  for (let running = runningFor.get(developer.id); running; running = runningFor.get(developer.id)) {
    if (canJoin(running, developer, options)) return running.work;
    await running.work.catch(() => undefined);
  }
  const work = makeWhole(core, developer, mode, options, time);
  const flight: RunningFlight = { email: developer.email, moesifUser: moesifUserOf(developer), previousEmails: [...(options.previousEmails ?? [])], work };
  runningFor.set(developer.id, flight);
  const names = mode === 'interactive' ? [developer.id.toLowerCase(), developer.email.trim().toLowerCase()] : [];
  for (const name of names) joinable.set(name, work);
  const done = () => {
    if (runningFor.get(developer.id) === flight) runningFor.delete(developer.id);
    for (const name of names) if (joinable.get(name) === work) joinable.delete(name);
  };
  work.then(done, done);
  return work;
}

/** Times each step into `ms` (a step run twice adds up). */
function stepTimer(ms: Partial<Record<Step, number>>): StepTimer {
  return async (step, work) => {
    const at = performance.now();
    try {
      return await work();
    } finally {
      ms[step] = (ms[step] ?? 0) + Math.round(performance.now() - at);
    }
  };
}

async function provisionLogged(core: Core, input: string | KongDeveloper, mode: ProvisionMode, options: ProvisionOptions): Promise<ProvisionOutcome> {
  const { deps, logger, joinable } = core;
  const started = performance.now();
  const ms: Partial<Record<Step, number>> = {};
  const time = stepTimer(ms);
  let developer: KongDeveloper | undefined = typeof input === 'string' ? undefined : input;
  const base = () => ({
    event: 'provision',
    developer_id: developer?.id ?? null,
    email_hash: hashEmail(developer?.email ?? (typeof input === 'string' ? input : '')),
  });
  try {
    // The event hook usually starts on this developer a moment before the page's call: join it.
    // Not with earlier emails to pass on (an email change): the running call was not told them.
    const running = typeof input === 'string' && mode === 'interactive' && !options.previousEmails?.length ? joinable.get(input.trim().toLowerCase()) : undefined;
    let made: MadeWhole;
    if (running) made = await running;
    else {
      developer ??= await time('kong', () => fetchDeveloper(deps, input as string));
      made = await makeWholeOnce(core, developer, mode, options, time);
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

export function createProvisioner(deps: ProvisionerDeps): Provisioner {
  const now = deps.now ?? Date.now;
  const core: Core = {
    deps,
    logger: deps.logger ?? silentLogger,
    now,
    skipLookupsSince: deps.skipLookupsForDevelopersSince ?? now(),
    moesifWaitAfterLookupMs: deps.moesifWaitAfterLookupMs ?? 2_000,
    flights: createSingleFlight(),
    memory: createWholeMemory({ ttlMs: deps.rememberWholeMs ?? 10 * 60_000, maxEntries: deps.rememberWholeMax ?? 10_000, now }),
    joinable: new Map(),
    runningFor: new Map(),
    ctx: {
      stripe: deps.stripe,
      retry: deps.stripeRetry,
      writeLimiter: deps.writeLimiter,
      workspace: deps.workspace,
      defaultCollection: deps.paymentCollection ?? 'checkout',
    },
  };
  const { ctx, flights } = core;
  const isProvisionable = (developer: Pick<KongDeveloper, 'status'>) => deps.provisionStatuses.includes(developer.status);
  const planForPriceOf = (priceId: string) => planForPrice(deps, priceId);
  const planOfSubscription = (subscription: Stripe.Subscription) => planOfSubscriptionIn(deps.plans, subscription, planForPriceOf);

  const inspectDeveloper = (input: string | KongDeveloper, options: { snapshot?: StripeSnapshot } = {}) =>
    inspectDeveloperIn(
      { ctx, plans: deps.plans, prices: deps.prices, moesif: deps.moesif, isProvisionable, fetchDeveloper: (emailOrId: string) => fetchDeveloper(deps, emailOrId), planOf: (subscription: Stripe.Subscription, fallback: Plan) => planOf(deps, subscription, fallback) },
      input,
      options.snapshot,
    );

  return {
    isProvisionable,
    planForPrice: planForPriceOf,
    planOfSubscription,
    provisionDeveloper(input, options = {}) {
      const mode = options.mode ?? (typeof input === 'string' ? 'interactive' : 'reconcile');
      // Concurrent calls with the same email share one Kong lookup and one log line; developers given
      // whole share only with the same email and Moesif user (makeWholeOnce then runs them one by one).
      const base = typeof input === 'string' ? `lookup:${mode}:${input.trim().toLowerCase()}` : `object:${mode}:${input.id}:${input.email}:${moesifUserOf(input)}`;
      // Calls that carry earlier emails (email changes) share a flight only with the same ones.
      const previous = [...new Set(options.previousEmails ?? [])].sort();
      const key = previous.length ? `${base}:previous:${previous.join('\u0000')}` : base;
      return flights.run(options.resubscribe ? `resubscribe:${key}` : key, () => provisionLogged(core, input, mode, options));
    },
    inspectDeveloper,
  };
}
