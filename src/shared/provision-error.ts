/**
 * Errors the provisioner answers over HTTP. Each carries the HTTP status it maps to, so the app
 * turns any thrown ProvisionError into `{error: {code, message}}` without a lookup table.
 */
import { MonetizationError } from './errors.ts';

export type ProvisionErrorCode =
  | 'developer_not_found'
  | 'developer_not_provisionable'
  | 'plan_not_found'
  | 'plan_price_not_found'
  | 'stripe_unavailable'
  | 'stripe_unauthorized'
  | 'stripe_error'
  | 'kong_unavailable'
  | 'invalid_json'
  | 'invalid_email'
  | 'invalid_proof'
  | 'invalid_event'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'origin_not_allowed'
  | 'rate_limited'
  | 'invalid_signature'
  | 'event_hook_not_configured'
  | 'webhook_not_configured'
  | 'webhook_failed'
  | 'shutting_down'
  | 'not_found'
  | 'invalid_spend_cap'
  | 'billing_not_set_up'
  | 'internal_error';

export class ProvisionError extends MonetizationError {
  override readonly code: ProvisionErrorCode;
  readonly status: number;

  constructor(code: ProvisionErrorCode, status: number, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.code = code;
    this.status = status;
  }
}

/**
 * What a browser is told about a failure: our own message for refusals we wrote (4xx and a few
 * fixed 5xx texts), a generic one for anything that depends on Stripe, Kong or a bug. Upstream
 * messages can hold idempotency keys, object ids, request headers Kong echoed or hints meant for
 * the operator; those go to the log (redacted), never to the answer.
 */
const GENERIC_MESSAGES: Partial<Record<ProvisionErrorCode, string>> = {
  stripe_unavailable: 'the billing service (Stripe) is unavailable right now; nothing was charged. Try again in a minute',
  stripe_unauthorized: 'the billing service (Stripe) is not set up correctly; the API provider has been told in the log',
  stripe_error: 'the billing service (Stripe) refused a request; the API provider has been told in the log. Try again later',
  kong_unavailable: 'the gateway (Kong) could not be reached right now; try again in a minute',
  plan_price_not_found: 'this plan is not ready for signups yet; the API provider has been told in the log',
  internal_error: 'the provisioner failed unexpectedly; the API provider has been told in the log',
};

/** Fixed 5xx texts written here, with nothing from upstream in them. */
const OWN_SERVER_MESSAGES = new Set<ProvisionErrorCode>(['webhook_failed', 'shutting_down']);

export function publicMessage(error: ProvisionError): { message: string; generic: boolean } {
  const generic = GENERIC_MESSAGES[error.code];
  if (generic) return { message: generic, generic: true };
  if (error.status >= 500 && !OWN_SERVER_MESSAGES.has(error.code)) return { message: GENERIC_MESSAGES.internal_error as string, generic: true };
  return { message: error.message, generic: false };
}
