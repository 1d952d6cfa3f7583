import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { MonetizationError } from './errors.ts';
import { classifyStripeError, stripeErrorCode, stripeErrorOf } from './stripe-errors.ts';

// Built the way stripe-node builds them from an answer (StripeError.generate picks the class from
// the HTTP status and error type), so the classifier sees what a real call throws.
const answer = (statusCode: number, type: string, code?: string) =>
  Stripe.errors.StripeError.generate({ statusCode, type, message: `${statusCode} ${code ?? type}`, ...(code ? { code } : {}) } as never);
const connection = () => new Stripe.errors.StripeConnectionError({ message: 'An error occurred with our connection to Stripe.' } as never);

const facts = (error: unknown) => {
  const failure = classifyStripeError(error);
  return failure && Object.entries(failure).flatMap(([fact, value]) => (value === true ? [fact] : []));
};

describe('classifyStripeError', () => {
  it('classifies by the class stripe-node picked, and names the code each condition is reported under', () => {
    const cases: Array<[string, unknown, string[], string]> = [
      ['bad key', answer(401, 'invalid_request_error', 'api_key_invalid'), ['auth'], 'stripe_unauthorized'],
      ['restricted key', answer(403, 'invalid_request_error'), ['auth'], 'stripe_unauthorized'],
      ['no answer', connection(), ['unreachable', 'mayHaveApplied', 'retryable'], 'stripe_unavailable'],
      ['Stripe failed', answer(500, 'api_error'), ['mayHaveApplied', 'retryable'], 'stripe_unavailable'],
      ['rate limited', answer(429, 'invalid_request_error', 'rate_limit'), ['rateLimited', 'retryable'], 'stripe_unavailable'],
      ['object locked', answer(429, 'invalid_request_error', 'lock_timeout'), ['rateLimited', 'retryable'], 'stripe_unavailable'],
      ['key in use', answer(409, 'invalid_request_error', 'idempotency_key_in_use'), ['mayHaveApplied', 'retryable', 'idempotencyConflict'], 'stripe_unavailable'],
      ['key reused with other params', answer(400, 'idempotency_error'), ['idempotencyConflict', 'invalidRequest'], 'stripe_error'],
      ['no such object', answer(404, 'invalid_request_error', 'resource_missing'), ['notFound', 'invalidRequest'], 'stripe_error'],
      ['missing reference', answer(400, 'invalid_request_error', 'resource_missing'), ['notFound', 'invalidRequest'], 'stripe_error'],
      ['bad parameter', answer(400, 'invalid_request_error', 'parameter_unknown'), ['invalidRequest'], 'stripe_error'],
      ['declined', answer(402, 'card_error', 'card_declined'), ['cardDeclined'], 'stripe_error'],
    ];
    for (const [name, error, expected, code] of cases) {
      expect({ name, facts: facts(error), code: stripeErrorCode(error) }).toEqual({ name, facts: expected, code });
    }
  });

  it('does not guess about errors that are not Stripe errors, and reports them as Stripe being unavailable', () => {
    const lookalike = Object.assign(new Error('looks like one'), { type: 'StripeAuthenticationError', statusCode: 401 });
    expect(classifyStripeError(lookalike)).toBeUndefined();
    expect(classifyStripeError(undefined)).toBeUndefined();
    expect(stripeErrorCode(new TypeError('fetch failed'))).toBe('stripe_unavailable');
  });

  it('finds the Stripe error our own error wraps, one level deep, and only when asked', () => {
    const cause = answer(404, 'invalid_request_error', 'resource_missing');
    const wrapped = new MonetizationError('stripe_error', 'Stripe refused', { cause });
    expect(classifyStripeError(wrapped)).toBeUndefined();
    expect(stripeErrorOf(wrapped)).toBe(cause);
    expect(stripeErrorOf(cause)).toBe(cause);
    expect(stripeErrorOf(new MonetizationError('x_y', 'no cause'))).toBeUndefined();
  });
});
