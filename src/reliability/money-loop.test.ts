// The money loop over the whole sandbox, as `npm start` wires it: a developer is provisioned,
// refused (402) until Checkout collects a card, calls the API, Moesif reports the calls, the
// Stripe emulator's clock closes the period and the invoice is paid; a failing card goes
// past_due (grace), then refused, then paid and restored. Webhooks, not polling, carry each change.
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TAGS } from '../provisioner/core/kong-access.ts';
import { startBillingSandbox, type BillingSandbox } from '../testkit/billing-sandbox.ts';

let billing: BillingSandbox;
let stripe: Stripe;
let sandbox: BillingSandbox['sandbox'];

beforeAll(async () => {
  billing = await startBillingSandbox({ stripeEmulator: { dunningFinalStatus: 'unpaid', dunningRetryDays: [2, 4] } });
  ({ stripe, sandbox } = billing);
});
afterAll(async () => {
  await billing?.close();
});

const signUp = (plan: string) => billing.signUp(plan);
const settle = () => billing.settle();
const callStatus = (key: string) => billing.callStatus(key);
const advanceDays = (days: number) => billing.advanceDays(days);
const reportUsage = () => billing.reportUsage();
const call = (key: string) => fetch(`${sandbox.kong!.proxyUrl}/test-service/x`, { headers: { apikey: key } });

async function completeCheckout(url: string, cardNumber: string): Promise<Response> {
  const form = new URLSearchParams({ cardnumber: cardNumber, exp: '12/34', cvc: '123' });
  return fetch(url, { method: 'POST', body: form, redirect: 'manual' });
}

const blocksOf = (developerId: string) =>
  [...sandbox.kong!.state.requireWs('default').plugins.values()].filter(
    (plugin) => plugin.consumer?.id !== undefined && ACCESS_TAGS.every((tag) => plugin.tags?.includes(tag)) && plugin.consumer.id === consumerOf(developerId),
  );
const consumerOf = (developerId: string) => sandbox.kong!.state.requireWs('default').developers.get(developerId)?.consumer?.id;

