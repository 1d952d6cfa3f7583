/**
 * The signup routes over a recording service: what reaches the service (nothing, for refused
 * requests) and the per-address rate limit. The flows themselves are in hosted-signup.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { loadPlansFile, type PlansFile } from '../../shared/plans.ts';
import { DEFAULT_PLANS_FILE } from '../../dev/start-sandbox.ts';
import { KongError } from '../../kong/kong-errors.ts';
import { silentLogger } from '../../shared/provision-log.ts';
import { createBackgroundTasks } from './background-tasks.ts';
import { LINK_REQUESTS_PER_TOKEN_PER_MINUTE } from './link-limits.ts';
import { createTokenSigner } from './signed-token.ts';
import { createSignupRoutes } from './signup-routes.ts';
import type { SignupRequest, SignupService } from './signup-service.ts';

const price = { id: 'price_1', currency: 'usd', unit_amount: 5, unit_amount_decimal: '5', billing_scheme: 'per_unit', recurring: { interval: 'month', interval_count: 1, usage_type: 'metered' }, tiers_mode: null, transform_quantity: null } as unknown as Stripe.Price;

async function routes(requestsPerMinute: number, failWith?: Error, gate?: Promise<void>, plans?: PlansFile) {
  const requested: SignupRequest[] = [];
  const logged: unknown[] = [];
  const logger = { ...silentLogger, error: (fields: unknown) => void logged.push(fields) };
  const background = createBackgroundTasks({ logger });
  const service: SignupService = {
    requestLink: async (request) => {
      // The Kong lookup and the SMTP send, held until the test releases them.
      if (gate) await gate;
      if (failWith) throw failWith;
      requested.push(request);
      return 'sent';
    },
    peek: async () => 'a@example.com',
    confirm: async () => ({ kind: 'key', key: 'k' }),
    completeCheckout: async () => ({ kind: 'key', key: 'k' }),
  };
  const app = createSignupRoutes({
    service,
    signer: createTokenSigner('route-test-secret-0123456789abcdef0123'),
    plans: plans ?? (await loadPlansFile(DEFAULT_PLANS_FILE)),
    prices: { priceFor: async () => price, clear: () => {} },
    brand: { productName: 'Test <API>', logoUrl: undefined, accentColor: '#123456', termsUrl: undefined },
    apiUrl: undefined,
    publicUrl: 'http://127.0.0.1',
    trustedProxies: { kind: 'none' },
    requestsPerMinute,
    emailsPerHour: 3,
    logger,
    background,
  });
  return { app, requested, logged, background };
}

async function formSession(app: Awaited<ReturnType<typeof routes>>['app']) {
  const page = await app.request('/signup');
  const html = await page.text();
  return { html, cookie: (page.headers.get('set-cookie') ?? '').split(';')[0] ?? '', csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '' };
}

const post = (app: Awaited<ReturnType<typeof routes>>['app'], fields: Record<string, string>, cookie: string, type = 'application/x-www-form-urlencoded') =>
  app.request('/signup', { method: 'POST', headers: { 'content-type': type, cookie }, body: new URLSearchParams(fields).toString() });

describe('signup routes', () => {
  it('escapes the branding and passes only a valid form to the service', async () => {
    const { app, requested, background } = await routes(100);
    const { html, cookie, csrf } = await formSession(app);
    expect(html).toContain('Test &#60;API&#62;');
    expect(html).not.toContain('Test <API>');
    const fields = { csrf, name: 'Ada', email: 'Ada@Example.com', plan: 'growth' };
    expect((await post(app, { ...fields, plan: 'nope' }, cookie)).status).toBe(400);
    expect((await post(app, fields, cookie, 'application/json')).status).toBe(400);
    expect((await post(app, fields, 'kpm_signup_csrf=someone-elses-cookie-value-000000000000')).status).toBe(403);
    expect(requested).toEqual([]);
    expect((await post(app, fields, cookie)).status).toBe(200);
    await background.idle();
    expect(requested).toEqual([{ name: 'Ada', email: 'ada@example.com', plan: 'growth' }]);
  });

  it('refuses a private plan posted to the form, as an unknown one (issue 17.3): the service is never called', async () => {
    const file = await loadPlansFile(DEFAULT_PLANS_FILE);
    // A plan that sets its own collection is private unless it says public: never offered, never accepted.
    const enterprise = { ...file.plans[0]!, id: 'enterprise', name: 'Enterprise', default: false, payment_collection: 'invoice' as const };
    const { app, requested, background } = await routes(100, undefined, undefined, { ...file, plans: [...file.plans, enterprise] });
    const { html, cookie, csrf } = await formSession(app);
    expect(html).not.toContain('enterprise');
    const answer = await post(app, { csrf, name: 'Ada', email: 'ada@example.com', plan: 'enterprise' }, cookie);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('pick one of the plans offered');
    await background.idle();
    expect(requested).toEqual([]);
  });

  it('a Kong failure does not change the answer (it comes after it), and is logged without the email', async () => {
    const { app, logged, background } = await routes(100, new KongError('kong_http', 'Kong answered 500 to GET /consumers/ada%40example.com', { status: 500, method: 'GET', path: '/consumers/ada%40example.com' }));
    const { cookie, csrf } = await formSession(app);
    const answer = await post(app, { csrf, name: 'Ada', email: 'ada@example.com', plan: 'starter' }, cookie);
    expect(answer.status).toBe(200);
    expect(await answer.text()).not.toContain('/consumers');
    await background.idle();
    expect(JSON.stringify(logged)).not.toMatch(/ada(@|%40)example/);
    expect(JSON.stringify(logged)).toContain('kong_http');
  });

  it('answers before the lookup and the email are done (issue 17.4: no timing oracle)', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { app, requested, background } = await routes(100, undefined, gate);
    const { cookie, csrf } = await formSession(app);
    const answer = await post(app, { csrf, name: 'Ada', email: 'ada@example.com', plan: 'starter' }, cookie);
    expect(answer.status).toBe(200);
    expect(requested).toEqual([]);
    expect(background.running).toBe(1);
    release();
    await background.idle();
    expect(requested).toEqual([{ name: 'Ada', email: 'ada@example.com', plan: 'starter' }]);
  });

  it('limits the link routes per link and per client address (issue 17.6)', async () => {
    const { app } = await routes(4);
    const from = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });
    const verify = (token: string, address: string) =>
      app.request('/signup/verify', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() }, from(address));
    const complete = (token: string, address: string) => app.request(`/signup/complete?token=${encodeURIComponent(token)}`, {}, from(address));
    // One link from many addresses: its own budget, shared by POST /signup/verify and GET /signup/complete.
    const perLink = [];
    for (let n = 0; n < 12; n++) perLink.push((await (n % 2 ? verify : complete)('one-link', `203.0.113.${n}`)).status);
    expect(perLink).toEqual([...Array<number>(LINK_REQUESTS_PER_TOKEN_PER_MINUTE).fill(200), 429, 429]);
    // Many links from one address: the address budget (4 a minute here).
    const perAddress = [];
    for (let n = 0; n < 5; n++) perAddress.push((await verify(`link-${n}`, '198.51.100.7')).status);
    expect(perAddress).toEqual([200, 200, 200, 200, 429]);
    expect((await verify('link-9', '198.51.100.8')).status).toBe(200);
  });

  it('limits POST /signup per client address', async () => {
    const { app, requested, background } = await routes(2);
    const { cookie, csrf } = await formSession(app);
    const statuses = [];
    for (const n of [1, 2, 3]) statuses.push((await post(app, { csrf, name: 'Ada', email: `a${n}@example.com`, plan: 'starter' }, cookie)).status);
    expect(statuses).toEqual([200, 200, 429]);
    await background.idle();
    expect(requested).toHaveLength(2);
  });
});
