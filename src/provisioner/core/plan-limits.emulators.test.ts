// Plan limits at Kong, end to end: the whole sandbox (Kong, Stripe, provisioner) with a plans
// file holding rate-limited free plans. A developer's consumer gets Kong's rate-limiting plugin at
// signup; the proxy answers 429 with Kong's headers past the limit; another consumer's calls are
// unaffected; a plan switch in Stripe changes the plugin in place; reconcile repairs drift.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBillingSandbox, type BillingSandbox } from '../../testkit/billing-sandbox.ts';
import type { KongPlugin } from '../../kong/kong-types.ts';
import { RATE_LIMIT_TAGS } from './kong-rate-limit.ts';
import { ACCESS_TAGS } from './kong-access.ts';
import { runReconcileCommand } from '../../admin/reconcile/reconcile-command.ts';

let billing: BillingSandbox;
let dir: string;
/** The admin's alert webhook: every signed POST the provisioner made. */
const alerts: Array<{ type: string; threshold: number; developer_id: string; message: string }> = [];
let alertServer: Server;
const alertsOf = (developerId: string) => alerts.filter((alert) => alert.developer_id === developerId).map((alert) => `${alert.type} ${alert.threshold}`);

const freePlan = (id: string, rate: Record<string, number> | undefined, extra: Record<string, unknown> = {}) => ({
  id,
  name: id,
  public: true,
  payment_collection: 'none',
  ...(rate ? { limits: { rate } } : {}),
  ...extra,
  price: { lookup_key: `kpm_${id}_monthly`, currency: 'usd', meter: 'api_calls', pricing: { model: 'per_unit', unit_amount_decimal: '0' } },
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpm-limits-'));
  const example = JSON.parse(await readFile('plans.example.json', 'utf8')) as { plans: unknown[] };
  example.plans.push(
    freePlan('limited', { hour: 3 }),
    freePlan('faster', { second: 2, hour: 5 }),
    freePlan('free', undefined, { included: 5, limits: { quota: { calls: 5, enforcement: 'hard' } } }),
    freePlan('unlimited', undefined),
  );
  const plansFile = join(dir, 'plans.json');
  await writeFile(plansFile, JSON.stringify(example));
  alertServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      alerts.push(JSON.parse(body));
      res.end();
    });
  });
  await new Promise<void>((resolve) => alertServer.listen(0, '127.0.0.1', resolve));
  const alertUrl = `http://127.0.0.1:${(alertServer.address() as AddressInfo).port}/alerts`;
  billing = await startBillingSandbox({ plansFile, provisionerEnv: { ALERT_WEBHOOK_URL: alertUrl, ALERT_WEBHOOK_SECRET: 'alert-secret-0123456789' } });
  // The proxy's clock stands still mid-hour: the windows cannot roll over during the test.
  const fixed = Date.UTC(2026, 0, 15, 10, 30, 0);
  billing.sandbox.kong!.state.now = () => fixed;
}, 60_000);
afterAll(async () => {
  await billing?.close();
  alertServer?.close();
  await rm(dir, { recursive: true, force: true });
});

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${billing.sandbox.kong!.adminUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

const pluginsOf = async (developerId: string) => (await admin<{ data: KongPlugin[] }>('GET', `/default/developers/${developerId}/plugins`)).data;
const rateLimitOf = async (developerId: string) => (await pluginsOf(developerId)).filter((p) => p.name === 'rate-limiting');
const call = (key: string) => fetch(`${billing.sandbox.kong!.proxyUrl}/test-service/x`, { headers: { apikey: key } });

async function statuses(key: string, n: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < n; i++) {
    const response = await call(key);
    await response.arrayBuffer();
    seen.push(response.status);
  }
  return seen;
}

