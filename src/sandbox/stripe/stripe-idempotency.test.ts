/** Idempotency as Stripe documents it: results saved once the endpoint started, errors included; validation failures not. */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeForm } from './form-encoding.ts';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

const KEY = 'sk_test_idempotency';
let emulator: RunningStripeEmulator;

beforeAll(async () => {
  emulator = await startStripeEmulator();
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

function post(path: string, body: Record<string, unknown>, key: string): Promise<Response> {
  return fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': key },
    body: encodeForm(body),
  });
}

async function errorOf(response: Response): Promise<{ type: string; code?: string; param?: string }> {
  return ((await response.json()) as { error: { type: string; code?: string; param?: string } }).error;
}

describe('saved errors', () => {
  it('saves an error the endpoint raised after validation (resource_missing) and replays it, even once the object exists', async () => {
    const first = await post('/v1/customers/cus_missing', { name: 'x' }, 'update-missing');
    expect(first.status).toBe(404);
    expect(await errorOf(first)).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing', param: 'id' });
    const replay = await post('/v1/customers/cus_missing', { name: 'x' }, 'update-missing');
    expect(replay.status).toBe(404);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('original-request')).toBe(first.headers.get('request-id'));
    // Another body with the same key is a different request: idempotency_error, not a fresh run.
    const other = await post('/v1/customers/cus_missing', { name: 'y' }, 'update-missing');
    expect(other.status).toBe(400);
    expect((await errorOf(other)).type).toBe('idempotency_error');
  });

  it("a 'during' 500 fault: the endpoint started and failed, nothing is written, the 500 is replayed with Idempotent-Replayed", async () => {
    emulator.faults.add({ method: 'POST', path: '/v1/customers', kind: '500', when: 'during' });
    const first = await post('/v1/customers', { email: 'during@example.com' }, 'during-1');
    expect(first.status).toBe(500);
    expect((await errorOf(first)).type).toBe('api_error');
    expect(emulator.state.customers.size).toBe(0);
    const replay = await post('/v1/customers', { email: 'during@example.com' }, 'during-1');
    expect(replay.status).toBe(500);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(emulator.state.customers.size).toBe(0);
    // The saved 500 says Stripe-Should-Retry: false, so stripe-node does not retry what would only replay.
    const sdk = new Stripe(KEY, { ...emulator.clientOptions, maxNetworkRetries: 2 });
    emulator.faults.add({ method: 'POST', path: '/v1/customers', kind: '500', when: 'during' });
    const before = emulator.counters.count('POST /v1/customers');
    await expect(sdk.customers.create({ email: 'sdk@example.com' }, { idempotencyKey: 'during-2' })).rejects.toMatchObject({ statusCode: 500 });
    expect(emulator.counters.count('POST /v1/customers')).toBe(before + 1);
    await expect(sdk.customers.create({ email: 'sdk@example.com' }, { idempotencyKey: 'during-2' })).rejects.toMatchObject({ statusCode: 500 });
    expect(emulator.state.customers.size).toBe(0);
    expect(emulator.counters.replays).toBe(2);
    // A new key runs the request.
    expect((await post('/v1/customers', { email: 'during@example.com' }, 'during-3')).status).toBe(200);
    expect(emulator.state.customers.size).toBe(1);
  });

  it("a 'during' fault of another kind refuses the request like 'before': nothing saved", async () => {
    emulator.faults.add({ method: 'POST', path: '/v1/customers', kind: 'lock_timeout', when: 'during' });
    expect((await post('/v1/customers', { email: 'l@example.com' }, 'lock-1')).status).toBe(429);
    const retry = await post('/v1/customers', { email: 'l@example.com' }, 'lock-1');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('validation failures are not saved', () => {
  it('a parameter error leaves the key free: the same key with other (fixed) parameters runs', async () => {
    const bad = await post('/v1/customers', { email: 'v@example.com', bogus: '1' }, 'fix-me');
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatchObject({ code: 'parameter_unknown', param: 'bogus' });
    const fixed = await post('/v1/customers', { email: 'v@example.com' }, 'fix-me');
    expect(fixed.status).toBe(200);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
    const replay = await post('/v1/customers', { email: 'v@example.com' }, 'fix-me');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(emulator.state.customers.size).toBe(1);
  });

  it('a bad value on an update is not saved either', async () => {
    const customer = (await (await post('/v1/customers', { email: 'u@example.com' }, 'create-u')).json()) as { id: string };
    const bad = await post(`/v1/customers/${customer.id}`, { tax_exempt: 'sometimes' }, 'update-u');
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).param).toBe('tax_exempt');
    expect((await post(`/v1/customers/${customer.id}`, { tax_exempt: 'exempt' }, 'update-u')).status).toBe(200);
  });
});
