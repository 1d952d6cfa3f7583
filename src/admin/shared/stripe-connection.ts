/**
 * The Stripe settings the admin commands need on their own (stripe:setup and doctor run without
 * the provisioner's Kong and Moesif settings): STRIPE_SECRET_KEY and the optional STRIPE_API_BASE.
 * Same names and rules as the provisioner, so one environment file serves every command.
 */
import type Stripe from 'stripe';
import { createStripeClient, type StripeClientOptions } from '../../provisioner/stripe-client.ts';
import { SettingError } from '../../shared/errors.ts';
import { parseHttpUrl } from '../../shared/http-url-setting.ts';

export type StripeKeyMode = 'test' | 'live';

export interface StripeConnectionSettings {
  secretKey: string;
  mode: StripeKeyMode;
  /** A local Stripe-compatible server (the sandbox emulator); undefined means api.stripe.com. */
  apiBase: URL | undefined;
}

const SECRET_KEY = /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/;

export function parseStripeSecretKey(value: string | undefined, setting = 'STRIPE_SECRET_KEY'): { secretKey: string; mode: StripeKeyMode } {
  const key = value?.trim();
  if (!key) throw new SettingError(setting, 'is not set', 'set it to a Stripe secret key (sk_test_... for test mode), or a restricted key (rk_...)');
  if (key.startsWith('pk_')) throw new SettingError(setting, 'is a publishable key (pk_...); a secret key is needed', 'use the secret key (sk_test_... or sk_live_...) from the Stripe dashboard');
  const match = SECRET_KEY.exec(key);
  // The key itself is never echoed: only its shape.
  if (!match) throw new SettingError(setting, 'does not look like a Stripe secret key', 'expected sk_test_..., sk_live_..., rk_test_... or rk_live_...');
  return { secretKey: key, mode: match[2] === 'live' ? 'live' : 'test' };
}

/** Unset means api.stripe.com. */
export function parseStripeApiBase(value: string | undefined, setting = 'STRIPE_API_BASE'): URL | undefined {
  if (!value) return undefined;
  return parseHttpUrl(value, setting, { example: 'http://127.0.0.1:12111', pathAddedBy: 'stripe-node adds /v1/...' });
}

export function readStripeConnection(env: NodeJS.ProcessEnv = process.env): StripeConnectionSettings {
  return { ...parseStripeSecretKey(env.STRIPE_SECRET_KEY), apiBase: parseStripeApiBase(env.STRIPE_API_BASE) };
}

/** The provisioner's own client factory, so every tool talks to Stripe the same way. */
export function connectStripe(settings: StripeConnectionSettings, options: StripeClientOptions = {}): Stripe {
  return createStripeClient({ secretKey: settings.secretKey, mode: settings.mode, apiBase: settings.apiBase, maxWritesPerSecond: 0 }, options);
}