describe('plan rate limits at Kong', () => {
  it('signup puts one tagged rate-limiting plugin on the consumer; the 4th call of the hour gets Kong’s 429; another consumer is unaffected', async () => {
    const dev = await billing.signUp('limited', 'rl');
    const other = await billing.signUp('limited', 'rl-other');
    const [plugin, ...more] = await rateLimitOf(dev.developer.id);
    expect(more).toEqual([]);
    expect(plugin?.tags).toEqual([...RATE_LIMIT_TAGS]);
    expect(plugin?.config).toMatchObject({ limit_by: 'consumer', policy: 'local', hour: 3, second: null, minute: null });
    // Scoped to this developer's consumer, not global and not the other developer's.
    expect(plugin?.consumer).toBeTruthy();
    expect((await rateLimitOf(other.developer.id))[0]?.consumer?.id).not.toBe(plugin?.consumer?.id);

    expect(await statuses(dev.key, 3)).toEqual([200, 200, 200]);
    const refused = await call(dev.key);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ message: 'API rate limit exceeded' });
    expect(refused.headers.get('x-ratelimit-limit-hour')).toBe('3');
    expect(refused.headers.get('x-ratelimit-remaining-hour')).toBe('0');
    expect(refused.headers.get('ratelimit-limit')).toBe('3');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('ratelimit-reset')).toBe('1800');
    expect(refused.headers.get('retry-after')).toBe('1800');

    // The other consumer counts on its own.
    expect(await statuses(other.key, 3)).toEqual([200, 200, 200]);
  });

  it('a plan switch in Stripe patches the plugin in place to the new plan’s limits', async () => {
    const dev = await billing.signUp('limited', 'switch');
    const before = (await rateLimitOf(dev.developer.id))[0]!;
    expect(await statuses(dev.key, 4)).toEqual([200, 200, 200, 429]);
    const subscription = (await billing.stripe.subscriptions.list({ customer: dev.customer.id })).data[0]!;
    const faster = (await billing.stripe.prices.list({ lookup_keys: ['kpm_faster_monthly'] })).data[0]!;
    await billing.stripe.subscriptions.update(subscription.id, { items: [{ id: subscription.items.data[0]!.id, price: faster.id }], proration_behavior: 'none' });
    await billing.settle();
    const after = await rateLimitOf(dev.developer.id);
    expect(after).toHaveLength(1);
    expect(after[0]!.id).toBe(before.id);
    expect(after[0]!.config).toMatchObject({ second: 2, hour: 5, minute: null });
    // Kong's counters are per consumer and window, not per plugin: 3 calls counted (a refused one is not), 2 more allowed.
    expect(await statuses(dev.key, 3)).toEqual([200, 200, 429]);
  });

  it('reconcile repairs drift: an edited plugin is set back, a deleted one created again, other plugins untouched', async () => {
    const dev = await billing.signUp('limited', 'drift');
    const ours = (await rateLimitOf(dev.developer.id))[0]!;
    const consumerId = ours.consumer!.id;
    // An admin's own plugin on the same consumer is never ours to touch.
    const theirs = await admin<KongPlugin>('POST', `/default/developers/${dev.developer.id}/plugins`, { name: 'request-termination', config: { status_code: 503 }, tags: ['team'] });
    await admin('PATCH', `/default/developers/${dev.developer.id}/plugins/${ours.id}`, { config: { hour: 1000 } });
    const reconcile = () => runReconcileCommand([], billing.sandbox.env);
    expect(await reconcile()).toBe(0);
    expect((await rateLimitOf(dev.developer.id))[0]).toMatchObject({ id: ours.id, config: expect.objectContaining({ hour: 3 }) });

    await admin('DELETE', `/default/developers/${dev.developer.id}/plugins/${ours.id}`);
    expect(await reconcile()).toBe(0);
    const recreated = await rateLimitOf(dev.developer.id);
    expect(recreated).toHaveLength(1);
    expect(recreated[0]).toMatchObject({ consumer: { id: consumerId }, tags: [...RATE_LIMIT_TAGS], config: expect.objectContaining({ hour: 3 }) });
    expect((await pluginsOf(dev.developer.id)).find((p) => p.id === theirs.id)).toMatchObject({ name: 'request-termination', config: expect.objectContaining({ status_code: 503 }), tags: ['team'] });
    // No access block: a free plan developer is allowed.
    expect((await pluginsOf(dev.developer.id)).filter((p) => ACCESS_TAGS.every((t) => p.tags?.includes(t)) && p.name === 'request-termination')).toEqual([]);
  });

  it('a revoked developer loses the rate-limit plugin and gets the access block instead', async () => {
    const dev = await billing.signUp('limited', 'revoked');
    expect(await rateLimitOf(dev.developer.id)).toHaveLength(1);
    await admin('PATCH', `/default/developers/${dev.developer.id}`, { status: 2 });
    await billing.settle();
    expect(await runReconcileCommand([], billing.sandbox.env)).toBe(0);
    const plugins = await pluginsOf(dev.developer.id);
    expect(plugins.map((p) => p.name)).toEqual(['request-termination']);
    expect(await billing.callStatus(dev.key)).toBe(402);
  });
});

/** This period's figures of a developer, built from their live subscription as the reporter would. */
async function periodOf(customerId: string) {
  const subscription = (await billing.stripe.subscriptions.list({ customer: customerId })).data[0]!;
  return { subscription, periodEnd: subscription.items.data[0]!.current_period_end };
}

