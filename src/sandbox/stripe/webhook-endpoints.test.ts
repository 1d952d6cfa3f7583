/** /v1/webhook_endpoints and /v1/events: objects, filters and bad input, through stripe-node and raw HTTP. */
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeForm } from './form-encoding.ts';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';

const KEY = 'sk_test_endpoints';
let emulator: RunningStripeEmulator;
let sdk: Stripe;
let clock = 1_800_000_000_000;

beforeAll(async () => {
  emulator = await startStripeEmulator({ now: () => clock });
  sdk = new Stripe(KEY, { ...emulator.clientOptions, maxNetworkRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

async function call(method: string, path: string, body?: Record<string, unknown>): Promise<{ status: number; json: { error?: { type: string; param?: string; code?: string } } & Record<string, unknown> }> {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
    ...(body ? { body: encodeForm(body) } : {}),
  });
  return { status: response.status, json: (await response.json()) as never };
}

describe('webhook endpoints', () => {
  it('creates (secret only in that answer), retrieves, lists, updates, disables and deletes', async () => {
    const created = await sdk.webhookEndpoints.create({
      url: 'https://example.com/hooks',
      enabled_events: ['invoice.paid', 'invoice.payment_failed'],
      api_version: '2026-10-28.endive',
      description: 'billing',
      metadata: { team: 'api' },
    });
    expect(created).toMatchObject({
      object: 'webhook_endpoint',
      api_version: '2026-10-28.endive',
      application: null,
      description: 'billing',
      enabled_events: ['invoice.paid', 'invoice.payment_failed'],
      livemode: false,
      metadata: { team: 'api' },
      status: 'enabled',
      url: 'https://example.com/hooks',
    });
    expect(created.id).toMatch(/^we_/);
    expect(created.secret).toMatch(/^whsec_[0-9A-Za-z]{32}$/);
    const retrieved = await sdk.webhookEndpoints.retrieve(created.id);
    expect(retrieved.secret).toBeUndefined();
    expect((await sdk.webhookEndpoints.list()).data.map((e) => [e.id, e.secret])).toEqual([[created.id, undefined]]);
    const updated = await sdk.webhookEndpoints.update(created.id, { url: 'http://127.0.0.1:9/h', enabled_events: ['*'], disabled: true, description: '' });
    expect(updated).toMatchObject({ url: 'http://127.0.0.1:9/h', enabled_events: ['*'], status: 'disabled', description: null });
    expect(updated.secret).toBeUndefined();
    expect((await sdk.webhookEndpoints.update(created.id, { disabled: false })).status).toBe('enabled');
    expect(await sdk.webhookEndpoints.del(created.id)).toEqual({ id: created.id, object: 'webhook_endpoint', deleted: true });
    await expect(sdk.webhookEndpoints.retrieve(created.id)).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'id' });
  });

  it('refuses bad input with invalid_request_error and the param, changing nothing', async () => {
    const cases: [string, string, Record<string, unknown>, string][] = [
      ['POST', '/v1/webhook_endpoints', { enabled_events: ['*'] }, 'url'],
      ['POST', '/v1/webhook_endpoints', { url: 'https://example.com' }, 'enabled_events'],
      ['POST', '/v1/webhook_endpoints', { url: 'ftp://example.com', enabled_events: ['*'] }, 'url'],
      ['POST', '/v1/webhook_endpoints', { url: 'not a url', enabled_events: ['*'] }, 'url'],
      ['POST', '/v1/webhook_endpoints', { url: 'https://example.com', enabled_events: ['invoice.nope'] }, 'enabled_events[0]'],
      ['POST', '/v1/webhook_endpoints', { url: 'https://example.com', enabled_events: ['*'], api_version: '1999-01-01' }, 'api_version'],
      ['POST', '/v1/webhook_endpoints', { url: 'https://example.com', enabled_events: ['*'], colour: 'red' }, 'colour'],
      ['GET', '/v1/webhook_endpoints?limit=0', {}, 'limit'],
      ['GET', '/v1/events?delivery_success=maybe', {}, 'delivery_success'],
      ['GET', '/v1/events?type=a&types[0]=b', {}, 'types'],
      ['GET', '/v1/events?created[gte]=soon', {}, 'created[gte]'],
      ['GET', '/v1/events?starting_after=evt_missing', {}, 'starting_after'],
      ['GET', '/v1/events/evt_missing', {}, 'id'],
      ['GET', '/v1/webhook_endpoints/we_missing', {}, 'id'],
    ];
    for (const [method, path, body, param] of cases) {
      const { status, json } = await call(method, path, method === 'POST' ? body : undefined);
      expect([status, json.error?.type, json.error?.param], `${method} ${path} ${JSON.stringify(body)}`).toEqual([status >= 404 ? 404 : 400, 'invalid_request_error', param]);
    }
    const endpoint = await sdk.webhookEndpoints.create({ url: 'https://example.com', enabled_events: ['*'] });
    const badUpdate = await call('POST', `/v1/webhook_endpoints/${endpoint.id}`, { disabled: 'perhaps' });
    expect(badUpdate.json.error).toMatchObject({ type: 'invalid_request_error', param: 'disabled' });
    expect((await sdk.webhookEndpoints.retrieve(endpoint.id)).status).toBe('enabled');
    expect((await call('POST', `/v1/webhook_endpoints/${endpoint.id}`, { enabled_events: '' })).json.error?.param).toBe('enabled_events');
    expect(emulator.state.webhookEndpoints.size).toBe(1);
  });

  it('allows at most 16 endpoints, like Stripe', async () => {
    for (let i = 0; i < 16; i += 1) await sdk.webhookEndpoints.create({ url: `https://example.com/${i}`, enabled_events: ['*'] });
    await expect(sdk.webhookEndpoints.create({ url: 'https://example.com/17', enabled_events: ['*'] })).rejects.toMatchObject({ statusCode: 400, param: 'url' });
  });
});

