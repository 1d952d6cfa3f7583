/** The shape every emulated Stripe endpoint has: a method, a route and a pure handler on the state. */
import type { FormObject } from './form-encoding.ts';
import type { StripeState } from './stripe-state.ts';

export interface ApiCall {
  state: StripeState;
  /** Decoded form body (POST) or query string (GET/DELETE). */
  params: FormObject;
  /** Route parameters, e.g. {id: 'cus_123'}. */
  path: Record<string, string>;
  /** The emulator's own origin as the caller reached it (for hosted page URLs). */
  origin?: string;
}

interface ApiResult {
  status?: number;
  body: object;
}

export interface Endpoint {
  method: 'GET' | 'POST' | 'DELETE';
  /** Hono-style route, e.g. /v1/customers/:id. */
  route: string;
  handle(call: ApiCall): ApiResult;
}

/** Route parameter that the router guarantees is present. */
export function pathParam(call: ApiCall, name: string): string {
  const value = call.path[name];
  if (value === undefined) throw new Error(`route parameter ${name} missing`);
  return value;
}
