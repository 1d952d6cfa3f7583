/**
 * Retrying Stripe calls on 429 (rate limited) and lock_timeout, which the SDK does not retry on
 * its own unless Stripe says so: wait what Retry-After says (else exponential backoff with
 * jitter), and take a write-limiter token before every write attempt. Anything still failing
 * becomes a ProvisionError that names Stripe, for a 502.
 */
import { classifyStripeError, isStripeError, stripeErrorCode } from '../../shared/stripe-errors.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import type { WriteLimiter } from './write-limiter.ts';

export interface StripeRetryOptions {
  /** Attempts for 429 / lock_timeout; default 5. */
  attempts?: number;
  /** First backoff when there is no Retry-After; doubles per attempt; default 250 ms. */
  baseDelayMs?: number;
  /** Longest single wait, Retry-After included; default 10 s. */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function retryAfterMs(error: unknown): number | undefined {
  if (!isStripeError(error)) return undefined;
  const raw = error.headers?.['retry-after'] ?? error.headers?.['Retry-After'];
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export async function withStripeRetry<T>(
  call: () => Promise<T>,
  options: StripeRetryOptions & { limiter?: WriteLimiter | undefined; what: string },
): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 10_000;
  const sleep = options.sleep ?? sleepFor;
  for (let attempt = 1; ; attempt++) {
    try {
      if (options.limiter) await options.limiter.acquire();
      return await call();
    } catch (error) {
      if (!classifyStripeError(error)?.rateLimited || attempt >= attempts) throw toStripeProvisionError(error, options.what);
      const backoff = base * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      await sleep(Math.min(max, retryAfterMs(error) ?? backoff));
    }
  }
}

/** Maps a failed Stripe call to a 502 that names Stripe and what was being done. */
export function toStripeProvisionError(error: unknown, what: string): ProvisionError {
  if (error instanceof ProvisionError) return error;
  const code = stripeErrorCode(error);
  if (!isStripeError(error)) return new ProvisionError(code, 502, `Stripe failed while trying to ${what}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  if (code === 'stripe_unauthorized')
    return new ProvisionError(code, 502, `Stripe rejected the provisioner's key while trying to ${what} (${error.statusCode ?? 'no status'})`, {
      hint: 'check STRIPE_SECRET_KEY (a restricted key needs write access to customers and subscriptions, read access to prices)',
      cause: error,
    });
  const status = error.statusCode ? ` (${error.statusCode}${error.code ? ` ${error.code}` : ''})` : '';
  const verdict = code === 'stripe_unavailable' ? 'is unavailable' : 'refused the request';
  return new ProvisionError(code, 502, `Stripe ${verdict} while trying to ${what}${status}: ${error.message}`, { cause: error });
}
