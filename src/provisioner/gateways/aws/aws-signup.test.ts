/**
 * GATEWAY=aws end to end over the sandbox: the AWS API Gateway emulator (SigV4-checked control
 * plane, x-api-key data plane), Stripe and Moesif emulators, the real provisioner with
 * SIGNUP_MODE=hosted, real SMTP into the mail catcher. A browser is played with fetch.
 */
import { keyOnPage, postForm as postFormTo } from '../../../testkit/hosted-form-client.ts';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailCatcher, type RunningMailCatcher } from '../../../sandbox/mail/mail-catcher.ts';
import { FREE_PORTS, SANDBOX_STRIPE_KEY, startSandbox, type Sandbox } from '../../../dev/start-sandbox.ts';
import { stripeClientOptions } from '../../../sandbox/stripe/stripe-emulator.ts';
import type { ApiKeyRecord } from '../../../sandbox/aws/aws-state.ts';
import { doctorInputsFromEnv, runDoctor } from '../../../admin/doctor/doctor.ts';
import { runReconcileCommand } from '../../../admin/reconcile/reconcile-command.ts';
import type { ProvisionLogger } from '../../../shared/provision-log.ts';

let sandbox: Sandbox;
let mail: RunningMailCatcher;
let base: string;
let stripe: Stripe;
let usagePlans: Record<string, string>;
/** Warnings the provisioner logged. */
const warnings: Array<Parameters<ProvisionLogger['warn']>[0]> = [];

beforeAll(async () => {
  mail = await startMailCatcher();
  sandbox = await startSandbox({
    ports: FREE_PORTS,
    eventHook: false,
    hosted: { smtpUrl: mail.smtpUrl, gateway: 'aws' },
    provisionerLogger: { info: () => undefined, warn: (fields) => void warnings.push(fields), error: () => undefined },
    provisionerEnv: { SIGNUP_RATE_LIMIT_PER_MINUTE: '1000' },
    stripeEmulator: { dunningFinalStatus: 'unpaid', dunningRetryDays: [2, 4] },
  });
  base = sandbox.provisioner!.url;
  stripe = new Stripe(SANDBOX_STRIPE_KEY, { ...stripeClientOptions(sandbox.stripe!), maxNetworkRetries: 0 });
  usagePlans = sandbox.aws!.usagePlans;
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await mail?.close();
});

const postForm = (path: string, fields: Record<string, string>, cookie?: string) => postFormTo(base, path, fields, cookie);

/** Form → email → the link's token. */
async function tokenFor(email: string, plan = 'starter'): Promise<string> {
  const started = Date.now();
  const form = await fetch(`${base}/signup`);
  const html = await form.text();
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const answer = await postForm('/signup', { csrf, name: 'Grace Hopper', email, plan, terms: 'accepted' }, cookie);
  expect(answer.status).toBe(200);
  const message = await mail.waitFor(email, { after: started });
  const link = /https?:\/\/\S+\/signup\/verify\?token=\S+/.exec(message.text)?.[0] ?? '';
  return new URL(link).searchParams.get('token') ?? '';
}

async function payInCheckout(checkoutUrl: string, card = '4242 4242 4242 4242'): Promise<string> {
  const answer = await fetch(checkoutUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ cardnumber: card, exp: '12 / 34', cvc: '123' }),
  });
  expect(answer.status).toBe(303);
  return answer.headers.get('location') ?? '';
}

