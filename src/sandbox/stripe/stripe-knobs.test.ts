/** Idempotency, rate limits, injected faults (targeted and seeded), counters and the emulator-only routes. */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConnectionDroppedError } from '../faults/connection-faults.ts';
import { encodeForm } from './form-encoding.ts';
import { createStripeEmulator, startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

const KEY = 'sk_test_knobs';
let emulator: RunningStripeEmulator;
let clock = 1_800_000_000_000;

beforeAll(async () => {
  emulator = await startStripeEmulator({ now: () => clock });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

function client(options: Partial<Stripe.StripeConfig> = {}, key = KEY): Stripe {
  return new Stripe(key, { ...emulator.clientOptions, maxNetworkRetries: 0, ...options });
}

function post(path: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: encodeForm(body),
  });
}

async function failure(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('authentication', () => {
  it('answers 401 without a key or with a key that is not a test key or not allowed', async () => {
    const none = await fetch(`${emulator.url}/v1/customers`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { type: string; message: string } }).error).toMatchObject({ type: 'invalid_request_error' });
    expect(await failure(client({}, 'sk_live_123').customers.list())).toMatchObject({ type: 'StripeAuthenticationError', statusCode: 401 });
    emulator.configure({ apiKeys: ['sk_test_allowed'] });
    expect(await failure(client().customers.list())).toMatchObject({ statusCode: 401 });
    expect((await client({}, 'sk_test_allowed').customers.list()).data).toEqual([]);
  });

  it('answers unknown URLs with 404 like Stripe', async () => {
    const response = await fetch(`${emulator.url}/v1/nothing`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/Unrecognized request URL \(GET: \/v1\/nothing\)/);
  });
});

