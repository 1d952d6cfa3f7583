// Usage alerts against the Stripe emulator: 80 % and 100 % once per threshold per period, with two
// provisioner processes (two Stripe clients) acting on the same figures at once.
import { createServer } from 'node:http';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeEmulator, type RunningStripeEmulator } from '../../sandbox/stripe/stripe-emulator.ts';
import { silentLogger } from '../../shared/provision-log.ts';
import { ALERT_SIGNATURE_HEADER, reachedThreshold, sendUsageAlerts, signAlertBody, webhookChannel, type AlertChannel, type UsageAlert } from './usage-alerts.ts';

let emulator: RunningStripeEmulator;
const client = () => new Stripe('sk_test_emulator', { ...emulator.clientOptions, maxNetworkRetries: 0 });

beforeAll(async () => {
  emulator = await startStripeEmulator();
});
afterAll(() => emulator.close());

function capture(): AlertChannel & { seen: UsageAlert[] } {
  const seen: UsageAlert[] = [];
  return { name: 'capture', seen, send: async (alert) => void seen.push(alert) };
}

const periodEnd = 1_900_000_000;
const quotaPlan = { limits: { quota: { calls: 1000, enforcement: 'soft' as const } } };

async function run(stripe: Stripe, channel: AlertChannel, customerId: string, calls: number, amountSoFar = 0, end = periodEnd) {
  const customer = await stripe.customers.retrieve(customerId) as Stripe.Customer;
  return sendUsageAlerts(
    { stripe, channels: [channel], logger: silentLogger },
    { plan: quotaPlan, customer, usage: { calls, amountSoFar, currency: 'usd', periodEnd: end }, developerId: 'dev-1', email: 'dev@example.com' },
  );
}

describe('usage alerts', () => {
  it('thresholds: 80 % and 100 %', () => {
    expect([799, 800, 999, 1000, 5000].map((used) => reachedThreshold(used, 1000))).toEqual([undefined, 80, 80, 100, 100]);
  });

  it('80 % alerts once, 100 % once, across two processes at once and on later runs; a new period alerts again', async () => {
    const stripe = client();
    const customer = await stripe.customers.create({ email: 'dev@example.com' });
    const [a, b] = [capture(), capture()];
    await run(stripe, a, customer.id, 500);
    // Both processes see 85 % at the same moment.
    await Promise.all([run(client(), a, customer.id, 850), run(client(), b, customer.id, 850)]);
    expect([...a.seen, ...b.seen].map((alert) => [alert.kind, alert.threshold])).toEqual([['quota', 80]]);
    await run(stripe, a, customer.id, 900);
    await Promise.all([run(client(), a, customer.id, 1000), run(client(), b, customer.id, 1001)]);
    await run(stripe, b, customer.id, 1200);
    expect([...a.seen, ...b.seen].map((alert) => alert.threshold).sort()).toEqual([100, 80]);
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).metadata.kpm_alert_quota).toBe(`${periodEnd}:100`);
    // The next period starts from nothing sent.
    a.seen.length = 0;
    await run(stripe, a, customer.id, 800, 0, periodEnd + 30 * 86_400);
    expect(a.seen.map((alert) => [alert.threshold, alert.periodEnd])).toEqual([[80, periodEnd + 30 * 86_400]]);
  });

  it('the spend cap alerts the same way, with the cap in the message', async () => {
    const stripe = client();
    const customer = await stripe.customers.create({ email: 'cap@example.com', metadata: { kpm_spend_cap: '5000' } });
    const channel = capture();
    await run(stripe, channel, customer.id, 0, 4000);
    await run(stripe, channel, customer.id, 0, 4100);
    expect(channel.seen).toEqual([expect.objectContaining({ kind: 'spend_cap', threshold: 80, used: 4000, limit: 5000, currency: 'usd' })]);
  });

  it('the admin webhook gets a signed JSON body', async () => {
    const received: Array<{ body: string; signature: string | undefined }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ body, signature: req.headers[ALERT_SIGNATURE_HEADER] as string | undefined });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const secret = 'alert-secret-0123456789';
      const channel = webhookChannel(`http://127.0.0.1:${port}/alerts`, secret, () => 1_800_000_000_000);
      await channel.send({ kind: 'quota', threshold: 100, developerId: 'dev-1', email: 'dev@example.com', used: 1000, limit: 1000, periodEnd });
      expect(received).toHaveLength(1);
      const { body, signature } = received[0]!;
      expect(JSON.parse(body)).toMatchObject({ type: 'usage_alert.quota', threshold: 100, developer_id: 'dev-1', used: 1000, limit: 1000 });
      expect(signature).toBe(signAlertBody(body, secret, 1_800_000_000));
    } finally {
      server.close();
    }
  });
});
