/**
 * Errors the provisioner answers over HTTP. Each carries the HTTP status it maps to, so the app
 * turns any thrown ProvisionError into `{error: {code, message}}` without a lookup table.
 */
import { MonetizationError } from '../shared/errors.ts';

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