describe('events', () => {
  function emitAt(seconds: number, type: string) {
    clock = seconds * 1000;
    return emulator.state.events.emit(type, { id: 'in_1', object: 'invoice' });
  }

  it('lists newest first with type (also a * group), types[], created, pagination, and retrieves by id', async () => {
    const t0 = 1_800_000_000;
    const created = emitAt(t0, 'invoice.created');
    const paid = emitAt(t0 + 10, 'invoice.paid');
    const updated = emitAt(t0 + 20, 'customer.subscription.updated');
    const ids = (list: Stripe.ApiList<Stripe.Event>) => list.data.map((e) => e.id);
    expect(ids(await sdk.events.list())).toEqual([updated.id, paid.id, created.id]);
    expect(ids(await sdk.events.list({ type: 'invoice.paid' }))).toEqual([paid.id]);
    expect(ids(await sdk.events.list({ type: 'invoice.*' }))).toEqual([paid.id, created.id]);
    expect(ids(await sdk.events.list({ types: ['invoice.created', 'customer.subscription.updated'] }))).toEqual([updated.id, created.id]);
    expect(ids(await sdk.events.list({ created: { gte: t0 + 10, lt: t0 + 20 } }))).toEqual([paid.id]);
    const first = await sdk.events.list({ limit: 2 });
    expect([ids(first), first.has_more]).toEqual([[updated.id, paid.id], true]);
    expect(ids(await sdk.events.list({ limit: 2, starting_after: paid.id }))).toEqual([created.id]);
    expect(await sdk.events.retrieve(paid.id)).toMatchObject({ id: paid.id, object: 'event', type: 'invoice.paid', data: { object: { id: 'in_1' } }, pending_webhooks: 0 });
  });

  it('filters by delivery_success: pending events are not successes', async () => {
    const delivered = emitAt(1_800_000_000, 'invoice.paid');
    const pending = emitAt(1_800_000_001, 'invoice.payment_failed');
    pending.pending_webhooks = 1;
    expect((await sdk.events.list({ delivery_success: false })).data.map((e) => e.id)).toEqual([pending.id]);
    expect((await sdk.events.list({ delivery_success: true })).data.map((e) => e.id)).toEqual([delivered.id]);
  });

  it('events caused by an API request carry its request id and idempotency key; others carry null', async () => {
    const response = await fetch(`${emulator.url}/v1/billing_portal/configurations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': 'portal-config-1' },
      body: encodeForm({ features: { invoice_history: { enabled: 'true' } } }),
    });
    expect(response.status).toBe(200);
    const [created] = (await sdk.events.list({ type: 'billing_portal.configuration.created' })).data;
    expect(created?.request).toEqual({ id: response.headers.get('request-id'), idempotency_key: 'portal-config-1' });
    expect(emitAt(1_800_000_000, 'invoice.paid').request).toEqual({ id: null, idempotency_key: null });
  });

  it('keeps 30 days of events', async () => {
    const old = emitAt(1_800_000_000, 'invoice.paid');
    clock = (1_800_000_000 + 30 * 86_400 + 1) * 1000;
    expect((await sdk.events.list()).data).toEqual([]);
    await expect(sdk.events.retrieve(old.id)).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });
});
