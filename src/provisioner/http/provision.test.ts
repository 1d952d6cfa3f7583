/**
 * The provisioner end to end over HTTP against the Stripe, Kong and Moesif emulators:
 * exactly-once under concurrency, faults and restarts, and "zero Stripe calls" for everything
 * refused before Stripe, counted by the Stripe emulator.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { startKongEmulator, type RunningKongEmulator } from '../../sandbox/kong/index.ts';
import { startMoesifEmulator, type RunningMoesifEmulator } from '../../sandbox/moesif/moesif-emulator.ts';
import { startStripeEmulator, type RunningStripeEmulator } from '../../sandbox/stripe/stripe-emulator.ts';
import { parsePlans, type PlansFile } from '../../shared/plans.ts';
import type { ProvisionProvenAnswer, ProvisionResult } from '../../shared/provisioner-api.ts';
import { signKongEvent } from './kong-events.ts';
import { createMemoryLogger } from '../../shared/provision-log.ts';
import { startProvisioner, type RunningProvisioner, type StartOptions } from '../server.ts';
import type { ProvisionerSettings } from '../settings/settings.ts';

const STRIPE_KEY = 'sk_test_provisioner_suite';
const MOESIF_APP_ID = 'moesif-app-1';
const PORTAL = 'http://portal.test';
const HOOK_SECRET = 'hook-secret-0123456789';
const READYZ_TOKEN = 'readyz-token-0123456789';

let stripeEmulator: RunningStripeEmulator;
let kong: RunningKongEmulator;
let moesif: RunningMoesifEmulator;
let plans: PlansFile;
let prices: Record<string, string>;
let provisioner: RunningProvisioner;
const logger = createMemoryLogger();
let emailSequence = 0;

function settingsFor(overrides: Partial<ProvisionerSettings> = {}): ProvisionerSettings {
  return {
    stripe: { secretKey: STRIPE_KEY, mode: 'test', apiBase: new URL(stripeEmulator.url), maxWritesPerSecond: 20 },
    moesif: { applicationId: MOESIF_APP_ID, apiBase: moesif.url, companyIdSource: 'subscription' },
    kong: { adminUrl: kong.adminUrl, token: undefined, workspace: 'default' },
    portalOrigins: [PORTAL],
    plansFile: 'inline',
    plans,
    port: 0,
    eventHookSecret: HOOK_SECRET,
    provisionStatuses: [0, 1, 5],
    rateLimitPerMinute: 10_000,
    ...overrides,
  };
}

const FAST: StartOptions = {
  logger,
  stripeRetry: { baseDelayMs: 5, maxDelayMs: 50 },
  stripeClient: { timeoutMs: 5_000 },
  moesifAttempts: 1,
  // Wait for Moesif's answer, so "synced" assertions do not depend on timing; the bounded wait
  // (DEFAULT_MOESIF_WAIT_MS) has its own tests below.
  moesifSync: { retryBaseMs: 50, retryMaxMs: 100, waitMs: Infinity },
};

const start = (overrides: Partial<ProvisionerSettings> = {}, options: StartOptions = {}) => startProvisioner(settingsFor(overrides), { ...FAST, ...options });

/** A new developer in the Kong emulator, with a unique email. */
function addDeveloper(meta: Record<string, unknown> = { full_name: 'Ada Lovelace' }, status = 0) {
  const email = `dev${++emailSequence}@example.com`;
  const developer = kong.state.addDeveloper('default', { email, status, meta }, { emitEvent: false });
  proofs.set(email, developer.id);
  return { email, id: developer.id };
}

/** Email -> the developer id Kong's register answer gave the page (the proof POST /provision wants). */
const proofs = new Map<string, string>();

/** A developer Kong created `seconds` ago (Kong's created_at is in seconds). */
function addDeveloperCreatedAgo(seconds: number, meta: Record<string, unknown> = { full_name: 'Ada Lovelace' }) {
  const email = `dev${++emailSequence}@example.com`;
  const developer = kong.state.addDeveloper('default', { email, status: 0, meta }, { emitEvent: false });
  proofs.set(email, developer.id);
  developer.created_at -= seconds;
  return { email, id: developer.id };
}

