import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { ProvisionError } from '../../shared/provision-error.ts';
import { retryAfterMs, toStripeProvisionError, withStripeRetry } from './stripe-calls.ts';
import { createWriteLimiter } from './write-limiter.ts';

const rateLimited = (retryAfter?: string) =>
  new Stripe.errors.StripeRateLimitError({ message: 'Too many requests', type: 'rate_limit_error', statusCode: 429, headers: retryAfter ? { 'retry-after': retryAfter } : {} } as never);
const lockTimeout = () =>
  new Stripe.errors.StripeRateLimitError({ message: 'lock timeout', type: 'invalid_request_error', code: 'lock_timeout', statusCode: 429, headers: {} } as never);

describe('withStripeRetry', () => {
  it('retries 429 and lock_timeout, waiting what Retry-After says', async () => {
    const waits: number[] = [];
    const failures = [rateLimited('2'), lockTimeout()];
    let calls = 0;
    const result = await withStripeRetry(
      async () => {
        calls++;
        const failure = failures.shift();
        if (failure) throw failure;
        return 'ok';
      },
      { what: 'create the customer', sleep: async (ms) => void waits.push(ms), baseDelayMs: 100 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(waits[0]).toBe(2000);
    expect(waits[1]).toBeGreaterThanOrEqual(100); // backoff 200 ms with jitter in [100, 200]
    expect(waits[1]).toBeLessThanOrEqual(200);
  });

  it('takes a write-limiter token before every attempt', async () => {
    const limiter = createWriteLimiter({ ratePerSecond: 1000, burst: 1000 });
    let acquired = 0;
    const counting = { ...limiter, acquire: async () => void acquired++ };
    await expect(
      withStripeRetry(async () => Promise.reject(rateLimited()), { what: 'x', attempts: 3, limiter: counting, sleep: async () => {} }),
    ).rejects.toBeInstanceOf(ProvisionError);
    expect(acquired).toBe(3);
  });

  it('does not retry other errors, and names Stripe in the 502', async () => {
    let calls = 0;
    const error = await withStripeRetry(
      async () => {
        calls++;
        throw new Stripe.errors.StripeInvalidRequestError({ message: 'No such price', type: 'invalid_request_error', statusCode: 400 } as never);
      },
      { what: 'create the subscription', sleep: async () => {} },
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(error).toMatchObject({ code: 'stripe_error', status: 502, message: expect.stringMatching(/^Stripe refused .*create the subscription.*No such price/) });
  });
});

describe('toStripeProvisionError and retryAfterMs', () => {
  it('maps an authentication failure to stripe_unauthorized with a hint about the key', () => {
    const error = toStripeProvisionError(new Stripe.errors.StripeAuthenticationError({ message: 'Invalid API Key', type: 'invalid_request_error', statusCode: 401 } as never), 'x');
    expect(error.code).toBe('stripe_unauthorized');
    expect(error.hint).toMatch(/STRIPE_SECRET_KEY/);
  });

  it('reads Retry-After seconds and ignores garbage', () => {
    expect(retryAfterMs(rateLimited('1.5'))).toBe(1500);
    expect(retryAfterMs(rateLimited('soon'))).toBeUndefined();
    expect(retryAfterMs(new Error('x'))).toBeUndefined();
  });
});
