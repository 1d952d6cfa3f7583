/**
 * HTTP behaviour of the provisioner app over a fake core: validation happens before the core is
 * called (the Stripe-side "zero calls" versions of these run in provision.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KongDeveloper } from '../kong/kong-types.ts';
import { listen, type RunningService } from '../sandbox/running-service.ts';
import { parsePlans } from '../shared/plans.ts';
import { createProvisionerApp, type ProvisionerAppDeps } from './app.ts';
import { ProvisionError } from './errors.ts';
import { signKongEvent } from './kong-events.ts';
import type { PriceResolver } from './plan-prices.ts';
import type { Provisioner } from './provisioner.ts';

const plans = parsePlans({
  product: { name: 'API' },
  plans: [
    { id: 'starter', name: 'Starter', default: true, price: { lookup_key: 'starter_key' } },
    { id: 'bundle', name: 'Bundle', description: 'Packs', price: { id: 'price_bundle' } },
  ],
});

function fakeCore() {
  const calls: Array<string | KongDeveloper> = [];
  const priceLookups: string[] = [];
  const provisioner: Provisioner = {
    isProvisionable: ({ status }) => status === 0 || status === 1,
    async provisionDeveloper(input) {
      calls.push(input);
      if (input === 'ghost@example.com') throw new ProvisionError('developer_not_found', 404, 'no developer with this email');
      if (input === 'stripe-down@example.com') throw new ProvisionError('stripe_unavailable', 502, 'Stripe is unavailable while trying to create the customer');
      if (input === 'bug@example.com') throw new Error('secret internals at /srv/app.ts:12');
      return { developerId: 'dev-1', customerId: 'cus_1', subscriptionId: 'sub_1', plan: 'starter', moesif: 'synced', created: { customer: true, subscription: true } };
    },
    inspectDeveloper: () => Promise.reject(new Error('not used')),
    planForPrice: () => Promise.resolve(undefined),
  };
  const prices: PriceResolver = {
    async priceFor(plan) {
      priceLookups.push(plan.id);
      return plan.id === 'starter'
        ? ({ id: 'price_s', currency: 'usd', billing_scheme: 'per_unit', unit_amount: null, unit_amount_decimal: '0.5', transform_quantity: null, recurring: null, tiers_mode: null, active: true } as never)
        : ({ id: 'price_b', currency: 'usd', billing_scheme: 'per_unit', unit_amount: 1000, unit_amount_decimal: '1000', transform_quantity: { divide_by: 1000, round: 'up' }, recurring: null, tiers_mode: null, active: true } as never);
    },
    clear() {},
  };
  return { calls, priceLookups, provisioner, prices };
}

function appWith(overrides: Partial<ProvisionerAppDeps> = {}) {
  const core = fakeCore();
  const app = createProvisionerApp({
    provisioner: core.provisioner,
    plans,
    prices: core.prices,
    portalOrigins: ['http://portal.test'],
    eventHookSecret: 'hook-secret-for-tests',
    ...overrides,
  });
  return { app, ...core };
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('POST /provision validation', () => {
  it('answers the result for a valid email from an allowed origin, with CORS headers', async () => {
    const { app, calls } = appWith();
    const response = await app.request('/provision', json({ email: ' ada@example.com ' }, { origin: 'http://portal.test' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://portal.test');
    expect(await response.json()).toEqual({ developerId: 'dev-1', customerId: 'cus_1', subscriptionId: 'sub_1', plan: 'starter', moesif: 'synced' });
    expect(calls).toEqual(['ada@example.com']);
  });

  it.each([
    ['missing email', json({}), 400, 'invalid_email'],
    ['malformed email', json({ email: 'not-an-email' }), 400, 'invalid_email'],
    ['invalid JSON', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' }, 400, 'invalid_json'],
    ['wrong content type', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"email":"a@b.co"}' }, 415, 'unsupported_media_type'],
    ['form encoded', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a%40b.co' }, 415, 'unsupported_media_type'],
    ['100 KB body', json({ email: 'a@b.co', pad: 'x'.repeat(100 * 1024) }), 413, 'payload_too_large'],
    ['disallowed origin', json({ email: 'a@b.co' }, { origin: 'http://evil.test' }), 403, 'origin_not_allowed'],
  ])('%s -> %i %s and the core is never called', async (_name, init, status, code) => {
    const { app, calls } = appWith();
    const response = await app.request('/provision', init);
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    expect(calls).toHaveLength(0);
  });

  it('answers a disallowed preflight without allow-origin', async () => {
    const { app } = appWith();
    const response = await app.request('/provision', { method: 'OPTIONS', headers: { origin: 'http://evil.test', 'access-control-request-method': 'POST' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('maps core errors to their status and stable code, and hides unexpected ones', async () => {
    const { app } = appWith();
    const notFound = await app.request('/provision', json({ email: 'ghost@example.com' }));
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({ error: { code: 'developer_not_found', message: 'no developer with this email' } });
    const stripe = await app.request('/provision', json({ email: 'stripe-down@example.com' }));
    expect(stripe.status).toBe(502);
    expect(((await stripe.json()) as { error: { message: string } }).error.message).toMatch(/Stripe/);
    const bug = await app.request('/provision', json({ email: 'bug@example.com' }));
    expect(bug.status).toBe(500);
    const text = await bug.text();
    expect(text).not.toMatch(/srv|secret|at /);
    expect(JSON.parse(text).error.code).toBe('internal_error');
  });
});

describe('POST /provision rate limit', () => {
  let server: RunningService;
  let calls: unknown[];
  beforeAll(async () => {
    const built = appWith({ rateLimitPerMinute: 3 });
    calls = built.calls;
    server = await listen('provisioner-test', built.app.fetch);
  });
  afterAll(() => server.close());

  it('answers 429 rate_limited per client address after the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${server.url}/provision`, json({ email: 'ada@example.com' }));
      statuses.push(response.status);
      if (response.status === 429) expect(((await response.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      else await response.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(calls).toHaveLength(3);
  });
});

describe('POST /kong/events', () => {
  const event = (operation: string, status: number, old?: number) =>
    JSON.stringify({ source: 'crud', event: 'developers', operation, entity: { id: 'dev-9', email: 'x@y.z', status }, ...(old === undefined ? {} : { old_entity: { id: 'dev-9', status: old } }) });
  const post = (app: ReturnType<typeof appWith>['app'], body: string, signature?: string) =>
    app.request('/kong/events', { method: 'POST', headers: { 'content-type': 'application/json', ...(signature ? { 'x-kong-signature': signature } : {}) }, body });

  it('rejects a bad or missing signature with 401 and does nothing', async () => {
    const { app, calls } = appWith();
    const body = event('create', 0);
    for (const signature of [undefined, signKongEvent(body, 'wrong'), 'garbage']) {
      const response = await post(app, body, signature);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    }
    expect(calls).toHaveLength(0);
  });

  it('provisions a signed create by developer id', async () => {
    const { app, calls } = appWith();
    const body = event('create', 1);
    const response = await post(app, body, signKongEvent(body, 'hook-secret-for-tests'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ action: 'provisioned', result: { customerId: 'cus_1' } });
    expect(calls).toEqual(['dev-9']);
  });

  it('ignores a signed update that does not make the developer provisionable', async () => {
    const { app, calls } = appWith();
    const body = event('update', 0, 1);
    const response = await post(app, body, signKongEvent(body, 'hook-secret-for-tests'));
    expect(await response.json()).toMatchObject({ action: 'ignored' });
    expect(calls).toHaveLength(0);
  });

  it('is off without a secret', async () => {
    const { app, calls } = appWith({ eventHookSecret: undefined });
    const body = event('create', 0);
    const response = await post(app, body, signKongEvent(body, ''));
    expect(response.status).toBe(404);
    expect(calls).toHaveLength(0);
  });
});

describe('GET /plans, /healthz, /readyz', () => {
  it('lists public plans with price summaries and caches them', async () => {
    const { app, priceLookups } = appWith();
    const response = await app.request('/plans');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toMatch(/max-age=300/);
    expect(await response.json()).toEqual({
      plans: [
        { id: 'starter', name: 'Starter', description: '', priceSummary: '$0.005 per call', default: true },
        { id: 'bundle', name: 'Bundle', description: 'Packs', priceSummary: '$10.00 per 1,000 calls', default: false },
      ],
    });
    await app.request('/plans');
    expect(priceLookups).toEqual(['starter', 'bundle']);
  });

  it('healthz is always ok; readyz names the failing dependency', async () => {
    const { app } = appWith({
      readiness: [
        { name: 'kong', check: async () => {} },
        { name: 'stripe', check: async () => Promise.reject(new Error('connection refused')) },
        { name: 'moesif', check: () => new Promise(() => {}) },
      ],
      readinessTimeoutMs: 50,
    });
    expect((await app.request('/healthz')).status).toBe(200);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { error: { message: string }; checks: Record<string, { ok: boolean }> };
    expect(body.error.message).toMatch(/stripe: connection refused/);
    expect(body.error.message).toMatch(/moesif: .*did not answer/);
    expect(body.checks.kong?.ok).toBe(true);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const { app } = appWith();
    const response = await app.request('/nope');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});
