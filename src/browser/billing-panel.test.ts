// @vitest-environment happy-dom
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BillingStatusResponse } from '../shared/provisioner-api.ts';
import { BILLING_TEXT, fetchDeveloper, findDashboard, renderBillingPanel, showBillingPanel, spendCapSaver, type PanelDeps } from './billing-panel.ts';
import type { BrowserConfig } from './config.ts';
import type { ProvisionOutcome } from './provision-client.ts';

const CONFIG: BrowserConfig = { provisionerUrl: 'https://billing.example.com', planField: false, retryDelaysMs: [] };
const API = 'http://portal-api.example.com:8004/default';
const CHECKOUT = 'https://checkout.stripe.com/c/pay/cs_test_1';
const MANAGE = 'https://billing.stripe.com/p/login/test_1';
const REFUSED: BillingStatusResponse = {
  plan: 'growth',
  plan_name: 'Growth',
  access: 'refused',
  reason: 'payment_method_required',
  message: 'Add a payment method to start calling the API.',
  checkout_url: CHECKOUT,
  manage_url: MANAGE,
};

beforeEach(() => {
  document.body.innerHTML = '<main id="dashboard-page"><h1>Dashboard</h1></main>';
});

// Kong's portal API, answered at the network boundary: the panel's own fetch goes out, so the test sees what it sent.
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function deps(outcome: ProvisionOutcome, developer: { status: number; body?: unknown } = { status: 200, body: { id: 'dev_1', email: 'ada@example.com', meta: '{}' } }) {
  const requests: { url: string; method: string; credentials: RequestCredentials; accept: string | null }[] = [];
  const proofs: string[][] = [];
  server.use(
    http.get(`${API}/developer`, ({ request }) => {
      requests.push({ url: request.url, method: request.method, credentials: request.credentials, accept: request.headers.get('accept') });
      return HttpResponse.json(developer.body ?? { message: 'Unauthorized' }, { status: developer.status });
    }),
  );
  const panelDeps: PanelDeps = {
    document,
    config: CONFIG,
    apiUrl: API,
    // Looked up per call: msw puts its interceptor on the global fetch when the server listens.
    fetch: (input, init) => fetch(input, init),
    provision: async (_config, email, developerId) => {
      proofs.push([email, developerId]);
      return outcome;
    },
  };
  return { panelDeps, requests, proofs };
}

const active = (billing?: BillingStatusResponse): ProvisionOutcome => ({
  status: 'active',
  result: { status: 'active', developer_status: 'approved', plan: 'growth', ...(billing ? { billing } : {}) },
});

describe('findDashboard', () => {
  it('puts the panel before Kong\'s dashboard mount point, whose children Kong\'s app owns', () => {
    document.body.innerHTML = '<div id="wrap"><div id="portal-dashboard" data-page="dashboard"></div></div>';
    const place = findDashboard(document);
    expect(place?.parent).toBe(document.getElementById('wrap'));
    expect(place?.before).toBe(document.getElementById('portal-dashboard'));
  });

  it('uses the top of the stand-in theme\'s dashboard page, and finds nothing elsewhere', () => {
    expect(findDashboard(document)?.parent).toBe(document.getElementById('dashboard-page'));
    document.body.innerHTML = '<main id="register-page"></main><div id="portal-dashboard" data-page="login"></div>';
    expect(findDashboard(document)).toBeUndefined();
  });
});

