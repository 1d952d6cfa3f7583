/**
 * The one place a failed Stripe call is classified, by stripe-node's error classes (which the SDK
 * picks from the HTTP status and error type of Stripe's answer) plus the few `code`s that change
 * what a caller should do. Commands, the provisioner and its retry loop all ask these questions
 * here, so one condition always gets one error code.
 */
import Stripe from 'stripe';

const E = Stripe.errors;

interface StripeFailure {
  /** 401/403: the key is refused or lacks a permission; every later call fails the same way. */
  readonly auth: boolean;
  /** No answer at all (network, DNS, TLS, timeout): Stripe may or may not have acted. */
  readonly unreachable: boolean;
  /** 429, `rate_limit`, `lock_timeout`: worth repeating here after a pause (stripe-node does not). */
  readonly rateLimited: boolean;
  /**
   * Unreachable, or Stripe failed on its side (StripeAPIError, any 5xx, a 409 for a key still in
   * use): a write may have been applied although its answer was lost.
   */
  readonly mayHaveApplied: boolean;
  /** The same call may succeed later (rate limited or may have applied): `stripe_unavailable`. */
  readonly retryable: boolean;
  /** The object asked for does not exist (404, or `resource_missing`). */
  readonly notFound: boolean;
  /** The idempotency key was used with other parameters, or a request under it is still running. */
  readonly idempotencyConflict: boolean;
  /** The card was declined (402). */
  readonly cardDeclined: boolean;
  /** Stripe refused the request as sent (400/404 class): sending it again fails again. */
  readonly invalidRequest: boolean;
}

/** The codes a failed Stripe call is reported under, over HTTP and by the commands alike. */
type StripeErrorCode = 'stripe_unauthorized' | 'stripe_unavailable' | 'stripe_error';

export function isStripeError(error: unknown): error is Stripe.errors.StripeError {
  return error instanceof E.StripeError;
}

/** The Stripe error itself, or the one our own error wraps as its cause (ProvisionError does). */
export function stripeErrorOf(error: unknown): Stripe.errors.StripeError | undefined {
  if (isStripeError(error)) return error;
  const cause = error instanceof Error ? error.cause : undefined;
  return isStripeError(cause) ? cause : undefined;
}

/** What a failed call means; undefined for anything that is not a Stripe error (no wrapper is looked through). */
export function classifyStripeError(error: unknown): StripeFailure | undefined {
  if (!isStripeError(error)) return undefined;
  const status = error.statusCode ?? 0;
  const unreachable = error instanceof E.StripeConnectionError;
  const rateLimited = error instanceof E.StripeRateLimitError || status === 429 || error.code === 'rate_limit' || error.code === 'lock_timeout';
  const mayHaveApplied = unreachable || error instanceof E.StripeAPIError || status >= 500;
  const invalidRequest = error instanceof E.StripeInvalidRequestError || error instanceof E.StripeIdempotencyError;
  return {
    auth: error instanceof E.StripeAuthenticationError || error instanceof E.StripePermissionError || status === 401 || status === 403,
    unreachable,
    rateLimited,
    mayHaveApplied,
    retryable: rateLimited || mayHaveApplied,
    notFound: status === 404 || error.code === 'resource_missing',
    idempotencyConflict: error instanceof E.StripeIdempotencyError || error.code === 'idempotency_key_in_use',
    cardDeclined: error instanceof E.StripeCardError,
    invalidRequest,
  };
}

/**
 * The code a failed Stripe call is reported under: the key refused, Stripe unavailable (worth
 * trying again later; anything that is not even a Stripe error counts as this), or a refusal.
 */
export function stripeErrorCode(error: unknown): StripeErrorCode {
  const failure = classifyStripeError(error);
  if (!failure) return 'stripe_unavailable';
  if (failure.auth) return 'stripe_unauthorized';
  return failure.retryable ? 'stripe_unavailable' : 'stripe_error';
}
