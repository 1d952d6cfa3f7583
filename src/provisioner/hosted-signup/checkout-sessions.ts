/**
 * The Checkout session of a signup link, reused: one valid link hammered by 16 threads made 48
 * sessions (issue 17.6), each a Stripe write out of the budget every other signup shares. Now:
 * - within this process, requests for the same session share one create (single flight);
 * - across processes and requests, the create carries an idempotency key made of the customer,
 *   the link and a time bucket, so Stripe answers the same session for the bucket (a new one at
 *   most every bucket: one or two for a burst). The link is in the key because it is in the
 *   params (success_url): two links of one customer must not share a key with other params;
 * - a replay answers the session as it was created, so its status is read once more: a session
 *   completed or expired since is followed by a new one under a key derived from it (every
 *   process derives the same), and a replayed failure likewise, at most MAX_FRESH_KEYS times.
 */
import type Stripe from 'stripe';
import { sha256Hex } from '../../shared/sha256.ts';
import { freshKeyAfter, replayedFailureOf, wasReplayed } from '../core/create-or-find.ts';
import { retryFor, type StripeAccess } from '../core/stripe-lookups.ts';
import { createSingleFlight } from '../../shared/single-flight.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';

/** How long one link keeps answering the same Checkout session. */
export const CHECKOUT_BUCKET_MS = 10 * 60_000;
const MAX_FRESH_KEYS = 3;

export interface SetupCheckout {
  customerId: string;
  currency: string;
  /** The link the session was opened from (its token is in both URLs). */
  token: string;
  successUrl: string;
  cancelUrl: string;
}

interface CheckoutSessions {
  /** The URL of an open setup-mode Checkout session for this link and customer. */
  urlFor(checkout: SetupCheckout): Promise<string>;
}

export function createCheckoutSessions(access: StripeAccess, now: () => number = Date.now): CheckoutSessions {
  const flights = createSingleFlight();

  async function create(params: Stripe.Checkout.SessionCreateParams, key: string, freshKeysLeft: number): Promise<string> {
    let session: Stripe.Response<Stripe.Checkout.Session>;
    try {
      session = await withStripeRetry(() => access.stripe.checkout.sessions.create(params, { idempotencyKey: key }), retryFor(access, 'create the Checkout session', true));
    } catch (error) {
      const failedRequest = replayedFailureOf(error);
      if (failedRequest && freshKeysLeft > 0) return create(params, freshKeyAfter(key, failedRequest), freshKeysLeft - 1);
      throw error;
    }
    if (wasReplayed(session)) {
      const current = await withStripeRetry(() => access.stripe.checkout.sessions.retrieve(session.id), retryFor(access, 'read the Checkout session', false));
      if ((current.status !== 'open' || !current.url) && freshKeysLeft > 0) return create(params, freshKeyAfter(key, session.id), freshKeysLeft - 1);
      session = current;
    }
    if (!session.url) throw new Error('Stripe answered a Checkout session without a url');
    return session.url;
  }

  return {
    urlFor(checkout) {
      const bucket = Math.floor(now() / CHECKOUT_BUCKET_MS);
      const key = `kpm-signup-checkout-${sha256Hex([checkout.customerId, sha256Hex(checkout.token), bucket].join('\u0000'))}`;
      const params: Stripe.Checkout.SessionCreateParams = {
        mode: 'setup',
        customer: checkout.customerId,
        currency: checkout.currency,
        success_url: checkout.successUrl,
        cancel_url: checkout.cancelUrl,
      };
      return flights.run(key, () => create(params, key, MAX_FRESH_KEYS));
    },
  };
}