describe('renderBillingPanel', () => {
  it('shows the plan, the reason access is refused, and both billing links', () => {
    const panel = renderBillingPanel(document, REFUSED);
    expect(panel.querySelector('h2')?.textContent).toBe('Billing');
    expect(panel.querySelector('.portal-monetization-billing-plan')?.textContent).toBe('Growth');
    const banner = panel.querySelector('[role="alert"]');
    expect(banner?.textContent).toBe(REFUSED.message);
    const links = Array.from(panel.querySelectorAll('a')).map((a) => [a.textContent, a.getAttribute('href')]);
    expect(links).toEqual([
      [BILLING_TEXT.addCard, CHECKOUT],
      [BILLING_TEXT.manage, MANAGE],
    ]);
  });

  it('shows no banner and no Checkout when access is allowed and nothing is missing', () => {
    const panel = renderBillingPanel(document, { plan: 'starter', plan_name: null, access: 'allowed', reason: 'active', message: 'All good.', manage_url: MANAGE });
    expect(panel.querySelector('.portal-monetization-billing-plan')?.textContent).toBe('starter');
    expect(panel.querySelector('[role="alert"]')).toBeNull();
    expect(Array.from(panel.querySelectorAll('a')).map((a) => a.textContent)).toEqual([BILLING_TEXT.manage]);
    // Access follows a payment only once Kong has applied the change: no promise of instant access.
    expect(panel.querySelector('.portal-monetization-billing-note')?.textContent).toMatch(/allow a few seconds/);
  });

  it('offers the hosted invoice page first when a payment waits for 3-D Secure confirmation', () => {
    const confirm = 'https://invoice.stripe.com/i/acct_1/test_1';
    const panel = renderBillingPanel(document, { ...REFUSED, access: 'grace', reason: 'payment_confirmation_required', message: 'Your bank asks you to confirm your last payment.', confirm_url: confirm });
    const links = Array.from(panel.querySelectorAll('a'));
    expect(links.map((a) => a.textContent)).toEqual([BILLING_TEXT.confirmPayment, BILLING_TEXT.addCard, BILLING_TEXT.manage]);
    expect(links[0]?.getAttribute('href')).toBe(confirm);
    expect(panel.querySelector('[role="alert"]')?.textContent).toBe('Your bank asks you to confirm your last payment.');
  });

  it('shows the calls and amount so far as text (never HTML)', () => {
    const summary = 'This period so far: 105 billable calls, $515.00. Next invoice on 2027-01-06. <img src=x onerror=alert(1)>';
    const panel = renderBillingPanel(document, { ...REFUSED, access: 'allowed', usage: { calls: 105, amount_due: 51_500, currency: 'usd', next_invoice_at: '2027-01-06T00:00:00.000Z', summary } });
    expect(panel.querySelector('.portal-monetization-billing-usage')?.textContent).toBe(summary);
    expect(panel.querySelector('img')).toBeNull();
    expect(renderBillingPanel(document, REFUSED).querySelector('.portal-monetization-billing-usage')).toBeNull();
  });

  it('shows the grace message as a banner', () => {
    const panel = renderBillingPanel(document, { ...REFUSED, access: 'grace', reason: 'past_due_grace', message: 'Payment failed; access ends on 3 Dec.' });
    expect(panel.querySelector('.portal-monetization-billing-banner--grace')?.textContent).toBe('Payment failed; access ends on 3 Dec.');
  });

  it('inserts server text as text, never as markup', () => {
    const panel = renderBillingPanel(document, { ...REFUSED, plan_name: '<img src=x onerror=alert(1)>', message: '<b>bold</b>' });
    expect(panel.querySelector('img')).toBeNull();
    expect(panel.querySelector('b')).toBeNull();
    expect(panel.querySelector('[role="alert"]')?.textContent).toBe('<b>bold</b>');
  });
});

describe('the 80 % banner', () => {
  it('shows the proven status\'s usage alert line as a banner (text only), next to an allowed access', async () => {
    const alert = '80 % of your monthly spend cap used';
    const { panelDeps } = deps(active({ ...REFUSED, access: 'allowed', reason: 'active', spend_cap: 5000, usage_alert: alert }));
    const panel = await showBillingPanel(panelDeps);
    const banner = panel?.querySelector('.portal-monetization-billing-banner--alert');
    expect(banner?.textContent).toBe(alert);
    expect(banner?.getAttribute('role')).toBe('status');
    expect(panel?.querySelector('.portal-monetization-billing-note')).not.toBeNull();
    expect(renderBillingPanel(document, { ...REFUSED, usage_alert: '<b>x</b>' }).querySelector('b')).toBeNull();
  });

  it('shows no alert banner when the status carries none', () => {
    expect(renderBillingPanel(document, { ...REFUSED, access: 'allowed' }).querySelector('.portal-monetization-billing-banner--alert')).toBeNull();
  });
});

describe('fetchDeveloper', () => {
  it('reads the logged-in developer with the session cookie, and nobody on 401', async () => {
    const ok = deps(active());
    expect(await fetchDeveloper(API, ok.panelDeps.fetch)).toEqual({ id: 'dev_1', email: 'ada@example.com' });
    expect(ok.requests).toEqual([{ url: `${API}/developer`, method: 'GET', credentials: 'include', accept: 'application/json' }]);
    const anonymous = deps(active(), { status: 401 });
    expect(await fetchDeveloper(API, anonymous.panelDeps.fetch)).toBeUndefined();
  });
});