describe('idempotency', () => {
  it('replays the first response for the same key and parameters', async () => {
    const first = await post('/v1/customers', { email: 'i@example.com' }, { 'idempotency-key': 'signup-1' });
    const second = await post('/v1/customers', { email: 'i@example.com' }, { 'idempotency-key': 'signup-1' });
    expect(second.status).toBe(first.status);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await second.text()).toBe(await first.text());
    expect(emulator.state.customers.size).toBe(1);
    expect(emulator.counters.replays).toBe(1);

    const sdk = client();
    const a = await sdk.customers.create({ email: 'sdk@example.com' }, { idempotencyKey: 'k' });
    const b = await sdk.customers.create({ email: 'sdk@example.com' }, { idempotencyKey: 'k' });
    expect(b.id).toBe(a.id);
  });

  it('refuses the same key with different parameters or another endpoint', async () => {
    const sdk = client();
    await sdk.customers.create({ email: 'one@example.com' }, { idempotencyKey: 'same' });
    const mismatch = await failure(sdk.customers.create({ email: 'two@example.com' }, { idempotencyKey: 'same' }));
    expect(mismatch).toMatchObject({ type: 'StripeIdempotencyError', statusCode: 400 });
    expect(await failure(sdk.products.create({ name: 'x' }, { idempotencyKey: 'same' }))).toMatchObject({ type: 'StripeIdempotencyError' });
    expect(emulator.state.customers.size).toBe(1);
  });

  it('scopes keys per API key', async () => {
    await client().customers.create({ email: 'one@example.com' }, { idempotencyKey: 'shared' });
    const other = await client({}, 'sk_test_other').customers.create({ email: 'two@example.com' }, { idempotencyKey: 'shared' });
    expect(other.email).toBe('two@example.com');
    expect(emulator.state.customers.size).toBe(2);
  });

  it('answers 409 idempotency_key_in_use while the first request with the key is running', async () => {
    emulator.configure({ latencyMs: 200 });
    const [a, b] = await Promise.all([
      post('/v1/customers', { email: 'c@example.com' }, { 'idempotency-key': 'concurrent' }),
      post('/v1/customers', { email: 'c@example.com' }, { 'idempotency-key': 'concurrent' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const conflict = a.status === 409 ? a : b;
    expect(((await conflict.json()) as { error: { code: string } }).error.code).toBe('idempotency_key_in_use');
    expect(emulator.state.customers.size).toBe(1);
  });

  it('does not save refused requests: a retry after a validation error runs', async () => {
    const bad = await post('/v1/customers', { email: 'v@example.com', bogus: '1' }, { 'idempotency-key': 'v' });
    expect(bad.status).toBe(400);
    const again = await post('/v1/customers', { email: 'v@example.com' }, { 'idempotency-key': 'v' });
    expect(again.status).toBe(200);
  });

  it('forgets keys after 24 hours', async () => {
    await post('/v1/customers', { email: 'old@example.com' }, { 'idempotency-key': 'old' });
    clock += 24 * 60 * 60 * 1000 + 1;
    const reused = await post('/v1/customers', { email: 'new@example.com' }, { 'idempotency-key': 'old' });
    expect(reused.status).toBe(200);
    expect(emulator.state.customers.size).toBe(2);
  });
});

describe('rate limit', () => {
  it('answers 429 with Stripe rate_limit body over the write limit, which stripe-node does not retry', async () => {
    emulator.configure({ writeRateLimit: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await post('/v1/customers', { email: `r${i}@example.com` })).status);
    expect(statuses).toEqual([200, 200, 429, 429, 429]);
    expect(emulator.counters.rateLimited).toBe(3);
    // Reads are not limited by the write limit.
    expect((await client().customers.list()).data).toHaveLength(2);

    const sdk = client({ maxNetworkRetries: 2 });
    const before = emulator.counters.count('POST /v1/customers');
    const error = await failure(sdk.customers.create({ email: 'x@example.com' }));
    expect(error).toMatchObject({ type: 'StripeRateLimitError', statusCode: 429, code: 'rate_limit' });
    expect(emulator.counters.count('POST /v1/customers')).toBe(before + 1);

    clock += 1000; // the bucket refills at the limit per second
    expect((await post('/v1/customers', { email: 'later@example.com' })).status).toBe(200);
  });
});

describe('targeted faults', () => {
  it("'before' 500: nothing is written and stripe-node's retry succeeds", async () => {
    const handle = emulator.faults.add({ method: 'POST', path: '/v1/customers', kind: '500' });
    const customer = await client({ maxNetworkRetries: 2 }).customers.create({ email: 'f@example.com' });
    expect(handle.fired).toBe(1);
    expect(emulator.state.customers.size).toBe(1);
    expect(emulator.snapshot().customers).toEqual([expect.objectContaining({ id: customer.id })]);
    expect(emulator.counters.count('POST /v1/customers')).toBe(2);
  });

  it("'after' drop: the write is applied, stripe-node retries the closed connection with the same key and gets the replay", async () => {
    emulator.faults.add({ method: 'POST', path: '/v1/customers', kind: 'drop', when: 'after' });
    const customer = await client({ maxNetworkRetries: 0 }).customers.create({ email: 'drop@example.com' });
    expect(emulator.state.customers.size).toBe(1);
    expect(emulator.state.customers.get(customer.id)).toBeDefined();
    expect(emulator.counters.replays).toBe(1);
    expect(emulator.counters.snapshot().statuses.drop).toBe(1);
  });

  it("'after' 500: the write is applied, the 500 is saved for the key and replayed, and the object can be found by listing", async () => {
    emulator.faults.add({ method: 'POST', path: '/v1/customers', kind: '500', when: 'after' });
    const sdk = client({ maxNetworkRetries: 2 });
    const error = await failure(sdk.customers.create({ email: 'after@example.com' }, { idempotencyKey: 'after-500' }));
    expect(error).toMatchObject({ type: 'StripeAPIError', statusCode: 500 });
    // Stripe-Should-Retry: false stopped stripe-node's retries.
    expect(emulator.counters.count('POST /v1/customers')).toBe(1);
    const replay = await failure(sdk.customers.create({ email: 'after@example.com' }, { idempotencyKey: 'after-500' }));
    expect(replay.statusCode).toBe(500);
    expect((await sdk.customers.list({ email: 'after@example.com' })).data).toHaveLength(1);
  });

  it('lock_timeout asks stripe-node to retry (Stripe-Should-Retry: true); 429 faults are not retried', async () => {
    emulator.faults.add({ method: 'POST', path: '/v1/subscriptions', kind: 'lock_timeout' });
    const sdk = client({ maxNetworkRetries: 1 });
    const customer = await sdk.customers.create({ email: 'lock@example.com' });
    const meter = await sdk.billing.meters.create({ display_name: 'c', event_name: 'c', default_aggregation: { formula: 'sum' } });
    const price = await sdk.prices.create({ currency: 'usd', product_data: { name: 'p' }, unit_amount: 1, recurring: { interval: 'month', usage_type: 'metered', meter: meter.id } });
    const subscription = await sdk.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(subscription.status).toBe('active');
    expect(emulator.counters.count('POST /v1/subscriptions')).toBe(2);

    emulator.faults.add({ method: 'POST', path: '/v1/customers', kind: '429', times: 1 });
    expect(await failure(sdk.customers.create({ email: 'again@example.com' }))).toMatchObject({ type: 'StripeRateLimitError' });
  });

  it("'timeout' holds the request until the client gives up; 'after' still applies the write", async () => {
    emulator.faults.add({ method: 'POST', path: '/v1/customers', kind: 'timeout', when: 'after' });
    const error = await failure(client({ timeout: 300 }).customers.create({ email: 't@example.com' }));
    expect(error.type).toBe('StripeConnectionError');
    expect(emulator.state.customers.size).toBe(1);
    expect(emulator.counters.snapshot().faults.timeout).toBe(1);
  });

  it('matches rules by method, route template, params, skip and times', async () => {
    const rule = emulator.faults.add({
      method: 'POST',
      path: '/v1/customers/:id',
      kind: '500',
      skip: 1,
      times: 2,
      match: (request) => (request.params as { name?: string }).name === 'target',
    });
    const sdk = client();
    const customer = await sdk.customers.create({ email: 'm@example.com' });
    await sdk.customers.update(customer.id, { name: 'other' });
    await sdk.customers.update(customer.id, { name: 'target' }); // skipped
    expect(await failure(sdk.customers.update(customer.id, { name: 'target' }))).toMatchObject({ statusCode: 500 });
    expect(await failure(sdk.customers.update(customer.id, { name: 'target' }))).toMatchObject({ statusCode: 500 });
    await sdk.customers.update(customer.id, { name: 'target' });
    expect(rule.fired).toBe(2);
    expect(rule.exhausted).toBe(true);
  });
});

describe('random faults with a seed', () => {
  async function outcomes(seed: number): Promise<string[]> {
    const local = createStripeEmulator({ faultRate: 0.3, faultSeed: seed, faultKinds: ['500', 'drop'] });
    const results: string[] = [];
    for (let i = 0; i < 40; i += 1) {
      const request = new Request('http://stripe.local/v1/customers', {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: encodeForm({ email: `s${i}@example.com` }),
      });
      try {
        results.push(String((await local.fetch(request)).status));
      } catch (error) {
        expect(error).toBeInstanceOf(ConnectionDroppedError);
        results.push('drop');
      }
    }
    expect(local.state.customers.size).toBe(results.filter((r) => r === '200').length);
    return results;
  }

  it('gives the same sequence of faults for the same seed, another for another seed', async () => {
    const first = await outcomes(42);
    expect(await outcomes(42)).toEqual(first);
    expect(first).toContain('500');
    expect(first).toContain('drop');
    expect(first).toContain('200');
    expect(await outcomes(7)).not.toEqual(first);
  });

  it('restarts the sequence when reconfigured or reset', async () => {
    const local = createStripeEmulator({ faultRate: 0.5, faultSeed: 3, faultKinds: ['500'] });
    const run = async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i += 1)
        statuses.push((await local.fetch(new Request('http://stripe.local/v1/customers', { headers: { authorization: `Bearer ${KEY}` } }))).status);
      return statuses;
    };
    const first = await run();
    local.reset();
    expect(await run()).toEqual(first);
    local.configure({ faultSeed: 3 });
    local.configure({ faultRate: 0 });
    expect((await run()).every((status) => status === 200)).toBe(true);
  });
});

describe('counters, reset and emulator-only routes', () => {
  it('counts requests and writes by route, and resets to zero', async () => {
    const sdk = client();
    const customer = await sdk.customers.create({ email: 'count@example.com' });
    await sdk.customers.retrieve(customer.id);
    await sdk.customers.list({ email: 'count@example.com' });
    const counters = emulator.counters.snapshot();
    expect(counters.total).toBe(3);
    expect(counters.writes).toBe(1);
    expect(counters.requests).toEqual({ 'POST /v1/customers': 1, 'GET /v1/customers/:id': 1, 'GET /v1/customers': 1 });
    emulator.reset();
    expect(emulator.counters.total).toBe(0);
    expect(emulator.state.customers.size).toBe(0);
  });

  it('serves state, customers by email, counters, config and fault rules over HTTP', async () => {
    const sdk = client();
    await sdk.customers.create({ email: 'http@example.com' });
    const customers = (await (await fetch(`${emulator.url}/_emulator/customers?email=http@example.com`)).json()) as { email: string }[];
    expect(customers.map((c) => c.email)).toEqual(['http@example.com']);
    const state = (await (await fetch(`${emulator.url}/_emulator/state`)).json()) as { customers: unknown[]; subscriptions: unknown[] };
    expect(state.customers).toHaveLength(1);
    expect(((await (await fetch(`${emulator.url}/_emulator/counters`)).json()) as { total: number }).total).toBe(1);

    const config = await fetch(`${emulator.url}/_emulator/config`, { method: 'POST', body: JSON.stringify({ latencyMs: 5, writeRateLimit: 25 }) });
    expect(((await config.json()) as { writeRateLimit: number }).writeRateLimit).toBe(25);
    expect(emulator.knobs().latencyMs).toBe(5);
    const badConfig = await fetch(`${emulator.url}/_emulator/config`, { method: 'POST', body: JSON.stringify({ latencyMs: -1 }) });
    expect(badConfig.status).toBe(400);

    const rule = await fetch(`${emulator.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ method: 'POST', path: '/v1/customers', kind: '500', params: { email: 'victim@example.com' } }),
    });
    expect(rule.status).toBe(201);
    expect((await sdk.customers.create({ email: 'bystander@example.com' })).email).toBe('bystander@example.com');
    expect(await failure(sdk.customers.create({ email: 'victim@example.com' }))).toMatchObject({ statusCode: 500 });
    const fired = (await (await fetch(`${emulator.url}/_emulator/faults`)).json()) as { fired: { kind: string }[] };
    expect(fired.fired.map((f) => f.kind)).toEqual(['500']);

    expect((await fetch(`${emulator.url}/_emulator/reset`, { method: 'POST' })).status).toBe(204);
    expect(emulator.state.customers.size).toBe(0);
    expect(emulator.knobs().latencyMs).toBe(0);
  });
});
