/**
 * Wraps Kong's `Kong.Auth.register(options)`: Kong's own register runs first and its rejection
 * passes through untouched; once Kong has created the developer, the provisioner is asked to set
 * up billing for that email, with the developer id from Kong's answer as the proof. The returned
 * promise always resolves with Kong's data (plus a `monetization` summary) because the account
 * exists whatever happens to billing. A Checkout URL in the answer is handed to `env.checkout`,
 * which redirects after the theme's own login (checkout-after-login.ts).
 */
import type { CheckoutAfterLogin } from './checkout-after-login.ts';
import type { BrowserConfig } from './config.ts';
import { billingFailedText, kongRegisterMessage } from './developer-text.ts';
import { findRegisterForm, showBusy, showNotice, TEXT } from './page-ui.ts';
import type { ProvisionOutcome } from './provision-client.ts';
import { emailFromFields, type RegisterField } from './register-fields.ts';

interface RegisterOptions {
  baseUrl?: string;
  type?: unknown;
  fields?: RegisterField[];
}

type MonetizationSummary =
  | { status: 'active'; plan: string; checkout_url?: string }
  | { status: 'pending' }
  | { status: 'failed'; error: { code: string; message: string } };

type RegisterFunction = ((this: unknown, ...args: unknown[]) => unknown) & { portalMonetizationWrapped?: true };

export interface WrapperEnvironment {
  document: Document;
  /** The parsed page config, or undefined (already warned about) when monetization is off. */
  config(): BrowserConfig | undefined;
  provision(config: BrowserConfig, email: string, developerId: string | undefined): Promise<ProvisionOutcome>;
  warn(message: string): void;
  /** Takes the developer to Stripe Checkout after Kong's login when the signup answer asks for a card. */
  checkout?: CheckoutAfterLogin;
}

/** Kong's register answer carries `developer.id`: the proof the provisioner checks. */
function developerIdFrom(data: unknown): string | undefined {
  const developer = (data as { developer?: { id?: unknown } } | null)?.developer;
  return typeof developer?.id === 'string' && developer.id ? developer.id : undefined;
}

function summarize(outcome: ProvisionOutcome): MonetizationSummary {
  switch (outcome.status) {
    case 'active':
      return outcome.result.checkout_url
        ? { status: 'active', plan: outcome.result.plan ?? '', checkout_url: outcome.result.checkout_url }
        : { status: 'active', plan: outcome.result.plan ?? '' };
    case 'pending':
      return { status: 'pending' };
    case 'failed':
      return { status: 'failed', error: { code: outcome.code, message: outcome.message } };
  }
}

/** Returns `wrapRegister(auth)`; the closure holds the one-request-per-email bookkeeping. */
export function createWrapRegister(env: WrapperEnvironment): (auth: unknown) => boolean {
  // Double submit: every register call for an email shares the first provision request.
  const provisionByEmail = new Map<string, Promise<ProvisionOutcome>>();

  async function provisionWithFeedback(config: BrowserConfig, email: string, developerId: string | undefined): Promise<ProvisionOutcome> {
    const form = findRegisterForm(env.document);
    const restore = showBusy(form);
    let outcome: ProvisionOutcome;
    try {
      outcome = await env.provision(config, email, developerId);
    } finally {
      restore();
    }
    if (outcome.status === 'pending') showNotice(env.document, form, { tone: 'info', text: TEXT.pending });
    if (outcome.status === 'failed') {
      // The server's message is for the operator: the console gets it, the developer gets developer text.
      env.warn(`kong-portal-monetization: billing setup failed [${outcome.code}]: ${outcome.message}`);
      showNotice(env.document, form, { tone: 'error', text: billingFailedText(outcome.code) });
    }
    return outcome;
  }

  async function afterKongSignup(config: BrowserConfig, data: unknown, options: RegisterOptions | undefined): Promise<unknown> {
    let summary: MonetizationSummary;
    try {
      const email = emailFromFields(options?.fields);
      if (!email) {
        env.warn('kong-portal-monetization: the register form sent no email field; billing is left to the Kong event hook');
        summary = { status: 'pending' };
      } else {
        const key = email.toLowerCase();
        let pending = provisionByEmail.get(key);
        if (!pending) {
          pending = provisionWithFeedback(config, email, developerIdFrom(data));
          provisionByEmail.set(key, pending);
        }
        summary = summarize(await pending);
        if (summary.status === 'active' && summary.checkout_url) env.checkout?.remember(email, summary.checkout_url);
      }
    } catch (error) {
      // Never turn a created account into a failed signup.
      env.warn(`kong-portal-monetization: billing setup crashed: ${String(error)}`);
      summary = { status: 'pending' };
    }
    return Object.assign({}, data, { monetization: summary });
  }

  return function wrapRegister(auth: unknown): boolean {
    if (typeof auth !== 'object' || auth === null) return false;
    const target = auth as { register?: unknown; login?: unknown };
    const original = target.register as RegisterFunction | undefined;
    if (typeof original !== 'function') {
      env.warn('kong-portal-monetization: Kong.Auth.register is missing; signup billing is off on this page');
      return false;
    }
    if (original.portalMonetizationWrapped) return true;
    const config = env.config();
    if (!config) return false;
    env.checkout?.wrapLogin(target);

    const wrapped: RegisterFunction = function (this: unknown, ...args: unknown[]) {
      const result = original.apply(this, args);
      if (typeof (result as PromiseLike<unknown> | null)?.then !== 'function') return result;
      // Kong's rejection reaches the theme as Kong made it, with only a recognised message reworded.
      return (result as PromiseLike<unknown>).then(
        (data) => afterKongSignup(config, data, args[0] as RegisterOptions | undefined),
        (error: unknown) => {
          const sentence = kongRegisterMessage((error as { message?: unknown } | null)?.message);
          throw sentence ? Object.assign({}, error, { message: sentence }) : error;
        },
      );
    };
    wrapped.portalMonetizationWrapped = true;
    target.register = wrapped;
    return true;
  };
}
