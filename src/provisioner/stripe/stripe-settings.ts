/**
 * STRIPE_SECRET_KEY and STRIPE_API_BASE, read one way by the provisioner and every admin command,
 * so one environment file serves them all.
 */
import { SettingError } from '../../shared/errors.ts';
import { parseHttpUrl } from '../../shared/http-url-setting.ts';

export type StripeKeyMode = 'test' | 'live';

export interface StripeSettings {
  secretKey: string;
  mode: StripeKeyMode;
  /** A local Stripe-compatible server (STRIPE_API_BASE); undefined means api.stripe.com. */
  apiBase: URL | undefined;
  maxWritesPerSecond: number;
}

const SECRET_KEY = /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/;

/** A secret (sk_) or restricted (rk_) key and its mode. The key itself is never echoed: only its shape. */
export function parseStripeSecretKey(value: string | undefined, setting = 'STRIPE_SECRET_KEY'): { secretKey: string; mode: StripeKeyMode } {
  const key = value?.trim();
  const hint = 'use a key from https://dashboard.stripe.com/test/apikeys (sk_test_... or rk_test_...), or the sandbox key printed by npm start';
  if (!key) throw new SettingError(setting, 'is not set', hint);
  if (key.startsWith('pk_')) throw new SettingError(setting, 'is a publishable key (pk_...); a secret or restricted key is needed', hint);
  const match = SECRET_KEY.exec(key);
  if (!match) throw new SettingError(setting, 'must be a Stripe secret or restricted key (sk_test_..., rk_test_..., sk_live_... or rk_live_...)', hint);
  return { secretKey: key, mode: match[2] === 'live' ? 'live' : 'test' };
}

/** Unset means api.stripe.com. */
export function parseStripeApiBase(value: string | undefined, setting = 'STRIPE_API_BASE'): URL | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  return parseHttpUrl(trimmed, setting, { example: 'http://127.0.0.1:12111', pathAddedBy: 'stripe-node adds /v1/...' });
}
