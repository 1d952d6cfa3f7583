import { MonetizationError } from '../shared/errors.ts';

/**
 * A Kong Admin API failure. Codes: kong_unreachable, kong_tls, kong_unauthorized,
 * kong_portal_disabled, kong_workspace_not_found, kong_not_found, kong_conflict, kong_bad_request,
 * kong_redirect (the Admin API answered a 3xx: not followed), kong_http (anything else).
 */
export class KongError extends MonetizationError {
  readonly status: number | undefined;
  readonly method: string;
  readonly path: string;
  readonly body: unknown;

  constructor(
    code: string,
    message: string,
    details: { status?: number; method: string; path: string; body?: unknown; hint?: string; cause?: unknown },
  ) {
    super(code, message, { ...(details.hint === undefined ? {} : { hint: details.hint }), cause: details.cause });
    this.status = details.status;
    this.method = details.method;
    this.path = details.path;
    this.body = details.body;
  }
}
