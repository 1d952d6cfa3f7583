// Issue 17 (core items) over the whole sandbox, each attack as the review ran it: email changes that
// took the paywall off, a developer whose provisioning always fails, invoice and free plans as a way
// around the card, a replayed Kong revoke, webhooks from the future or for nobody, removals across
// workspaces. Each test fails without its fix.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCTOR_CHECKS, PLANS_FILE, type DoctorState } from '../admin/doctor/doctor-checks.ts';
import { signKongEvent } from '../provisioner/http/kong-events.ts';
import { startProvisioner } from '../provisioner/server.ts';
import { loadProvisionerSettings } from '../provisioner/settings/settings.ts';
import { DEFAULT_PLANS_FILE } from '../dev/start-sandbox.ts';
import { parsePlans, PlansFileError } from '../shared/plans.ts';
import { startBillingSandbox, type BillingSandbox } from '../testkit/billing-sandbox.ts';

let billing: BillingSandbox;
let stripe: Stripe;
let sandbox: BillingSandbox['sandbox'];
let dir: string;

/** The example plans plus two private ones: an invoice plan and a free plan. */
async function plansWithPrivateOnes(): Promise<string> {
  const example = JSON.parse(await readFile(DEFAULT_PLANS_FILE, 'utf8')) as { plans: unknown[] };
  const price = (key: string) => ({ lookup_key: key, currency: 'usd', meter: 'api_calls', pricing: { model: 'per_unit', unit_amount_decimal: '0.2' } });
  example.plans.push(
    { id: 'enterprise', name: 'Enterprise', payment_collection: 'invoice', days_until_due: 30, price: price('kpm_enterprise_monthly') },
    { id: 'free', name: 'Free', payment_collection: 'none', price: price('kpm_free_monthly') },
  );
  const path = join(dir, 'plans.json');
  await writeFile(path, JSON.stringify(example));
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpm-core-security-'));
  billing = await startBillingSandbox({ plansFile: await plansWithPrivateOnes() });
  ({ stripe, sandbox } = billing);
});
afterAll(async () => {
  await billing?.close();
  await rm(dir, { recursive: true, force: true });
});

