/**
 * HTTP behaviour of the provisioner app over a fake core: validation happens before the core is
 * called (the Stripe-side "zero calls" versions of these run in provision.test.ts).
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KongDeveloper } from '../../kong/kong-types.ts';
import { listen, type RunningService } from '../../sandbox/running-service.ts';
import { parsePlans } from '../../shared/plans.ts';
import { createProvisionerApp, type ProvisionerAppDeps } from './app.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import { signKongEvent } from './kong-events.ts';
import type { PriceResolver } from '../core/plan-prices.ts';
import { createJsonLogger } from '../../shared/provision-log.ts';
import type { Provisioner } from '../core/provisioner.ts';

const plans = parsePlans({
  product: { name: 'API' },
  plans: [
    { id: 'starter', name: 'Starter', default: true, price: { lookup_key: 'starter_key' } },
    { id: 'bundle', name: 'Bundle', description: 'Packs', price: { id: 'price_bundle' } },
  ],
});

/** Kong developers of the fake core, by id (UUIDs, as Kong's). */
const DEV = {
  ada: developer('0b0e6f7a-8a47-4f1b-9a55-2d6f2f4f0a01', 'ada@example.com', 0),
  pending: developer('0b0e6f7a-8a47-4f1b-9a55-2d6f2f4f0a02', 'pending@example.com', 5),
  stripeDown: developer('0b0e6f7a-8a47-4f1b-9a55-2d6f2f4f0a03', 'stripe-down@example.com', 0),
  bug: developer('0b0e6f7a-8a47-4f1b-9a55-2d6f2f4f0a04', 'bug@example.com', 0),
  stripeRefused: developer('0b0e6f7a-8a47-4f1b-9a55-2d6f2f4f0a05', 'stripe-refused@example.com', 0),
  kongEcho: developer('0b0e6f7a-8a47-4f1b-9a55-2d6f2f4f0a06', 'kong-echo@example.com', 0),
};
/** What Stripe and a proxy in front of Kong really put in their error texts (issue 17.9). */
const RAW_STRIPE = 'Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than \'kpm-customer-5f2d0c1e\' if you meant to execute a different request.';
const RAW_KONG = 'Kong answered 500 to GET /developers/x: denied {"kong-admin-token":"tok-hidden","cookie":"session=abc"}';
const UNKNOWN_ID = '0b0e6f7a-8a47-4f1b-9a55-2d6f2f4f0aff';

function developer(id: string, email: string, status: number): KongDeveloper {
  return { id, email, status, meta: '{}', consumer: { id: `c-${id}` }, created_at: 1 } as unknown as KongDeveloper;
}

