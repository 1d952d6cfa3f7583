/**
 * The whole product as a person meets it, in a real browser against the sandbox `npm start`
 * runs (free ports): register with a plan, land on the dashboard, be billed exactly once in
 * Stripe, be known to Moesif, create a key, call the API through Kong.
 * A screenshot of each step is attached to the test report (test-results/).
 */
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import type Stripe from 'stripe';
import { reconcileDevelopers } from '../src/admin/reconcile/reconcile-developers.ts';
import { KongAdminClient } from '../src/kong/kong-admin-client.ts';
import { createStripeClient } from '../src/provisioner/stripe/stripe-client.ts';
import { FREE_PORTS, startSandbox, type Sandbox } from '../src/dev/start-sandbox.ts';

const PASSWORD = 'correct horse battery staple';

let sandbox: Sandbox;
let stripe: Stripe;

test.beforeAll(async () => {
  // Not about payment: without a card step the signup goes straight to the dashboard (the
  // Checkout step and the 402-until-card rule are covered by get-paid-journey.spec.ts).
  sandbox = await startSandbox({ ports: FREE_PORTS, kongPropagationMs: 0, provisionerEnv: { PAYMENT_COLLECTION: 'none' } });
  stripe = createStripeClient({ secretKey: sandbox.env.STRIPE_SECRET_KEY as string, mode: 'test', apiBase: new URL(sandbox.stripe!.url), maxWritesPerSecond: 20 });
});

test.afterAll(async () => {
  await sandbox?.close();
});

function registerUrl(): string {
  return `${sandbox.kong!.portalUrl}/default/register`;
}

/** Screenshot saved under test-results/ (kept as a CI artifact) and attached to the report. */
async function step(page: Page, info: TestInfo, name: string): Promise<void> {
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await info.attach(name, { path, contentType: 'image/png' });
}

async function fillRegisterForm(page: Page, email: string, fullName: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Full Name').fill(fullName);
}

