/**
 * The request pipeline in front of the emulated Stripe endpoints, in the order Stripe applies
 * it: authentication, parameter decoding, rate limits, idempotency, the endpoint, then the
 * injected faults ('before' ones refuse the request, 'during' 500s fail the started endpoint
 * without writing, 'after' ones lose the answer of an applied write). As on Stripe, once the
 * endpoint has started its result is saved under the Idempotency-Key, errors included; only
 * parameter validation failures and concurrent conflicts (409) are not. Every answer carries a
 * request-id header like Stripe's.
 */
import { ConnectionDroppedError, dropConnection, hangThenDrop, sleep } from '../faults/connection-faults.ts';
import type { FaultDecision, FaultInjector } from '../faults/fault-injector.ts';
import type { RequestCounters } from '../faults/request-counters.ts';
import type { TokenBucket } from '../faults/token-bucket.ts';
import { billingEndpoints } from './billing-meters.ts';
import { portalEndpoints } from './billing-portal.ts';
import { checkoutSessionEndpoints } from './checkout-sessions.ts';
import { customerSearchEndpoints } from './customer-search.ts';
import { customerEndpoints } from './customers.ts';
import type { Endpoint } from './endpoint.ts';
import { eventEndpoints } from './events-api.ts';
import { EMULATOR_API_VERSION } from './events.ts';
import { decodeForm, FormEncodingError, type FormObject } from './form-encoding.ts';
import { fingerprint, type IdempotencyStore, type SavedResponse } from './idempotency.ts';
import { newId } from './ids.ts';
import { invoiceEndpoints } from './invoices.ts';
import { meterUsageEndpoints } from './meter-usage.ts';
import { paymentMethodEndpoints } from './payment-methods.ts';
import { paymentIntentEndpoints } from './payment-intent-endpoints.ts';
import { priceEndpoints } from './prices.ts';
import { productEndpoints } from './products.ts';
import { setupIntentEndpoints } from './setup-intents.ts';
import { StripeApiError, stripeErrors, StripeValidationError } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';
import { subscriptionUpdateEndpoints } from './subscription-updates.ts';
import { subscriptionEndpoints } from './subscriptions.ts';
import { webhookEndpointEndpoints } from './webhook-endpoints.ts';
import { testClockEndpoints } from './test-clocks.ts';

export type StripeFaultKind = '500' | '429' | 'lock_timeout' | 'drop' | 'timeout';
export const STRIPE_FAULT_KINDS: readonly StripeFaultKind[] = ['500', '429', 'lock_timeout', 'drop', 'timeout'];

/** Live settings the pipeline reads on every request (changeable at runtime). */
export interface StripeApiSettings {
  latencyMs: number;
  /** Allowed secret keys; undefined accepts any sk_test_ / rk_test_ key. */
  apiKeys: readonly string[] | undefined;
  /** Longest a 'timeout' fault holds a request before dropping it. */
  hangMs: number;
}

interface StripeApiDeps {
  state: StripeState;
  settings: StripeApiSettings;
  faults: FaultInjector<StripeFaultKind>;
  counters: RequestCounters;
  idempotency: IdempotencyStore;
  writeLimit: TokenBucket;
  readLimit: TokenBucket;
  /** Aborted when the emulator resets or closes, to release hanging requests. */
  stop: () => AbortSignal;
}

interface CompiledEndpoint {
  endpoint: Endpoint;
  pattern: RegExp;
  names: string[];
}

// Search comes before /v1/customers/:id, which would otherwise take "search" for an id.
const ENDPOINTS: CompiledEndpoint[] = [
  ...customerSearchEndpoints,
  ...customerEndpoints,
  ...productEndpoints,
  ...priceEndpoints,
  ...billingEndpoints,
  ...meterUsageEndpoints,
  ...subscriptionEndpoints,
  ...subscriptionUpdateEndpoints,
  ...paymentMethodEndpoints,
  ...invoiceEndpoints,
  ...paymentIntentEndpoints,
  ...testClockEndpoints,
  ...webhookEndpointEndpoints,
  ...eventEndpoints,
  ...checkoutSessionEndpoints,
  ...setupIntentEndpoints,
  ...portalEndpoints,
].map(
  (endpoint) => {
    const names: string[] = [];
    const source = endpoint.route.replace(/:([a-z]+)/g, (_match, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    return { endpoint, pattern: new RegExp(`^${source}$`), names };
  },
);


function matchEndpoint(method: string, path: string): { endpoint: Endpoint; path: Record<string, string> } | { route: string } {
  let route: string | undefined;
  for (const compiled of ENDPOINTS) {
    const match = compiled.pattern.exec(path);
    if (!match) continue;
    route ??= compiled.endpoint.route;
    if (compiled.endpoint.method !== method) continue;
    const params = Object.fromEntries(compiled.names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]));
    return { endpoint: compiled.endpoint, path: params };
  }
  return { route: route ?? path };
}

