// The lifecycle rules of the money loop over the whole sandbox: forged, duplicated, reordered and
// late webhooks converge; an unpaid end is never wiped by reconcile; a plan switch keeps the
// subscription; meta.plan edits create nothing; an email change keeps the one customer.
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileDevelopers } from '../admin/reconcile/reconcile-developers.ts';
import { DEFAULT_STRIPE_KNOBS } from '../sandbox/stripe/stripe-emulator.ts';
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

async function provisioned(plan = 'starter') {
  const dev = await billing.signUp(plan, 'life');
  return { ...dev, checkoutUrl: dev.answer.checkout_url };
}
const settle = () => billing.settle();
const callStatus = (key: string) => billing.callStatus(key);
const addCard = (customerId: string, token: string) => billing.addCard(customerId, token);
const advanceDays = (days: number) => billing.advanceDays(days);

const stripeWrites = () => sandbox.stripe!.counters.writes;

describe('webhooks', () => {
  it('a forged signature is refused with 400 and changes nothing', async () => {
    const dev = await provisioned();
    const event = { id: 'evt_forged', object: 'event', type: 'invoice.paid', data: { object: { object: 'invoice', customer: dev.customer.id } } };
    const writes = stripeWrites();
    for (const signature of [undefined, 't=1,v1=00', `t=${Math.floor(Date.now() / 1000)},v1=${'ab'.repeat(32)}`]) {
      const response = await fetch(`${sandbox.provisioner!.url}/stripe/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) },
        body: JSON.stringify(event),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    }
    expect(stripeWrites()).toBe(writes);
    expect(await callStatus(dev.key)).toBe(402);
  });

  it('duplicated and reordered deliveries, and deliveries after a provisioner restart, still converge', async () => {
    sandbox.stripe!.configure({ webhookDuplicates: 'always', webhookReorderWindowMs: 30 });
    try {
      const dev = await provisioned();
      expect(await callStatus(dev.key)).toBe(402);
      await addCard(dev.customer.id, 'pm_card_visa');
      await settle();
      expect(await callStatus(dev.key)).toBe(200);

      // The provisioner is down while the card is removed: Stripe keeps retrying until it is back.
      const late = await provisioned();
      await sandbox.stopProvisioner();
      // Not billing.addCard: that waits for the deliveries, which must still be retrying here.
      const card = await stripe.paymentMethods.attach('pm_card_visa', { customer: late.customer.id });
      await stripe.customers.update(late.customer.id, { invoice_settings: { default_payment_method: card.id } });
      await new Promise((resolve) => setTimeout(resolve, 150));
      await sandbox.startProvisioner();
      await settle();
      expect(await callStatus(late.key)).toBe(200);
      const failed = sandbox.stripe!.webhooks.deliveries().filter((d) => d.outcome !== 'succeeded');
      expect(failed.length).toBeGreaterThan(0);
    } finally {
      // Back to the default disorder (some duplicates, some reordering), which the other tests run with.
      sandbox.stripe!.configure({ webhookDuplicates: DEFAULT_STRIPE_KNOBS.webhookDuplicates, webhookReorderWindowMs: DEFAULT_STRIPE_KNOBS.webhookReorderWindowMs });
    }
  });
});

describe('lifecycle rules', () => {
  it('after dunning ends unpaid, reconcile creates nothing, keeps the developer refused and names them', async () => {
    // Bundle: 5 calls bill $10, above Stripe's minimum charge (a few cents would be carried to the balance instead).
    const dev = await provisioned('bundle');
    await addCard(dev.customer.id, 'pm_card_chargeCustomerFail');
    await settle();
    for (let i = 0; i < 5; i++) expect(await callStatus(dev.key)).toBe(200);
    await sandbox.reportUsage();
    await advanceDays(32 + 7);
    const [subscription] = (await stripe.subscriptions.list({ customer: dev.customer.id, status: 'all' })).data;
    expect(subscription?.status).toBe('unpaid');
    expect(await callStatus(dev.key)).toBe(402);

    const core = sandbox.provisioner!;
    const developers = async function* () {
      yield* [sandbox.kong!.state.requireWs('default').developers.get(dev.developer.id)!].map((d) => ({ ...d, meta: d.meta }));
    };
    const report = await reconcileDevelopers({ listDevelopers: developers, provisioner: core.provisioner, syncAccess: (d) => core.billing.access.syncDeveloper(d) });
    expect(report.ended).toEqual([{ developerId: dev.developer.id, email: dev.email, status: 'unpaid' }]);
    expect(report.fixed).toBe(0);
    expect((await stripe.subscriptions.list({ customer: dev.customer.id, status: 'all' })).data).toHaveLength(1);
    expect(await callStatus(dev.key)).toBe(402);
  });

  it('a plan switch keeps the subscription id and the Moesif company, and Kong meta.plan follows', async () => {
    const dev = await provisioned('starter');
    await addCard(dev.customer.id, 'pm_card_visa');
    await settle();
    const [subscription] = (await stripe.subscriptions.list({ customer: dev.customer.id })).data;
    const growth = (await stripe.prices.list({ lookup_keys: ['kpm_growth_monthly'] })).data[0] as Stripe.Price;
    await stripe.subscriptions.update(subscription!.id, { items: [{ id: subscription!.items.data[0]!.id, price: growth.id }] });
    await settle();
    const after = await stripe.subscriptions.retrieve(subscription!.id);
    expect(after.items.data[0]?.price.id).toBe(growth.id);
    expect((await stripe.subscriptions.list({ customer: dev.customer.id, status: 'all' })).data).toHaveLength(1);
    const meta = JSON.parse(sandbox.kong!.state.requireWs('default').developers.get(dev.developer.id)!.meta ?? '{}') as { plan?: string };
    expect(meta.plan).toBe('growth');
    expect(sandbox.moesif!.store.users.get(dev.email)?.company_id).toBe(subscription!.id);
  });

  it('editing meta.plan in Kong creates nothing in Stripe', async () => {
    const dev = await provisioned('starter');
    await settle();
    const writes = stripeWrites();
    const response = await fetch(`${sandbox.kong!.adminUrl}/default/developers/${dev.developer.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ meta: JSON.stringify({ full_name: 'Life', plan: 'volume' }) }),
    });
    expect(response.status).toBe(200);
    await settle();
    expect(stripeWrites()).toBe(writes);
    expect((await stripe.subscriptions.list({ customer: dev.customer.id, status: 'all' })).data).toHaveLength(1);
  });

  it('an email change in Kong moves the one customer to the new email and gives Moesif a user for it', async () => {
    const dev = await provisioned('starter');
    const newEmail = `moved-${dev.email}`;
    const response = await fetch(`${sandbox.kong!.adminUrl}/default/developers/${dev.developer.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: newEmail }),
    });
    expect(response.status).toBe(200);
    await settle();
    await sandbox.provisioner!.moesif.flush();
    expect((await stripe.customers.list({ email: dev.email })).data).toEqual([]);
    const moved = (await stripe.customers.list({ email: newEmail })).data;
    expect(moved.map((customer) => customer.id)).toEqual([dev.customer.id]);
    const [subscription] = (await stripe.subscriptions.list({ customer: dev.customer.id })).data;
    expect(sandbox.moesif!.store.users.get(newEmail)?.company_id).toBe(subscription!.id);
  });
});
