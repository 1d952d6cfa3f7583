/**
 * Turning stripe-node errors into something a person can act on. Authentication and permission
 * failures stop a whole command (every later call would fail the same way), and so does a Stripe
 * that cannot be reached at all; others are reported per item. What a failure is comes from the
 * one classifier (shared/stripe-errors.ts), so commands and the provisioner use the same codes.
 */
import { MonetizationError } from '../../shared/errors.ts';
import { classifyStripeError, stripeErrorCode } from '../../shared/stripe-errors.ts';

export function isStripeNotFound(error: unknown): boolean {
  return classifyStripeError(error)?.notFound ?? false;
}

/** One line: Stripe's message plus its code or status (any error: a cause may be a Node one with a code). */
export function describeStripeError(error: unknown): string {
  const e = error as { type?: string; statusCode?: number; code?: string; message?: string } | null;
  if (!e || typeof e !== 'object') return String(error);
  const tag = e.code ?? (e.statusCode ? String(e.statusCode) : e.type);
  return `${e.message ?? String(error)}${tag ? ` (${tag})` : ''}`;
}

/** The error to stop on when the key is refused or Stripe cannot be reached at all. */
export function fatalStripeError(error: unknown, apiBase: string | undefined): MonetizationError | undefined {
  const failure = classifyStripeError(error);
  if (failure?.auth)
    return new MonetizationError(stripeErrorCode(error), `Stripe refused STRIPE_SECRET_KEY: ${describeStripeError(error)}`, {
      hint: 'check STRIPE_SECRET_KEY (a secret or restricted key with write access to products, prices and billing meters)',
      cause: error,
    });
  if (failure?.unreachable)
    return new MonetizationError(stripeErrorCode(error), `cannot reach Stripe at ${apiBase ?? 'https://api.stripe.com'}: ${describeStripeError(error)}`, {
      hint: apiBase ? 'check STRIPE_API_BASE and that the Stripe emulator is running' : 'check the network path to api.stripe.com',
      cause: error,
    });
  return undefined;
}