const TEST_KEY = /^(sk|rk)_test_[A-Za-z0-9_]+$/;

function apiKeyOf(request: Request, allowed: readonly string[] | undefined): string {
  const header = request.headers.get('authorization');
  if (!header) throw stripeErrors.missingApiKey();
  let key: string | undefined;
  const [scheme, value] = header.split(/\s+/, 2);
  if (scheme?.toLowerCase() === 'bearer') key = value;
  else if (scheme?.toLowerCase() === 'basic' && value) key = Buffer.from(value, 'base64').toString('utf8').split(':')[0];
  if (!key) throw stripeErrors.missingApiKey();
  const ok = allowed ? allowed.includes(key) : TEST_KEY.test(key);
  if (!ok) throw stripeErrors.invalidApiKey(key);
  return key;
}

async function paramsOf(request: Request, url: URL): Promise<FormObject> {
  const query = decodeForm(url.searchParams);
  if (request.method === 'GET' || request.method === 'HEAD') return query;
  const text = await request.text();
  if (text.trim().startsWith('{')) throw stripeErrors.invalid('Invalid request: Stripe expects form-encoded parameters (application/x-www-form-urlencoded), not JSON.');
  return { ...query, ...decodeForm(text) };
}

function headersFor(requestId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', 'request-id': requestId, 'stripe-version': EMULATOR_API_VERSION, ...extra };
}

function jsonResponse(status: number, body: object, requestId: string, extra?: Record<string, string>): SavedResponse {
  return { status, body: JSON.stringify(body, null, 2), headers: headersFor(requestId, extra), requestId };
}

function errorResponse(error: StripeApiError, requestId: string): SavedResponse {
  return jsonResponse(error.status, error.toBody(), requestId, error.headers);
}

/** What an endpoint's failure answers: its StripeApiError, or a 500 for an emulator bug. */
function endpointFailure(error: unknown, requestId: string): SavedResponse {
  if (error instanceof StripeApiError) return errorResponse(error, requestId);
  console.error('stripe emulator: endpoint failed', error);
  return errorResponse(new StripeApiError(500, 'api_error', `The Stripe emulator failed: ${(error as Error).message}`), requestId);
}

function toResponse(saved: SavedResponse, extra: Record<string, string> = {}): Response {
  return new Response(saved.body, { status: saved.status, headers: { ...saved.headers, ...extra } });
}

function send(deps: StripeApiDeps, saved: SavedResponse, extra?: Record<string, string>): Response {
  deps.counters.status(saved.status);
  return toResponse(saved, extra);
}

/** The answer for an injected fault (drop and timeout end the connection instead). */
async function faultAnswer(deps: StripeApiDeps, decision: FaultDecision<StripeFaultKind>, request: Request, env: unknown, requestId: string): Promise<Response> {
  const { counters, settings } = deps;
  counters.fault(decision.kind);
  switch (decision.kind) {
    case '500': {
      // After the write, Stripe has saved the 500 for the key: retrying would only replay it.
      const headers: Record<string, string> = decision.when === 'after' ? { 'stripe-should-retry': 'false' } : {};
      return send(deps, errorResponse(stripeErrors.apiError(headers), requestId));
    }
    case '429':
      return send(deps, errorResponse(stripeErrors.rateLimited(), requestId));
    case 'lock_timeout':
      return send(deps, errorResponse(stripeErrors.lockTimeout(), requestId));
    case 'drop':
      counters.status('drop');
      return dropConnection(env, 'the Stripe emulator');
    case 'timeout':
      counters.status('timeout');
      return hangThenDrop(request, env, settings.hangMs, deps.stop(), 'the Stripe emulator');
  }
}

interface Admitted {
  endpoint: Endpoint;
  path: Record<string, string>;
  apiKey: string;
  params: FormObject;
}

/** Key, parameters, route and the read/write budget; a StripeApiError answer otherwise. */
async function admit(deps: StripeApiDeps, request: Request, url: URL, matched: ReturnType<typeof matchEndpoint>, isWrite: boolean, requestId: string): Promise<Admitted | Response> {
  try {
    const apiKey = apiKeyOf(request, deps.settings.apiKeys);
    let params: FormObject;
    try {
      params = await paramsOf(request, url);
    } catch (error) {
      if (error instanceof FormEncodingError) throw stripeErrors.invalid(error.message, error.param);
      throw error;
    }
    if (!('endpoint' in matched)) throw stripeErrors.unknownUrl(request.method.toUpperCase(), url.pathname);
    if (!(isWrite ? deps.writeLimit : deps.readLimit).take()) throw stripeErrors.rateLimited();
    return { endpoint: matched.endpoint, path: matched.path, apiKey, params };
  } catch (error) {
    if (error instanceof StripeApiError) return send(deps, errorResponse(error, requestId));
    throw error;
  }
}

