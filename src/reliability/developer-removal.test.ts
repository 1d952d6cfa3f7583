// ON_DEVELOPER_REMOVED=now end to end: a developer deleted in Kong (the Admin API fires the event
// hook) has their subscription canceled at once with invoice_now, and the usage not yet invoiced is
// billed in Stripe's final invoice, then charged; nothing is billed twice afterwards.
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBillingSandbox, type BillingSandbox } from '../testkit/billing-sandbox.ts';

let billing: BillingSandbox;

beforeAll(async () => {
  billing = await startBillingSandbox({ provisionerEnv: { ON_DEVELOPER_REMOVED: 'now' } });
}, 60_000);
afterAll(() => billing?.close());

describe('ON_DEVELOPER_REMOVED=now', () => {
  it('a deleted developer gets a final invoice for the usage of the unfinished period, charged once', async () => {
    const { stripe, sandbox } = billing;
    const dev = await billing.signUp('bundle', 'removed');
    await billing.addCard(dev.customer.id, 'pm_card_visa');
    for (let i = 0; i < 5; i++) expect(await billing.callStatus(dev.key)).toBe(200);
    await billing.reportUsage();
    await billing.advanceDays(3);

    const deleted = await fetch(`${sandbox.env.KONG_ADMIN_URL}/default/developers/${dev.developer.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    await billing.settle();

    const [subscription] = (await stripe.subscriptions.list({ customer: dev.customer.id, status: 'all' })).data;
    expect(subscription).toMatchObject({ status: 'canceled', cancellation_details: { reason: 'cancellation_requested' } });
    const final = await stripe.invoices.retrieve(subscription!.latest_invoice as string);
    // Bundle: $10 per 1,000 calls, rounded up: 5 calls = $10.
    expect(final).toMatchObject({ status: 'draft', total: 1000 });

    await billing.advanceDays(0.1);
    const invoices = (await stripe.invoices.list({ customer: dev.customer.id })).data.filter((invoice: Stripe.Invoice) => invoice.total > 0);
    expect(invoices.map((invoice) => [invoice.id, invoice.status, invoice.amount_paid])).toEqual([[final.id, 'paid', 1000]]);
    // The key went with the developer's consumer.
    expect(await billing.callStatus(dev.key)).not.toBe(200);

    // A month later nothing more is billed (the subscription ended with the final invoice).
    await billing.advanceDays(35);
    expect((await stripe.invoices.list({ customer: dev.customer.id })).data.filter((invoice: Stripe.Invoice) => invoice.total > 0)).toHaveLength(1);
  });
});
