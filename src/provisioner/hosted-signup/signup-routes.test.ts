/**
 * The signup routes over a recording service: what reaches the service (nothing, for refused
 * requests) and the per-address rate limit. The flows themselves are in hosted-signup.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { loadPlansFile } from '../../shared/plans.ts';
import { DEFAULT_PLANS_FILE } from '../../sandbox/start-sandbox.ts';
import { KongError } from '../../kong/kong-errors.ts';
import { silentLogger } from '../provision-log.ts';
import { createTokenSigner } from './signed-token.ts';
import { createSignupRoutes } from './signup-routes.ts';
import type { SignupRequest, SignupService } from './signup-service.ts';

const price = { id: 'price_1', currency: 'usd', unit_amount: 5, unit_amount_decimal: '5', billing_scheme: 'per_unit', recurring: { interval: 'month', interval_count: 1, usage_type: 'metered' }, tiers_mode: null, transform_quantity: null } as unknown as Stripe.Price;

async function routes(requestsPerMinute: number, failWith?: Error) {
  const requested: SignupRequest[] = [];
  const logged: unknown[] = [];
  const service: SignupService = {
    requestLink: async (request) => {
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
    plans: await loadPlansFile(DEFAULT_PLANS_FILE),
    prices: { priceFor: async () => price, clear: () => {} },
    brand: { productName: 'Test <API>', logoUrl: undefined, accentColor: '#123456', termsUrl: undefined },
    apiUrl: undefined,
    publicUrl: 'http://127.0.0.1',
    trustedProxies: { kind: 'none' },
    requestsPerMinute,
    emailsPerHour: 3,
    logger: { ...silentLogger, error: (fields: unknown) => void logged.push(fields) },
  });
  return { app, requested, logged };
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
    const { app, requested } = await routes(100);
    const { html, cookie, csrf } = await formSession(app);
    expect(html).toContain('Test &#60;API&#62;');
    expect(html).not.toContain('Test <API>');
    const fields = { csrf, name: 'Ada', email: 'Ada@Example.com', plan: 'growth' };
    expect((await post(app, { ...fields, plan: 'nope' }, cookie)).status).toBe(400);
    expect((await post(app, fields, cookie, 'application/json')).status).toBe(400);
    expect((await post(app, fields, 'kpm_signup_csrf=someone-elses-cookie-value-000000000000')).status).toBe(403);
    expect(requested).toEqual([]);
    expect((await post(app, fields, cookie)).status).toBe(200);
    expect(requested).toEqual([{ name: 'Ada', email: 'ada@example.com', plan: 'growth' }]);
  });

  it('answers a Kong failure with a page that names no internals, and logs no email', async () => {
    const { app, logged } = await routes(100, new KongError('kong_http', 'Kong answered 500 to GET /consumers/ada%40example.com', { status: 500, method: 'GET', path: '/consumers/ada%40example.com' }));
    const { cookie, csrf } = await formSession(app);
    const answer = await post(app, { csrf, name: 'Ada', email: 'ada@example.com', plan: 'starter' }, cookie);
    expect(answer.status).toBe(502);
    expect(await answer.text()).not.toContain('/consumers');
    expect(JSON.stringify(logged)).not.toMatch(/ada(@|%40)example/);
    expect(JSON.stringify(logged)).toContain('kong_http');
  });

  it('limits POST /signup per client address', async () => {
    const { app, requested } = await routes(2);
    const { cookie, csrf } = await formSession(app);
    const statuses = [];
    for (const n of [1, 2, 3]) statuses.push((await post(app, { csrf, name: 'Ada', email: `a${n}@example.com`, plan: 'starter' }, cookie)).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect(requested).toHaveLength(2);
  });
});
