/** Webhook delivery: signatures stripe-node accepts, retries, duplicates, reordering, the delivery log, idle and reset. */
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStripeEmulator, type RunningStripeEmulator } from './stripe-emulator.ts';
import { startTestReceiver, type TestReceiver } from '../../testkit/webhook-test-receiver.ts';

const KEY = 'sk_test_webhooks';
let emulator: RunningStripeEmulator;
let receiver: TestReceiver;
let sdk: Stripe;

beforeAll(async () => {
  emulator = await startStripeEmulator();
  sdk = new Stripe(KEY, { ...emulator.clientOptions, maxNetworkRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(async () => {
  emulator.reset();
  receiver = await startTestReceiver();
});
afterEach(() => receiver.close());

async function endpoint(events: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = ['*']): Promise<{ id: string; secret: string }> {
  const created = await sdk.webhookEndpoints.create({ url: receiver.url, enabled_events: events });
  if (!created.secret) throw new Error('create answers the secret');
  return { id: created.id, secret: created.secret };
}

function emit(type: string, id = 'cus_1') {
  return emulator.state.events.emit(type, { id, object: 'customer' });
}

describe('signed delivery', () => {
  it("delivers the event with a Stripe-Signature that stripe-node's constructEvent accepts, and refuses tampering or the wrong secret", async () => {
    const { id, secret } = await endpoint();
    const event = emit('customer.created');
    expect(event.pending_webhooks).toBe(1);
    await emulator.webhooks.idle();
    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received;
    if (!delivery) throw new Error('one delivery');
    expect(delivery.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const verified = sdk.webhooks.constructEvent(delivery.body, delivery.signature, secret);
    expect(verified).toMatchObject({ id: event.id, type: 'customer.created', object: 'event', data: { object: { id: 'cus_1' } } });
    expect(() => sdk.webhooks.constructEvent(delivery.body.replace('cus_1', 'cus_2'), delivery.signature, secret)).toThrow(Stripe.errors.StripeSignatureVerificationError);
    expect(() => sdk.webhooks.constructEvent(delivery.body, delivery.signature, 'whsec_wrong')).toThrow(Stripe.errors.StripeSignatureVerificationError);
    expect(emulator.state.events.get(event.id)?.pending_webhooks).toBe(0);
    expect(emulator.webhooks.deliveries({ eventId: event.id })).toEqual([
      expect.objectContaining({ endpointId: id, attempt: 1, status: 200, outcome: 'succeeded', duplicate: false, url: receiver.url }),
    ]);
  });

  it('never holds up the API request that caused the event, even when the receiver hangs', async () => {
    await endpoint(['billing_portal.configuration.created']);
    receiver.script.push('hang');
    const configuration = await sdk.billingPortal.configurations.create({ features: { invoice_history: { enabled: true } } });
    expect(configuration.object).toBe('billing_portal.configuration');
    await expect.poll(() => receiver.received.length).toBe(1);
    expect(emulator.webhooks.deliveries()).toEqual([]);
    expect(receiver.received[0]?.eventType).toBe('billing_portal.configuration.created');
  });

  it('sends only the types an enabled endpoint asked for; a disabled endpoint gets nothing', async () => {
    await endpoint(['invoice.paid']);
    const other = await endpoint(['customer.created']);
    await sdk.webhookEndpoints.update(other.id, { disabled: true });
    emit('customer.created');
    const paid = emit('invoice.paid', 'in_1');
    await emulator.webhooks.idle();
    expect(receiver.received.map((r) => r.eventId)).toEqual([paid.id]);
  });
});

describe('retries', () => {
  it('retries a failing receiver with backoff until it answers 2xx', async () => {
    const { secret } = await endpoint();
    receiver.script.push(500, 503);
    const event = emit('invoice.payment_failed', 'in_1');
    await emulator.webhooks.idle();
    expect(emulator.webhooks.deliveries({ eventId: event.id }).map((d) => [d.attempt, d.status, d.outcome])).toEqual([
      [1, 500, 'failed'],
      [2, 503, 'failed'],
      [3, 200, 'succeeded'],
    ]);
    expect(receiver.received.map((r) => r.eventId)).toEqual([event.id, event.id, event.id]);
    // Every attempt is freshly signed and verifiable.
    for (const r of receiver.received) expect(sdk.webhooks.constructEvent(r.body, r.signature, secret).id).toBe(event.id);
    expect(emulator.state.events.get(event.id)?.pending_webhooks).toBe(0);
  });

  it('counts a timeout as a failure and gives up after the last retry, leaving the event pending', async () => {
    emulator.configure({ webhookTimeoutMs: 50, webhookRetryDelaysMs: [1, 1] });
    await endpoint();
    receiver.script.push('hang', 500, 500);
    const event = emit('customer.subscription.deleted', 'sub_1');
    await emulator.webhooks.idle();
    expect(emulator.webhooks.deliveries().map((d) => d.outcome)).toEqual(['timeout', 'failed', 'failed']);
    expect(emulator.state.events.get(event.id)?.pending_webhooks).toBe(1);
  });

  it('stops retrying for an endpoint that was deleted meanwhile', async () => {
    emulator.configure({ webhookRetryDelaysMs: [200] });
    const { id } = await endpoint();
    receiver.script.push(500);
    emit('customer.created');
    await expect.poll(() => emulator.webhooks.deliveries().length).toBe(1);
    await sdk.webhookEndpoints.del(id);
    await emulator.webhooks.idle();
    expect(receiver.received).toHaveLength(1);
  });

  it('reset stops pending retries at once', async () => {
    emulator.configure({ webhookRetryDelaysMs: [60_000] });
    await endpoint();
    receiver.script.push(500);
    emit('customer.created');
    await expect.poll(() => emulator.webhooks.deliveries().length).toBe(1);
    emulator.reset();
    await emulator.webhooks.idle();
    expect(emulator.webhooks.deliveries()).toEqual([]);
    expect(receiver.received).toHaveLength(1);
  });
});

describe('duplicates and reordering knobs', () => {
  it("webhookDuplicates: 'always' delivers every event twice with the same id", async () => {
    emulator.configure({ webhookDuplicates: 'always' });
    await endpoint();
    const a = emit('customer.created', 'cus_a');
    const b = emit('customer.created', 'cus_b');
    await emulator.webhooks.idle();
    expect(receiver.received.map((r) => r.eventId).sort()).toEqual([a.id, a.id, b.id, b.id].sort());
    expect(emulator.webhooks.deliveries().filter((d) => d.duplicate)).toHaveLength(2);
  });

  it('webhookReorderWindowMs holds deliveries and sends them shuffled', async () => {
    emulator.configure({ webhookReorderWindowMs: 30, webhookDuplicates: 0, webhookSeed: 7 });
    await endpoint();
    const emitted = Array.from({ length: 12 }, (_, i) => emit('customer.updated', `cus_${i}`).id);
    await emulator.webhooks.idle();
    const arrived = receiver.received.map((r) => r.eventId);
    expect([...arrived].sort()).toEqual([...emitted].sort());
    expect(arrived).not.toEqual(emitted);
  });

  it('by default some deliveries come twice and out of order, the same for the same seed; webhookDisorder: false is strict', async () => {
    await endpoint();
    const run = async (seed: number) => {
      emulator.configure({ webhookSeed: seed });
      receiver.received.length = 0;
      const emitted = Array.from({ length: 20 }, (_, i) => emit('customer.updated', `cus_${seed}_${i}`).id);
      await emulator.webhooks.idle();
      const arrived = receiver.received.map((r) => emitted.indexOf(r.eventId));
      return { arrived, twice: arrived.filter((index, at) => arrived.indexOf(index) !== at).sort((a, b) => a - b) };
    };
    expect(emulator.knobs()).toMatchObject({ webhookDisorder: true, webhookDuplicates: 0.1, webhookReorderWindowMs: 25 });
    const first = await run(3);
    expect(first.arrived.length).toBeGreaterThan(20);
    expect(first.arrived).not.toEqual([...first.arrived].sort((a, b) => a - b));
    expect(new Set(first.arrived).size).toBe(20);
    // Which events come twice is drawn from the seed (arrival order also depends on the network).
    expect((await run(4)).twice).not.toEqual(first.twice);
    expect((await run(3)).twice).toEqual(first.twice);

    emulator.configure({ webhookDisorder: false });
    const strict = await run(3);
    expect(strict.arrived).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('the knobs are validated and settable over /_emulator/config', async () => {
    const bad = await fetch(`${emulator.url}/_emulator/config`, { method: 'POST', body: JSON.stringify({ webhookDuplicates: 2 }) });
    expect(bad.status).toBe(400);
    const ok = await fetch(`${emulator.url}/_emulator/config`, { method: 'POST', body: JSON.stringify({ webhookDuplicates: 'always', webhookRetryDelaysMs: [5] }) });
    expect(await ok.json()).toMatchObject({ webhookDuplicates: 'always', webhookRetryDelaysMs: [5] });
  });
});

describe('emulator-only routes', () => {
  it('POST /_emulator/webhooks/idle waits for deliveries; GET /_emulator/webhooks/deliveries lists them', async () => {
    const { id } = await endpoint();
    receiver.script.push(500);
    const event = emit('invoice.paid', 'in_1');
    const idle = await fetch(`${emulator.url}/_emulator/webhooks/idle`, { method: 'POST' });
    expect(await idle.json()).toEqual({ idle: true });
    const log = (await (await fetch(`${emulator.url}/_emulator/webhooks/deliveries?endpoint=${id}`)).json()) as { eventId: string; attempt: number }[];
    expect(log.map((d) => [d.eventId, d.attempt])).toEqual([
      [event.id, 1],
      [event.id, 2],
    ]);
    expect(await (await fetch(`${emulator.url}/_emulator/webhooks/deliveries?event=evt_other`)).json()).toEqual([]);
    expect((await fetch(`${emulator.url}/_emulator/webhooks/idle?timeout_ms=soon`, { method: 'POST' })).status).toBe(400);
    expect(emulator.snapshot().webhookDeliveries).toHaveLength(2);
  });
});
