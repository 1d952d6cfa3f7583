/**
 * The Stripe emulator's hosted pages in Chromium: Checkout names every bad card field at once;
 * "Switch plan" shows each metered price; after "Save new card" the portal page already shows
 * what the app's webhook handler did (the open invoice paid, the subscription active).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, findChromium } from '../../../e2e/chromium.ts';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

const executablePath = findChromium();

describe.skipIf(!executablePath)('Stripe emulator pages in Chromium', () => {
  let emulator: RunningStripeEmulator;
  let stripe: Stripe;
  let browser: Browser;
  let app: Server;
  let appUrl: string;

  beforeAll(async () => {
    emulator = await startStripeEmulator();
    stripe = new Stripe('sk_test_ux', { ...emulator.clientOptions, maxNetworkRetries: 0 });
    // The app's webhook handler, as the provisioner does it: a new default card pays the open invoices.
    app = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        void (async () => {
          const event = JSON.parse(body) as Stripe.Event;
          if (event.type === 'customer.updated') {
            const customer = event.data.object as Stripe.Customer;
            for (const invoice of (await stripe.invoices.list({ customer: customer.id, status: 'open' })).data) await stripe.invoices.pay(invoice.id!).catch(() => undefined);
          }
          response.writeHead(200).end('{}');
        })();
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await emulator?.close();
    app?.closeAllConnections();
    await new Promise((resolve) => app?.close(resolve));
  });

  const open = async (url: string): Promise<Page> => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(url);
    return page;
  };

  async function fillCard(page: Page, number: string, expiry: string, cvc: string): Promise<void> {
    await page.getByLabel('Card number').fill(number);
    await page.getByLabel('Expiry (MM / YY)').fill(expiry);
    await page.getByLabel('CVC').fill(cvc);
  }

  it('Checkout names every bad field: number, expiry and CVC', async () => {
    const customer = await stripe.customers.create({ email: 'bad-card@example.com' });
    const session = await stripe.checkout.sessions.create({ mode: 'setup', customer: customer.id, currency: 'usd', success_url: `${appUrl}/done`, cancel_url: `${appUrl}/back` });
    const page = await open(session.url!);
    await fillCard(page, '1234', '13/20', '1');
    await page.getByRole('button', { name: 'Save card' }).click();
    const alert = await page.getByRole('alert').textContent();
    expect(alert).toContain('Your card number is incomplete.');
    expect(alert).toContain("Your card's expiration month is invalid.");
    expect(alert).toContain("Your card's security code is incomplete.");
    await fillCard(page, '4242 4242 4242 4241', '01/20', '123');
    await page.getByRole('button', { name: 'Save card' }).click();
    expect(await page.getByRole('alert').textContent()).toBe("Your card number is invalid. Your card's expiration date is in the past.");
  });

  it('portal: Switch plan shows each metered price; after Save new card the status and invoice are current', async () => {
    const meter = await stripe.billing.meters.create({ display_name: 'Calls', event_name: 'ux_calls', default_aggregation: { formula: 'sum' } });
    const product = await stripe.products.create({ name: 'Credit API' });
    const recurring = { interval: 'month' as const, usage_type: 'metered' as const, meter: meter.id };
    // Half a cent per call; stripe-node types the decimal as its own Decimal, the wire takes the string.
    const starter = await stripe.prices.create({ product: product.id, currency: 'usd', nickname: 'Starter', unit_amount_decimal: '0.5', recurring } as unknown as Stripe.PriceCreateParams);
    const growth = await stripe.prices.create({
      product: product.id,
      currency: 'usd',
      nickname: 'Growth',
      billing_scheme: 'tiered',
      tiers_mode: 'graduated',
      tiers: [
        { up_to: 100, unit_amount: 500 },
        { up_to: 'inf', unit_amount: 200 },
      ],
      recurring,
    });
    const configuration = await stripe.billingPortal.configurations.create({
      features: {
        payment_method_update: { enabled: true },
        invoice_history: { enabled: true },
        subscription_update: { enabled: true, default_allowed_updates: ['price'], products: [{ product: product.id, prices: [starter.id, growth.id] }] },
      },
    });
    await stripe.webhookEndpoints.create({ url: `${appUrl}/stripe/webhooks`, enabled_events: ['*'] });
    const customer = await stripe.customers.create({ email: 'past-due@example.com', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: starter.id }] });
    await stripe.billing.meterEvents.create({ event_name: 'ux_calls', payload: { stripe_customer_id: customer.id, value: '400' } });
    // The card on file starts failing: the renewal invoice is not paid and the subscription goes past_due.
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
    const periodEnd = subscription.items.data[0]!.current_period_end;
    await fetch(`${emulator.url}/_emulator/time/advance`, { method: 'POST', body: JSON.stringify({ to: periodEnd + 2 * 3600 }) });
    await emulator.webhooks.idle();
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('past_due');

    const portal = await stripe.billingPortal.sessions.create({ customer: customer.id, configuration: configuration.id });
    const page = await open(portal.url);
    const options = await page.locator('select[name=price] option').allTextContents();
    expect(options).toEqual(['Credit API (Growth): graduated tiers (1-100: 5.00 USD each; 101+: 2.00 USD each), billed on usage each month']);
    expect(await page.locator('.plan').textContent()).toBe('Credit API (Starter): 0.005 USD per unit, billed on usage each month');
    expect(await page.locator('.status').textContent()).toBe('past_due');

    await fillCard(page, '4242 4242 4242 4242', '12 / 34', '123');
    await page.getByRole('button', { name: 'Save new card' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Your payment method was updated.');
    expect(await page.locator('.status').textContent()).toBe('active');
    expect(await page.locator('table tr').first().locator('td').last().textContent()).toBe('paid');
  }, 60_000);
});
