/**
 * "My account" of the hosted signup over the sandbox, with PAYMENT_COLLECTION=none (so the key
 * comes right after the email link, no Checkout): replace the key once per link, open billing.
 */
import { advanceAccountClock } from '../../sandbox/stripe/stripe-emulator.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { KongConsumers } from '../../kong/kong-consumers.ts';
import { TEST_SERVICE_PATH } from '../../sandbox/kong/gateway-entities.ts';
import { startMailCatcher, type RunningMailCatcher } from '../../sandbox/mail/mail-catcher.ts';
import { FREE_PORTS, startSandbox, type Sandbox } from '../../dev/start-sandbox.ts';
import { signupConsumerTags } from './consumer-directory.ts';
import { runReconcileCommand } from '../../admin/reconcile/reconcile-command.ts';

let sandbox: Sandbox;
let mail: RunningMailCatcher;
let base: string;
let consumers: KongConsumers;

beforeAll(async () => {
  mail = await startMailCatcher();
  sandbox = await startSandbox({
    ports: FREE_PORTS,
    kongPropagationMs: 0,
    eventHook: false,
    hosted: { smtpUrl: mail.smtpUrl },
    provisionerEnv: { PAYMENT_COLLECTION: 'none', SIGNUP_RATE_LIMIT_PER_MINUTE: '1000', SIGNUP_EMAILS_PER_HOUR: '20' },
  });
  base = sandbox.provisioner!.url;
  consumers = new KongConsumers(new KongAdminClient({ adminUrl: sandbox.env.KONG_ADMIN_URL!, workspace: 'default' }));
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await mail?.close();
});

async function formPost(page: string, fields: Record<string, string>): Promise<Response> {
  const form = await fetch(`${base}${page}`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return post(page, { csrf, ...fields }, cookie);
}

function post(path: string, fields: Record<string, string>, cookie = ''): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams(fields) });
}

async function tokenFromMail(email: string, after: number, path: string): Promise<string> {
  const text = (await mail.waitFor(email, { after })).text;
  const link = new RegExp(`https?://\\S+${path.replace(/\//g, '\\/')}\\?token=\\S+`).exec(text)?.[0] ?? '';
  return new URL(link).searchParams.get('token') ?? '';
}

const keyOf = async (response: Response) => /id="api-key" readonly value="([^"]+)"/.exec(await response.text())?.[1] ?? '';
const callApi = async (key: string) => (await fetch(`${sandbox.kong!.proxyUrl}${TEST_SERVICE_PATH}`, { headers: { apikey: key } })).status;

