/**
 * The Stripe emulator's hosted pages in a real browser: Checkout in setup mode (a declined card
 * shows the error and stays, 4242… completes and redirects), and the customer portal (replace the
 * card, switch plan, go back to the site). The "integrator's site" is a tiny local server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import Stripe from 'stripe';
import { startStripeEmulator, type RunningStripeEmulator } from '../src/sandbox/stripe/stripe-emulator.ts';

let emulator: RunningStripeEmulator;
let site: Server;
let siteUrl: string;
let stripe: Stripe;

test.beforeAll(async () => {
  emulator = await startStripeEmulator();
  stripe = new Stripe('sk_test_e2e', { ...emulator.clientOptions, maxNetworkRetries: 0 });
  site = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>Site</title><h1>Integrator site</h1><p id="path">${encodeURI(request.url ?? '')}</p>`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await emulator?.close();
  site?.closeAllConnections();
  await new Promise((resolve) => site?.close(resolve));
});

test.beforeEach(() => emulator.reset());

async function setupSession(email: string): Promise<Stripe.Checkout.Session> {
  const customer = await stripe.customers.create({ email });
  return stripe.checkout.sessions.create({
    mode: 'setup',
    customer: customer.id,
    currency: 'usd',
    success_url: `${siteUrl}/billing/done?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${siteUrl}/billing/canceled`,
  });
}

test('Checkout setup mode: 4242 4242 4242 4242 saves the card and returns to success_url', async ({ page }) => {
  const session = await setupSession('ok@example.com');
  await page.goto(session.url as string);
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiry (MM / YY)').fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
  await page.getByRole('button', { name: 'Save card' }).click();
  await expect(page.getByRole('heading', { name: 'Integrator site' })).toBeVisible();
  expect(page.url()).toBe(`${siteUrl}/billing/done?session_id=${session.id}`);
  const completed = await stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent'] });
  expect(completed.status).toBe('complete');
  expect((completed.setup_intent as Stripe.SetupIntent).status).toBe('succeeded');
});

test('Checkout setup mode: 4000 0000 0000 0002 shows the decline and stays on the page; cancel goes to cancel_url', async ({ page }) => {
  const session = await setupSession('declined@example.com');
  await page.goto(session.url as string);
  await page.getByLabel('Card number').fill('4000 0000 0000 0002');
  await page.getByLabel('Expiry (MM / YY)').fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
  await page.getByRole('button', { name: 'Save card' }).click();
  await expect(page.getByRole('alert')).toContainText('Your card was declined');
  expect(page.url()).toBe(session.url);
  expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');
  await page.getByRole('link', { name: 'Cancel and go back' }).click();
  await expect(page.locator('#path')).toHaveText('/billing/canceled');
});

test('Customer portal: replace the card, switch plan, return to the site', async ({ page }) => {
  const product = await stripe.products.create({ name: 'Weather API' });
  const basic = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 1000, nickname: 'Basic', recurring: { interval: 'month' } });
  const pro = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 5000, nickname: 'Pro', recurring: { interval: 'month' } });
  const configuration = await stripe.billingPortal.configurations.create({
    features: {
      payment_method_update: { enabled: true },
      invoice_history: { enabled: true },
      subscription_cancel: { enabled: true, mode: 'at_period_end' },
      subscription_update: { enabled: true, default_allowed_updates: ['price'], products: [{ product: product.id, prices: [basic.id, pro.id] }] },
    },
  });
  const customer = await stripe.customers.create({ email: 'portal@example.com' });
  const card = await stripe.paymentMethods.attach('pm_card_mastercard', { customer: customer.id });
  await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: card.id } });
  const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
  const session = await stripe.billingPortal.sessions.create({ customer: customer.id, configuration: configuration.id, return_url: `${siteUrl}/account` });

  await page.goto(session.url);
  await expect(page.locator('.plan')).toHaveText('Weather API (Basic): 10.00 USD per month');
  await expect(page.locator('.card')).toContainText('mastercard ending in 4444');

  await page.getByLabel('Card number').fill('4242424242424242');
  await page.getByLabel('Expiry (MM / YY)').fill('11 / 33');
  await page.getByLabel('CVC').fill('321');
  await page.getByRole('button', { name: 'Save new card' }).click();
  await expect(page.getByRole('status')).toHaveText('Your payment method was updated.');
  await expect(page.locator('.card')).toContainText('visa ending in 4242, expires 11/2033');

  await page.getByLabel('Switch plan').selectOption(pro.id);
  await page.getByRole('button', { name: 'Update plan' }).click();
  await expect(page.getByRole('status')).toHaveText('Your plan was changed.');
  await expect(page.locator('.plan')).toHaveText('Weather API (Pro): 50.00 USD per month');
  const updated = await stripe.subscriptions.retrieve(subscription.id);
  expect(updated.items.data.map((item) => item.price.id)).toEqual([pro.id]);
  const after = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
  expect(after.invoice_settings.default_payment_method).not.toBe(card.id);

  await page.getByRole('link', { name: 'Return to the site' }).click();
  await expect(page.locator('#path')).toHaveText('/account');
});
