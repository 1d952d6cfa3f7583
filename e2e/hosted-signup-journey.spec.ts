/**
 * The hosted signup (SIGNUP_MODE=hosted: Kong 3.5+, OSS, Konnect) as a person meets it, in a real
 * browser against the sandbox `npm start -- --mode hosted --konnect` runs (free ports): the
 * signup form, the sandbox mailbox, the email link, Stripe Checkout with 4242, the key shown
 * once, and a call through Kong with it. A screenshot of each step is attached to the report.
 */
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { startMailCatcher, type RunningMailCatcher } from '../src/sandbox/mail/mail-catcher.ts';
import { FREE_PORTS, startSandbox, type Sandbox } from '../src/dev/start-sandbox.ts';

let sandbox: Sandbox;
let mail: RunningMailCatcher;

test.beforeAll(async () => {
  mail = await startMailCatcher();
  sandbox = await startSandbox({ ports: FREE_PORTS, kongPropagationMs: 0, eventHook: false, hosted: { smtpUrl: mail.smtpUrl, konnect: true } });
});

test.afterAll(async () => {
  await sandbox?.close();
  await mail?.close();
});

async function step(page: Page, info: TestInfo, name: string): Promise<void> {
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await info.attach(name, { path, contentType: 'image/png' });
}

test('sign up, open the emailed link, save a card in Checkout, get the key once, call the API', async ({ page }, info) => {
  const email = 'grace@example.com';
  await page.goto(`${sandbox.provisioner!.url}/signup`);
  await page.getByLabel('Your name').fill('Grace Hopper');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel(/Growth/).check();
  await step(page, info, '1-signup-form');
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();

  await mail.waitFor(email);
  await page.goto(mail.mailboxUrl);
  await step(page, info, '2-mailbox');
  await page.getByRole('link', { name: /signup\/verify/ }).first().click();
  await expect(page.getByText(email)).toBeVisible();
  await page.getByRole('button', { name: 'Continue' }).click();

  await expect(page.getByRole('button', { name: 'Save card' })).toBeVisible();
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiry (MM / YY)').fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
  await step(page, info, '3-checkout');
  await page.getByRole('button', { name: 'Save card' }).click();

  await expect(page.getByRole('heading', { name: 'Your API key' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Copy key' })).toBeVisible();
  const key = await page.getByLabel('API key').inputValue();
  expect(key).toMatch(/^[0-9a-f]{32}$/);
  await expect(page.locator('pre')).toContainText(`apikey: ${key}`);
  await step(page, info, '4-key');

  const call = await fetch(`${sandbox.kong!.proxyUrl}/test-service`, { headers: { apikey: key } });
  expect(call.status).toBe(200);

  await page.reload();
  await expect(page.getByRole('heading', { name: 'Link already used' })).toBeVisible();
  await expect(page.getByLabel('API key')).toHaveCount(0);
});
