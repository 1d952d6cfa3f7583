/**
 * Stripe's error envelope `{error: {type, code, message, param, doc_url}}` and the errors the
 * emulator answers with. Statuses follow Stripe: 400 invalid requests, 401 authentication,
 * 404 unknown objects on their own URL and unknown URLs, 409 idempotency key in use, 429 rate
 * limits and lock timeouts, 500 api_error.
 */
type StripeErrorType = 'invalid_request_error' | 'api_error' | 'idempotency_error' | 'card_error';

interface StripeErrorBody {
  error: {
    type: StripeErrorType;
    message: string;
    code?: string;
    param?: string;
    doc_url?: string;
    decline_code?: string;
  };
}

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly code?: string,
    readonly param?: string,
    /** Extra response headers, e.g. Stripe-Should-Retry on lock timeouts. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'StripeApiError';
  }

  toBody(): StripeErrorBody {
    return {
      error: {
        type: this.type,
        message: this.message,
        ...(this.code ? { code: this.code, doc_url: `https://stripe.com/docs/error-codes/${this.code.replace(/_/g, '-')}` } : {}),
        ...(this.param ? { param: this.param } : {}),
      },
    };
  }
}

/**
 * A request refused while its parameters were parsed: the endpoint never started executing, so
 * Stripe saves nothing under the idempotency key (a retry with the same key, fixed or not, runs).
 */
export class StripeValidationError extends StripeApiError {
  constructor(message: string, code?: string, param?: string) {
    super(400, 'invalid_request_error', message, code, param);
    this.name = 'StripeValidationError';
  }
}

/** Human names Stripe uses in "No such ..." messages. */
export type ResourceName =
  | 'customer'
  | 'product'
  | 'price'
  | 'subscription'
  | 'subscription_item'
  | 'billing meter'
  | 'plan'
  | 'PaymentMethod'
  | 'invoice'
  | 'test_helpers.test_clock'
  | 'webhook endpoint'
  | 'checkout.session'
  | 'setupintent'
  | 'configuration'
  | 'event'
  | 'payment_intent'
  | 'invoice_payment';

/** A declined card: 402 card_error with Stripe's `decline_code` beside the code. */
export class CardError extends StripeApiError {
  constructor(
    message: string,
    code: string,
    readonly declineCode: string | undefined,
    param?: string,
  ) {
    super(402, 'card_error', message, code, param);
  }

  override toBody(): StripeErrorBody {
    const body = super.toBody();
    return { error: { ...body.error, ...(this.declineCode ? { decline_code: this.declineCode } : {}) } };
  }
}

export const stripeErrors = {
  invalid: (message: string, param?: string, code?: string) => new StripeApiError(400, 'invalid_request_error', message, code, param),
  parameterMissing: (param: string) => new StripeApiError(400, 'invalid_request_error', `Missing required param: ${param}.`, 'parameter_missing', param),
  parameterUnknown: (param: string) =>
    new StripeApiError(400, 'invalid_request_error', `Received unknown parameter: ${param}`, 'parameter_unknown', param),
  /** An id given as a parameter (customer, price...) that does not exist: 400 with the param. */
  missingReference: (resource: ResourceName, id: string, param: string) =>
    new StripeApiError(400, 'invalid_request_error', `No such ${resource}: '${id}'`, 'resource_missing', param),
  /** An object addressed by its URL that does not exist: 404, param "id". */
  notFound: (resource: ResourceName, id: string) => new StripeApiError(404, 'invalid_request_error', `No such ${resource}: '${id}'`, 'resource_missing', 'id'),
  unknownUrl: (method: string, path: string) =>
    new StripeApiError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`),
  missingApiKey: () =>
    new StripeApiError(
      401,
      'invalid_request_error',
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    ),
  invalidApiKey: (key: string) => new StripeApiError(401, 'invalid_request_error', `Invalid API Key provided: ${redactKey(key)}`, 'api_key_invalid'),
  rateLimited: () =>
    new StripeApiError(
      429,
      'invalid_request_error',
      'Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.',
      'rate_limit',
    ),
  lockTimeout: () =>
    new StripeApiError(
      429,
      'invalid_request_error',
      'This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request.',
      'lock_timeout',
      undefined,
      // Stripe asks clients to retry lock timeouts; stripe-node honours this header.
      { 'stripe-should-retry': 'true' },
    ),
  apiError: (headers: Record<string, string> = {}) =>
    new StripeApiError(500, 'api_error', 'An unknown error occurred on the (emulated) Stripe servers. Injected fault.', undefined, undefined, headers),
  idempotencyMismatch: (key: string) =>
    new StripeApiError(
      400,
      'idempotency_error',
      `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
    ),
  idempotencyKeyInUse: (key: string) =>
    new StripeApiError(
      409,
      'invalid_request_error',
      `There is currently another in-progress request using this idempotency key '${key}'. Please try again later.`,
      'idempotency_key_in_use',
    ),
};

/** sk_test_abc...wxyz -> sk_test_****wxyz, like Stripe's messages. */
function redactKey(key: string): string {
  const prefix = /^(sk|rk|pk)_(test|live)_/.exec(key)?.[0] ?? '';
  return `${prefix}****${key.slice(-4)}`;
}