describe('showBillingPanel', () => {
  it('proves itself with the logged-in developer and puts the panel under the dashboard heading', async () => {
    const { panelDeps, proofs } = deps(active(REFUSED));
    const panel = await showBillingPanel(panelDeps);
    expect(proofs).toEqual([['ada@example.com', 'dev_1']]);
    const page = document.getElementById('dashboard-page');
    expect(page?.firstElementChild?.tagName).toBe('H1');
    expect(page?.querySelector('h1')?.nextElementSibling).toBe(panel);
    // A second run (the page enhanced twice) replaces the panel instead of adding another.
    await showBillingPanel(panelDeps);
    expect(document.querySelectorAll('.portal-monetization-billing')).toHaveLength(1);
  });

  it('shows nothing when nobody is logged in, billing is pending, or the answer has no billing part', async () => {
    const anonymous = deps(active(REFUSED), { status: 401 });
    expect(await showBillingPanel(anonymous.panelDeps)).toBeUndefined();
    expect(anonymous.proofs).toEqual([]);
    expect(await showBillingPanel(deps({ status: 'pending', reason: 'accepted' }).panelDeps)).toBeUndefined();
    expect(await showBillingPanel(deps(active()).panelDeps)).toBeUndefined();
    expect(document.querySelector('.portal-monetization-billing')).toBeNull();
  });

  it('asks nothing on a page that is not the dashboard', async () => {
    document.body.innerHTML = '<main id="register-page"></main>';
    const { panelDeps, requests } = deps(active(REFUSED));
    expect(await showBillingPanel(panelDeps)).toBeUndefined();
    expect(requests).toEqual([]);
  });
});

describe('spend cap in the billing panel', () => {
  const ALLOWED: BillingStatusResponse = { plan: 'growth', plan_name: 'Growth', access: 'allowed', reason: 'active', message: 'Access allowed.', spend_cap: null };
  const submit = (panel: HTMLElement, value: string) => {
    const form = panel.querySelector('form') as HTMLFormElement;
    (form.querySelector('input') as HTMLInputElement).value = value;
    form.dispatchEvent(new Event('submit', { cancelable: true }));
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('no form without billing set up (no spend_cap in the answer) or without a saver', () => {
    expect(renderBillingPanel(document, REFUSED, async () => ({ error: 'x' })).querySelector('form')).toBeNull();
    expect(renderBillingPanel(document, ALLOWED).querySelector('form')).toBeNull();
  });

  it('sends cents, re-renders with the answer; a bad amount is refused before any request', async () => {
    const sent: Array<number | null> = [];
    const save = async (cents: number | null) => {
      sent.push(cents);
      return { billing: { ...ALLOWED, spend_cap: cents } };
    };
    const panel = renderBillingPanel(document, ALLOWED, save);
    document.body.append(panel);
    submit(panel, '12.345');
    expect(sent).toEqual([]);
    expect(panel.querySelector('[role="alert"]')?.textContent).toBe(BILLING_TEXT.spendCapInvalid);
    submit(panel, '49,9');
    await settle();
    expect(sent).toEqual([4990]);
    const next = document.querySelector('section') as HTMLElement;
    expect((next.querySelector('input') as HTMLInputElement).value).toBe('49.90');
    submit(next, '');
    await settle();
    expect(sent).toEqual([4990, null]);
  });

  it('posts the proof and the cap to the provisioner, and shows its error message', async () => {
    const calls: Array<{ url: string; body: string }> = [];
    const save = spendCapSaver(CONFIG, { id: 'dev_1', email: 'ada@example.com' }, async (input, init) => {
      calls.push({ url: String(input), body: String(init?.body) });
      return new Response(JSON.stringify({ error: { code: 'billing_not_set_up', message: 'billing is not set up yet' } }), { status: 409 });
    });
    expect(await save(5000)).toEqual({ error: 'billing is not set up yet' });
    expect(calls).toEqual([{ url: 'https://billing.example.com/billing/spend-cap', body: JSON.stringify({ email: 'ada@example.com', developer_id: 'dev_1', spend_cap: 5000 }) }]);
  });
});
