/**
 * The hosted signup (SIGNUP_MODE=hosted: Kong 3.5+, OSS, Konnect) as a person meets it, in a real
 * browser against the sandbox `npm start -- --mode hosted --konnect` runs (free ports): the
 * signup form, the sandbox mailbox, the email link, Stripe Checkout with 4242, the key shown
 * once, and a call through Kong with it. A screenshot of each step is attached to the report.
 */
import { expect, test } from '@playwright/test';
import { signUpThroughCheckout, step, useHostedSandbox } from './hosted-journey.ts';

const journey = useHostedSandbox({ konnect: true }, { kongPropagationMs: 0 });

test('sign up, open the emailed link, save a card in Checkout, get the key once, call the API', async ({ page }, info) => {
  const email = 'grace@example.com';
  await signUpThroughCheckout(page, info, journey, email, { form: '1-signup-form', mailbox: '2-mailbox', checkout: '3-checkout' });
  const { sandbox } = journey;
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