describe('get paid: Checkout, usage, invoices, dunning and access at Kong', () => {
  it('refuses calls until Checkout saves a card, then bills the calls and pays the invoice', async () => {
    const dev = await signUp('growth');
    expect(dev.answer.billing).toMatchObject({ access: 'refused', reason: 'payment_method_required' });
    expect(dev.answer.checkout_url).toMatch(/\/_hosted\/checkout\/cs_/);
    const refused = await call(dev.key);
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { message: string }).message).toMatch(/add a payment method at http:\/\/127\.0\.0\.1:\d+\/default\/dashboard/);

    const done = await completeCheckout(dev.answer.checkout_url as string, '4242 4242 4242 4242');
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toMatch(/\/default\/dashboard$/);
    await settle();
    const customer = await stripe.customers.retrieve(dev.customer.id);
    expect((customer as Stripe.Customer).invoice_settings.default_payment_method).toMatch(/^pm_/);
    expect(blocksOf(dev.developer.id)).toEqual([]);

    for (let i = 0; i < 120; i++) expect(await callStatus(dev.key)).toBe(200);
    await reportUsage();
    await advanceDays(32);
    const invoices = (await stripe.invoices.list({ customer: dev.customer.id })).data.filter((invoice) => invoice.total > 0);
    // Growth, graduated: 100 calls at $5 + 20 calls at $3 = $560.00.
    expect(invoices.map((invoice) => [invoice.status, invoice.amount_due, invoice.amount_paid])).toEqual([['paid', 56_000, 56_000]]);
    expect(await callStatus(dev.key)).toBe(200);
  });

  it('a failing card: past_due keeps access for the grace, then 402, then a new card pays and restores it', async () => {
    // Bundle: 10 calls bill $10, above Stripe's minimum charge (starter's 5¢ would be carried to the balance).
    const dev = await signUp('bundle');
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: dev.customer.id });
    await stripe.customers.update(dev.customer.id, { invoice_settings: { default_payment_method: failing.id } });
    await settle();
    expect(await callStatus(dev.key)).toBe(200);
    const other = await signUp('starter');
    await stripe.customers.update(other.customer.id, {
      invoice_settings: { default_payment_method: (await stripe.paymentMethods.attach('pm_card_visa', { customer: other.customer.id })).id },
    });
    await settle();

    for (let i = 0; i < 10; i++) expect(await callStatus(dev.key)).toBe(200);
    await reportUsage();
    await advanceDays(31.5);
    const subscription = (await stripe.subscriptions.list({ customer: dev.customer.id, status: 'all' })).data[0] as Stripe.Subscription;
    expect(subscription.status).toBe('past_due');
    // Within BILLING_GRACE_DAYS (3) of the failed payment: still allowed.
    expect(await callStatus(dev.key)).toBe(200);

    await advanceDays(3);
    const refused = await call(dev.key);
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { message: string }).message).toMatch(/Payment overdue/);
    // Nobody else is touched.
    expect(await callStatus(other.key)).toBe(200);
    expect(blocksOf(other.developer.id)).toEqual([]);

    const good = await stripe.paymentMethods.attach('pm_card_visa', { customer: dev.customer.id });
    await stripe.customers.update(dev.customer.id, { invoice_settings: { default_payment_method: good.id } });
    await settle();
    const open = await stripe.invoices.list({ customer: dev.customer.id, status: 'open' });
    expect(open.data).toEqual([]);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
    expect(await callStatus(dev.key)).toBe(200);
  });

  it('an invoice below the minimum charge is carried to the balance: the developer stays allowed and the next invoice bills it', async () => {
    const dev = await signUp('starter');
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: dev.customer.id });
    await stripe.customers.update(dev.customer.id, { invoice_settings: { default_payment_method: failing.id } });
    await settle();
    // Starter: 10 calls × 0.5¢ = 5¢, below $0.50: Stripe marks the invoice paid without charging the card.
    for (let i = 0; i < 10; i++) expect(await callStatus(dev.key)).toBe(200);
    await reportUsage();
    await advanceDays(31.5);
    const [first] = (await stripe.invoices.list({ customer: dev.customer.id })).data;
    expect(first).toMatchObject({ status: 'paid', amount_due: 5, amount_paid: 0 });
    expect(((await stripe.customers.retrieve(dev.customer.id)) as Stripe.Customer).balance).toBe(5);
    expect((await stripe.subscriptions.list({ customer: dev.customer.id })).data[0]?.status).toBe('active');
    await settle();
    expect(await callStatus(dev.key)).toBe(200);
    expect(blocksOf(dev.developer.id)).toEqual([]);

    // The next invoice bills its own usage (190 calls = 95¢) plus the 5¢ carried.
    const good = await stripe.paymentMethods.attach('pm_card_visa', { customer: dev.customer.id });
    await stripe.customers.update(dev.customer.id, { invoice_settings: { default_payment_method: good.id } });
    for (let i = 0; i < 190; i++) expect(await callStatus(dev.key)).toBe(200);
    await reportUsage();
    await advanceDays(31);
    const [second] = (await stripe.invoices.list({ customer: dev.customer.id })).data;
    expect(second).toMatchObject({ status: 'paid', starting_balance: 5 });
    expect(second!.amount_paid).toBe(second!.total + 5);
    expect(((await stripe.customers.retrieve(dev.customer.id)) as Stripe.Customer).balance).toBe(0);
    expect(await callStatus(dev.key)).toBe(200);
  });

  it('abandoned Checkout: 402 until Checkout is completed later, whose link the dashboard offers again', async () => {
    const dev = await signUp('starter');
    expect(await callStatus(dev.key)).toBe(402);
    const declined = await completeCheckout(dev.answer.checkout_url as string, '4000 0000 0000 0002');
    expect(declined.status).toBe(402);
    expect(await declined.text()).toMatch(/declined/i);
    await settle();
    expect(await callStatus(dev.key)).toBe(402);

    // A later visit proves itself again and gets a Checkout link again.
    const again = await fetch(`${sandbox.provisioner!.url}/provision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: dev.email, developer_id: dev.developer.id }),
    });
    const answer = (await again.json()) as { checkout_url?: string };
    expect(answer.checkout_url).toMatch(/\/_hosted\/checkout\/cs_/);
    expect((await completeCheckout(answer.checkout_url as string, '4242424242424242')).status).toBe(303);
    await settle();
    expect(await callStatus(dev.key)).toBe(200);
  });

  it("back from Checkout before its webhook: the dashboard's proven call adopts the card and unblocks", async () => {
    const [endpoint] = (await stripe.webhookEndpoints.list()).data;
    const dev = await signUp('starter');
    await stripe.webhookEndpoints.update(endpoint!.id, { disabled: true });
    try {
      expect((await completeCheckout(dev.answer.checkout_url as string, '4242424242424242')).status).toBe(303);
      await settle();
      expect(await callStatus(dev.key)).toBe(402);
      const response = await fetch(`${sandbox.provisioner!.url}/provision`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: dev.email, developer_id: dev.developer.id }),
      });
      const answer = (await response.json()) as { checkout_url?: string; billing?: { access: string; message: string } };
      expect(answer.billing?.access).toBe('allowed');
      expect(answer.checkout_url).toBeUndefined();
      expect(await callStatus(dev.key)).toBe(200);
    } finally {
      await stripe.webhookEndpoints.update(endpoint!.id, { disabled: false });
    }
  });
});
