/**
 * The hosted signup end to end over the sandbox: Kong emulator reached as a Konnect control plane
 * (bearer token), Stripe and Moesif emulators, the real provisioner with SIGNUP_MODE=hosted, and
 * real SMTP into the sandbox mail catcher. A browser is played with fetch (form posts, cookies).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorInputsFromEnv, runDoctor } from '../../admin/doctor/doctor.ts';
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { KongConsumers } from '../../kong/kong-consumers.ts';
import { startMailCatcher, type RunningMailCatcher } from '../../sandbox/mail/mail-catcher.ts';
import { FREE_PORTS, startSandbox, type Sandbox } from '../../dev/start-sandbox.ts';
import { TEST_SERVICE_PATH } from '../../sandbox/kong/gateway-entities.ts';
import { SIGNUP_CONSUMER_TAGS } from './consumer-directory.ts';
import { LINK_REQUESTS_PER_TOKEN_PER_MINUTE } from './link-limits.ts';

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
    hosted: { smtpUrl: mail.smtpUrl, konnect: true },
    provisionerEnv: { SIGNUP_RATE_LIMIT_PER_MINUTE: '1000', TERMS_URL: 'https://example.com/terms' },
  });
  base = sandbox.provisioner!.url;
  const env = sandbox.env;
  consumers = new KongConsumers(new KongAdminClient({ adminUrl: env.KONG_ADMIN_URL!, token: env.KONG_ADMIN_TOKEN, workspace: 'default' }));
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await mail?.close();
});

interface Browser {
  cookie: string;
}

async function openForm(): Promise<{ browser: Browser; csrf: string; html: string; response: Response }> {
  const response = await fetch(`${base}/signup`);
  const html = await response.text();
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  return { browser: { cookie }, csrf, html, response };
}

async function postForm(path: string, fields: Record<string, string>, browser?: Browser): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(browser ? { cookie: browser.cookie } : {}) },
    body: new URLSearchParams(fields),
  });
}

async function signUp(email: string, plan = 'starter', name = 'Ada Lovelace'): Promise<Response> {
  const { browser, csrf } = await openForm();
  return postForm('/signup', { csrf, name, email, plan, terms: 'accepted' }, browser);
}

async function linkFor(email: string, after: number): Promise<string> {
  const message = await mail.waitFor(email, { after });
  const link = /https?:\/\/\S+\/signup\/verify\?token=\S+/.exec(message.text)?.[0];
  if (!link) throw new Error(`no link in: ${message.text}`);
  return link;
}

const tokenOf = (link: string) => new URL(link).searchParams.get('token') ?? '';

async function payInCheckout(checkoutUrl: string): Promise<string> {
  const answer = await fetch(checkoutUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ cardnumber: '4242 4242 4242 4242', exp: '12 / 34', cvc: '123' }),
  });
  expect(answer.status).toBe(303);
  return answer.headers.get('location') ?? '';
}

const keyOf = (html: string) => /id="api-key" readonly value="([^"]+)"/.exec(html)?.[1];

async function stripeCustomers(email: string) {
  return (await sandbox.provisioner!.stripe.customers.list({ email, limit: 10 })).data;
}

describe('hosted signup', () => {
  it('runs against a Kong without the legacy portal', async () => {
    const files = await fetch(`${sandbox.kong!.adminUrl}/default/files`);
    expect(files.status).toBe(404);
  });

  it('doctor passes in hosted mode against the Konnect-style base', async () => {
    const results = await runDoctor(await doctorInputsFromEnv(sandbox.env, { provisionerUrl: base, timeoutMs: 5000 }));
    expect(results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    expect(results.map((r) => r.name)).toContain('hosted signup page');
  });

  it('serves an accessible form with plans, terms, a CSRF cookie and a strict CSP', async () => {
    const { html, response, browser, csrf } = await openForm();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(browser.cookie).toMatch(/^kpm_signup_csrf=/);
    expect(csrf).not.toBe('');
    expect(html).toContain('<label for="email">Email</label>');
    expect(html).toMatch(/value="starter"[^>]* checked/);
    expect(html).toContain('https://example.com/terms');
    expect(html).toMatch(/\$[\d.,]+/);
    // Each plan's label says its price once: no "Volume (Volume (", no price restated in the description.
    const labels = [...html.matchAll(/<label><input type="radio"[^>]*>([\s\S]*?)<\/label>/g)].map((match) => match[1]!.replace(/<[^>]+>/g, ''));
    expect(labels).toHaveLength(4);
    for (const label of labels) expect(label.match(/\$\d[\d.,]*/g)?.length ?? 0, label).toBeLessThanOrEqual(new Set(label.match(/\$\d[\d.,]*/g)).size);
    expect(html).not.toMatch(/Volume \(Volume|Graduated: calls/);
  });

  it('the confirmation email names the API key once ("your API key for Sandbox API", not "Sandbox API API key")', async () => {
    const started = Date.now();
    await signUp('wording@example.com');
    const text = (await mail.waitFor('wording@example.com', { after: started })).text;
    expect(text).toMatch(/get your API key for \S/);
    expect(text).not.toMatch(/API API/);
  });

  it('signup -> email -> Checkout 4242 -> key once -> proxy call 200; the link then refuses', async () => {
    const email = 'hosted-happy@example.com';
    const started = Date.now();
    const answer = await signUp(email);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('Check your email');
    expect(await consumers.get(email)).toBeUndefined();
    expect(await stripeCustomers(email)).toHaveLength(0);

    const link = await linkFor(email, started);
    const confirm = await fetch(link);
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain(email);

    const toCheckout = await postForm('/signup/verify', { token: tokenOf(link) });
    expect(toCheckout.status).toBe(303);
    const consumer = await consumers.get(email);
    expect(consumer?.tags).toEqual(expect.arrayContaining([...SIGNUP_CONSUMER_TAGS, 'kpm-plan-starter']));
    expect(await consumers.listKeys(consumer!.id)).toHaveLength(0);
    // Refused at Kong until a card exists: the consumer-scoped 402.
    expect((await consumers.listPlugins(consumer!.id)).map((p) => [p.name, p.config.status_code])).toEqual([['request-termination', 402]]);

    const back = await payInCheckout(toCheckout.headers.get('location') ?? '');
    expect(back.startsWith(`${base}/signup/complete?token=`)).toBe(true);
    const keyPage = await fetch(back);
    const html = await keyPage.text();
    expect(keyPage.status).toBe(200);
    expect(keyPage.headers.get('cache-control')).toBe('no-store');
    const key = keyOf(html);
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(html).toContain(`curl -H &#39;apikey: ${key}&#39; \\\n  ${sandbox.kong!.proxyUrl}${TEST_SERVICE_PATH}`);
    // Kong applies new keys and removed plugins after db_update_frequency: the page must not promise more.
    expect(html).toContain('Your key becomes active within a few seconds');
    // A first key replaced nothing: no line about a previous key.
    expect(html).not.toContain('Your previous key');
    expect(await consumers.listPlugins(consumer!.id)).toHaveLength(0);

    const call = await fetch(`${sandbox.kong!.proxyUrl}${TEST_SERVICE_PATH}`, { headers: { apikey: key! } });
    expect(call.status).toBe(200);

    const [customer, ...others] = await stripeCustomers(email);
    expect(others).toHaveLength(0);
    expect(customer?.metadata.kong_developer_id).toBe(consumer!.id);
    expect(customer?.name).toBe('Ada Lovelace');
    expect(customer?.invoice_settings.default_payment_method).toBeTruthy();
    const subscriptions = await sandbox.provisioner!.stripe.subscriptions.list({ customer: customer!.id });
    expect(subscriptions.data).toHaveLength(1);
    await sandbox.provisioner!.moesif.flush();
    expect(sandbox.moesif!.store.users.get(email)?.company_id).toBe(subscriptions.data[0]?.id);

    const reused = await postForm('/signup/verify', { token: tokenOf(link) });
    expect(reused.status).toBe(410);
    expect(await reused.text()).toContain('already used');
    expect((await fetch(back)).status).toBe(410);
    expect(await consumers.listKeys(consumer!.id)).toHaveLength(1);

    // The email link opened again says so on its first page, as a sentence, with the next step; no "Continue".
    const again = await fetch(link);
    const page = await again.text();
    expect(again.status).toBe(410);
    expect(page).toContain('This link was already used: your API key was shown when it was first opened.');
    expect(page).toContain(`href="${base}/signup/account">Manage my account</a>`);
    expect(page).not.toContain('Continue');
  });

  it('a Stripe webhook moves access at Kong on the consumer: a canceled subscription is refused with 402', async () => {
    const email = 'hosted-happy@example.com';
    const consumer = await consumers.get(email);
    const key = (await consumers.listKeys(consumer!.id))[0]!.key;
    const [customer] = await stripeCustomers(email);
    const [subscription] = (await sandbox.provisioner!.stripe.subscriptions.list({ customer: customer!.id })).data;
    await sandbox.provisioner!.stripe.subscriptions.cancel(subscription!.id);
    await sandbox.stripe!.webhooks.idle();
    const call = await fetch(`${sandbox.kong!.proxyUrl}${TEST_SERVICE_PATH}`, { headers: { apikey: key } });
    expect(call.status).toBe(402);
    expect((await consumers.listPlugins(consumer!.id)).map((p) => p.tags)).toEqual([expect.arrayContaining(['kong-portal-monetization', 'kpm-access'])]);
  });

  it('two tabs and a double click make one consumer, customer, subscription and key', async () => {
    const email = 'hosted-race@example.com';
    const started = Date.now();
    await signUp(email);
    const token = tokenOf(await linkFor(email, started));
    const confirms = await Promise.all([1, 2, 3].map(() => postForm('/signup/verify', { token })));
    expect(confirms.map((r) => r.status)).toEqual([303, 303, 303]);
    const back = await payInCheckout(confirms[0]!.headers.get('location') ?? '');
    const pages = await Promise.all([1, 2].map(() => fetch(back)));
    expect(pages.map((p) => p.status).sort()).toEqual([200, 410]);
    const consumer = await consumers.get(email);
    expect(await consumers.listKeys(consumer!.id)).toHaveLength(1);
    const customers = await stripeCustomers(email);
    expect(customers).toHaveLength(1);
    expect((await sandbox.provisioner!.stripe.subscriptions.list({ customer: customers[0]!.id })).data).toHaveLength(1);
  });

  it('one link hammered by 16 requests at once makes one Checkout session; the link budget refuses the rest (issue 17.6)', async () => {
    const email = 'hosted-hammer@example.com';
    const started = Date.now();
    await signUp(email);
    const token = tokenOf(await linkFor(email, started));
    const answers = await Promise.all(Array.from({ length: 16 }, () => postForm('/signup/verify', { token })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((status) => status === 303).length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 303 || status === 429)).toBe(true);
    expect(statuses.filter((status) => status === 303).length).toBeLessThanOrEqual(LINK_REQUESTS_PER_TOKEN_PER_MINUTE);
    expect(new Set(answers.filter((r) => r.status === 303).map((r) => r.headers.get('location'))).size).toBe(1);
    const [customer] = await stripeCustomers(email);
    expect((await sandbox.provisioner!.stripe.checkout.sessions.list({ customer: customer!.id, limit: 100 })).data.length).toBeLessThanOrEqual(2);
  });

  it('a second signup with the same email creates nothing and emails what to do', async () => {
    const email = 'hosted-happy@example.com';
    const started = Date.now();
    const answer = await signUp(email, 'growth', 'Someone Else');
    expect(answer.status).toBe(200);
    const message = await mail.waitFor(email, { after: started });
    expect(message.subject).toContain('already have');
    expect(message.text).not.toMatch(/signup\/verify/);
    expect(message.text).toContain(`${base}/signup/account`);
    expect(await stripeCustomers(email)).toHaveLength(1);
  });

  it('returning from Checkout without a card shows no key', async () => {
    const email = 'hosted-nocard@example.com';
    const started = Date.now();
    await signUp(email);
    const token = tokenOf(await linkFor(email, started));
    expect((await postForm('/signup/verify', { token })).status).toBe(303);
    const back = await fetch(`${base}/signup/complete?token=${encodeURIComponent(token)}`);
    expect(back.status).toBe(402);
    expect(await back.text()).toContain('no payment method');
    expect(await consumers.listKeys((await consumers.get(email))!.id)).toHaveLength(0);
  });

  it('refuses bad input with a clear message and writes nothing', async () => {
    const { browser, csrf } = await openForm();
    const ok = { csrf, name: 'Bad Input', email: 'hosted-bad@example.com', plan: 'starter', terms: 'accepted' };
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ ...ok, email: 'not-an-email' }, 400, 'enter a valid email'],
      [{ ...ok, plan: 'platinum' }, 400, 'pick one of the plans offered'],
      [{ ...ok, name: 'x'.repeat(101) }, 400, 'at most 100 characters'],
      [{ ...ok, name: '<script>alert(1)</script>' + 'y'.repeat(100) }, 400, '&#60;script&#62;'],
      [{ ...ok, terms: '' }, 400, 'accept the terms'],
      [{ ...ok, csrf: '' }, 403, 'The form expired'],
      [{ ...ok, csrf: `${csrf.slice(0, -2)}AA` }, 403, 'The form expired'],
    ];
    for (const [fields, status, text] of cases) {
      const answer = await postForm('/signup', fields, browser);
      expect([answer.status, await answer.text()]).toEqual([status, expect.stringContaining(text)]);
    }
    const noCookie = await postForm('/signup', ok);
    expect(noCookie.status).toBe(403);
    const huge = await postForm('/signup', { ...ok, name: 'z'.repeat(10_000) }, browser);
    expect(huge.status).toBe(413);
    expect(mail.messages().filter((m) => m.to.includes('hosted-bad@example.com'))).toHaveLength(0);
    expect(await consumers.get('hosted-bad@example.com')).toBeUndefined();
  });

  it('refuses forged, damaged and expired links, and too many emails to one address', async () => {
    const email = 'hosted-links@example.com';
    const started = Date.now();
    await signUp(email);
    const token = tokenOf(await linkFor(email, started));
    const [body, signature] = token.split('.');
    const otherBody = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), p: 'growth' })).toString('base64url');
    const forged = await postForm('/signup/verify', { token: `${otherBody}.${signature}` });
    expect([forged.status, await forged.text()]).toEqual([400, expect.stringContaining('not one we sent')]);
    expect((await fetch(`${base}/signup/verify?token=garbage`)).status).toBe(400);
    for (let i = 0; i < 2; i++) await signUp(email);
    const limited = await signUp(email);
    expect([limited.status, await limited.text()]).toEqual([429, expect.stringContaining('several emails')]);

    await fetch(`${sandbox.stripe!.url}/_emulator/time/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seconds: 31 * 60 }) });
    const expired = await postForm('/signup/verify', { token });
    expect([expired.status, await expired.text()]).toEqual([410, expect.stringContaining('expired')]);
    const expiredFirstPage = await fetch(`${base}/signup/verify?token=${encodeURIComponent(token)}`);
    const expiredText = await expiredFirstPage.text();
    expect(expiredFirstPage.status).toBe(410);
    expect(expiredText).toContain('This link has expired.');
    expect(expiredText).toContain(`href="${base}/signup">Sign up again</a>`);
    expect(await consumers.get(email)).toBeUndefined();
  });
});
