/**
 * Turning stripe-node errors into something a person can act on. Authentication and permission
 * failures stop a whole command (every later call would fail the same way); others are reported
 * per item.
 */
import { MonetizationError } from '../../shared/errors.ts';

interface StripeLikeError {
  type?: string;
  statusCode?: number;
  code?: string;
  message?: string;
}

export function isStripeAuthFailure(error: unknown): boolean {
  const e = error as StripeLikeError;
  return e?.type === 'StripeAuthenticationError' || e?.type === 'StripePermissionError' || e?.statusCode === 401 || e?.statusCode === 403;
}

export function isStripeNotFound(error: unknown): boolean {
  const e = error as StripeLikeError;
  return e?.statusCode === 404 || e?.code === 'resource_missing';
}

export function isStripeConnectionFailure(error: unknown): boolean {
  return (error as StripeLikeError)?.type === 'StripeConnectionError';
}

/** One line: Stripe's message plus its code or status. */
export function describeStripeError(error: unknown): string {
  const e = error as StripeLikeError;
  if (!e || typeof e !== 'object') return String(error);
  const tag = e.code ?? (e.statusCode ? String(e.statusCode) : e.type);
  return `${e.message ?? String(error)}${tag ? ` (${tag})` : ''}`;
}

/** The error to stop on when the key is refused or Stripe cannot be reached at all. */
export function fatalStripeError(error: unknown, apiBase: string | undefined): MonetizationError | undefined {
  if (isStripeAuthFailure(error))
    return new MonetizationError('stripe_unauthorized', `Stripe refused STRIPE_SECRET_KEY: ${describeStripeError(error)}`, {
      hint: 'check STRIPE_SECRET_KEY (a secret or restricted key with write access to products, prices and billing meters)',
      cause: error,
    });
  if (isStripeConnectionFailure(error))
    return new MonetizationError('stripe_unreachable', `cannot reach Stripe at ${apiBase ?? 'https://api.stripe.com'}: ${describeStripeError(error)}`, {
      hint: apiBase ? 'check STRIPE_API_BASE and that the Stripe emulator is running' : 'check the network path to api.stripe.com',
      cause: error,
    });
  return undefined;
}
