/**
 * Checkout session reuse against the Stripe emulator (issue 17.6): one link, many requests, many
 * processes, one session per time bucket; a session completed or expired since is not handed out.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStripeEmulator, type RunningStripeEmulator } from '../../sandbox/stripe/stripe-emulator.ts';
import { CHECKOUT_BUCKET_MS, createCheckoutSessions, type SetupCheckout } from './checkout-sessions.ts';

let emulator: RunningStripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  emulator = await startStripeEmulator();
  stripe = new Stripe('sk_test_checkout_reuse', { ...emulator.clientOptions, maxNetworkRetries: 2 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

async function setupFor(token: string): Promise<SetupCheckout> {
  const customer = await stripe.customers.create({ email: 'reuse@example.com' });
  return { customerId: customer.id, currency: 'usd', token, successUrl: `http://127.0.0.1/signup/complete?token=${token}`, cancelUrl: `http://127.0.0.1/signup/verify?token=${token}` };
}

const sessionsOf = async (customer: string) => (await stripe.checkout.sessions.list({ customer, limit: 100 })).data;

describe('Checkout sessions of a signup link', () => {
  it('16 requests at once in one process and 4 in others (same bucket) make one session', async () => {
    const checkout = await setupFor('link-1');
    const clock = () => 5 * CHECKOUT_BUCKET_MS + 1;
    const here = createCheckoutSessions({ stripe }, clock);
    const otherProcesses = [1, 2, 3, 4].map(() => createCheckoutSessions({ stripe }, clock));
    const urls = await Promise.all([...Array.from({ length: 16 }, () => here.urlFor(checkout)), ...otherProcesses.map((p) => p.urlFor(checkout))]);
    expect(new Set(urls).size).toBe(1);
    expect(await sessionsOf(checkout.customerId)).toHaveLength(1);
  });

  it('a new bucket or another link of the customer gets its own session; the same link in the same bucket does not', async () => {
    const checkout = await setupFor('link-2');
    let now = 7 * CHECKOUT_BUCKET_MS;
    const sessions = createCheckoutSessions({ stripe }, () => now);
    const first = await sessions.urlFor(checkout);
    expect(await sessions.urlFor(checkout)).toBe(first);
    const otherLink = await sessions.urlFor({ ...checkout, token: 'link-2b', successUrl: `${checkout.successUrl}b`, cancelUrl: `${checkout.cancelUrl}b` });
    now += CHECKOUT_BUCKET_MS;
    const nextBucket = await sessions.urlFor(checkout);
    expect(new Set([first, otherLink, nextBucket]).size).toBe(3);
    expect(await sessionsOf(checkout.customerId)).toHaveLength(3);
  });

  it('a replayed session completed or expired since is followed by a fresh one, the same in every process', async () => {
    const checkout = await setupFor('link-3');
    const clock = () => 9 * CHECKOUT_BUCKET_MS;
    const first = await createCheckoutSessions({ stripe }, clock).urlFor(checkout);
    const [session] = await sessionsOf(checkout.customerId);
    await stripe.checkout.sessions.expire(session!.id);
    const [a, b] = await Promise.all([createCheckoutSessions({ stripe }, clock).urlFor(checkout), createCheckoutSessions({ stripe }, clock).urlFor(checkout)]);
    expect(a).not.toBe(first);
    expect(b).toBe(a);
    const all = await sessionsOf(checkout.customerId);
    expect(all.map((s) => s.status).sort()).toEqual(['expired', 'open']);
  });
});
