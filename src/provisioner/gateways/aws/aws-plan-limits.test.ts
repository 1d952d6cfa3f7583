/**
 * Plan limits on AWS API Gateway, end to end over the sandbox (GATEWAY=aws: the AWS emulator, whose
 * usage plans got the plans file's limits through aws-setup's code; Stripe and Moesif emulators;
 * the provisioner; the usage reporter run as the sandbox's "money moves" command). A refusal by the
 * product (hard quota, spend cap, payment) disables the developer's key: AWS's data plane answers
 * 403 Forbidden for any reason, so the reason is on the account page. A plan's rate limit is the
 * usage plan's throttle: AWS's own 429, nothing written per developer.
 */
import { FREE_PRICING, TEN_DOLLARS_A_CALL, testPlan, writePlansWith } from '../../../testkit/plans-fixtures.ts';
import { keyOnPage, postForm as postFormTo } from '../../../testkit/hosted-form-client.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailCatcher, type RunningMailCatcher } from '../../../sandbox/mail/mail-catcher.ts';
import { FREE_PORTS, SANDBOX_STRIPE_KEY, startSandbox, type Sandbox } from '../../../dev/start-sandbox.ts';
import { stripeClientOptions } from '../../../sandbox/stripe/stripe-emulator.ts';
import type { ApiKeyRecord } from '../../../sandbox/aws/aws-state.ts';
import { runReconcileCommand } from '../../../admin/reconcile/reconcile-command.ts';
import type { ProvisionLogger } from '../../../shared/provision-log.ts';

type LogFields = Parameters<ProvisionLogger['info']>[0];

let sandbox: Sandbox;
let mail: RunningMailCatcher;
let dir: string;
let base: string;
let stripe: Stripe;
let usagePlans: Record<string, string>;
/** Every line the provisioner logged. */
const logged: LogFields[] = [];
const logger: ProvisionLogger = { info: (f) => void logged.push(f), warn: (f) => void logged.push(f), error: (f) => void logged.push(f) };


beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpm-aws-limits-'));
  const plansFile = await writePlansWith(dir, [

    testPlan('free5', { payment_collection: 'none', included: 5, limits: { quota: { calls: 5, enforcement: 'hard' } } }, FREE_PRICING),
    testPlan('unlimited', { payment_collection: 'none' }, FREE_PRICING),
    testPlan('limited', { payment_collection: 'none', limits: { rate: { minute: 3 } } }, FREE_PRICING),
    testPlan('paid3', { limits: { quota: { calls: 3, enforcement: 'hard' } } }, TEN_DOLLARS_A_CALL),
  ]);
  mail = await startMailCatcher();
  sandbox = await startSandbox({
    ports: FREE_PORTS,
    eventHook: false,
    plansFile,
    provisionerLogger: logger,
    hosted: { smtpUrl: mail.smtpUrl, gateway: 'aws' },
    provisionerEnv: { SIGNUP_RATE_LIMIT_PER_MINUTE: '1000', SIGNUP_EMAILS_PER_HOUR: '50' },
    // Meter events aggregate at once: the amount so far is what the spend cap is about, not the lag.
    stripeEmulator: { meterAggregationLagMs: 0 },
  });
  base = sandbox.provisioner!.url;
  stripe = new Stripe(SANDBOX_STRIPE_KEY, { ...stripeClientOptions(sandbox.stripe!), maxNetworkRetries: 0 });
  usagePlans = sandbox.aws!.usagePlans;
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await mail?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const postForm = (path: string, fields: Record<string, string>, cookie?: string) => postFormTo(base, path, fields, cookie);

async function linkToken(email: string, started: number, path: string): Promise<string> {
  const message = await mail.waitFor(email, { after: started });
  const link = new RegExp(`https?://\\S+${path.replace(/\//g, '\\/')}\\?token=\\S+`).exec(message.text)?.[0] ?? '';
  return new URL(link).searchParams.get('token') ?? '';
}

const keyOf = keyOnPage;
const settle = async () => {
  for (let i = 0; i < 3; i++) await sandbox.stripe!.webhooks.idle();
};