async function stripeRecordsFor(email: string): Promise<{ customers: Stripe.Customer[]; subscriptions: Stripe.Subscription[] }> {
  const customers = (await stripe.customers.list({ email, limit: 100 })).data;
  const subscriptions: Stripe.Subscription[] = [];
  for (const customer of customers) subscriptions.push(...(await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data);
  return { customers, subscriptions };
}

async function moesifGet(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${sandbox.moesif!.url}${path}`);
  return { status: response.status, body: response.status === 200 ? await response.json() : undefined };
}

test('a developer picks a plan, signs up, is billed once, creates a key and calls the API', async ({ page }, info) => {
  const email = 'ada@example.com';
  await page.goto(registerUrl());
  const plan = page.getByLabel('Plan');
  // The bundle turns Kong's plain `plan` meta input into a select of the provisioner's plans.
  await expect(plan).toHaveJSProperty('tagName', 'SELECT');
  await step(page, info, '01-register-page');

  await plan.selectOption('growth');
  await fillRegisterForm(page, email, 'Ada Lovelace');
  await step(page, info, '02-register-filled');
  await page.getByRole('button', { name: /create account/i }).click();

  await page.waitForURL(/\/default\/dashboard/);
  await expect(page.locator('#developer-email')).toHaveText(email);
  // The bundle's billing panel: the plan picked, nothing to fix, no card asked for.
  await expect(page.locator('.portal-monetization-billing-plan')).toHaveText('Growth');
  await expect(page.getByRole('link', { name: 'Manage billing' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Add a payment method' })).toHaveCount(0);
  await step(page, info, '03-dashboard');

  // Stripe: exactly one customer with that email and one subscription to the Growth price.
  const { customers, subscriptions } = await stripeRecordsFor(email);
  expect(customers).toHaveLength(1);
  expect(customers[0]?.name).toBe('Ada Lovelace');
  expect(subscriptions).toHaveLength(1);
  const subscription = subscriptions[0]!;
  expect(subscription.items.data[0]?.price.lookup_key).toBe('kpm_growth_monthly');

  // The plan travelled in Kong's meta, so it is stored on the developer.
  const developer = sandbox.kong!.state.getDeveloper('default', email);
  expect(JSON.parse(developer?.meta ?? '{}')).toMatchObject({ full_name: 'Ada Lovelace', plan: 'growth' });

  // Moesif: user_id = email, company_id = the subscription id, and the company itself.
  await expect.poll(async () => (await moesifGet(`/_emulator/users/${encodeURIComponent(email)}`)).body).toMatchObject({ user_id: email, company_id: subscription.id });
  expect((await moesifGet(`/_emulator/companies/${encodeURIComponent(subscription.id)}`)).status).toBe(200);

  // A key from the dashboard, then a call through Kong with it in the apikey header.
  await page.getByRole('button', { name: 'Create API key' }).click();
  const key = page.locator('#api-key');
  await expect(key).not.toBeEmpty();
  await step(page, info, '04-api-key-created');
  const apikey = (await key.textContent())!.trim();

  const denied = await fetch(`${sandbox.kong!.proxyUrl}/test-service`);
  expect(denied.status).toBe(401);
  const call = await fetch(`${sandbox.kong!.proxyUrl}/test-service`, { headers: { apikey } });
  expect(call.status).toBe(200);
  await sandbox.kong!.settle();
  await expect
    .poll(async () => {
      const events = (await moesifGet(`/_emulator/events?user_id=${encodeURIComponent(email)}`)).body as unknown[] | { events?: unknown[] } | undefined;
      return Array.isArray(events) ? events.length : (events?.events?.length ?? 0);
    })
    .toBeGreaterThan(0);
});

test('an email already registered shows Kong\'s error and makes no Stripe call', async ({ page }, info) => {
  const email = 'taken@example.com';
  sandbox.kong!.state.addDeveloper('default', { email, meta: JSON.stringify({ full_name: 'First Owner' }), password: PASSWORD });
  const writesBefore = sandbox.stripe!.counters.snapshot().writes;

  await page.goto(registerUrl());
  await fillRegisterForm(page, email, 'Second Try');
  await page.getByRole('button', { name: /create account/i }).click();
  await expect(page.locator('#register-error')).not.toBeEmpty();
  await step(page, info, '01-email-taken');

  expect(page.url()).toContain('/default/register');
  expect(sandbox.stripe!.counters.snapshot().writes).toBe(writesBefore);
  expect((await stripeRecordsFor(email)).customers).toHaveLength(0);
});

test('with the provisioner down the account is still created, and billing completes once it is back', async ({ page }, info) => {
  test.setTimeout(90_000);
  const email = 'grace@example.com';
  await sandbox.stopProvisioner();
  try {
    await page.goto(registerUrl());
    await fillRegisterForm(page, email, 'Grace Hopper');
    await page.getByRole('button', { name: /create account/i }).click();

    // The notice appears while the bundle gives up retrying; then the theme's redirect goes on.
    await expect(page.getByText(/billing setup will finish shortly/i).first()).toBeVisible({ timeout: 30_000 });
    await step(page, info, '01-pending-notice');
    await page.waitForURL(/\/default\/dashboard/, { timeout: 30_000 });
    await step(page, info, '02-dashboard-while-billing-pending');
    expect(sandbox.kong!.state.getDeveloper('default', email)).toBeDefined();
    expect((await stripeRecordsFor(email)).customers).toHaveLength(0);
  } finally {
    await sandbox.startProvisioner();
  }

  // The event hook fired while the provisioner was down; reconcile (cron) completes the billing.
  const kong = new KongAdminClient({ adminUrl: sandbox.kong!.adminUrl, workspace: 'default' });
  const report = await reconcileDevelopers({
    listDevelopers: () => kong.listDevelopers(),
    provisioner: sandbox.provisioner!.provisioner,
    moesif: sandbox.provisioner!.moesif,
  });
  expect(report.failures).toEqual([]);
  const { customers, subscriptions } = await stripeRecordsFor(email);
  expect(customers).toHaveLength(1);
  expect(subscriptions).toHaveLength(1);
  await expect.poll(async () => (await moesifGet(`/_emulator/users/${encodeURIComponent(email)}`)).body).toMatchObject({ user_id: email, company_id: subscriptions[0]!.id });
});