/** POST /provision as the page sends it: the email plus, for a developer the test made, its proof. */
function provision(service: { url: string }, body: unknown, headers: Record<string, string> = {}) {
  const email = (body as { email?: unknown } | null)?.email;
  const proof = typeof email === 'string' && typeof body === 'object' && !('developer_id' in (body as object)) ? proofs.get(email) : undefined;
  return fetch(`${service.url}/provision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(proof ? { ...(body as object), developer_id: proof } : body),
  });
}

/**
 * A proven POST /provision that must answer active; the Stripe ids (which the answer no longer
 * carries) are read back from the Stripe emulator, so the exactly-once checks below keep their shape.
 */
async function provisionOk(email: string, service: { url: string } = provisioner): Promise<ProvisionResult> {
  const response = await provision(service, { email });
  const body = (await response.json()) as ProvisionProvenAnswer;
  expect(response.status, JSON.stringify(body)).toBe(200);
  expect(body).toMatchObject({ status: 'active' });
  expect(JSON.stringify(body)).not.toMatch(/cus_|sub_/);
  const customer = customersOf(email)[0];
  const subscription = customer ? subscriptionsOf(customer.id).find((s) => s.status !== 'canceled') : undefined;
  return { developerId: proofs.get(email) ?? '', customerId: customer?.id ?? '', subscriptionId: subscription?.id ?? '', plan: body.plan ?? '', moesif: body.moesif ?? 'pending' };
}

/** How many requests of each kind (e.g. "GET /v1/customers") the Stripe emulator saw since `before`. */
function stripeRequestsSince(before: ReturnType<RunningStripeEmulator['counters']['snapshot']>) {
  const after = stripeEmulator.counters.snapshot();
  const count = (key: string) => (after.requests[key] ?? 0) - (before.requests[key] ?? 0);
  return {
    customerLists: count('GET /v1/customers'),
    subscriptionLists: count('GET /v1/subscriptions'),
    customerCreates: count('POST /v1/customers'),
    subscriptionCreates: count('POST /v1/subscriptions'),
    writes: after.writes - before.writes,
    replays: after.replays - before.replays,
    idempotencyErrors: (after.statuses['400'] ?? 0) - (before.statuses['400'] ?? 0),
  };
}

const lastProvisionLine = () => logger.entries.filter((entry) => entry.event === 'provision').at(-1);

function signedDeveloperEvent(id: string) {
  const body = JSON.stringify({ source: 'crud', event: 'developers', operation: 'create', entity: { id, status: 0 } });
  return { method: 'POST', headers: { 'content-type': 'application/json', 'x-kong-signature': signKongEvent(body, HOOK_SECRET) }, body };
}

const customersOf = (email: string) => stripeEmulator.snapshot().customers.filter((c) => (c as Stripe.Customer).email === email) as Stripe.Customer[];
const subscriptionsOf = (customerId: string) => stripeEmulator.snapshot().subscriptions.filter((s) => (s as Stripe.Subscription).customer === customerId) as Stripe.Subscription[];

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  stripeEmulator = await startStripeEmulator({ apiKeys: [STRIPE_KEY] });
  kong = await startKongEmulator();
  kong.state.patchWorkspaceConfig('default', { portal: true });
  moesif = await startMoesifEmulator({ applicationIds: [MOESIF_APP_ID] });

  // The catalog stripe:setup would create: one meter, one product, prices found by lookup_key.
  const admin = new Stripe(STRIPE_KEY, { ...stripeEmulator.clientOptions, maxNetworkRetries: 0 });
  const meter = await admin.billing.meters.create({ display_name: 'API calls', event_name: 'api_calls', default_aggregation: { formula: 'sum' } });
  const product = await admin.products.create({ name: 'Credit Score API' });
  const recurring = { interval: 'month' as const, usage_type: 'metered' as const, meter: meter.id };
  const starter = await admin.prices.create({ product: product.id, currency: 'usd', lookup_key: 'kpm_starter', unit_amount_decimal: Stripe.Decimal.from('0.5'), recurring });
  const growth = await admin.prices.create({
    product: product.id,
    currency: 'usd',
    lookup_key: 'kpm_growth',
    billing_scheme: 'tiered',
    tiers_mode: 'graduated',
    tiers: [
      { up_to: 100, unit_amount_decimal: Stripe.Decimal.from('500') },
      { up_to: 'inf', unit_amount_decimal: Stripe.Decimal.from('200') },
    ],
    recurring,
  });
  prices = { starter: starter.id, growth: growth.id };
  plans = parsePlans({
    product: { name: 'Credit Score API' },
    plans: [
      { id: 'starter', name: 'Starter', default: true, price: { lookup_key: 'kpm_starter' } },
      { id: 'growth', name: 'Growth', description: 'Tiered', price: { id: growth.id } },
    ],
  });
  provisioner = await start();
});

afterAll(async () => {
  await provisioner?.close();
  await moesif?.close();
  await kong?.close();
  await stripeEmulator?.close();
});

describe('POST /provision', () => {
  it('happy path: one customer and one subscription with the developer metadata, Moesif company and user, one log line without the email', async () => {
    const { email, id } = addDeveloper({ full_name: 'Ada Lovelace', plan: 'growth' });
    logger.entries.length = 0;
    const result = await provisionOk(email);

    expect(result).toEqual({ developerId: id, customerId: expect.stringMatching(/^cus_/), subscriptionId: expect.stringMatching(/^sub_/), plan: 'growth', moesif: 'synced' });
    const [customer, ...extra] = customersOf(email);
    expect(extra).toHaveLength(0);
    expect(customer).toMatchObject({ id: result.customerId, email, name: 'Ada Lovelace', metadata: { kong_developer_id: id, kong_workspace: 'default', plan: 'growth' } });
    const [subscription] = subscriptionsOf(result.customerId);
    expect(subscription).toMatchObject({ id: result.subscriptionId, status: 'active', metadata: { kong_developer_id: id, plan: 'growth' } });
    expect(subscription?.items.data.map((item) => item.price.id)).toEqual([prices.growth]);

    expect(moesif.store.companies.get(result.subscriptionId)).toMatchObject({ company_id: result.subscriptionId, metadata: { stripe_customer_id: result.customerId } });
    expect(moesif.store.users.get(email)).toMatchObject({
      user_id: email,
      company_id: result.subscriptionId,
      metadata: { email, name: 'Ada Lovelace', stripe_customer_id: result.customerId, stripe_subscription_id: result.subscriptionId, kong_developer_id: id, plan: 'growth' },
    });

    const lines = logger.entries.filter((entry) => entry.event === 'provision');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ developer_id: id, outcome: 'ok', created: { customer: true, subscription: true } });
    // The Kong read is the HTTP layer's (it checks the proof) and the core gets the developer object.
    expect(Object.keys(lines[0]?.ms as object)).toEqual(expect.arrayContaining(['plan', 'customer', 'subscription', 'moesif', 'total']));
    expect(JSON.stringify(logger.entries)).not.toContain(email);
  });

  it('a second call answers the same ids and writes nothing to Stripe', async () => {
    const { email } = addDeveloper();
    const first = await provisionOk(email);
    const writesBefore = stripeEmulator.counters.writes;
    const second = await provisionOk(email);
    expect(second).toEqual(first);
    expect(stripeEmulator.counters.writes).toBe(writesBefore);
    expect(first.plan).toBe('starter');
  });

  it('20 concurrent calls for one developer give one customer and one subscription', async () => {
    const { email } = addDeveloper();
    const results = await Promise.all(Array.from({ length: 20 }, () => provisionOk(email)));
    expect(new Set(results.map((r) => r.customerId)).size).toBe(1);
    expect(new Set(results.map((r) => r.subscriptionId)).size).toBe(1);
    expect(customersOf(email)).toHaveLength(1);
    expect(subscriptionsOf(results[0]!.customerId)).toHaveLength(1);
  });

  it('two provisioner processes racing for one developer still make one customer and one subscription', async () => {
    const other = await start();
    try {
      const { email } = addDeveloper();
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => provisionOk(email, i % 2 ? other : provisioner)));
      expect(new Set(results.map((r) => r.subscriptionId)).size).toBe(1);
      expect(customersOf(email)).toHaveLength(1);
      expect(subscriptionsOf(results[0]!.customerId)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it.each(['before', 'after'] as const)('Stripe 500 on subscription create (%s the write) then success: one subscription', async (when) => {
    const { email } = addDeveloper();
    const rule = stripeEmulator.faults.add({ kind: '500', method: 'POST', path: '/v1/subscriptions', when, times: 1 });
    const result = await provisionOk(email);
    expect(rule.fired).toBe(1);
    expect(subscriptionsOf(result.customerId).map((s) => s.id)).toEqual([result.subscriptionId]);
    expect(await provisionOk(email)).toEqual(result);
    expect(subscriptionsOf(result.customerId)).toHaveLength(1);
  });

  it('Stripe 429 and lock_timeout on customer create are retried: one customer', async () => {
    const { email } = addDeveloper();
    stripeEmulator.faults.add({ kind: '429', method: 'POST', path: '/v1/customers', times: 1 });
    stripeEmulator.faults.add({ kind: 'lock_timeout', method: 'POST', path: '/v1/customers', times: 1 });
    const result = await provisionOk(email);
    expect(customersOf(email).map((c) => c.id)).toEqual([result.customerId]);
  });

  it('a lost answer after the customer write (dropped connection) replays the same customer', async () => {
    const { email } = addDeveloper();
    stripeEmulator.faults.add({ kind: 'drop', method: 'POST', path: '/v1/customers', when: 'after', times: 1 });
    const result = await provisionOk(email);
    expect(customersOf(email).map((c) => c.id)).toEqual([result.customerId]);
  });

  it('customer created, then the process restarts: the next call reuses the customer', async () => {
    const { email } = addDeveloper();
    // Every subscription attempt fails (SDK retries included): the first run stops after the customer.
    const rule = stripeEmulator.faults.add({ kind: '500', method: 'POST', path: '/v1/subscriptions', times: 3 });
    const first = await start();
    let customerId: string;
    try {
      const response = await provision(first, { email });
      expect(response.status).toBe(502);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('stripe_unavailable');
      // Generic for the browser (issue 17.9): Stripe's own text stays in the log.
      expect(body.error.message).toMatch(/Stripe\) is unavailable right now; nothing was charged/);
      expect(rule.exhausted).toBe(true);
      const customers = customersOf(email);
      expect(customers).toHaveLength(1);
      customerId = customers[0]!.id;
    } finally {
      await first.close();
    }
    const restarted = await start();
    try {
      const result = await provisionOk(email, restarted);
      expect(result.customerId).toBe(customerId);
      expect(customersOf(email)).toHaveLength(1);
      expect(subscriptionsOf(customerId)).toHaveLength(1);
    } finally {
      await restarted.close();
    }
  });

  it('unknown developer: 202 accepted, like any unproven request, and zero Stripe calls', async () => {
    const before = stripeEmulator.counters.total;
    const response = await provision(provisioner, { email: 'nobody@example.com' });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: 'accepted' });
    expect(stripeEmulator.counters.total).toBe(before);
  });

  it('Kong unreachable: the proof cannot be checked, 202 accepted, and zero Stripe calls', async () => {
    const noKong = await start({ kong: { adminUrl: 'http://127.0.0.1:1', token: undefined, workspace: 'default' } });
    try {
      const before = stripeEmulator.counters.total;
      const response = await provision(noKong, { email: 'anyone@example.com', developer_id: '5f0c7a3e-2b1d-4c8e-9f6a-0d1e2f3a4b5c' });
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ status: 'accepted' });
      expect(stripeEmulator.counters.total).toBe(before);
    } finally {
      await noKong.close();
    }
  });

  it('a rejected developer (proven): its own status, and zero Stripe calls', async () => {
    const { email } = addDeveloper({}, 2);
    const before = stripeEmulator.counters.total;
    const response = await provision(provisioner, { email });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'awaiting_approval', developer_status: 'rejected' });
    expect(stripeEmulator.counters.total).toBe(before);
  });

  it('an unknown plan falls back to the default plan', async () => {
    const { email } = addDeveloper({ plan: 'platinum' });
    expect((await provisionOk(email)).plan).toBe('starter');
  });

  it('an unknown plan with no default plan: 422 plan_not_found and zero Stripe calls', async () => {
    const noDefault = parsePlans({ product: { name: 'x' }, plans: plans.plans.map((plan) => ({ ...plan, default: false })) });
    const strict = await start({ plans: noDefault });
    try {
      const { email } = addDeveloper({ plan: 'platinum' });
      const before = stripeEmulator.counters.total;
      const response = await provision(strict, { email });
      expect(response.status).toBe(422);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error).toMatchObject({ code: 'plan_not_found', message: expect.stringContaining('"platinum"') });
      expect(stripeEmulator.counters.total).toBe(before);
    } finally {
      await strict.close();
    }
  });

  it.each([
    ['missing email', {}, {}, 400, 'invalid_email'],
    ['invalid JSON', '{"email": "a@', {}, 400, 'invalid_json'],
    ['100 KB body', { email: 'dev1@example.com', padding: 'x'.repeat(100 * 1024) }, {}, 413, 'payload_too_large'],
    ['wrong content type', '{"email":"dev1@example.com"}', { 'content-type': 'application/xml' }, 415, 'unsupported_media_type'],
    ['disallowed origin', { email: 'dev1@example.com' }, { origin: 'https://evil.example' }, 403, 'origin_not_allowed'],
  ])('%s: %i %s and zero Stripe calls', async (_name, body, headers, status, code) => {
    const before = stripeEmulator.counters.total;
    const response = await provision(provisioner, body, headers as Record<string, string>);
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    expect(stripeEmulator.counters.total).toBe(before);
  });
});

describe('young developers: stable idempotency keys, no lookups', () => {
  it('a new developer costs exactly two Stripe writes and no list call', async () => {
    const { email, id } = addDeveloper({ full_name: 'Ada Lovelace', plan: 'growth' });
    const before = stripeEmulator.counters.snapshot();
    const result = await provisionOk(email);
    expect(stripeRequestsSince(before)).toMatchObject({ customerLists: 0, subscriptionLists: 0, customerCreates: 1, subscriptionCreates: 1, writes: 2, replays: 0 });
    expect(customersOf(email).map((c) => c.id)).toEqual([result.customerId]);
    expect(subscriptionsOf(result.customerId).map((s) => s.id)).toEqual([result.subscriptionId]);
    expect(lastProvisionLine()).toMatchObject({ developer_id: id, stripe: 'direct', created: { customer: true, subscription: true } });
  });

  it('another instance repeating the signup replays both writes: no lookup, nothing new; then answers from memory', async () => {
    const other = await start(); // started before the developer exists, like every instance at signup time
    try {
      const { email } = addDeveloper();
      const first = await provisionOk(email);
      const before = stripeEmulator.counters.snapshot();
      expect(await provisionOk(email, other)).toEqual(first);
      expect(stripeRequestsSince(before)).toMatchObject({ customerLists: 0, subscriptionLists: 0, writes: 2, replays: 2 });
      expect(lastProvisionLine()).toMatchObject({ stripe: 'direct', created: { customer: false, subscription: false } });
      expect(customersOf(email)).toHaveLength(1);
      expect(subscriptionsOf(first.customerId)).toHaveLength(1);

      const again = stripeEmulator.counters.snapshot();
      expect(await provisionOk(email, other)).toEqual(first);
      expect(stripeEmulator.counters.total).toBe(again.total);
      expect(lastProvisionLine()).toMatchObject({ stripe: 'remembered' });
    } finally {
      await other.close();
    }
  });

  it('the page and the event hook racing through two instances (no shared single flight): one customer, one subscription', async () => {
    const browserSide = await start();
    const hookSide = await start();
    stripeEmulator.configure({ latencyMs: 100 }); // long enough for the two creates to overlap
    try {
      const { email, id } = addDeveloper({ full_name: 'Grace Hopper' });
      const before = stripeEmulator.counters.snapshot();
      const [page, hook] = await Promise.all([provisionOk(email, browserSide), fetch(`${hookSide.url}/kong/events`, signedDeveloperEvent(id))]);
      expect(hook.status).toBe(200);
      const hookResult = ((await hook.json()) as { result: ProvisionResult }).result;
      expect(hookResult.customerId).toBe(page.customerId);
      expect(hookResult.subscriptionId).toBe(page.subscriptionId);
      const requests = stripeRequestsSince(before);
      // Both instances wrote: the stable keys, not a lookup or a lock, made it one object each.
      expect(requests.customerCreates).toBeGreaterThanOrEqual(2);
      expect(requests.subscriptionCreates).toBeGreaterThanOrEqual(2);
      expect(customersOf(email).map((c) => c.id)).toEqual([page.customerId]);
      expect(subscriptionsOf(page.customerId).map((s) => s.id)).toEqual([page.subscriptionId]);
    } finally {
      stripeEmulator.configure({ latencyMs: 0 });
      await browserSide.close();
      await hookSide.close();
    }
  });

  it('a name change within the window: the customer create gets idempotency_error, a lookup finds the customer', async () => {
    const other = await start();
    try {
      const { email, id } = addDeveloper({ full_name: 'Ada Lovelace' });
      const first = await provisionOk(email);
      kong.state.updateDeveloper('default', email, { meta: JSON.stringify({ full_name: 'Ada King' }) });
      const before = stripeEmulator.counters.snapshot();
      const second = await provisionOk(email, other);
      expect(second).toMatchObject({ customerId: first.customerId, subscriptionId: first.subscriptionId });
      expect(stripeRequestsSince(before)).toMatchObject({ customerCreates: 1, idempotencyErrors: 1, customerLists: 1, subscriptionCreates: 1, replays: 1 });
      expect(lastProvisionLine()).toMatchObject({ developer_id: id, outcome: 'ok', created: { customer: false, subscription: false } });
      expect(customersOf(email)).toHaveLength(1);
      expect(subscriptionsOf(first.customerId)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('an old developer (created two days ago) is still looked up before every create', async () => {
    const { email } = addDeveloperCreatedAgo(2 * 24 * 60 * 60);
    const before = stripeEmulator.counters.snapshot();
    const result = await provisionOk(email);
    expect(stripeRequestsSince(before)).toMatchObject({ customerLists: 1, subscriptionLists: 1, customerCreates: 1, subscriptionCreates: 1 });
    expect(lastProvisionLine()).toMatchObject({ stripe: 'lookup', created: { customer: true, subscription: true } });
    expect(customersOf(email).map((c) => c.id)).toEqual([result.customerId]);
  });

  it('a young developer an earlier version provisioned (other keys) before this instance started is looked up, not duplicated', async () => {
    const { email, id } = addDeveloperCreatedAgo(60);
    const admin = new Stripe(STRIPE_KEY, { ...stripeEmulator.clientOptions, maxNetworkRetries: 0 });
    const legacy = await admin.customers.create(
      { email, name: 'Ada Lovelace', metadata: { kong_developer_id: id, kong_workspace: 'default', plan: 'starter' } },
      { idempotencyKey: `legacy-${id}` },
    );
    const upgraded = await start();
    try {
      const before = stripeEmulator.counters.snapshot();
      const result = await provisionOk(email, upgraded);
      expect(result.customerId).toBe(legacy.id);
      expect(stripeRequestsSince(before)).toMatchObject({ customerLists: 1, customerCreates: 0 });
      expect(customersOf(email)).toHaveLength(1);
      expect(subscriptionsOf(legacy.id)).toHaveLength(1);
    } finally {
      await upgraded.close();
    }
  });
});

describe('inspectDeveloper (for reconcile and doctor)', () => {
  it('reports what is missing without writing, and a whole developer after provisioning', async () => {
    const { email, id } = addDeveloper({ plan: 'growth' });
    const writesBefore = stripeEmulator.counters.writes;
    const fresh = await provisioner.provisioner.inspectDeveloper(email);
    expect(fresh).toMatchObject({ developerId: id, provisionable: true, plan: 'growth', priceId: prices.growth, whole: false, missing: ['customer', 'subscription'] });
    expect(stripeEmulator.counters.writes).toBe(writesBefore);

    const result = await provisionOk(email);
    const writesAfter = stripeEmulator.counters.writes;
    const whole = await provisioner.provisioner.inspectDeveloper(email);
    expect(whole).toMatchObject({ whole: true, missing: [], customerId: result.customerId, subscriptionId: result.subscriptionId, duplicateCustomerIds: [] });
    expect(stripeEmulator.counters.writes).toBe(writesAfter);
  });
});

describe('Moesif', () => {
  it('down: the signup still answers 200 with moesif "pending", then syncs when Moesif is back', async () => {
    const { email } = addDeveloper();
    moesif.configure({ down: '503' });
    let result: ProvisionResult;
    try {
      result = await provisionOk(email);
      expect(result.moesif).toBe('pending');
      expect(moesif.store.users.has(email)).toBe(false);
    } finally {
      moesif.configure({ down: false });
    }
    await waitFor(() => moesif.store.users.has(email));
    expect(moesif.store.users.get(email)).toMatchObject({ company_id: result.subscriptionId });
    expect(moesif.store.companies.has(result.subscriptionId)).toBe(true);
    expect((await provisionOk(email)).moesif).toBe('synced');
  });

  it('off the critical path by default: a slow Moesif answers pending at once, the record lands in the background, a later call answers synced without a call', async () => {
    const quick = await start({}, { moesifSync: { retryBaseMs: 50, retryMaxMs: 100 } });
    try {
      const { email } = addDeveloper();
      moesif.configure({ latencyMs: 1_000 });
      let result: ProvisionResult;
      try {
        result = await provisionOk(email, quick);
        expect(result.moesif).toBe('pending');
        expect(moesif.store.users.has(email)).toBe(false);
      } finally {
        moesif.configure({ latencyMs: 0 });
      }
      await waitFor(() => !quick.moesif.isPending(result.developerId));
      expect(moesif.store.users.get(email)).toMatchObject({ company_id: result.subscriptionId });
      expect(moesif.store.companies.has(result.subscriptionId)).toBe(true);
      const moesifCalls = moesif.counters.total;
      expect((await provisionOk(email, quick)).moesif).toBe('synced');
      expect(moesif.counters.total).toBe(moesifCalls);
    } finally {
      await quick.close();
    }
  });

  it('a call that had to look Stripe up (here: a developer older than this instance) waits for Moesif and answers synced', async () => {
    const { email } = addDeveloperCreatedAgo(60);
    const restarted = await start({}, { moesifSync: { retryBaseMs: 50, retryMaxMs: 100 } });
    moesif.configure({ latencyMs: 200 });
    try {
      const result = await provisionOk(email, restarted);
      expect(lastProvisionLine()).toMatchObject({ stripe: 'lookup' });
      expect(result.moesif).toBe('synced');
      expect(moesif.store.users.get(email)).toMatchObject({ company_id: result.subscriptionId });
    } finally {
      moesif.configure({ latencyMs: 0 });
      await restarted.close();
    }
  });

  it('drain waits for Moesif deliveries still under way', async () => {
    const draining = await start({}, { moesifSync: { retryBaseMs: 50, retryMaxMs: 100 } });
    const { email } = addDeveloper();
    moesif.configure({ latencyMs: 300 });
    try {
      expect((await provisionOk(email, draining)).moesif).toBe('pending');
      expect(draining.moesif.pendingCount).toBe(1);
      await draining.drain();
      expect(moesif.store.users.has(email)).toBe(true);
    } finally {
      moesif.configure({ latencyMs: 0 });
      await draining.close();
    }
  });

  it('a second provisioning for the same developer with another Moesif user (an AWS replacement key) does not join the running one: both users land in the company', async () => {
    const { email, id } = addDeveloper();
    const whole = await provisionOk(email);
    const developer = (await new KongAdminClient({ adminUrl: kong.adminUrl, token: undefined, workspace: 'default' }).getDeveloper(id))!;
    // Started together: without the Moesif user in the join rule, the second would answer with the first's result.
    const [first, second] = await Promise.all([
      provisioner.provisioner.provisionDeveloper(developer, { mode: 'interactive' }),
      provisioner.provisioner.provisionDeveloper({ ...developer, custom_id: 'replacement-key-id' }, { mode: 'interactive' }),
    ]);
    expect([first.subscriptionId, second.subscriptionId]).toEqual([whole.subscriptionId, whole.subscriptionId]);
    await waitFor(() => moesif.store.users.has('replacement-key-id'));
    expect(moesif.store.users.get('replacement-key-id')).toMatchObject({ company_id: whole.subscriptionId });
    expect(moesif.store.users.get(email)).toMatchObject({ company_id: whole.subscriptionId });
  });

  it('MOESIF_COMPANY_ID_SOURCE=customer uses the customer id as company_id', async () => {
    const byCustomer = await start({ moesif: { applicationId: MOESIF_APP_ID, apiBase: moesif.url, companyIdSource: 'customer' } });
    try {
      const { email } = addDeveloper();
      const result = await provisionOk(email, byCustomer);
      expect(moesif.store.users.get(email)).toMatchObject({ company_id: result.customerId });
      expect(moesif.store.companies.has(result.customerId)).toBe(true);
    } finally {
      await byCustomer.close();
    }
  });
});

describe('POST /kong/events', () => {
  it('a bad signature: 401 and zero Stripe calls', async () => {
    const { id } = addDeveloper();
    const body = JSON.stringify({ source: 'crud', event: 'developers', operation: 'create', entity: { id, status: 0 } });
    const before = stripeEmulator.counters.total;
    const response = await fetch(`${provisioner.url}/kong/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-kong-signature': signKongEvent(body, 'not-the-secret') },
      body,
    });
    expect(response.status).toBe(401);
    expect(stripeEmulator.counters.total).toBe(before);
  });

  it('Kong\'s own developers event hook provisions a new developer without the browser', async () => {
    const admin = new KongAdminClient({ adminUrl: kong.adminUrl, workspace: 'default' });
    const hook = await admin.createEventHook({ source: 'crud', event: 'developers', handler: 'webhook', config: { url: `${provisioner.url}/kong/events`, secret: HOOK_SECRET } });
    try {
      const email = `hooked${++emailSequence}@example.com`;
      proofs.set(email, kong.state.addDeveloper('default', { email, status: 0, meta: { full_name: 'Grace Hopper' } }, { emitEvent: true }).id);
      await kong.settle();
      expect(kong.state.hookDeliveries.at(-1)?.status).toBe(200);
      const [customer] = customersOf(email);
      expect(customer?.name).toBe('Grace Hopper');
      expect(subscriptionsOf(customer!.id)).toHaveLength(1);
      // The browser's call afterwards answers the same ids.
      expect((await provisionOk(email)).customerId).toBe(customer!.id);

      // An invited developer is not provisioned until an update approves them.
      const invited = `invited${++emailSequence}@example.com`;
      kong.state.addDeveloper('default', { email: invited, status: 4 }, { emitEvent: true });
      await kong.settle();
      expect(customersOf(invited)).toHaveLength(0);
      kong.state.updateDeveloper('default', invited, { status: 0 });
      await kong.settle();
      expect(kong.state.hookDeliveries.at(-1)).toMatchObject({ operation: 'update', status: 200 });
      expect(customersOf(invited)).toHaveLength(1);
    } finally {
      await admin.deleteEventHook(hook.id);
    }
  });
});