/** Signup → email link → (Checkout with `card` for a plan that collects one) → the key shown. */
async function signUp(email: string, planId: string, card?: string): Promise<{ value: string; record: ApiKeyRecord; customer: Stripe.Customer }> {
  const started = Date.now();
  const form = await fetch(`${base}/signup`);
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  expect((await postForm('/signup', { csrf, name: 'Ada Lovelace', email, plan: planId, terms: 'accepted' }, cookie)).status).toBe(200);
  let page = await postForm('/signup/verify', { token: await linkToken(email, started, '/signup/verify') });
  if (card) {
    expect(page.status).toBe(303);
    const paid = await fetch(page.headers.get('location') ?? '', {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ cardnumber: card, exp: '12 / 34', cvc: '123' }),
    });
    expect(paid.status).toBe(303);
    page = await fetch(paid.headers.get('location') ?? '');
  }
  expect(page.status).toBe(200);
  const value = keyOf(await page.text());
  expect(value).toMatch(/^[A-Za-z0-9]{40}$/);
  await settle();
  const record = [...sandbox.aws!.emulator.state.apiKeys.values()].find((key) => key.value === value)!;
  const [customer] = (await stripe.customers.list({ email, limit: 10 })).data;
  return { value: value!, record, customer: customer! };
}

const call = async (key: string) => {
  const response = await fetch(sandbox.aws!.apiUrl, { headers: { 'x-api-key': key } });
  return { status: response.status, body: (await response.json()) as unknown };
};
async function statuses(key: string, n: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < n; i++) seen.push((await call(key)).status);
  return seen;
}
/** The calls reach Moesif (as AWS's access log would), then one reporter run feeds quotas and spend caps. */
async function report(): Promise<void> {
  await sandbox.aws!.emulator.settled();
  await sandbox.provisioner!.moesif.flush();
  await sandbox.reportUsage();
  await settle();
}
const advanceDays = async (days: number) => {
  const response = await fetch(`${sandbox.stripe!.url}/_emulator/time/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seconds: Math.round(days * 86_400) }) });
  expect(response.status).toBe(200);
  await settle();
};

/** "My account": a fresh link, then the page as the developer sees it (text, entities decoded). */
async function accountPage(email: string): Promise<{ text: string; token: string }> {
  const started = Date.now();
  const form = await fetch(`${base}/signup/account`);
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  expect((await postForm('/signup/account', { csrf, email }, cookie)).status).toBe(200);
  const token = await linkToken(email, started, '/signup/account/open');
  const page = await postForm('/signup/account/open', { token });
  expect(page.status).toBe(200);
  return { text: decode(await page.text()), token };
}
const decode = (html: string) => html.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const resetText = (periodEnd: number) => `${new Date(periodEnd * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const periodEndOf = async (customerId: string) => (await stripe.subscriptions.list({ customer: customerId })).data[0]!.items.data[0]!.current_period_end;

describe('plan limits on AWS API Gateway', () => {
  it('hard quota reached: the key is disabled (403 as AWS answers), the account page names the limit and the reset; the period reset reopens it', async () => {
    const email = 'aws-quota@example.com';
    const { value, record, customer } = await signUp(email, 'free5');
    expect(record.enabled).toBe(true);
    // AWS's backstop: twice the plan's quota per calendar month (aws-setup), above the product's own count.
    expect(sandbox.aws!.emulator.state.usagePlans.get(usagePlans.free5!)?.quota).toEqual({ limit: 10, period: 'MONTH', offset: 0 });
    expect(await statuses(value, 5)).toEqual([200, 200, 200, 200, 200]);
    await report();
    expect(await call(value)).toEqual({ status: 403, body: { message: 'Forbidden' } });
    expect(record).toMatchObject({ enabled: false, tags: expect.objectContaining({ 'kpm-refused': expect.stringMatching(/^[0-9a-f]{32}$/) }) });

    const periodEnd = await periodEndOf(customer.id);
    const { text } = await accountPage(email);
    expect(text).toContain('Quota reached: your plan allows 5 calls per billing period.');
    expect(text).toContain(`It resets at ${resetText(periodEnd)}`);

    // The period ends (Stripe's clock passes it): the next decision reopens the key.
    await advanceDays((periodEnd - sandbox.stripe!.state.now()) / 86_400 + 1);
    await sandbox.provisioner!.billing.access.syncDeveloper(record.id);
    expect(record.enabled).toBe(true);
    expect((await call(value)).status).toBe(200);
  });

  it('hard quota reached, then an upgrade in Stripe reopens the key at once (the webhook re-decides)', async () => {
    const { value, record, customer } = await signUp('aws-quota-upgrade@example.com', 'free5');
    expect(await statuses(value, 5)).toEqual([200, 200, 200, 200, 200]);
    await report();
    expect((await call(value)).status).toBe(403);
    const subscription = (await stripe.subscriptions.list({ customer: customer.id })).data[0]!;
    const unlimited = (await stripe.prices.list({ lookup_keys: ['kpm_unlimited_monthly'] })).data[0]!;
    await stripe.subscriptions.update(subscription.id, { items: [{ id: subscription.items.data[0]!.id, price: unlimited.id }], proration_behavior: 'none' });
    await settle();
    expect(sandbox.aws!.emulator.state.plansOfKey(record.id).map((p) => p.id)).toEqual([usagePlans.unlimited]);
    expect(record.enabled).toBe(true);
    expect((await call(value)).status).toBe(200);
  });

  it('spend cap reached: the key is disabled and the page says so; raising the cap on the page reopens it', async () => {
    const email = 'aws-cap@example.com';
    const { value, record } = await signUp(email, 'growth', '4242 4242 4242 4242');
    let { token } = await accountPage(email);
    // Growth: $5.00 a call in its first tier; a $10.00 cap is reached by the second call.
    expect((await postForm('/signup/account/spend-cap', { token, spend_cap: '10' })).status).toBe(200);
    expect(await statuses(value, 2)).toEqual([200, 200]);
    await report();
    expect(await call(value)).toEqual({ status: 403, body: { message: 'Forbidden' } });
    expect(record.enabled).toBe(false);
    const page = await accountPage(email);
    token = page.token;
    expect(page.text).toMatch(/Spend cap reached: this period's usage has reached the monthly cap of 10\.00 USD you set\. Raise the cap/);

    const raised = await postForm('/signup/account/spend-cap', { token, spend_cap: '25' });
    expect(raised.status).toBe(200);
    expect(decode(await raised.text())).not.toContain('Spend cap reached');
    expect(record.enabled).toBe(true);
    expect((await call(value)).status).toBe(200);
  });

  it('past due and over quota: the page shows the quota in grace, then the payment message once payment is refused', async () => {
    const email = 'aws-both@example.com';
    const { value, record, customer } = await signUp(email, 'paid3', '4000 0000 0000 0341');
    expect(await statuses(value, 1)).toEqual([200]);
    await report();
    // The first period's invoice fails: past due, in grace (still allowed).
    const first = (await stripe.subscriptions.list({ customer: customer.id })).data[0]!;
    await advanceDays((first.items.data[0]!.current_period_end - sandbox.stripe!.state.now()) / 86_400 + 0.5);
    expect((await stripe.subscriptions.retrieve(first.id)).status).toBe('past_due');
    expect(await statuses(value, 3)).toEqual([200, 200, 200]);
    await report();
    expect((await call(value)).status).toBe(403);
    expect((await accountPage(email)).text).toContain('Quota reached: your plan allows 3 calls per billing period.');
    const quotaMark = record.tags['kpm-refused'];

    // The grace ends unpaid: payment refuses, and its message is the one shown though the quota is still reached.
    await advanceDays(7);
    await sandbox.provisioner!.billing.access.syncDeveloper(record.id);
    expect((await call(value)).status).toBe(403);
    expect(record.tags['kpm-refused']).not.toBe(quotaMark);
    const { text } = await accountPage(email);
    expect(text).toContain('Your last invoice could not be paid, so API access is suspended.');
    expect(text).not.toContain('Quota reached');
  });

  it('a rate-limited plan: nothing rate-limiting is written per developer and nothing fails; the usage plan throttle (from aws-setup) answers 429', async () => {
    const reconcileOutput: string[] = [];
    const { value, record } = await signUp('aws-rate@example.com', 'limited');
    // aws-setup's code gave the usage plan the plan's rate: 3 a minute → 0.05/s, burst 3.
    expect(sandbox.aws!.emulator.state.usagePlans.get(usagePlans.limited!)?.throttle).toEqual({ rateLimit: 0.05, burstLimit: 3 });
    const writesBefore = sandbox.aws!.emulator.requests.length;
    await sandbox.provisioner!.billing.access.syncDeveloper(record.id);
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => reconcileOutput.push(String(chunk)) > 0) as typeof process.stderr.write;
    const log = console.log;
    console.log = () => undefined;
    try {
      expect(await runReconcileCommand(['--verbose'], sandbox.env)).toBe(0);
    } finally {
      process.stderr.write = write;
      console.log = log;
    }
    // The syncs wrote nothing to AWS for this developer (no usage plan edit, no key change); reconcile may settle others.
    const writes = sandbox.aws!.emulator.requests.slice(writesBefore).filter((r) => r.method !== 'GET' && (r.path.includes(record.id) || r.path.startsWith('/usageplans')));
    expect(writes).toEqual([]);
    expect(record.enabled).toBe(true);
    expect(logged.filter((line) => line.event === 'rate_limit_failed')).toEqual([]);
    expect(reconcileOutput.join('')).not.toContain('rate_limit_failed');
    expect(reconcileOutput.join('')).toContain('"event"');

    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await call(value));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers[3]!.body).toEqual({ message: 'Too Many Requests' });
    expect(record.enabled).toBe(true);
  });
});
