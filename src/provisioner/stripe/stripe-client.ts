/**
 * The one place a Stripe SDK client is built: the official `stripe` package, pinned to the API
 * version this code was written against, pointed at STRIPE_API_BASE when set (the sandbox
 * emulator), with the SDK's own retries for network errors, 409 and 5xx. Those retries reuse
 * the idempotency key we pass, so a write that was applied but whose answer was lost replays.
 */
import Stripe from 'stripe';
import type { StripeSettings } from './stripe-settings.ts';

export interface StripeClientOptions {
  /** SDK retries on network errors, 409 and 5xx; default 2. */
  maxNetworkRetries?: number;
  /** Per-request timeout; default 20 s. */
  timeoutMs?: number;
}

export function createStripeClient(settings: { stripe: StripeSettings } | StripeSettings, options: StripeClientOptions = {}): Stripe {
  const stripe = 'stripe' in settings ? settings.stripe : settings;
  const base = stripe.apiBase;
  return new Stripe(stripe.secretKey, {
    apiVersion: Stripe.API_VERSION,
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: options.timeoutMs ?? 20_000,
    telemetry: false,
    appInfo: { name: 'kong-portal-monetization' },
    ...(base
      ? {
          host: base.hostname,
          port: base.port || (base.protocol === 'https:' ? 443 : 80),
          protocol: base.protocol === 'https:' ? 'https' : 'http',
        }
      : {}),
  });
}

/** Where the client talks to, for messages (never the key). */
export function describeStripeTarget(settings: StripeSettings): string {
  return settings.apiBase ? `the Stripe-compatible server at ${settings.apiBase.origin}` : 'Stripe';
}