describe('GET /plans and /readyz, drain', () => {
  it('lists the plans with summaries derived from the Stripe prices', async () => {
    const response = await fetch(`${provisioner.url}/plans`, { headers: { origin: PORTAL } });
    expect(response.headers.get('access-control-allow-origin')).toBe(PORTAL);
    expect(await response.json()).toEqual({
      plans: [
        { id: 'starter', name: 'Starter', description: '', priceSummary: '$0.005 per call, billed monthly', default: true },
        { id: 'growth', name: 'Growth', description: 'Tiered', priceSummary: '1-100 calls: $5.00 each; 101+ calls: $2.00 each (each tier at its own rate), billed monthly', default: false },
      ],
    });
  });

  it('readyz checks Kong, Stripe and Moesif, and names the one that fails', async () => {
    const ready = await fetch(`${provisioner.url}/readyz`);
    expect(ready.status).toBe(200);
    const wrongKey = await start({ moesif: { applicationId: 'wrong', apiBase: moesif.url, companyIdSource: 'subscription' }, readyzToken: READYZ_TOKEN });
    try {
      const publicAnswer = await fetch(`${wrongKey.url}/readyz`);
      expect(publicAnswer.status).toBe(503);
      expect(await publicAnswer.json()).toEqual({ status: 'not_ready' });
      const notReady = await fetch(`${wrongKey.url}/readyz`, { headers: { authorization: `Bearer ${READYZ_TOKEN}` } });
      expect(notReady.status).toBe(503);
      const body = (await notReady.json()) as { error: { message: string }; checks: Record<string, { ok: boolean }> };
      expect(body.error.message).toMatch(/^moesif: .*MOESIF_APPLICATION_ID/);
      expect(body.checks).toMatchObject({ kong: { ok: true }, stripe: { ok: true }, moesif: { ok: false } });
    } finally {
      await wrongKey.close();
    }
  });

  it('drain lets an in-flight signup finish, then stops taking requests', async () => {
    const draining = await start();
    const { email } = addDeveloper();
    stripeEmulator.configure({ latencyMs: 200 });
    try {
      const createsBefore = stripeEmulator.counters.count('POST /v1/customers');
      const inFlight = provisionOk(email, draining);
      await waitFor(() => stripeEmulator.counters.count('POST /v1/customers') > createsBefore);
      await draining.drain();
      const result = await inFlight;
      expect(customersOf(email).map((c) => c.id)).toEqual([result.customerId]);
      await expect(fetch(`${draining.url}/healthz`)).rejects.toThrow();
    } finally {
      stripeEmulator.configure({ latencyMs: 0 });
      await draining.close();
    }
  });
});
