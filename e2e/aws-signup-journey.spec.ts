/**
 * The hosted signup on AWS API Gateway (GATEWAY=aws) as a person meets it, in a real browser
 * against the sandbox `npm start -- --mode hosted --gateway aws` runs (free ports): the signup
 * form, the mailbox, the email link, Stripe Checkout with 4242, the key shown once, calls with
 * `x-api-key` through the AWS emulator, Moesif reporting them, and the invoice for them; then the
 * key replaced from "My account": the old key refused, the new one working.
 */
import Stripe from 'stripe';
import { expect, test } from '@playwright/test';
import { SANDBOX_STRIPE_KEY } from '../src/dev/start-sandbox.ts';
import { stripeClientOptions } from '../src/sandbox/stripe/stripe-emulator.ts';
import { signUpThroughCheckout, step, useHostedSandbox } from './hosted-journey.ts';

const journey = useHostedSandbox({ gateway: 'aws' });

test('AWS: sign up, emailed link, Checkout 4242, key once, x-api-key calls 200, usage invoiced', async ({ page }, info) => {
  const email = 'aws-grace@example.com';
  await signUpThroughCheckout(page, info, journey, email, { form: '1-signup-form', checkout: '2-checkout' });
  const { sandbox, mail } = journey;
  const key = await page.getByLabel('API key').inputValue();
  expect(key).toMatch(/^[A-Za-z0-9]{40}$/);
  await expect(page.locator('pre')).toContainText(`x-api-key: ${key}`);
  await step(page, info, '3-key');
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Link already used' })).toBeVisible();
  await expect(page.getByLabel('API key')).toHaveCount(0);

  // Growth (graduated): $5 a call for the first 100; the refused call is not billed.
  for (let i = 0; i < 4; i++) expect((await fetch(sandbox.aws!.apiUrl, { headers: { 'x-api-key': key } })).status).toBe(200);
  expect((await fetch(sandbox.aws!.apiUrl)).status).toBe(403);
  await sandbox.aws!.emulator.settled();
  const keyId = [...sandbox.aws!.emulator.state.apiKeys.values()].find((k) => k.value === key)?.id;
  expect(sandbox.moesif!.store.events.filter((event) => event.user_id === keyId)).toHaveLength(4);
  await sandbox.reportUsage();
  const advanced = await fetch(`${sandbox.stripe!.url}/_emulator/time/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seconds: 32 * 86_400 }) });
  expect(advanced.status).toBe(200);
  await sandbox.stripe!.webhooks.idle();
  const stripe = new Stripe(SANDBOX_STRIPE_KEY, { ...stripeClientOptions(sandbox.stripe!), maxNetworkRetries: 0 });
  const [customer] = (await stripe.customers.list({ email })).data;
  const invoices = (await stripe.invoices.list({ customer: customer!.id })).data.filter((invoice) => invoice.total > 0);
  expect(invoices.map((invoice) => [invoice.status, invoice.amount_due])).toEqual([['paid', 2000]]);

  // "My account": replace the key; the old one is refused from then on, the new one works.
  await page.goto(`${sandbox.provisioner!.url}/signup/account`);
  await page.getByLabel('Email you signed up with').fill(email);
  const asked = Date.now();
  await page.getByRole('button', { name: 'Email me a link' }).click();
  await mail.waitFor(email, { after: asked });
  await page.goto(mail.mailboxUrl);
  await page.getByRole('link', { name: /signup\/account\/open/ }).first().click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('button', { name: 'Replace my API key' }).click();
  await expect(page.getByRole('heading', { name: 'Your API key' })).toBeVisible();
  const replaced = await page.getByLabel('API key').inputValue();
  expect(replaced).toMatch(/^[A-Za-z0-9]{40}$/);
  expect(replaced).not.toBe(key);
  await expect(page.getByText('Your previous key stops working within a few seconds.')).toBeVisible();
  await step(page, info, '4-replaced-key');
  expect((await fetch(sandbox.aws!.apiUrl, { headers: { 'x-api-key': key } })).status).toBe(403);
  expect((await fetch(sandbox.aws!.apiUrl, { headers: { 'x-api-key': replaced } })).status).toBe(200);
});