function fakeCore() {
  const calls: Array<string | KongDeveloper> = [];
  const kongReads: string[] = [];
  const priceLookups: string[] = [];
  const kong = {
    async getDeveloper(emailOrId: string) {
      kongReads.push(emailOrId);
      return Object.values(DEV).find((d) => d.id === emailOrId || d.email === emailOrId);
    },
  };
  const provisioner: Provisioner = {
    isProvisionable: ({ status }) => status === 0,
    async provisionDeveloper(input) {
      calls.push(input);
      const email = typeof input === 'string' ? input : input.email;
      if (email === 'ghost@example.com') throw new ProvisionError('developer_not_found', 404, 'no developer with this email');
      if (email === 'stripe-down@example.com') throw new ProvisionError('stripe_unavailable', 502, 'Stripe is unavailable while trying to create the customer');
      if (email === 'bug@example.com') throw new Error('secret internals at /srv/app.ts:12');
      if (email === 'stripe-refused@example.com') throw new ProvisionError('stripe_error', 502, `Stripe refused the request while trying to create the customer (400 idempotency_error): ${RAW_STRIPE}`);
      if (email === 'kong-echo@example.com') throw new ProvisionError('kong_unavailable', 502, `Kong failed while reading the developer (${RAW_KONG})`);
      return { developerId: 'dev-1', customerId: 'cus_1', subscriptionId: 'sub_1', plan: 'starter', moesif: 'synced', created: { customer: true, subscription: true } };
    },
    inspectDeveloper: () => Promise.reject(new Error('not used')),
    planForPrice: () => Promise.resolve(undefined),
    planOfSubscription: () => Promise.resolve(undefined),
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
  return { calls, kongReads, priceLookups, provisioner, prices, kong };
}

function appWith(overrides: Partial<ProvisionerAppDeps> = {}) {
  const core = fakeCore();
  const app = createProvisionerApp({
    provisioner: core.provisioner,
    kong: core.kong,
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
  it('a proven request from an allowed origin gets status and plan (no Stripe id), with CORS headers', async () => {
    const { app, calls } = appWith();
    const response = await app.request('/provision', json({ email: ' Ada@example.com ', developer_id: DEV.ada.id }, { origin: 'http://portal.test' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://portal.test');
    expect(await response.json()).toEqual({ status: 'active', developer_status: 'approved', plan: 'starter', moesif: 'synced' });
    expect(calls).toEqual([DEV.ada]);
  });

  it('a proven developer not yet approved hears its own status, and nothing is provisioned', async () => {
    const { app, calls } = appWith();
    const response = await app.request('/provision', json({ email: DEV.pending.email, developer_id: DEV.pending.id }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'awaiting_approval', developer_status: 'unverified' });
    expect(calls).toEqual([]);
  });

  it('an unproven request gets 202 accepted and leaves provisioning to the core in the background', async () => {
    const { app, calls } = appWith();
    const response = await app.request('/provision', json({ email: 'ada@example.com' }));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: 'accepted' });
    expect(calls).toEqual(['ada@example.com']);
  });

  // Issue 17.11: in hosted mode an unproven email named a signup consumer, provisioned in the background.
  it('in hosted mode an unproven request gets the same 202 and provisions nothing', async () => {
    const { Hono } = await import('hono');
    const { app, calls } = appWith({ hostedSignup: new Hono() });
    const response = await app.request('/provision', json({ email: 'ada@example.com' }));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: 'accepted' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([]);
  });

  it('refuses a developer_id that is not a UUID with 400 invalid_proof, before Kong is read', async () => {
    const { app, calls, kongReads } = appWith();
    const response = await app.request('/provision', json({ email: 'ada@example.com', developer_id: '../../workspaces' }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_proof');
    expect(calls).toEqual([]);
    expect(kongReads).toEqual([]);
  });

  it.each([
    ['missing email', json({}), 400, 'invalid_email'],
    ['malformed email', json({ email: 'not-an-email' }), 400, 'invalid_email'],
    ['invalid JSON', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' }, 400, 'invalid_json'],
    ['wrong content type', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '{"email":"a@b.co"}' }, 415, 'unsupported_media_type'],
    ['text/plain that is not JSON', { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: 'email=a@b.co' }, 400, 'invalid_json'],
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

  it('maps core errors of proven requests to their status and stable code, and hides unexpected ones', async () => {
    const { app } = appWith();
    const unknown = await app.request('/provision', json({ email: 'ghost@example.com', developer_id: UNKNOWN_ID }));
    expect(unknown.status).toBe(202);
    const stripe = await app.request('/provision', json({ email: DEV.stripeDown.email, developer_id: DEV.stripeDown.id }));
    expect(stripe.status).toBe(502);
    expect(((await stripe.json()) as { error: { message: string } }).error.message).toMatch(/Stripe/);
    const bug = await app.request('/provision', json({ email: DEV.bug.email, developer_id: DEV.bug.id }));
    expect(bug.status).toBe(500);
    const text = await bug.text();
    expect(text).not.toMatch(/srv|secret|at /);
    expect(JSON.parse(text).error.code).toBe('internal_error');
  });
});

describe('error answers to the browser (issue 17.9)', () => {
  it('carry a stable code and a generic message, never Stripe\'s text or echoed headers; the details go to the log', async () => {
    const logged: Array<Record<string, unknown>> = [];
    const { app } = appWith({ logger: { info() {}, warn() {}, error: (fields) => void logged.push(fields) } });
    for (const [dev, code] of [[DEV.stripeRefused, 'stripe_error'], [DEV.kongEcho, 'kong_unavailable']] as const) {
      const response = await app.request('/provision', json({ email: dev.email, developer_id: dev.id }));
      expect(response.status).toBe(502);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const text = await response.text();
      expect(JSON.parse(text).error.code).toBe(code);
      expect(text).not.toMatch(/idempot|kpm-|admin-token|tok-hidden|session=|cookie/i);
    }
    expect(JSON.stringify(logged)).toContain('kpm-customer-5f2d0c1e');
    expect(logged.map((entry) => entry.code)).toEqual(['stripe_error', 'kong_unavailable']);
  });

  it('do not echo the request\'s content-type', async () => {
    const { app } = appWith();
    const response = await app.request('/provision', { method: 'POST', headers: { 'content-type': 'application/x-evil; <script>alert(1)</script>' }, body: '{}' });
    expect(response.status).toBe(415);
    expect(await response.text()).not.toContain('evil');
  });

  it('every JSON answer carries nosniff: 200, 202, 4xx, 404, 429, 500, preflight', async () => {
    const { app } = appWith({ rateLimitPerMinute: 1 });
    const answers = [
      await app.request('/healthz'),
      await app.request('/plans'),
      await app.request('/readyz'),
      await app.request('/provision', json({ email: 'ada@example.com' })),
      await app.request('/provision', json({ email: 'ada@example.com' })),
      await app.request('/nowhere'),
      await app.request('/kong/events', json({})),
      await app.request('/provision', { method: 'OPTIONS', headers: { origin: 'http://portal.test', 'access-control-request-method': 'POST' } }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 202, 429, 404, 401, 204]);
    for (const answer of answers) expect(answer.headers.get('x-content-type-options'), String(answer.status)).toBe('nosniff');
    const bug = await appWith().app.request('/provision', json({ email: DEV.bug.email, developer_id: DEV.bug.id }));
    expect([bug.status, bug.headers.get('x-content-type-options')]).toEqual([500, 'nosniff']);
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
      const response = await fetch(`${server.url}/provision`, json({ email: 'ada@example.com', developer_id: DEV.ada.id }));
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

  it('refuses a signed body that is not JSON or not an event hook payload with 400 and its code', async () => {
    const { app, calls } = appWith();
    for (const [body, code, message] of [
      ['{not json', 'invalid_json', 'the body is not valid JSON'],
      ['[1, 2]', 'invalid_event', 'the body is not a Kong event hook payload'],
    ] as const) {
      const response = await post(app, body, signKongEvent(body, 'hook-secret-for-tests'));
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: { code, message } });
    }
    expect(calls).toHaveLength(0);
  });

  it('provisions a signed create by developer id', async () => {
    const { app, calls } = appWith();
    const body = event('create', 0);
    const response = await post(app, body, signKongEvent(body, 'hook-secret-for-tests'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ action: 'provisioned', result: { customerId: 'cus_1' } });
    expect(calls).toEqual(['dev-9']);
  });

  it('provisions on the update that approves a pending developer (the PROVISION_STATUSES=approved default)', async () => {
    const { app, calls } = appWith();
    const body = event('update', 0, 1);
    const response = await post(app, body, signKongEvent(body, 'hook-secret-for-tests'));
    expect(await response.json()).toMatchObject({ action: 'provisioned' });
    expect(calls).toEqual(['dev-9']);
  });

  it('ignores a signed update that does not make the developer provisionable', async () => {
    const { app, calls } = appWith();
    const body = event('update', 0, 0);
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
      readyzToken: 'readyz-token-0123456789',
    });
    expect((await app.request('/healthz')).status).toBe(200);
    const ready = await app.request('/readyz', { headers: { authorization: 'Bearer readyz-token-0123456789' } });
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { error: { message: string }; checks: Record<string, { ok: boolean }> };
    expect(body.error.message).toMatch(/stripe: connection refused/);
    expect(body.error.message).toMatch(/moesif: .*did not answer/);
    expect(body.checks.kong?.ok).toBe(true);
  });

  it('readyz: public status only, cached; the token holder gets a fresh probe with redacted messages', async () => {
    let probes = 0;
    const { app } = appWith({
      readiness: [
        {
          name: 'kong',
          check: async () => {
            probes++;
            throw new Error('cannot reach http://admin:pa55@kong.internal:8001 for GET /default/developers/ada@example.com');
          },
        },
      ],
      readyzToken: 'readyz-token-0123456789',
    });
    for (let i = 0; i < 3; i++) {
      const response = await app.request('/readyz');
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: 'not_ready' });
    }
    expect(probes).toBe(1);
    const detailed = await app.request('/readyz', { headers: { authorization: 'Bearer readyz-token-0123456789' } });
    expect(probes).toBe(2);
    const text = await detailed.text();
    expect(text).toContain('kong.internal');
    expect(text).not.toMatch(/pa55|ada@example\.com/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const { app } = appWith();
    const response = await app.request('/nope');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});

describe('POST /provision as a CORS simple request', () => {
  it('takes the page JSON sent as text/plain (no preflight) and answers it with the CORS header', async () => {
    const { app, calls } = appWith();
    const response = await app.request('/provision', {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'http://portal.test' },
      body: JSON.stringify({ email: 'a@b.co' }),
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://portal.test');
    expect(calls.length).toBeLessThanOrEqual(1);
  });
});

describe('5xx answers in the log', () => {
  const SECRET_KEY = 'sk_test_51HiddenKeyValue0123456789';
  const WEBHOOK_SECRET = 'whsec_hiddenwebhooksecret0123';
  const secretCause = () =>
    new Error(`Stripe said: Invalid API Key provided: ${SECRET_KEY} calling https://admin:hunter2@kong.internal:8001/x for ada@example.com`, {
      cause: new Error(`header Kong-Admin-Token: kong-admin-s3cr3t rejected with ${WEBHOOK_SECRET}`),
    });

  function capture() {
    const lines: string[] = [];
    return { lines, logger: createJsonLogger((line) => void lines.push(line)) };
  }

  it('an unexpected error: its message, stack and cause chain are logged, with every secret redacted', async () => {
    const { lines, logger } = capture();
    const core = fakeCore();
    const { app } = appWith({
      logger,
      provisioner: {
        ...core.provisioner,
        provisionDeveloper: async () => {
          throw new Error('could not finish the signup', { cause: secretCause() });
        },
      },
    });
    const response = await app.request('/provision', json({ email: DEV.bug.email, developer_id: DEV.bug.id }));
    expect(response.status).toBe(500);
    const entry = lines.map((line) => JSON.parse(line)).find((e) => e.event === 'unhandled_error');
    expect(entry).toMatchObject({ level: 'error', method: 'POST', path: '/provision', status: 500, error: { name: 'Error', message: 'could not finish the signup' } });
    expect(entry.error.stack).toMatch(/^at .*app\.test\.ts/m);
    expect(entry.error.cause.message).toContain('Invalid API Key provided: sk_test_[redacted]');
    expect(entry.error.cause.message).toContain('https://[redacted]@kong.internal:8001/x');
    expect(entry.error.cause.cause.message).toBe('header Kong-Admin-Token: [redacted] rejected with whsec_[redacted]');
    const all = lines.join('\n');
    for (const secret of [SECRET_KEY, WEBHOOK_SECRET, 'hunter2', 'kong-admin-s3cr3t', 'ada@example.com']) expect(all).not.toContain(secret);
  });

  it('a 5xx ProvisionError (Stripe down) is logged with the Stripe error it wraps', async () => {
    const { lines, logger } = capture();
    const core = fakeCore();
    const { app } = appWith({
      logger,
      provisioner: {
        ...core.provisioner,
        provisionDeveloper: async () => {
          throw new ProvisionError('stripe_unavailable', 502, 'Stripe is unavailable while trying to create the customer', { cause: secretCause() });
        },
      },
    });
    const response = await app.request('/provision', json({ email: DEV.ada.email, developer_id: DEV.ada.id }));
    expect(response.status).toBe(502);
    const entry = lines.map((line) => JSON.parse(line)).find((e) => e.event === 'request_failed');
    expect(entry).toMatchObject({ status: 502, code: 'stripe_unavailable', error: { code: 'stripe_unavailable', cause: { message: expect.stringContaining('sk_test_[redacted]') } } });
    expect(lines.join('\n')).not.toContain(SECRET_KEY);
  });

  it('a Stripe event that could not be applied: one line naming the event, with the cause and no secret', async () => {
    const { lines, logger } = capture();
    const stripe = new Stripe('sk_test_for_signatures_only');
    const { app } = appWith({
      logger,
      stripe,
      stripeWebhookSecret: WEBHOOK_SECRET,
      billing: {
        handleStripeEvent: async () => {
          throw secretCause();
        },
      } as unknown as ProvisionerAppDeps['billing'],
    });
    const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'invoice.paid', data: { object: { object: 'invoice', customer: 'cus_1' } } });
    const response = await app.request('/stripe/webhooks', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }) },
      body: payload,
    });
    expect(response.status).toBe(500);
    const failures = lines.map((line) => JSON.parse(line)).filter((e) => e.level === 'error');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ event: 'request_failed', path: '/stripe/webhooks', code: 'webhook_failed', error: { message: expect.stringContaining('evt_1 (invoice.paid)') } });
    expect(failures[0].error.cause.message).toContain('sk_test_[redacted]');
    expect(failures[0].error.cause.stack).toMatch(/at /);
    expect(lines.join('\n')).not.toMatch(/sk_test_51Hidden|whsec_hidden|hunter2|kong-admin-s3cr3t/);
  });
});
