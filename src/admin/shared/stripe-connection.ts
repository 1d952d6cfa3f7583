/**
 * The Stripe settings the admin commands need on their own (stripe:setup and doctor run without
 * the provisioner's Kong and Moesif settings): STRIPE_SECRET_KEY and the optional STRIPE_API_BASE.
 * Same names and rules as the provisioner, so one environment file serves every command.
 */
import type Stripe from 'stripe';
import { createStripeClient, type StripeClientOptions } from '../../provisioner/stripe/stripe-client.ts';
import { parseStripeApiBase, parseStripeSecretKey, type StripeKeyMode } from '../../provisioner/stripe/stripe-settings.ts';

export type { StripeKeyMode };

interface StripeConnectionSettings {
  secretKey: string;
  mode: StripeKeyMode;
  /** A local Stripe-compatible server (the sandbox emulator); undefined means api.stripe.com. */
  apiBase: URL | undefined;
}

export function readStripeConnection(env: NodeJS.ProcessEnv = process.env): StripeConnectionSettings {
  return { ...parseStripeSecretKey(env.STRIPE_SECRET_KEY), apiBase: parseStripeApiBase(env.STRIPE_API_BASE) };
}

/** The provisioner's own client factory, so every tool talks to Stripe the same way. */
export function connectStripe(settings: StripeConnectionSettings, options: StripeClientOptions = {}): Stripe {
  return createStripeClient({ secretKey: settings.secretKey, mode: settings.mode, apiBase: settings.apiBase, maxWritesPerSecond: 0 }, options);
}