describe('hard quota (figures through the usage seam)', () => {
  it('a free developer at the quota gets 429 naming the limit and the reset; the period reset lifts it', async () => {
    const dev = await billing.signUp('free', 'quota');
    const core = billing.sandbox.provisioner!;
    const { periodEnd } = await periodOf(dev.customer.id);
    expect(await core.billing.recordUsage(dev.developer.id, { calls: 4, amountSoFar: 0, currency: 'usd', periodEnd })).toMatchObject({ decision: { access: 'allowed' } });
    expect(await billing.callStatus(dev.key)).toBe(200);
    expect(alertsOf(dev.developer.id)).toEqual(['usage_alert.quota 80']);
    // Unchanged figures re-decide nothing (no Stripe read).
    expect(await core.billing.recordUsage(dev.developer.id, { calls: 4, amountSoFar: 0, currency: 'usd', periodEnd })).toBeUndefined();

    const outcome = await core.billing.recordUsage(dev.developer.id, { calls: 5, amountSoFar: 0, currency: 'usd', periodEnd });
    expect(outcome?.decision).toMatchObject({ access: 'refused', reason: 'quota_exceeded' });
    expect(alertsOf(dev.developer.id)).toEqual(['usage_alert.quota 80', 'usage_alert.quota 100']);
    await billing.settle();
    const refused = await call(dev.key);
    expect(refused.status).toBe(429);
    const reset = `${new Date(periodEnd * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    const { message } = (await refused.json()) as { message: string };
    expect(message).toMatch(/^Quota reached: your plan allows 5 calls per billing period\. It resets at /);
    expect(message).toContain(`It resets at ${reset}; upgrade your plan`);

    // The period ends (Stripe's clock passes it): the next decision lifts the quota, even with the old figures still held.
    await billing.advanceDays((periodEnd - Math.floor(Date.now() / 1000)) / 86_400 + 1);
    await core.billing.access.syncDeveloper(dev.developer.id);
    expect(await billing.callStatus(dev.key)).toBe(200);
  });

  it('calls that rise without crossing a line (80 %, 100 %) re-decide nothing: no Stripe read, no wait for the one who crossed', async () => {
    const dev = await billing.signUp('free', 'band');
    const core = billing.sandbox.provisioner!;
    const stripeCounters = billing.sandbox.stripe!.counters;
    const { periodEnd } = await periodOf(dev.customer.id);
    const figures = (calls: number) => ({ calls, amountSoFar: 0, currency: 'usd', periodEnd });
    expect(await core.billing.recordUsage(dev.developer.id, figures(1))).toMatchObject({ decision: { access: 'allowed' } });
    stripeCounters.reset();
    expect(await core.billing.recordUsage(dev.developer.id, figures(3))).toBeUndefined();
    expect(stripeCounters.total).toBe(0);
    expect(await core.billing.recordUsage(dev.developer.id, figures(5))).toMatchObject({ decision: { reason: 'quota_exceeded' } });
    stripeCounters.reset();
    // Refused already: more calls (those Kong let through while the block propagated) change nothing.
    expect(await core.billing.recordUsage(dev.developer.id, figures(40))).toBeUndefined();
    expect(stripeCounters.total).toBe(0);
    await billing.settle();
    expect(await billing.callStatus(dev.key)).toBe(429);
  });

  it('calls that still rise well after the quota refused them (our block deleted in Kong) are decided again: the block is back', async () => {
    const dev = await billing.signUp('free', 'leak');
    const core = billing.sandbox.provisioner!;
    const { periodEnd } = await periodOf(dev.customer.id);
    const figures = (calls: number) => ({ calls, amountSoFar: 0, currency: 'usd', periodEnd });
    expect(await core.billing.recordUsage(dev.developer.id, figures(5))).toMatchObject({ decision: { reason: 'quota_exceeded' } });
    // Late webhooks (the sandbox delays and repeats some, as Stripe does) would repair the block by themselves.
    await billing.settle();
    const block = (await pluginsOf(dev.developer.id)).find((p) => p.name === 'request-termination')!;
    await admin('DELETE', `/default/developers/${dev.developer.id}/plugins/${block.id}`);
    await billing.settle();
    expect(await billing.callStatus(dev.key)).toBe(200);
    // Within Kong's propagation, rising calls are the block still on its way: nothing to do.
    expect(await core.billing.recordUsage(dev.developer.id, figures(9))).toBeUndefined();
    // Later (the next provisioner run is at least 30 s on), they are a leak.
    const mark = core.billing.usage.decided(dev.developer.id)!;
    core.billing.usage.markDecided(dev.developer.id, { ...mark, at: mark.at - 60_000 });
    expect(await core.billing.recordUsage(dev.developer.id, figures(12))).toMatchObject({ decision: { reason: 'quota_exceeded' }, change: 'blocked' });
    await billing.settle();
    expect(await billing.callStatus(dev.key)).toBe(429);
  });

  it('a decision that failed is made again at the next run, with the same figures', async () => {
    const dev = await billing.signUp('free', 'retry');
    const core = billing.sandbox.provisioner!;
    const { periodEnd } = await periodOf(dev.customer.id);
    const figures = { calls: 6, amountSoFar: 0, currency: 'usd', periodEnd };
    const broken = billing.sandbox.stripe!.faults.add({ method: 'GET', path: '/v1/customers/:id', kind: '500', times: Infinity });
    const brokenList = billing.sandbox.stripe!.faults.add({ method: 'GET', path: '/v1/customers', kind: '500', times: Infinity });
    try {
      await expect(core.billing.recordUsage(dev.developer.id, figures)).rejects.toThrow();
    } finally {
      broken.remove();
      brokenList.remove();
    }
    expect(await billing.callStatus(dev.key)).toBe(200);
    expect(await core.billing.recordUsage(dev.developer.id, figures)).toMatchObject({ decision: { reason: 'quota_exceeded' } });
    await billing.settle();
    expect(await billing.callStatus(dev.key)).toBe(429);
  });

  it('upgrading in Stripe lifts the quota at once (the webhook re-decides with the new plan)', async () => {
    const dev = await billing.signUp('free', 'upgrade');
    const core = billing.sandbox.provisioner!;
    const { subscription, periodEnd } = await periodOf(dev.customer.id);
    await core.billing.recordUsage(dev.developer.id, { calls: 9, amountSoFar: 0, currency: 'usd', periodEnd });
    expect(await billing.callStatus(dev.key)).toBe(429);
    const unlimited = (await billing.stripe.prices.list({ lookup_keys: ['kpm_unlimited_monthly'] })).data[0]!;
    await billing.stripe.subscriptions.update(subscription.id, { items: [{ id: subscription.items.data[0]!.id, price: unlimited.id }], proration_behavior: 'none' });
    await billing.settle();
    expect(await billing.callStatus(dev.key)).toBe(200);
    // The same subscription, switched: no second one.
    expect((await billing.stripe.subscriptions.list({ customer: dev.customer.id })).data.map((s) => s.id)).toEqual([subscription.id]);
  });
});

describe('upgrade through the Stripe customer portal', () => {
  it('the portal\'s plan switch lifts the quota after the webhook, once Kong has propagated the change', async () => {
    const dev = await billing.signUp('free', 'portalup');
    const core = billing.sandbox.provisioner!;
    const { subscription, periodEnd } = await periodOf(dev.customer.id);
    await core.billing.recordUsage(dev.developer.id, { calls: 7, amountSoFar: 0, currency: 'usd', periodEnd });
    await billing.settle();
    expect(await billing.callStatus(dev.key)).toBe(429);
    const proxyView = billing.sandbox.kong!.state.proxyView;
    proxyView.setDelay(5_000);
    try {
      // The developer's own way: the customer portal stripe:setup configured (public plans only).
      const ours = (await billing.stripe.billingPortal.configurations.list({ active: true })).data.find((config) => config.metadata?.kong_portal_monetization === 'true');
      const session = await billing.stripe.billingPortal.sessions.create({ customer: dev.customer.id, configuration: ours!.id });
      const unlimited = (await billing.stripe.prices.list({ lookup_keys: ['kpm_unlimited_monthly'] })).data[0]!;
      const switched = await fetch(`${billing.sandbox.stripe!.url}/_hosted/portal/${session.id}/subscriptions/${subscription.id}/price`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ price: unlimited.id }),
        redirect: 'manual',
      });
      expect(switched.status).toBe(303);
      await billing.settle();
      // The webhook has re-decided (the block is gone from the Admin API) but Kong's workers still refuse.
      expect((await pluginsOf(dev.developer.id)).filter((p) => p.name === 'request-termination')).toEqual([]);
      expect(proxyView.pendingChanges).toBeGreaterThan(0);
      expect(await billing.callStatus(dev.key)).toBe(429);
      proxyView.flush();
      expect(await billing.callStatus(dev.key)).toBe(200);
    } finally {
      proxyView.setDelay(0);
      proxyView.flush();
    }
  });
});

describe('spend cap set by the developer (POST /billing/spend-cap)', () => {
  const setCap = async (dev: { email: string; developer: { id: string } }, spend_cap: unknown) => {
    const response = await fetch(`${billing.sandbox.provisioner!.url}/billing/spend-cap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: dev.email, developer_id: dev.developer.id, spend_cap }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> & { error?: { code: string; message: string } } };
  };

  it('bad values are refused naming the field, and nothing is written', async () => {
    const dev = await billing.signUp('unlimited', 'cap-bad');
    billing.sandbox.stripe!.counters.reset();
    for (const bad of [-1, 0, 12.5, '5000', 1e12, true]) {
      const answer = await setCap(dev, bad);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toEqual({ code: 'invalid_spend_cap', message: 'spend_cap must be a whole number of cents from 1 to 99999999 (e.g. 5000 for 50.00), or null to remove the cap' });
    }
    expect(billing.sandbox.stripe!.counters.writes).toBe(0);
    const wrongProof = await fetch(`${billing.sandbox.provisioner!.url}/billing/spend-cap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'someone-else@example.com', developer_id: dev.developer.id, spend_cap: 100 }),
    });
    expect(wrongProof.status).toBe(403);
    expect(billing.sandbox.stripe!.counters.writes).toBe(0);
    expect((await billing.stripe.customers.retrieve(dev.customer.id) as { metadata: Record<string, string> }).metadata.kpm_spend_cap).toBeUndefined();
  });

  it('the proven billing status carries the 80 % line once the alert went out; raising the cap clears it', async () => {
    const dev = await billing.signUp('unlimited', 'capline');
    const core = billing.sandbox.provisioner!;
    const { periodEnd } = await periodOf(dev.customer.id);
    expect((await setCap(dev, 5000)).body.usage_alert).toBeUndefined();
    await core.billing.recordUsage(dev.developer.id, { calls: 8000, amountSoFar: 4000, currency: 'usd', periodEnd });
    expect(alertsOf(dev.developer.id)).toEqual(['usage_alert.spend_cap 80']);
    const status = await fetch(`${billing.sandbox.provisioner!.url}/provision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: dev.email, developer_id: dev.developer.id }),
    });
    expect(((await status.json()) as { billing: Record<string, unknown> }).billing).toMatchObject({ access: 'allowed', usage_alert: '80 % of your monthly spend cap used' });
    // 4000 of a 10000 cap is 40 %: the mark stays (no second alert) but the line goes.
    const raised = await setCap(dev, 10_000);
    expect(raised.body).toMatchObject({ access: 'allowed', spend_cap: 10_000 });
    expect(raised.body.usage_alert).toBeUndefined();
  });

  it('set, reached (402 naming the cap), raised (200 again), removed', async () => {
    const dev = await billing.signUp('unlimited', 'cap');
    const core = billing.sandbox.provisioner!;
    const { periodEnd } = await periodOf(dev.customer.id);
    const set = await setCap(dev, 5000);
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ access: 'allowed', spend_cap: 5000 });
    expect((await billing.stripe.customers.retrieve(dev.customer.id) as { metadata: Record<string, string> }).metadata.kpm_spend_cap).toBe('5000');

    await core.billing.recordUsage(dev.developer.id, { calls: 10_000, amountSoFar: 5000, currency: 'usd', periodEnd });
    const refused = await call(dev.key);
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { message: string }).message).toMatch(/^Spend cap reached: this period's usage has reached the monthly cap of 50\.00 USD you set\. Raise the cap/);

    expect(alertsOf(dev.developer.id)).toEqual(['usage_alert.spend_cap 100']);
    // A restarted provisioner (an empty usage book) with the same figures sends nothing again.
    core.billing.usage.forget(dev.developer.id);
    await core.billing.recordUsage(dev.developer.id, { calls: 10_000, amountSoFar: 5000, currency: 'usd', periodEnd });
    expect(alertsOf(dev.developer.id)).toEqual(['usage_alert.spend_cap 100']);

    const raised = await setCap(dev, 7500);
    expect(raised.body).toMatchObject({ access: 'allowed', spend_cap: 7500 });
    expect(await billing.callStatus(dev.key)).toBe(200);
    const removed = await setCap(dev, null);
    expect(removed.body).toMatchObject({ access: 'allowed', spend_cap: null });
    expect((await billing.stripe.customers.retrieve(dev.customer.id) as { metadata: Record<string, string> }).metadata.kpm_spend_cap).toBeUndefined();
  });
});