describe('hosted signup account', () => {
  const email = 'account@example.com';
  let firstKey = '';

  it('without card collection, the key comes right after the email link', async () => {
    const started = Date.now();
    expect((await formPost('/signup', { name: 'Acc Ount', email, plan: 'growth' })).status).toBe(200);
    const answer = await post('/signup/verify', { token: await tokenFromMail(email, started, '/signup/verify') });
    expect(answer.status).toBe(200);
    firstKey = await keyOf(answer);
    expect(await callApi(firstKey)).toBe(200);
  });

  it('emails a link only to an address with a key, and answers the same either way', async () => {
    const started = Date.now();
    const unknown = await formPost('/signup/account', { email: 'nobody@example.com' });
    const known = await formPost('/signup/account', { email });
    expect([unknown.status, known.status]).toEqual([200, 200]);
    expect(await tokenFromMail(email, started, '/signup/account/open')).not.toBe('');
    expect(mail.messages().filter((m) => m.to.includes('nobody@example.com'))).toHaveLength(0);
  });

  it('shows the calls and the amount so far on the account page', async () => {
    sandbox.stripe!.configure({ meterAggregationLagMs: 0 }); // Stripe's aggregation lag is not what this is about
    await sandbox.reportUsage();
    const started = Date.now();
    await formPost('/signup/account', { email });
    const page = await post('/signup/account/open', { token: await tokenFromMail(email, started, '/signup/account/open') });
    // One call with the key; Growth bills $5.00 a call in its first tier.
    expect(await page.text()).toMatch(/<p class="usage">This period so far: 1 billable call, \$5\.00\. Next invoice on \d{4}-\d{2}-\d{2}\.<\/p>/);
  });

  it('replaces the key once per link; a double click gets one new key', async () => {
    let started = Date.now();
    await formPost('/signup/account', { email });
    let token = await tokenFromMail(email, started, '/signup/account/open');
    const page = await post('/signup/account/open', { token });
    expect(await page.text()).toContain('on the <strong>Growth</strong> plan');
    const rotated = await post('/signup/account/rotate', { token });
    expect(rotated.status).toBe(200);
    const rotatedPage = await rotated.clone().text();
    // Kong deletes the old credential before the page answers (a failed delete is an error page).
    expect(rotatedPage).toContain('Your previous key stops working within a few seconds.');
    expect(rotatedPage).not.toContain('Your previous key still works');
    const secondKey = await keyOf(rotated);
    expect(secondKey).toMatch(/^[0-9a-f]{32}$/);
    expect([await callApi(firstKey), await callApi(secondKey)]).toEqual([401, 200]);
    expect((await post('/signup/account/rotate', { token })).status).toBe(410);
    // The used link says so on its first page and no longer offers to replace the key (billing still opens).
    const reopened = await fetch(`${base}/signup/account/open?token=${encodeURIComponent(token)}`);
    expect(await reopened.text()).toContain('This link was already used to replace your key.');
    const usedPage = await (await post('/signup/account/open', { token })).text();
    expect(usedPage).not.toContain('Replace my API key');
    expect(usedPage).toContain('Manage payment method and invoices');

    started = Date.now();
    await formPost('/signup/account', { email });
    token = await tokenFromMail(email, started, '/signup/account/open');
    const both = await Promise.all([post('/signup/account/rotate', { token }), post('/signup/account/rotate', { token })]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 410]);
    const consumer = await consumers.get(email);
    const keys = await consumers.listKeys(consumer!.id);
    expect(keys).toHaveLength(1);
    expect(await callApi(secondKey)).toBe(401);
    expect(await callApi(keys[0]!.key)).toBe(200);
  });

  it('opens the Stripe customer portal for the customer', async () => {
    const started = Date.now();
    await formPost('/signup/account', { email });
    const answer = await post('/signup/account/billing', { token: await tokenFromMail(email, started, '/signup/account/open') });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toContain(sandbox.stripe!.url);
  });

  it('sets the spend cap on the account page; a bad value is refused with nothing written; empty removes it', async () => {
    const started = Date.now();
    await formPost('/signup/account', { email });
    const token = await tokenFromMail(email, started, '/signup/account/open');
    const page = await (await post('/signup/account/open', { token })).text();
    expect(page).toContain('No monthly spend cap is set.');
    const stripe = sandbox.provisioner!.stripe;
    const [customer] = (await stripe.customers.list({ email })).data;

    sandbox.stripe!.counters.reset();
    const bad = await post('/signup/account/spend-cap', { token, spend_cap: '12.345' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('spend cap: enter an amount such as 50 or 49.99, or leave it empty to remove the cap');
    expect(sandbox.stripe!.counters.writes).toBe(0);

    const set = await post('/signup/account/spend-cap', { token, spend_cap: '49.90' });
    expect(set.status).toBe(200);
    expect(await set.text()).toContain("Calls are refused once this billing period's usage reaches 49.90.");
    expect((await stripe.customers.retrieve(customer!.id) as { metadata: Record<string, string> }).metadata.kpm_spend_cap).toBe('4990');
    const removed = await post('/signup/account/spend-cap', { token, spend_cap: '' });
    expect(await removed.text()).toContain('No monthly spend cap is set.');
    expect((await stripe.customers.retrieve(customer!.id) as { metadata: Record<string, string> }).metadata.kpm_spend_cap).toBeUndefined();
  });

  it('shows the 80 % line once the amount so far passes 80 % of the spend cap', async () => {
    sandbox.stripe!.configure({ meterAggregationLagMs: 0 });
    const started = Date.now();
    await formPost('/signup/account', { email });
    const token = await tokenFromMail(email, started, '/signup/account/open');
    // $5.00 so far (one call) against a $6.00 cap: 83 %.
    const set = await post('/signup/account/spend-cap', { token, spend_cap: '6.00' });
    expect(await set.text()).not.toContain('of your monthly spend cap used');
    await sandbox.reportUsage();
    const page = await (await post('/signup/account/open', { token })).text();
    expect(page).toContain('<p class="banner banner--grace" role="status">80 % of your monthly spend cap used</p>');
    const removed = await post('/signup/account/spend-cap', { token, spend_cap: '' });
    expect(await removed.text()).not.toContain('of your monthly spend cap used');
  });

  it('tells the developer to confirm a payment their bank held for 3-D Secure, with the hosted invoice page', async () => {
    const stripe = sandbox.provisioner!.stripe;
    const [customer] = (await stripe.customers.list({ email })).data;
    const [subscription] = (await stripe.subscriptions.list({ customer: customer!.id })).data;
    const card = await stripe.paymentMethods.attach('pm_card_authenticationRequired', { customer: customer!.id });
    await stripe.customers.update(customer!.id, { invoice_settings: { default_payment_method: card.id } });
    const meter = await stripe.billing.meters.retrieve(subscription!.items.data[0]!.price.recurring!.meter!);
    await stripe.billing.meterEvents.create({ event_name: meter.event_name, payload: { stripe_customer_id: customer!.id, value: '100000' } });
    // The account clock stands for time passing: past the period end and the draft hour.
    advanceAccountClock(sandbox.stripe!.state, subscription!.items.data[0]!.current_period_end + 2 * 3600);
    const [held] = (await stripe.invoices.list({ customer: customer!.id, status: 'open' })).data;
    expect(held?.hosted_invoice_url).toBeTruthy();

    const started = Date.now();
    await formPost('/signup/account', { email });
    const page = await (await post('/signup/account/open', { token: await tokenFromMail(email, started, '/signup/account/open') })).text();
    expect(page).toContain('Your bank asks you to confirm your last payment');
    expect(page).toContain(`href="${held!.hosted_invoice_url}"`);
    // Confirmed on the hosted invoice page: the account page says nothing more.
    await fetch(`${held!.hosted_invoice_url}/confirm`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'authentication=complete' });
    expect((await stripe.invoices.retrieve(held!.id)).status).toBe('paid');
    const later = Date.now();
    await formPost('/signup/account', { email });
    const after = await (await post('/signup/account/open', { token: await tokenFromMail(email, later, '/signup/account/open') })).text();
    expect(after).not.toContain('confirm your last payment');
  });

  it('refuses a signup link used as an account link', async () => {
    const started = Date.now();
    await formPost('/signup', { name: 'X', email: 'other@example.com', plan: 'starter' });
    const signupToken = await tokenFromMail('other@example.com', started, '/signup/verify');
    expect((await post('/signup/account/rotate', { token: signupToken })).status).toBe(400);
  });

  it('shows the billing state as the portal panel does: a refused developer sees why', async () => {
    const running = sandbox.provisioner!;
    const [customer] = (await running.stripe.customers.list({ email })).data;
    const [subscription] = (await running.stripe.subscriptions.list({ customer: customer!.id })).data;
    await running.stripe.subscriptions.cancel(subscription!.id);
    await sandbox.stripe!.webhooks.idle();
    const started = Date.now();
    await formPost('/signup/account', { email });
    const page = await (await post('/signup/account/open', { token: await tokenFromMail(email, started, '/signup/account/open') })).text();
    expect(page).toMatch(/<p class="banner banner--refused" role="alert">[A-Z][^<]*\.<\/p>/);
  });
});

describe('reconcile of signup consumers (npm run reconcile in SIGNUP_MODE=hosted)', () => {
  it('makes a consumer left without Stripe objects whole once, and a second run writes nothing', async () => {
    const orphan = await consumers.create({ username: 'orphan@example.com', tags: signupConsumerTags({ name: 'Or Phan', plan: 'starter' }) });
    const running = sandbox.provisioner!;
    const lines: string[] = [];
    const saved = { log: console.log, error: console.error };
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    console.error = () => {};
    try {
      expect(await runReconcileCommand([], sandbox.env)).toBe(0);
      const [customer, ...others] = (await running.stripe.customers.list({ email: 'orphan@example.com' })).data;
      expect(others).toEqual([]);
      expect(customer?.metadata.kong_developer_id).toBe(orphan.id);
      expect(lines.join('\n')).toMatch(/orphan@example\.com \(.+\): created customer, subscription/);
      lines.length = 0;
      expect(await runReconcileCommand([], sandbox.env)).toBe(0);
      expect(lines.join('\n')).toMatch(/fixed:\s+0/);
      expect((await running.stripe.customers.list({ email: 'orphan@example.com' })).data).toHaveLength(1);
    } finally {
      Object.assign(console, saved);
    }
  });
});