const settle = () => billing.settle();
const callStatus = (key: string) => billing.callStatus(key);
const provisionerUrl = () => sandbox.provisioner!.url;
const hookSecret = () => sandbox.provisionerSettings!.eventHookSecret!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function patchDeveloper(id: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${sandbox.kong!.adminUrl}/default/developers/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function provision(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${provisionerUrl()}/provision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function postKongEvent(body: string, url = provisionerUrl()): Promise<Response> {
  return fetch(`${url}/kong/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-kong-signature': signKongEvent(body, hookSecret()) }, body });
}

const customersOfDeveloper = (developerId: string) =>
  (sandbox.stripe!.snapshot().customers as Stripe.Customer[]).filter((customer) => customer.metadata?.kong_developer_id === developerId);

/** Waits until the background work started by a request (no handle to await) has reached Stripe and Kong. */
async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
}

async function blockMessage(key: string): Promise<string> {
  const response = await fetch(`${sandbox.kong!.proxyUrl}/test-service/x`, { headers: { apikey: key } });
  return ((await response.json()) as { message?: string }).message ?? '';
}

describe('issue 17.1: an email change never takes the paywall off', () => {
  it('an unproven POST /provision of the old email racing an email change (memory expired, 100 ms Stripe): still 402, one customer, and the proven call answers 200', async () => {
    const dev = await billing.signUp('starter', 'racer');
    expect(await callStatus(dev.key)).toBe(402);
    await billing.advanceDays(11 / (24 * 60)); // the provisioner's memory of this developer expires
    sandbox.stripe!.configure({ latencyMs: 100 });
    try {
      const moved = `moved-${dev.email}`;
      const unproven = provision({ email: dev.email });
      await sleep(5);
      expect((await patchDeveloper(dev.developer.id, { email: moved })).status).toBe(200);
      expect((await unproven).status).toBe(202);
      await settle();
      await waitFor(() => customersOfDeveloper(dev.developer.id).every((customer) => customer.email === moved));
      await settle();
      expect(await callStatus(dev.key)).toBe(402);
      const proven = await provision({ email: moved, developer_id: dev.developer.id });
      expect(proven.status).toBe(200);
      expect(await callStatus(dev.key)).toBe(402);
      expect(customersOfDeveloper(dev.developer.id).map((customer) => customer.id)).toEqual([dev.customer.id]);
    } finally {
      sandbox.stripe!.configure({ latencyMs: 0 });
    }
  });

  it('two email changes back to back (A -> B -> C) at 100 ms Stripe: still 402, the one customer ends on C', async () => {
    const dev = await billing.signUp('starter', 'twice');
    expect(await callStatus(dev.key)).toBe(402);
    sandbox.stripe!.configure({ latencyMs: 100 });
    try {
      const b = `b-${dev.email}`;
      const c = `c-${dev.email}`;
      expect((await patchDeveloper(dev.developer.id, { email: b })).status).toBe(200);
      // The first event's run has read Kong (email B) and is in Stripe when the second change lands.
      await sleep(60);
      expect((await patchDeveloper(dev.developer.id, { email: c })).status).toBe(200);
      await settle();
      await waitFor(() => customersOfDeveloper(dev.developer.id)[0]?.email === c);
      expect(await callStatus(dev.key)).toBe(402);
      expect(customersOfDeveloper(dev.developer.id).map((customer) => customer.id)).toEqual([dev.customer.id]);
    } finally {
      sandbox.stripe!.configure({ latencyMs: 0 });
    }
  });

  it('an email change while Stripe fails three customer lists, then the dashboard\'s proven call: 200 (no 502 from a reused idempotency key), still 402', async () => {
    const dev = await billing.signUp('starter', 'flaky');
    expect(await callStatus(dev.key)).toBe(402);
    const moved = `moved-${dev.email}`;
    const fault = sandbox.stripe!.faults.add({ kind: '500', times: 3, method: 'GET', path: '/v1/customers' });
    try {
      expect((await patchDeveloper(dev.developer.id, { email: moved })).status).toBe(200);
      await settle();
    } finally {
      fault.remove();
    }
    const proven = await provision({ email: moved, developer_id: dev.developer.id });
    const answer = (await proven.json()) as { status?: string; error?: { code: string } };
    expect(proven.status, JSON.stringify(answer)).toBe(200);
    expect(answer.status).toBe('active');
    await settle();
    expect(await callStatus(dev.key)).toBe(402);
    const customers = customersOfDeveloper(dev.developer.id);
    expect(customers.map((customer) => [customer.id, customer.email])).toEqual([[dev.customer.id, moved]]);
  });
});

describe('issue 17.3: invoice and free plans are no way around the card', () => {
  it('the picker and the customer portal switcher offer public plans only; a developer asking for a private plan gets the default', async () => {
    const listed = ((await (await fetch(`${provisionerUrl()}/plans`)).json()) as { plans: Array<{ id: string }> }).plans.map((plan) => plan.id);
    expect(listed).toEqual(['starter', 'bundle', 'growth', 'volume']);
    const privatePrices = await stripe.prices.list({ lookup_keys: ['kpm_enterprise_monthly', 'kpm_free_monthly'] });
    expect(privatePrices.data).toHaveLength(2);
    const portal = (await stripe.billingPortal.configurations.list({ active: true })).data.find((config) => config.metadata?.kong_portal_monetization === 'true');
    const switchable = (portal?.features.subscription_update.products ?? []).flatMap((product) => product.prices);
    expect(switchable.length).toBeGreaterThan(0);
    for (const price of privatePrices.data) expect(switchable).not.toContain(price.id);

    const dev = await billing.signUp('enterprise', 'sneaky');
    const [subscription] = (await stripe.subscriptions.list({ customer: dev.customer.id })).data;
    expect(subscription?.metadata.plan).toBe('starter');
    expect(subscription?.collection_method).toBe('charge_automatically');
    expect(await callStatus(dev.key)).toBe(402);
  });

  it('a checkout developer switched to an invoice plan\'s price (as a portal switcher offering it would) stays refused; the admin\'s send_invoice lets them in', async () => {
    const dev = await billing.signUp('starter', 'switcher');
    expect(await callStatus(dev.key)).toBe(402);
    const [subscription] = (await stripe.subscriptions.list({ customer: dev.customer.id })).data;
    const price = (await stripe.prices.list({ lookup_keys: ['kpm_enterprise_monthly'] })).data[0]!;
    await stripe.subscriptions.update(subscription!.id, { items: [{ id: subscription!.items.data[0]!.id, price: price.id }] });
    await settle();
    // The plan says "invoice", the subscription still says charge_automatically, with no card: refused.
    expect((await stripe.subscriptions.retrieve(subscription!.id)).collection_method).toBe('charge_automatically');
    expect(await callStatus(dev.key)).toBe(402);
    // The approval step: the admin makes the subscription invoice-collected in Stripe.
    await stripe.subscriptions.update(subscription!.id, { collection_method: 'send_invoice', days_until_due: 30 });
    await settle();
    expect(await callStatus(dev.key)).toBe(200);
  });
});

describe('issue 17.5: a replayed Kong revoke event', () => {
  it('is re-read in Kong first: a re-approved paying developer keeps access and billing; re-approval lifted the removal\'s cancellation', async () => {
    const dev = await billing.signUp('starter', 'revoked');
    await billing.addCard(dev.customer.id, 'pm_card_visa');
    expect(await callStatus(dev.key)).toBe(200);
    const [subscription] = (await stripe.subscriptions.list({ customer: dev.customer.id })).data;

    expect((await patchDeveloper(dev.developer.id, { status: 3 })).status).toBe(200);
    await settle();
    expect(await callStatus(dev.key)).toBe(402);
    expect((await stripe.subscriptions.retrieve(subscription!.id)).cancel_at_period_end).toBe(true);

    expect((await patchDeveloper(dev.developer.id, { status: 0 })).status).toBe(200);
    await settle();
    expect(await callStatus(dev.key)).toBe(200);
    expect((await stripe.subscriptions.retrieve(subscription!.id)).cancel_at_period_end).toBe(false);

    // The captured revoke, replayed to a provisioner that forgot it (restarted).
    await sandbox.stopProvisioner();
    await sandbox.startProvisioner();
    const revoke = JSON.stringify({
      source: 'crud',
      event: 'developers',
      operation: 'update',
      entity: { id: dev.developer.id, email: dev.email, status: 3 },
      old_entity: { id: dev.developer.id, email: dev.email, status: 0 },
    });
    // The first request after the restart may meet a pooled connection to the stopped server.
    const response = await postKongEvent(revoke).catch(() => postKongEvent(revoke));
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toMatch(/"object"\s*:\s*"(customer|subscription)"/);
    expect(JSON.parse(text)).toMatchObject({ action: 'removed', result: { subscription: 'not_removed' } });
    await settle();
    expect((await stripe.subscriptions.retrieve(subscription!.id)).cancel_at_period_end).toBe(false);
    expect(await callStatus(dev.key)).toBe(200);
  });

  it('the event hook\'s provisioning answer carries ids, never the Stripe customer object', async () => {
    const developer = sandbox.kong!.state.addDeveloper('default', { email: 'hooked@example.com', status: 0, meta: { full_name: 'Hook' } }, { emitEvent: false });
    const response = await postKongEvent(JSON.stringify({ source: 'crud', event: 'developers', operation: 'create', entity: { id: developer.id, status: 0 } }));
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('cus_');
    expect(text).not.toMatch(/"object"\s*:\s*"customer"/);
    expect(text).not.toContain('invoice_settings');
  });
});

describe('issue 17.11: removals stay in their workspace', () => {
  it('a delete event for a developer of another workspace sharing the Stripe account ends nothing', async () => {
    const starter = (await stripe.prices.list({ lookup_keys: ['kpm_starter_monthly'] })).data[0]!;
    const otherId = '0b7c5e0e-7d0f-4c59-9c53-2b1f6f0c9d11';
    const customer = await stripe.customers.create({ email: 'shared@example.com', metadata: { kong_developer_id: otherId, kong_workspace: 'team-b' } });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: starter.id }], metadata: { kong_developer_id: otherId, kong_workspace: 'team-b' } });
    const response = await postKongEvent(JSON.stringify({ source: 'crud', event: 'developers', operation: 'delete', entity: { id: otherId, email: 'shared@example.com', status: 0 } }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ action: 'removed', result: { subscription: 'no_subscription' } });
    const after = await stripe.subscriptions.retrieve(subscription.id);
    expect(after.cancel_at_period_end).toBe(false);
    expect(after.status).not.toBe('canceled');
  });
});

describe('issue 17.10: webhooks', () => {
  const signed = (payload: string, at: number) => {
    const secret = sandbox.provisionerSettings!.billing!.webhookSecret!;
    return stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: at });
  };
  const post = (payload: string, signature: string) =>
    fetch(`${provisionerUrl()}/stripe/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });

  it('refuses a signature dated beyond a small skew into the future, accepts the same event dated now', async () => {
    const payload = JSON.stringify({ id: 'evt_future_1', object: 'event', type: 'customer.updated', data: { object: { object: 'customer', id: 'cus_nobody' } } });
    const now = Math.floor(Date.now() / 1000);
    const future = await post(payload, signed(payload, now + 3600));
    expect(future.status).toBe(400);
    expect(((await future.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    expect((await post(payload, signed(payload, now))).status).toBe(200);
  });

  it('answers 200 "ignored" for a customer that does not exist (no redelivery for days)', async () => {
    const payload = JSON.stringify({ id: 'evt_nobody_1', object: 'event', type: 'invoice.payment_failed', data: { object: { object: 'invoice', id: 'in_x', customer: 'cus_doesnotexist' } } });
    const response = await post(payload, signed(payload, Math.floor(Date.now() / 1000)));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: true });
  });
});

describe('issue 17.2: a developer whose provisioning always fails is refused', () => {
  const noDefault = async () => {
    const example = JSON.parse(await readFile(DEFAULT_PLANS_FILE, 'utf8')) as { plans: Array<Record<string, unknown>> };
    for (const plan of example.plans) plan.default = false;
    return example;
  };

  it('start-up and doctor refuse a plan picker with no default plan', async () => {
    const path = join(dir, 'no-default.json');
    await writeFile(path, JSON.stringify(await noDefault()));
    const error = await loadProvisionerSettings({ ...sandbox.env, PLANS_FILE: path }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PlansFileError);
    expect((error as Error).message).toContain('"default": true');
    const check = DOCTOR_CHECKS.find((candidate) => candidate.name === PLANS_FILE)!;
    const outcome = await check.run({ plans: parsePlans(await noDefault()) } as DoctorState);
    expect(outcome).toMatchObject({ ok: false });
  });

  it('meta.plan naming no plan, without a default: the event hook fails, and the key answers 402 naming the plan', async () => {
    // Built in code (the loader refuses such a file): the provisioner a pre-fix plans file gave.
    const strict = await startProvisioner({ ...sandbox.provisionerSettings!, plans: parsePlans(await noDefault()), port: 0 }, { port: 0 });
    try {
      const key = `key-doesnotexist-${Date.now()}`;
      const developer = sandbox.kong!.state.addDeveloper('default', { email: 'noplan@example.com', status: 0, meta: { plan: 'doesnotexist' }, key }, { emitEvent: false });
      expect(await callStatus(key)).toBe(200); // before: open
      const response = await postKongEvent(JSON.stringify({ source: 'crud', event: 'developers', operation: 'create', entity: { id: developer.id, status: 0 } }), strict.url);
      expect(response.status).toBe(422);
      await sandbox.kong!.settle();
      expect(await callStatus(key)).toBe(402);
      expect(await blockMessage(key)).toContain('"doesnotexist"');
    } finally {
      await strict.close();
    }
  });
});