const keyOf = keyOnPage;
const keysNamed = (email: string): ApiKeyRecord[] => [...sandbox.aws!.emulator.state.apiKeys.values()].filter((key) => key.name === email);
const plansOf = (keyId: string) => sandbox.aws!.emulator.state.plansOfKey(keyId).map((plan) => plan.id);
const call = async (key: string) => {
  const response = await fetch(sandbox.aws!.apiUrl, { headers: { 'x-api-key': key } });
  return { status: response.status, body: (await response.json()) as unknown };
};
const customersOf = async (email: string) => (await stripe.customers.list({ email, limit: 10 })).data;
const settle = async () => {
  for (let i = 0; i < 3; i++) await sandbox.stripe!.webhooks.idle();
};
const advanceDays = async (days: number) => {
  const response = await fetch(`${sandbox.stripe!.url}/_emulator/time/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seconds: Math.round(days * 86_400) }) });
  expect(response.status).toBe(200);
  await settle();
};

/** "My account" form → email → the link's token. */
async function accountToken(email: string): Promise<string> {
  const started = Date.now();
  const form = await fetch(`${base}/signup/account`);
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  expect((await postForm('/signup/account', { csrf, email }, cookie)).status).toBe(200);
  const message = await mail.waitFor(email, { after: started });
  return new URL(/https?:\/\/\S+\/signup\/account\/open\?token=\S+/.exec(message.text)?.[0] ?? '').searchParams.get('token') ?? '';
}

async function reconcile(): Promise<number> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await runReconcileCommand([], sandbox.env);
  } finally {
    console.log = log;
  }
}

/** Signup through Checkout with a card; the key page's key. */
async function signUpAndPay(email: string, plan = 'starter', card = '4242 4242 4242 4242'): Promise<string> {
  const token = await tokenFor(email, plan);
  const toCheckout = await postForm('/signup/verify', { token });
  expect(toCheckout.status).toBe(303);
  const back = await payInCheckout(toCheckout.headers.get('location') ?? '', card);
  const page = await fetch(back);
  expect(page.status).toBe(200);
  const key = keyOf(await page.text());
  expect(key).toMatch(/^[A-Za-z0-9]{40}$/);
  await settle();
  return key!;
}

describe('hosted signup on AWS API Gateway', () => {
  it('doctor passes against the AWS emulator, and names a method that does not require a key', async () => {
    const doctor = async () => runDoctor(await doctorInputsFromEnv(sandbox.env, { provisionerUrl: base, timeoutMs: 5000 }));
    const results = await doctor();
    expect(results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    expect(results.map((r) => r.name)).toEqual(expect.arrayContaining(['AWS credentials and region', 'AWS usage plans', 'AWS API key source and required keys', 'AWS access log for Moesif', 'hosted signup page']));
    expect(results.map((r) => r.name)).not.toContain('Kong Admin API');
    // Kong's Moesif identity check reads Kong plugins; on AWS the access log check stands for it.
    expect(results.map((r) => r.name)).not.toContain('Moesif user = developer email');

    const [api] = [...sandbox.aws!.emulator.state.restApis.values()];
    const method = api!.resources[1]!.resourceMethods.GET!;
    method.apiKeyRequired = false;
    try {
      const check = (await doctor()).find((r) => r.name === 'AWS API key source and required keys');
      expect(check).toMatchObject({ ok: false, detail: expect.stringContaining('GET /test-service'), fix: expect.stringContaining('API key required') });
    } finally {
      method.apiKeyRequired = true;
    }
  });

  it('signup -> email -> Checkout 4242 -> key once -> x-api-key call 200, reported to Moesif as the key id', async () => {
    const email = 'aws-happy@example.com';
    const token = await tokenFor(email);
    expect(keysNamed(email)).toHaveLength(0);
    const toCheckout = await postForm('/signup/verify', { token });
    expect(toCheckout.status).toBe(303);
    // The key exists, in its usage plan, tagged as ours, disabled until a card is saved.
    const [key, ...others] = keysNamed(email);
    expect(others).toHaveLength(0);
    expect(key).toMatchObject({ enabled: false, tags: expect.objectContaining({ 'kong-portal-monetization': 'true', 'kpm-signup': 'true', 'kpm-plan': 'starter' }) });
    expect(plansOf(key!.id)).toEqual([usagePlans.starter]);
    expect((await call(key!.value)).status).toBe(403);

    const back = await payInCheckout(toCheckout.headers.get('location') ?? '');
    const page = await fetch(back);
    const html = await page.text();
    expect(keyOf(html)).toBe(key!.value);
    expect(html).toContain(`curl -H &#39;x-api-key: ${key!.value}&#39; \\\n  ${sandbox.aws!.apiUrl}`);
    expect(key!.enabled).toBe(true);
    expect(await call(key!.value)).toEqual({ status: 200, body: expect.objectContaining({ apiKeyId: key!.id }) });

    const [customer, ...moreCustomers] = await customersOf(email);
    expect(moreCustomers).toHaveLength(0);
    expect(customer?.metadata.kong_developer_id).toBe(key!.id);
    expect(key!.customerId).toBe(customer!.id);
    const subscriptions = (await stripe.subscriptions.list({ customer: customer!.id })).data;
    expect(subscriptions).toHaveLength(1);
    await sandbox.provisioner!.moesif.flush();
    const user = sandbox.moesif!.store.users.get(key!.id);
    expect(user).toMatchObject({ company_id: subscriptions[0]!.id, metadata: expect.objectContaining({ email }) });
    await sandbox.aws!.emulator.settled();
    expect(sandbox.aws!.emulator.moesifDeliveries.at(-1)).toMatchObject({ userId: key!.id, status: 201 });

    // The link is used up: the key is never shown twice.
    expect((await postForm('/signup/verify', { token })).status).toBe(410);
    expect((await fetch(back)).status).toBe(410);
  });

  it('double click and two tabs: one key in the right usage plan, one customer, one subscription', async () => {
    const email = 'aws-race@example.com';
    const token = await tokenFor(email, 'growth');
    const confirms = await Promise.all([1, 2, 3].map(() => postForm('/signup/verify', { token })));
    expect(confirms.map((r) => r.status)).toEqual([303, 303, 303]);
    const back = await payInCheckout(confirms[0]!.headers.get('location') ?? '');
    const pages = await Promise.all([1, 2].map(() => fetch(back)));
    expect(pages.map((p) => p.status).sort()).toEqual([200, 410]);
    const keys = keysNamed(email);
    expect(keys).toHaveLength(1);
    expect(plansOf(keys[0]!.id)).toEqual([usagePlans.growth]);
    const customers = await customersOf(email);
    expect(customers).toHaveLength(1);
    expect((await stripe.subscriptions.list({ customer: customers[0]!.id })).data).toHaveLength(1);
  });

  it('a crash after CreateApiKey and before CreateUsagePlanKey converges on the next try: one key, in its usage plan', async () => {
    const email = 'aws-crash@example.com';
    const token = await tokenFor(email, 'bundle');
    // CreateUsagePlanKey fails (as if the process died right after CreateApiKey): the page errs.
    sandbox.aws!.emulator.faults.push({ method: 'POST', pathPrefix: '/usageplans/', type: 'BadRequestException', times: 1 });
    const failed = await postForm('/signup/verify', { token });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(keysNamed(email)).toHaveLength(1);
    expect(plansOf(keysNamed(email)[0]!.id)).toEqual([]);
    expect(await customersOf(email)).toHaveLength(0);

    const retried = await postForm('/signup/verify', { token });
    expect(retried.status).toBe(303);
    const [key, ...others] = keysNamed(email);
    expect(others).toHaveLength(0);
    expect(plansOf(key!.id)).toEqual([usagePlans.bundle]);
    const customers = await customersOf(email);
    expect(customers).toHaveLength(1);
    expect((await stripe.subscriptions.list({ customer: customers[0]!.id })).data).toHaveLength(1);
  });

  it('a failing card past the grace: the key is refused with 403, a new card restores it', async () => {
    const email = 'aws-dunning@example.com';
    // bundle ($10 a package): starter's few cents are below Stripe's minimum charge, which Stripe
    // carries to the balance instead of charging (the subscription would stay active).
    const key = await signUpAndPay(email, 'bundle', '4000 0000 0000 0341');
    const [customer] = await customersOf(email);
    const record = keysNamed(email)[0]!;
    expect((await call(key)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await call(key)).status).toBe(200);
    await sandbox.aws!.emulator.settled();
    await sandbox.reportUsage();
    await advanceDays(31.5);
    const subscription = (await stripe.subscriptions.list({ customer: customer!.id, status: 'all' })).data[0]!;
    expect(subscription.status).toBe('past_due');
    expect((await call(key)).status).toBe(200);

    await advanceDays(3);
    expect(await call(key)).toEqual({ status: 403, body: { message: 'Forbidden' } });
    expect(record.enabled).toBe(false);
    // Why, for the account page: the access decision the billing status shows.
    const outcome = await sandbox.provisioner!.billing.access.syncDeveloper(record.id);
    expect(outcome).toMatchObject({ decision: { access: 'refused' } });
    expect(outcome!.message).toMatch(/overdue/i);

    // Replacing the key does not lift the refusal: the new key is refused too, the old one is gone.
    const rotated = await postForm('/signup/account/rotate', { token: await accountToken(email) });
    expect(rotated.status).toBe(200);
    const replacedBy = keyOf(await rotated.text())!;
    const [replacement, ...others] = keysNamed(email);
    expect(others).toHaveLength(0);
    expect(replacement).toMatchObject({ enabled: false, tags: expect.objectContaining({ 'kpm-refused': record.tags['kpm-refused'] }) });
    expect(await call(replacedBy)).toEqual({ status: 403, body: { message: 'Forbidden' } });
    expect((await call(key)).status).toBe(403);

    const good = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer!.id });
    await stripe.customers.update(customer!.id, { invoice_settings: { default_payment_method: good.id } });
    await settle();
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
    expect((await call(replacedBy)).status).toBe(200);
    expect(replacement!.enabled).toBe(true);
    expect((await call(key)).status).toBe(403);
  });

  it('a plan change in Stripe moves the key to the new usage plan', async () => {
    const email = 'aws-upgrade@example.com';
    const key = await signUpAndPay(email, 'starter');
    const record = keysNamed(email)[0]!;
    expect(plansOf(record.id)).toEqual([usagePlans.starter]);
    const [customer] = await customersOf(email);
    const subscription = (await stripe.subscriptions.list({ customer: customer!.id })).data[0]!;
    const growth = (await stripe.prices.list({ lookup_keys: ['kpm_growth_monthly'] })).data[0]!;
    await stripe.subscriptions.update(subscription.id, { items: [{ id: subscription.items.data[0]!.id, price: growth.id }], proration_behavior: 'none' });
    await settle();
    expect(plansOf(record.id)).toEqual([usagePlans.growth]);
    expect(record.tags['kpm-plan']).toBe('growth');
    expect((await call(key)).status).toBe(200);
  });

  it('reconcile walks our API keys only, and repairs a key left outside its usage plan by a crash during a plan move', async () => {
    const email = 'aws-upgrade@example.com';
    const record = keysNamed(email)[0]!;
    // A crash between leaving the old usage plan and joining the new one, with the tag still on the old plan.
    sandbox.aws!.emulator.state.planKeys.get(usagePlans.growth!)!.delete(record.id);
    record.tags['kpm-plan'] = 'starter';
    expect((await call(record.value)).status).toBe(403);
    // A key an admin made by hand is not ours: reconcile never touches it.
    sandbox.aws!.emulator.state.apiKeys.set('adminkey01', { ...record, id: 'adminkey01', value: 'a'.repeat(40), name: 'admin@example.com', tags: {} });
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => void lines.push(String(line));
    try {
      expect(await runReconcileCommand([], sandbox.env)).toBe(0);
    } finally {
      console.log = log;
    }
    expect(lines.join('\n')).toMatch(/developers seen: +5\n/);
    expect(plansOf(record.id)).toEqual([usagePlans.growth]);
    expect(record.tags['kpm-plan']).toBe('growth');
    expect((await call(record.value)).status).toBe(200);
    expect(sandbox.aws!.emulator.state.apiKeys.get('adminkey01')?.tags).toEqual({});
  });

  it('usage through x-api-key is reported by Moesif and invoiced for the right amount', async () => {
    const email = 'aws-invoice@example.com';
    const key = await signUpAndPay(email, 'growth');
    // Growth, graduated: $5 per call for the first 100.
    for (let i = 0; i < 3; i++) expect((await call(key)).status).toBe(200);
    expect((await call('not-a-key-not-a-key-not-a-key-not-a-key0')).status).toBe(403);
    await sandbox.aws!.emulator.settled();
    await sandbox.reportUsage();
    await advanceDays(32);
    const [customer] = await customersOf(email);
    const invoices = (await stripe.invoices.list({ customer: customer!.id })).data.filter((invoice) => invoice.total > 0);
    expect(invoices.map((invoice) => [invoice.status, invoice.amount_due, invoice.amount_paid])).toEqual([['paid', 1500, 1500]]);
  });

  it('"My account" replaces the key: new key 200, old key 403, the new key\'s Moesif user in the same company, usage on the same bill', async () => {
    const email = 'aws-rotate@example.com';
    const oldValue = await signUpAndPay(email, 'growth');
    const [first] = keysNamed(email);
    const [customer] = await customersOf(email);
    const subscription = (await stripe.subscriptions.list({ customer: customer!.id })).data[0]!;
    // Growth, graduated: $5 per call for the first 100.
    for (let i = 0; i < 2; i++) expect((await call(oldValue)).status).toBe(200);

    const token = await accountToken(email);
    const page = await (await postForm('/signup/account/open', { token })).text();
    expect(page).toContain('Replace my API key');
    const rotated = await postForm('/signup/account/rotate', { token });
    expect(rotated.status).toBe(200);
    const rotatedPage = await rotated.text();
    expect(rotatedPage).toContain('Your previous key stops working within a few seconds.');
    expect(rotatedPage).not.toContain('Your previous key still works');
    const newValue = keyOf(rotatedPage);
    expect(newValue).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(newValue).not.toBe(oldValue);
    const [second, ...others] = keysNamed(email);
    expect(others).toHaveLength(0);
    expect(second).toMatchObject({ value: newValue, enabled: true, customerId: customer!.id, tags: expect.objectContaining({ 'kpm-developer': first!.id, 'kpm-plan': 'growth', 'kong-portal-monetization': 'true' }) });
    expect(plansOf(second!.id)).toEqual([usagePlans.growth]);
    expect(await call(newValue!)).toEqual({ status: 200, body: expect.objectContaining({ apiKeyId: second!.id }) });
    expect(await call(oldValue)).toEqual({ status: 403, body: { message: 'Forbidden' } });

    // Still the same developer: one customer naming the first key's id, one subscription, found by that id.
    expect((await customersOf(email)).map((c) => [c.id, c.metadata.kong_developer_id])).toEqual([[customer!.id, first!.id]]);
    expect((await stripe.subscriptions.list({ customer: customer!.id })).data.map((s) => s.id)).toEqual([subscription.id]);
    expect(await sandbox.provisioner!.billing.access.syncDeveloper(first!.id)).toMatchObject({ decision: { access: 'allowed' }, subscription: { id: subscription.id } });
    await sandbox.provisioner!.moesif.flush();
    expect(sandbox.moesif!.store.users.get(second!.id)).toMatchObject({ company_id: subscription.id, metadata: expect.objectContaining({ email, kong_developer_id: first!.id }) });
    // The link is used up.
    expect((await postForm('/signup/account/rotate', { token })).status).toBe(410);

    // 2 calls with the old key + 1 with the new one = $15.00; the refused call is not billed.
    await sandbox.aws!.emulator.settled();
    await sandbox.reportUsage();
    await advanceDays(32);
    const invoices = (await stripe.invoices.list({ customer: customer!.id })).data.filter((invoice) => invoice.total > 0);
    expect(invoices.map((invoice) => [invoice.status, invoice.amount_due, invoice.amount_paid])).toEqual([['paid', 1500, 1500]]);
  });

  it('double click and two tabs on "Replace": one new key; a plan change after it moves the new key', async () => {
    const email = 'aws-rotate-race@example.com';
    const oldValue = await signUpAndPay(email, 'starter');
    const token = await accountToken(email);
    const answers = await Promise.all([1, 2, 3].map(() => postForm('/signup/account/rotate', { token })));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 410, 410]);
    const shown = keyOf(await answers.find((r) => r.status === 200)!.text());
    const [key, ...others] = keysNamed(email);
    expect(others).toHaveLength(0);
    expect(key!.value).toBe(shown);
    expect((await call(shown!)).status).toBe(200);
    expect((await call(oldValue)).status).toBe(403);

    const [customer] = await customersOf(email);
    const subscription = (await stripe.subscriptions.list({ customer: customer!.id })).data[0]!;
    const growth = (await stripe.prices.list({ lookup_keys: ['kpm_growth_monthly'] })).data[0]!;
    await stripe.subscriptions.update(subscription.id, { items: [{ id: subscription.items.data[0]!.id, price: growth.id }], proration_behavior: 'none' });
    await settle();
    expect(plansOf(key!.id)).toEqual([usagePlans.growth]);
    expect(key!.tags['kpm-plan']).toBe('growth');
  });

  it('a crash after CreateApiKey and before CreateUsagePlanKey: the old key keeps working, the same link resumes with the same new key', async () => {
    const email = 'aws-rotate-crash@example.com';
    const oldValue = await signUpAndPay(email, 'starter');
    const token = await accountToken(email);
    sandbox.aws!.emulator.faults.push({ method: 'POST', pathPrefix: '/usageplans/', type: 'BadRequestException', times: 1 });
    expect((await postForm('/signup/account/rotate', { token })).status).toBeGreaterThanOrEqual(500);
    const [old, staged, ...more] = keysNamed(email);
    expect(more).toHaveLength(0);
    expect(plansOf(staged!.id)).toEqual([]);
    expect((await call(oldValue)).status).toBe(200);

    const retried = await postForm('/signup/account/rotate', { token });
    expect(retried.status).toBe(200);
    expect(keyOf(await retried.text())).toBe(staged!.value);
    expect(keysNamed(email).map((k) => k.id)).toEqual([staged!.id]);
    expect(plansOf(staged!.id)).toEqual([usagePlans.starter]);
    expect((await call(staged!.value)).status).toBe(200);
    expect((await call(oldValue)).status).toBe(403);
    expect(old!.id).not.toBe(staged!.id);
  });

  it('a failed delete of the old key still shows the new key; reconcile deletes the old key only once the new one was used, never leaving the developer with a key they did not see', async () => {
    const email = 'aws-rotate-late@example.com';
    const oldValue = await signUpAndPay(email, 'starter');
    sandbox.aws!.emulator.faults.push({ method: 'DELETE', pathPrefix: '/apikeys/', type: 'BadRequestException', times: 1 });
    const token = await accountToken(email);
    const first = await postForm('/signup/account/rotate', { token });
    expect(first.status).toBe(200);
    const [held0, fresh, ...more] = keysNamed(email);
    expect(more).toHaveLength(0);
    // The page tells the truth: the old key was not stopped.
    const firstPage = await first.text();
    expect(keyOf(firstPage)).toBe(fresh!.value);
    expect(firstPage).toContain('Your previous key still works for now: we remove it shortly after your first call with this one.');
    expect(firstPage).not.toContain('Your previous key stops working');
    expect(warnings.filter((w) => w.event === 'signup_key_replace_unfinished')).toEqual([expect.objectContaining({ consumer_id: held0!.id, kept: 1 })]);
    expect(JSON.stringify(warnings)).not.toContain(fresh!.value);
    expect((await call(oldValue)).status).toBe(200);
    // The same link again: the same new key, and this time the old one goes.
    const retried = await postForm('/signup/account/rotate', { token });
    expect(retried.status).toBe(200);
    const retriedPage = await retried.text();
    expect(keyOf(retriedPage)).toBe(fresh!.value);
    expect(retriedPage).toContain('Your previous key stops working within a few seconds.');
    expect(keysNamed(email).map((k) => k.id)).toEqual([fresh!.id]);
    expect((await call(oldValue)).status).toBe(403);

    // The same failure again, and nobody comes back: the page showed the new key all the same.
    sandbox.aws!.emulator.faults.push({ method: 'DELETE', pathPrefix: '/apikeys/', type: 'BadRequestException', times: 1 });
    const again = await postForm('/signup/account/rotate', { token: await accountToken(email) });
    expect(again.status).toBe(200);
    const [held, shown] = keysNamed(email);
    const againPage = await again.text();
    expect(keyOf(againPage)).toBe(shown!.value);
    expect(againPage).toContain('Your previous key still works for now: we remove it shortly after your first call with this one.');
    // Long after any link expired, reconcile still keeps the old key while the new one is unused.
    shown!.tags['kpm-shown'] = new Date(Date.now() - 26 * 3_600_000).toISOString();
    expect(await reconcile()).toBe(0);
    expect(keysNamed(email).map((k) => k.id)).toEqual([held!.id, shown!.id]);
    expect((await call(held!.value)).status).toBe(200);
    // The developer's first call with the new key proves they hold it: the next reconcile finishes the replacement.
    expect((await call(shown!.value)).status).toBe(200);
    expect(await reconcile()).toBe(0);
    expect(keysNamed(email).map((k) => k.id)).toEqual([shown!.id]);
    expect((await call(shown!.value)).status).toBe(200);
    expect((await call(held!.value)).status).toBe(403);
  });

  it('a crash between tagging the new key shown and the answer: reconcile keeps the old key; the next link shows the same new key and finishes', async () => {
    const email = 'aws-rotate-lost-answer@example.com';
    const oldValue = await signUpAndPay(email, 'starter');
    // The replacement is staged, provisioned and in its usage plan; then the write of its shown tag
    // fails (the only tag write left: the old key is already marked as being replaced).
    keysNamed(email)[0]!.tags['kpm-replacing'] = 'true';
    sandbox.aws!.emulator.faults.push({ method: 'PUT', pathPrefix: '/tags/', type: 'BadRequestException', times: 1 });
    const failed = await postForm('/signup/account/rotate', { token: await accountToken(email) });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const [held, unseen, ...more] = keysNamed(email);
    expect(more).toHaveLength(0);
    expect(plansOf(unseen!.id)).toEqual([usagePlans.starter]);
    expect(unseen!.tags['kpm-shown']).toBeUndefined();
    // As if that write had landed and the process died before answering, a day and more ago.
    unseen!.tags['kpm-shown'] = new Date(Date.now() - 26 * 3_600_000).toISOString();
    unseen!.createdDate = Math.floor(Date.now() / 1000) - 26 * 3600;
    expect(await reconcile()).toBe(0);
    expect(keysNamed(email).map((k) => k.id)).toEqual([held!.id, unseen!.id]);
    expect((await call(oldValue)).status).toBe(200);
    // The developer asks again: the same new key is shown, and the old one goes.
    const shown = await postForm('/signup/account/rotate', { token: await accountToken(email) });
    expect(shown.status).toBe(200);
    expect(keyOf(await shown.text())).toBe(unseen!.value);
    expect(keysNamed(email).map((k) => k.id)).toEqual([unseen!.id]);
    expect((await call(oldValue)).status).toBe(403);
  });

  it('reconcile deletes a replacement key never shown once no link can come back; the developer keeps their key', async () => {
    const email = 'aws-rotate-abandoned@example.com';
    const value = await signUpAndPay(email, 'starter');
    sandbox.aws!.emulator.faults.push({ method: 'POST', pathPrefix: '/usageplans/', type: 'BadRequestException', times: 1 });
    expect((await postForm('/signup/account/rotate', { token: await accountToken(email) })).status).toBeGreaterThanOrEqual(500);
    const [held, staged] = keysNamed(email);
    // Created 26 hours ago by the wall clock reconcile reads (the emulator dates keys by the sandbox's advanced Stripe clock).
    staged!.createdDate = Math.floor(Date.now() / 1000) - 26 * 3600;
    expect(await reconcile()).toBe(0);
    expect(keysNamed(email).map((k) => k.id)).toEqual([held!.id]);
    expect((await call(value)).status).toBe(200);
  });
});