/** A bad, reused-with-other-parameters or in-use key is refused; a finished one is replayed. Undefined: go on. */
function idempotencyAnswer(deps: StripeApiDeps, call: Admitted, idempotencyKey: string, method: string, url: URL, requestId: string): Response | undefined {
  if (idempotencyKey.length === 0 || idempotencyKey.length > 255)
    return send(deps, errorResponse(stripeErrors.invalid('Idempotency-Key must be between 1 and 255 characters long.', 'Idempotency-Key'), requestId));
  const check = deps.idempotency.begin(call.apiKey, idempotencyKey, fingerprint(method, url.pathname, call.params));
  if (check.kind === 'mismatch') return send(deps, errorResponse(stripeErrors.idempotencyMismatch(idempotencyKey), requestId));
  if (check.kind === 'in_use') return send(deps, errorResponse(stripeErrors.idempotencyKeyInUse(idempotencyKey), requestId));
  if (check.kind !== 'replay') return undefined;
  deps.counters.replay();
  return send(deps, { ...check.response, headers: { ...check.response.headers, 'request-id': requestId } }, {
    'idempotent-replayed': 'true',
    'original-request': check.response.requestId,
  });
}

/** Runs the endpoint: what it answers (to save for its key), or the failure answer, already sent. */
function runEndpoint(deps: StripeApiDeps, call: Admitted, url: URL, idempotencyKey: string | null, decision: FaultDecision<StripeFaultKind> | undefined, requestId: string): SavedResponse | Response {
  const { state, idempotency } = deps;
  try {
    // 'during': the endpoint started and failed before writing; Stripe saves that 500 for the key.
    if (decision?.when === 'during' && decision.kind === '500') throw stripeErrors.apiError({ 'stripe-should-retry': 'false' });
    state.hostedOrigin = url.origin;
    const input = { state, params: call.params, path: call.path, origin: url.origin };
    // Events the endpoint emits name this request (event.request.id / idempotency_key), as on Stripe.
    const result = state.events.causedBy({ requestId, idempotencyKey }, () => call.endpoint.handle(input));
    return jsonResponse(result.status ?? 200, result.body, requestId);
  } catch (error) {
    if (error instanceof ConnectionDroppedError) {
      if (idempotencyKey !== null) idempotency.forget(call.apiKey, idempotencyKey);
      throw error;
    }
    const failed = endpointFailure(error, requestId);
    // Parse failures mean the endpoint never ran: nothing is saved. Any later error is the result.
    if (idempotencyKey !== null) {
      if (error instanceof StripeValidationError) idempotency.forget(call.apiKey, idempotencyKey);
      else idempotency.save(call.apiKey, idempotencyKey, failed);
    }
    if (decision?.when === 'during') deps.counters.fault(decision.kind);
    return send(deps, failed);
  }
}

export function createStripeApiHandler(deps: StripeApiDeps) {
  const { settings, faults, counters, idempotency } = deps;
  return async function handleStripeApi(request: Request, env?: unknown): Promise<Response> {
    const requestId = newId.request();
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    const matched = matchEndpoint(method, url.pathname);
    const route = 'endpoint' in matched ? matched.endpoint.route : matched.route;
    const isWrite = method === 'POST' || method === 'DELETE';
    counters.request(method, route, isWrite);
    // Half the latency is the trip in, half is "processing": a second request with the same
    // idempotency key arriving meanwhile sees the first one in progress (409), as on Stripe.
    await sleep(settings.latencyMs / 2);

    const call = await admit(deps, request, url, matched, isWrite, requestId);
    if (call instanceof Response) return call;

    const decision = faults.decide({ method, path: url.pathname, route, params: call.params });
    // 'during' is modelled for 500s only (started, failed, saved); other kinds refuse the request as 'before'.
    if (decision?.when === 'before' || (decision?.when === 'during' && decision.kind !== '500')) return faultAnswer(deps, decision, request, env, requestId);

    const idempotencyKey = method === 'POST' ? request.headers.get('idempotency-key') : null;
    const refused = idempotencyKey === null ? undefined : idempotencyAnswer(deps, call, idempotencyKey, method, url, requestId);
    if (refused) return refused;

    await sleep(settings.latencyMs / 2);
    const saved = runEndpoint(deps, call, url, idempotencyKey, decision, requestId);
    if (saved instanceof Response) return saved;
    if (decision?.when === 'after') {
      if (idempotencyKey !== null) {
        const stored = decision.kind === '500' ? errorResponse(stripeErrors.apiError({ 'stripe-should-retry': 'false' }), requestId) : saved;
        idempotency.save(call.apiKey, idempotencyKey, stored);
      }
      return faultAnswer(deps, decision, request, env, requestId);
    }
    if (idempotencyKey !== null) idempotency.save(call.apiKey, idempotencyKey, saved);
    return send(deps, saved);
  };
}
