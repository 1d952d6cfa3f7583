// What one Stripe event costs in Stripe reads, over the whole sandbox: the customer is read once,
// with its subscriptions and test clock expanded, and a burst of events for one customer is
// coalesced. Stripe's rate limit counts reads: two reads an event halved webhook throughput.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBillingSandbox, type BillingSandbox } from '../../testkit/billing-sandbox.ts';
import { attachCardByNumber, setDefaultPaymentMethod } from '../../sandbox/stripe/payment-methods.ts';

let billing: BillingSandbox;

beforeAll(async () => {
  billing = await startBillingSandbox();
  // Reads per delivered event: a duplicated delivery (which Stripe does send, and the sandbox sends
  // by default) is one more event to read, so this count is taken with each event delivered once.
  billing.sandbox.stripe!.configure({ webhookDisorder: false });
});
afterAll(async () => {
  await billing?.close();
});

/** Stripe requests the provisioner made, by route (the test's own setup makes none: it edits the emulator's state). */
const requests = () => billing.sandbox.stripe!.counters.snapshot().requests;

describe('Stripe reads per event', () => {
  it('a card added (customer.updated): one read, the customer with its subscriptions, and the developer is let in', async () => {
    const dev = await billing.signUp('starter', 'reads');
    expect(await billing.callStatus(dev.key)).toBe(402); // "checkout": refused until a card exists
    const state = billing.sandbox.stripe!.state;
    billing.sandbox.stripe!.counters.reset();
    setDefaultPaymentMethod(state, dev.customer.id, attachCardByNumber(state, dev.customer.id, '4242424242424242').id);
    await billing.settle();
    expect(await billing.callStatus(dev.key)).toBe(200);
    expect(requests()).toEqual({ 'GET /v1/customers/:id': 1 });
  });

  it('four events for one customer at once cost at most two reads, and the last one reads fresh state', async () => {
    const dev = await billing.signUp('starter', 'burst');
    const state = billing.sandbox.stripe!.state;
    billing.sandbox.stripe!.counters.reset();
    // Four card changes in a row: four customer.updated events delivered together.
    for (let i = 0; i < 4; i++) setDefaultPaymentMethod(state, dev.customer.id, attachCardByNumber(state, dev.customer.id, '4242424242424242').id);
    await billing.settle();
    expect(await billing.callStatus(dev.key)).toBe(200);
    expect(requests()['GET /v1/customers/:id']).toBeLessThanOrEqual(2);
    expect(Object.keys(requests())).toEqual(['GET /v1/customers/:id']);
  });
});
