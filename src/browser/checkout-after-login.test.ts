// @vitest-environment happy-dom
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BrowserConfig } from './config.ts';
import { createCheckoutAfterLogin } from './checkout-after-login.ts';
import { provision } from './provision-client.ts';
import { createWrapRegister } from './register-wrapper.ts';

const CONFIG: BrowserConfig = { provisionerUrl: 'https://billing.example.com', planField: false, retryDelaysMs: [] };
const CHECKOUT = 'https://checkout.stripe.com/c/pay/cs_test_1';
const FIELDS = [
  { name: 'email', value: 'Ada@Example.com' },
  { name: 'password', value: 'secret' },
];

/** A stand-in Kong.Auth whose register and login resolve, recording the order of events. */
function kongAuth(events: string[]) {
  return {
    register: () => Promise.resolve({ developer: { id: 'dev_1', status: 0 } }),
    login: (options: { fields: unknown }) => {
      events.push(`login ${JSON.stringify(options.fields)}`);
      return Promise.resolve('OK');
    },
  };
}

/** Runs the theme's register flow: register, then login, then "go to the dashboard". */
async function themeSignup(auth: { register: (o: unknown) => unknown; login: (o: { fields: unknown }) => unknown }, events: string[]) {
  const data = (await auth.register({ fields: FIELDS })) as { monetization?: unknown };
  void (auth.login({ fields: FIELDS }) as Promise<unknown>).then(() => events.push('dashboard'));
  // Let every pending then() run.
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
  return data;
}

// The provisioner, answered at the network boundary: the real provision client sends the signup's request.
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

/** The provisioner answers every POST /provision with this; the bodies it received are recorded. */
function provisioner(status: number, answer: Record<string, unknown>): string[] {
  const received: string[] = [];
  server.use(
    http.post(`${CONFIG.provisionerUrl}/provision`, async ({ request }) => {
      received.push(await request.text());
      return HttpResponse.json(answer, { status });
    }),
  );
  return received;
}

function setup(status: number, answer: Record<string, unknown>) {
  const events: string[] = [];
  const received = provisioner(status, answer);
  const checkout = createCheckoutAfterLogin((url) => events.push(`navigate ${url}`));
  // Looked up per call: msw puts its interceptor on the global fetch when the server listens.
  const deps = { fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init), sleep: async () => undefined, now: () => 0 };
  const wrap = createWrapRegister({ document, config: () => CONFIG, provision: (config, email, developerId) => provision(config, email, developerId, deps), warn: () => undefined, checkout });
  const auth = kongAuth(events);
  expect(wrap(auth)).toBe(true);
  return { events, auth, received };
}

beforeEach(() => {
  document.body.innerHTML = '<form id="register"><input name="email"><button type="submit">Create</button></form>';
});

describe('Checkout after Kong\'s login', () => {
  it('goes to Checkout once Kong\'s login resolved, and the theme\'s dashboard redirect never runs', async () => {
    const { events, auth, received } = setup(200, { status: 'active', developer_status: 'approved', plan: 'growth', checkout_url: CHECKOUT });
    const data = await themeSignup(auth, events);
    expect(received).toEqual([JSON.stringify({ email: 'Ada@Example.com', developer_id: 'dev_1' })]);
    expect(data.monetization).toEqual({ status: 'active', plan: 'growth', checkout_url: CHECKOUT });
    expect(events).toEqual([`login ${JSON.stringify(FIELDS)}`, `navigate ${CHECKOUT}`]);
  });

  it('lets the theme go on to the dashboard when no card is needed', async () => {
    const { events, auth } = setup(200, { status: 'active', developer_status: 'approved', plan: 'starter' });
    await themeSignup(auth, events);
    expect(events).toEqual([`login ${JSON.stringify(FIELDS)}`, 'dashboard']);
  });

  it('does not redirect when billing is pending, nor a later login of the same developer', async () => {
    const pending = setup(202, { status: 'accepted' });
    await themeSignup(pending.auth, pending.events);
    expect(pending.events).toEqual([`login ${JSON.stringify(FIELDS)}`, 'dashboard']);

    const { events, auth } = setup(200, { status: 'active', developer_status: 'approved', plan: 'growth', checkout_url: CHECKOUT });
    await themeSignup(auth, events);
    events.length = 0;
    await (auth.login({ fields: FIELDS }) as Promise<unknown>).then(() => events.push('dashboard'));
    expect(events).toEqual([`login ${JSON.stringify(FIELDS)}`, 'dashboard']);
  });

  it('passes a failed login through untouched and keeps the Checkout for the retry', async () => {
    const events: string[] = [];
    const checkout = createCheckoutAfterLogin((url) => events.push(`navigate ${url}`));
    const failure = { message: 'Invalid authentication credentials' };
    let attempts = 0;
    const auth = { login: (_options: unknown) => (++attempts === 1 ? Promise.reject(failure) : Promise.resolve('OK')) };
    expect(checkout.wrapLogin(auth)).toBe(true);
    expect(checkout.wrapLogin(auth)).toBe(true);
    checkout.remember('ada@example.com', CHECKOUT);
    await expect(auth.login({ fields: FIELDS })).rejects.toBe(failure);
    expect(events).toEqual([]);
    void auth.login({ fields: FIELDS });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(events).toEqual([`navigate ${CHECKOUT}`]);
  });

  it('does nothing to an auth object without login', () => {
    expect(createCheckoutAfterLogin(() => undefined).wrapLogin({})).toBe(false);
  });
});
