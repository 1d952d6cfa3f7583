/**
 * Sends a new developer to Stripe Checkout right after the theme's own login. Kong's register flow
 * resolves register, then calls `Kong.Auth.login` and, once it resolves, opens the dashboard.
 * Leaving for Checkout before that login would bring the developer back logged out, so the
 * redirect waits for Kong's login to succeed; the theme's own dashboard redirect then never runs
 * (its promise stays pending while the browser leaves). Checkout returns to the dashboard, where
 * the billing panel offers the same step again if the developer abandoned it.
 */
import { emailFromFields } from './register-fields.ts';

type LoginFunction = ((this: unknown, ...args: unknown[]) => unknown) & { portalMonetizationWrapped?: true };

export interface CheckoutAfterLogin {
  /** A proven signup answered with a Checkout URL for this email. */
  remember(email: string, checkoutUrl: string): void;
  /** Wraps `auth.login`; returns false when there is no login to wrap. */
  wrapLogin(auth: { login?: unknown }): boolean;
}

export function createCheckoutAfterLogin(navigate: (url: string) => void): CheckoutAfterLogin {
  const checkoutByEmail = new Map<string, string>();

  return {
    remember(email, checkoutUrl) {
      checkoutByEmail.set(email.toLowerCase(), checkoutUrl);
    },
    wrapLogin(auth) {
      const original = auth.login as LoginFunction | undefined;
      if (typeof original !== 'function') return false;
      if (original.portalMonetizationWrapped) return true;
      const wrapped: LoginFunction = function (this: unknown, ...args: unknown[]) {
        const result = original.apply(this, args);
        const email = emailFromFields((args[0] as { fields?: unknown } | undefined)?.fields)?.toLowerCase();
        const url = email === undefined ? undefined : checkoutByEmail.get(email);
        if (!url || typeof (result as PromiseLike<unknown> | null)?.then !== 'function') return result;
        return (result as PromiseLike<unknown>).then((data) => {
          checkoutByEmail.delete(email as string);
          navigate(url);
          // Never settles: the theme's "go to the dashboard" must not race the Checkout redirect.
          return new Promise<unknown>(() => data);
        });
      };
      wrapped.portalMonetizationWrapped = true;
      auth.login = wrapped;
      return true;
    },
  };
}
