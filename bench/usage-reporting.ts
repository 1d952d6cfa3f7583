/**
 * Benchmark: usage reporting for 50,000 developers, a few of them active in the window (the rest
 * idle). Stripe's test-mode limits are in force in the emulator (25 reads/s, 25 writes/s) and the
 * reporter paces itself at the provisioner's 20/s. Measures the Moesif Management API queries per
 * window (goal: pages of 1,000 companies, not one per developer), Stripe meter event calls per
 * active customer (goal <= 1.05), the window's wall time, that Stripe's totals equal Moesif's
 * billable counts, and the delay from a call to the panel (computed from the settings plus the
 * measured run, since the windows are an hour long).
 */
import Stripe from 'stripe';
import { parseUsageSettings } from '../src/provisioner/usage/usage-settings.ts';
import { createUsageService } from '../src/provisioner/usage/usage-service.ts';
import { createWriteLimiter } from '../src/provisioner/stripe/write-limiter.ts';
import { startMoesifEmulator } from '../src/sandbox/moesif/moesif-emulator.ts';
import { startStripeEmulator } from '../src/sandbox/stripe/stripe-emulator.ts';
import type { BenchScenario } from './bench-types.ts';
import { mapPool } from './support/pool.ts';
import { round } from './support/stats.ts';

const TOKEN = 'bench-management-token';
const TEST_MODE_LIMIT = 25;
const KEY = 'sk_test_bench_usage';

async function seedActive(stripeEmulator: Awaited<ReturnType<typeof startStripeEmulator>>, active: number): Promise<string[]> {
  const inProcessFetch: typeof fetch = async (input, init) => stripeEmulator.fetch(new Request(input, init), undefined);
  const stripe = new Stripe(KEY, { ...stripeEmulator.clientOptions, httpClient: Stripe.createFetchHttpClient(inProcessFetch), maxNetworkRetries: 0, telemetry: false });
  const meter = await stripe.billing.meters.create({ display_name: 'API calls', event_name: 'api_calls', default_aggregation: { formula: 'sum' } });
  const product = await stripe.products.create({ name: 'API' });
  const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount_decimal: Stripe.Decimal.from('0.5'), recurring: { interval: 'month', usage_type: 'metered', meter: meter.id } });
  const indexes = Array.from({ length: active }, (_, i) => i);
  return mapPool(indexes, 16, async (i) => {
    const customer = await stripe.customers.create({ email: `dev${i}@example.com` });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    return subscription.id;
  });
}

export const usageReportingScenario: BenchScenario = {
  name: 'usage',
  summary: 'usage reporting for 50,000 developers (2% active) at Stripe test-mode limits: Moesif queries and meter events per window, wall time',
  async run({ quick, log }) {
    const developers = quick ? 5000 : 50_000;
    const active = Math.round(developers * 0.02);
    const stripeEmulator = await startStripeEmulator();
    const moesif = await startMoesifEmulator({ managementTokens: [TOKEN] });
    try {
      log(`seeding ${active} active subscriptions and ${developers} Moesif users`);
      const subscriptions = await seedActive(stripeEmulator, active);
      const now = Date.now();
      const windowStart = Math.floor(now / 3_600_000) * 3_600_000 - 3_600_000;
      let billable = 0;
      for (let i = 0; i < developers; i++) moesif.store.upsertUser({ user_id: `dev${i}@example.com`, ...(i < active ? { company_id: subscriptions[i] as string } : {}) });
      for (let i = 0; i < active; i++)
        for (let call = 0; call < 1 + (i % 20); call++) {
          const status = call % 10 === 9 ? 402 : 200;
          if (status === 200) billable++;
          const time = new Date(windowStart + ((i * 37 + call * 101) % 3_600_000)).toISOString();
          moesif.store.addEvent({ request: { time, uri: '/x', verb: 'GET' }, response: { time, status }, user_id: `dev${i}@example.com` }, new Date(windowStart));
        }
      stripeEmulator.configure({ writeRateLimit: TEST_MODE_LIMIT, readRateLimit: TEST_MODE_LIMIT });
      stripeEmulator.counters.reset(); // the seeding's calls are not the reporter's
      const settings = parseUsageSettings({ MOESIF_MANAGEMENT_TOKEN: TOKEN, MOESIF_MANAGEMENT_API_BASE: moesif.url });
      const stripe = new Stripe(KEY, { ...stripeEmulator.clientOptions, maxNetworkRetries: 2, telemetry: false });
      const service = createUsageService(settings, { stripe, writeLimiter: createWriteLimiter({ ratePerSecond: 20 }), companyIdSource: 'subscription' });
      log(`reporting one window for ${active} active customers`);
      const started = performance.now();
      const report = await service.reporter.reportWindow({ start: windowStart / 1000, end: windowStart / 1000 + 3600 });
      const wallS = (performance.now() - started) / 1000;
      const sentValue = stripeEmulator.state.meterEvents.reduce((sum, event) => sum + Number(event.payload.value), 0);
      const counters = stripeEmulator.counters.snapshot();
      const perActive = service.sink.sendCalls / active;
      const failed = report.companies.filter((c) => c.outcome === 'failed').length;
      const lag = settings.lagMinutes * 60;
      const worstDelayS = settings.windowMinutes * 60 + lag + settings.intervalSeconds + wallS + 3 + settings.previewCacheSeconds;
      const bestDelayS = lag + wallS + 3;
      return [
        {
          id: 'usage-reporting',
          title: `Usage reporting: ${developers.toLocaleString('en-US')} developers, ${active} active, Stripe at test-mode limits`,
          metrics: {
            moesif_queries_per_window: service.moesif.requests,
            meter_event_calls: service.sink.sendCalls,
            meter_event_calls_per_active_customer: round(perActive, 3),
            stripe_calls_total: counters.total,
            stripe_429s: counters.rateLimited,
            wall_s: round(wallS),
            customers_failed: failed,
            moesif_billable_calls: billable,
            stripe_reported_calls: sentValue,
            call_to_panel_delay_best_s: round(bestDelayS),
            call_to_panel_delay_worst_s: round(worstDelayS),
          },
          parameters: { developers, active, window_minutes: settings.windowMinutes, ingestion_lag_minutes: settings.lagMinutes, report_interval_s: settings.intervalSeconds, stripe_limit_per_s: TEST_MODE_LIMIT, client_writes_per_s: 20, preview_cache_s: settings.previewCacheSeconds },
          goals: [
            { description: 'Moesif queries per window: pages of 1,000 companies, not one per developer', met: service.moesif.requests <= Math.ceil(active / 1000) + 1 },
            { description: 'meter event calls per active customer <= 1.05', met: perActive <= 1.05 },
            { description: "Stripe's total equals Moesif's billable count (402s excluded), none failed", met: sentValue === billable && failed === 0 },
          ],
          notes: [
            'Idle developers have no Moesif bucket and cost nothing; Stripe reads are the bulk subscription pages (100 a page) shared with the meter events on the 20/s client budget.',
            'Call-to-panel delay is computed: best = ingestion lag + the run + Stripe aggregation (~3 s); worst = window + lag + timer interval + the run + aggregation + the panel cache.',
          ],
        },
      ];
    } finally {
      await Promise.all([moesif.close(), stripeEmulator.close()]);
    }
  },
};
