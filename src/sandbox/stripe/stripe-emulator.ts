/**
 * A stateful, in-memory Stripe for tests, benches and the sandbox. stripe-node reaches it with
 * `new Stripe(key, {host, port, protocol: 'http'})` (see `stripeClientOptions`). Knobs (latency,
 * rate limits, random and targeted faults) can be set at creation, with `configure()` or over
 * HTTP on the emulator-only `/_emulator/*` routes, which do not exist on Stripe.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import {
  EmulatorKnobs,
  faultRuleFields,
  faultRuleFromJson,
  HeldRequests,
  mountControlRoutes,
  randomFaultKnobFields,
  serveEmulator,
  withControlRoutes,
} from '../faults/emulator-control.ts';
import { FaultInjector } from '../faults/fault-injector.ts';
import { RequestCounters } from '../faults/request-counters.ts';
import { TokenBucket } from '../faults/token-bucket.ts';
import type { FetchHandler, RunningService } from '../running-service.ts';
import { accountTime, mountAccountClockRoutes, type AccountTime } from './account-clock.ts';
import { IdempotencyStore } from './idempotency.ts';
import { createStripeApiHandler, STRIPE_FAULT_KINDS, type StripeApiSettings, type StripeFaultKind } from './stripe-api.ts';
import { StripeState } from './stripe-state.ts';
import { viewSubscription } from './views.ts';
import { DEFAULT_WEBHOOK_KNOBS, WebhookDelivery, webhookKnobFields, webhookSettingsFrom, type DeliveryRecord, type WebhookDeliverySettings } from './webhook-delivery.ts';
import { mountWebhookRoutes, type StripeWebhooks } from './webhook-routes.ts';
import { mountHostedCheckout } from './hosted-checkout.ts';
import { mountHostedPortal } from './hosted-portal.ts';
import { mountHostedInvoice } from './hosted-invoice.ts';

export type { StripeFaultKind } from './stripe-api.ts';
export { advanceAccountClock } from './account-clock.ts';

const knobsSchema = z
  .object({
    /** Added to every call (half before, half while "processing"). */
    latencyMs: z.number().min(0).max(600_000),
    /** Writes (POST/DELETE) per second; null or 0 = unlimited. Stripe test mode allows 25. */
    writeRateLimit: z.number().min(0).nullable(),
    /** Reads per second; null or 0 = unlimited. */
    readRateLimit: z.number().min(0).nullable(),
    ...randomFaultKnobFields(STRIPE_FAULT_KINDS),
    /** Allowed secret keys; null accepts any sk_test_/rk_test_ key. */
    apiKeys: z.array(z.string().min(1)).nullable(),
    /** Longest a 'timeout' fault holds a request before dropping it (stripe-node times out at 80 s). */
    hangMs: z.number().min(0).max(600_000),
    ...webhookKnobFields,
    /**
     * Stand for the account's Dashboard settings (Billing > Revenue recovery): days between
     * payment retries of a failed invoice (each counted from the previous attempt; the last
     * one ends dunning) and what the subscription becomes when dunning ends unpaid. The default
     * stands for Smart Retries at Stripe's recommended default policy, 8 tries within 2 weeks
     * (the first attempt and 7 retries, the last on day 14). Smart Retries picks each time with a
     * model, so the exact days cannot be confirmed; the emulator spaces them on a fixed schedule.
     * No retry without a payment method, after a hard decline, or when the bank asks for
     * authentication (invoice-lifecycle.ts). That "cancel the subscription" is the default final
     * action was not confirmed either; it is the stricter choice for access.
     */
    dunningRetryDays: z.array(z.number().int().min(1).max(60)).min(1).max(8),
    dunningFinalStatus: z.enum(['unpaid', 'canceled']),
    /** Dashboard setting too: days before a renewal that invoice.upcoming is sent. */
    upcomingRenewalDays: z.number().int().min(1).max(45),
    /** Stripe aggregates meter events asynchronously: event summaries and invoice previews see an event this many ms after it arrived. */
    meterAggregationLagMs: z.number().int().min(0).max(3_600_000),
  })
  .strict();

export type StripeEmulatorKnobs = z.infer<typeof knobsSchema>;

/** Days between tries for Smart Retries' recommended default (8 tries within 2 weeks). */
export const SMART_RETRY_DAYS = [1, 1, 2, 2, 2, 3, 3];

export const DEFAULT_STRIPE_KNOBS: StripeEmulatorKnobs = {
  latencyMs: 0,
  writeRateLimit: null,
  readRateLimit: null,
  faultRate: 0,
  faultSeed: 1,
  faultKinds: ['500', 'drop'],
  faultWhen: 'before',
  apiKeys: null,
  hangMs: 90_000,
  ...DEFAULT_WEBHOOK_KNOBS,
  dunningRetryDays: SMART_RETRY_DAYS,
  dunningFinalStatus: 'canceled',
  upcomingRenewalDays: 7,
  // "A few seconds" in Stripe's docs; an invoice built by a clock advance sees every event (the advance takes longer).
  meterAggregationLagMs: 3000,
};

export interface StripeEmulatorOptions extends Partial<StripeEmulatorKnobs> {
  /** Clock in milliseconds (object timestamps, idempotency expiry, rate limits). */
  now?: () => number;
}

/** Emulator-only view of everything stored (prices include their tiers). */
interface StripeEmulatorSnapshot {
  customers: object[];
  products: object[];
  prices: object[];
  meters: object[];
  meterEvents: object[];
  subscriptions: object[];
  paymentMethods: object[];
  invoices: object[];
  testClocks: object[];
  events: object[];
  /** The emulator-only account clock. */
  time: AccountTime;
  /** Webhook endpoints without their secrets. */
  webhookEndpoints: object[];
  /** Every webhook delivery attempt, oldest first. */
  webhookDeliveries: DeliveryRecord[];
}

/** Emulator-only access to webhook delivery. */
interface StripeEmulator {
  /** Hono app with the emulator-only routes; `fetch` serves both these and the Stripe API. */
  app: Hono;
  fetch: FetchHandler;
  state: StripeState;
  faults: FaultInjector<StripeFaultKind>;
  counters: RequestCounters;
  webhooks: StripeWebhooks;
  knobs(): StripeEmulatorKnobs;
  /** Changes knobs at runtime; unspecified ones keep their value. Setting fault* restarts the seeded sequence. */
  configure(knobs: Partial<StripeEmulatorKnobs>): void;
  snapshot(): StripeEmulatorSnapshot;
  /** Empties the account, counters, idempotency keys, fault rules, pending webhooks; knobs go back to the creation options. */
  reset(): void;
  /** Releases requests held by 'timeout' faults and stops pending webhook deliveries. */
  close(): void;
}

/** Everything stored, oldest first, as the emulator-only snapshot shows it. */
function snapshotOf(state: StripeState, delivery: WebhookDelivery): StripeEmulatorSnapshot {
  return structuredClone({
    customers: state.customers.newestFirst().reverse(),
    products: state.products.newestFirst().reverse(),
    prices: state.prices
      .newestFirst()
      .reverse()
      .map((price) => {
        const tiers = state.priceTiers.get(price.id);
        return tiers ? { ...price, tiers } : price;
      }),
    meters: state.meters.newestFirst().reverse(),
    meterEvents: [...state.meterEvents],
    subscriptions: state.subscriptions
      .newestFirst()
      .reverse()
      .map((subscription) => viewSubscription(state, subscription)),
    webhookEndpoints: state.webhookEndpoints.newestFirst().reverse(),
    webhookDeliveries: [...delivery.log],
    paymentMethods: state.paymentMethods.newestFirst().reverse(),
    invoices: state.invoices.newestFirst().reverse(),
    testClocks: state.testClocks.newestFirst().reverse(),
    events: state.events.newestFirst().reverse(),
    time: accountTime(state),
  });
}

function webhooksOf(state: StripeState, delivery: WebhookDelivery): StripeWebhooks {
  return {
    idle: () => delivery.idle(),
    deliveries: (filter = {}) =>
      structuredClone(delivery.log.filter((r) => (filter.eventId === undefined || r.eventId === filter.eventId) && (filter.endpointId === undefined || r.endpointId === filter.endpointId))),
    secret: (endpointId) => state.webhookSecrets.get(endpointId),
  };
}

export function createStripeEmulator(options: StripeEmulatorOptions = {}): StripeEmulator {
  const { now = Date.now, ...initial } = options;
  const state = new StripeState(() => Math.floor(now() / 1000), now);
  const counters = new RequestCounters();
  const faults = new FaultInjector<StripeFaultKind>(STRIPE_FAULT_KINDS);
  const idempotency = new IdempotencyStore(now);
  const writeLimit = new TokenBucket(undefined, now);
  const readLimit = new TokenBucket(undefined, now);
  const settings: StripeApiSettings = { latencyMs: 0, apiKeys: undefined, hangMs: 0 };
  const webhookSettings: WebhookDeliverySettings = webhookSettingsFrom(DEFAULT_WEBHOOK_KNOBS);
  // Without `previous` (creation, reset) both buckets are set, which also refills them.
  const knobs = new EmulatorKnobs(knobsSchema, { ...DEFAULT_STRIPE_KNOBS, ...initial }, faults, (next, previous) => {
    settings.latencyMs = next.latencyMs;
    settings.apiKeys = next.apiKeys ?? undefined;
    settings.hangMs = next.hangMs;
    Object.assign(webhookSettings, webhookSettingsFrom(next));
    state.meterAggregationLagMs = next.meterAggregationLagMs;
    state.dunning = { retryDays: [...next.dunningRetryDays], finalStatus: next.dunningFinalStatus, upcomingRenewalDays: next.upcomingRenewalDays };
    if (next.writeRateLimit !== previous?.writeRateLimit) writeLimit.setRate(next.writeRateLimit ?? undefined);
    if (next.readRateLimit !== previous?.readRateLimit) readLimit.setRate(next.readRateLimit ?? undefined);
  });
  const held = new HeldRequests();
  const delivery = new WebhookDelivery(state, webhookSettings);

  const handleApi = createStripeApiHandler({ state, settings, faults, counters, idempotency, writeLimit, readLimit, stop: () => held.signal });

  const app = new Hono();
  const routed = withControlRoutes(app, handleApi);
  const emulator: StripeEmulator = {
    app,
    // /_hosted/* are the emulator's stand-ins for Stripe-hosted pages (Checkout, customer portal, invoices).
    fetch: (request, env) => (new URL(request.url).pathname.startsWith('/_hosted/') ? app.fetch(request, env) : routed(request, env)),
    state,
    faults,
    counters,
    webhooks: webhooksOf(state, delivery),
    knobs: () => knobs.snapshot(),
    configure(partial) {
      knobs.configure(partial);
    },
    snapshot: () => snapshotOf(state, delivery),
    reset() {
      held.releaseAll();
      delivery.stop();
      state.clear();
      counters.reset();
      faults.clear();
      idempotency.clear();
      knobs.reset();
    },
    close() {
      held.releaseAll();
      delivery.stop();
    },
  };
  mountEmulatorRoutes(emulator);
  return emulator;
}

/** A fault rule as JSON (for POST /_emulator/faults): `pathPattern` is a RegExp source, `params` must all equal. */
const { kind, path, pathPattern, when, times, skip } = faultRuleFields(STRIPE_FAULT_KINDS);
const faultRuleSchema = z
  .object({ kind, method: z.string().optional(), path, pathPattern, params: z.record(z.string(), z.string()).optional(), when, times, skip })
  .strict();

function mountEmulatorRoutes(emulator: StripeEmulator): void {
  const { app } = emulator;
  app.get('/_emulator/state', (c) => c.json(emulator.snapshot()));
  mountAccountClockRoutes(app, emulator.state);
  app.get('/_emulator/customers', (c) => {
    const email = c.req.query('email');
    return c.json(emulator.snapshot().customers.filter((customer) => email === undefined || (customer as { email: string | null }).email === email));
  });
  app.get('/_emulator/subscriptions', (c) => {
    const customer = c.req.query('customer');
    return c.json(emulator.snapshot().subscriptions.filter((sub) => customer === undefined || (sub as { customer: string }).customer === customer));
  });
  // Emulator-only: the invoices in a few readable fields, newest first (the sandbox's "see money move").
  app.get('/_emulator/invoices', (c) => {
    const { state } = emulator;
    return c.json(
      state.invoices.newestFirst().map((invoice) => ({
        id: invoice.id,
        customer_email: state.customers.get(invoice.customer as string)?.email ?? null,
        status: invoice.status,
        period: [new Date(invoice.period_start * 1000).toISOString(), new Date(invoice.period_end * 1000).toISOString()],
        amount_due: invoice.amount_due,
        amount_paid: invoice.amount_paid,
        currency: invoice.currency,
        attempt_count: invoice.attempt_count,
        lines: invoice.lines.data.map((line) => ({ description: line.description, quantity: line.quantity, amount: line.amount })),
      })),
    );
  });
  mountWebhookRoutes(emulator);
  mountHostedCheckout(emulator.app, emulator.state);
  mountHostedPortal(emulator.app, emulator.state, { settle: () => emulator.webhooks.idle() });
  mountHostedInvoice(emulator.app, emulator.state);
  mountControlRoutes(emulator, {
    partialKnobs: knobsSchema.partial(),
    faultRule: faultRuleSchema,
    toFaultRule: ({ params, ...json }) => {
      const rule = faultRuleFromJson(json);
      if (params)
        rule.match = (request) => Object.entries(params).every(([name, value]) => (request.params as Record<string, unknown> | undefined)?.[name] === value);
      return rule;
    },
  });
}

export interface RunningStripeEmulator extends RunningService, Omit<StripeEmulator, 'close'> {
  /** Options for `new Stripe(key, {...stripeClientOptions, maxNetworkRetries})`. */
  clientOptions: { host: string; port: number; protocol: 'http' };
}

/** Options that point stripe-node at a running emulator. */
export function stripeClientOptions(service: { url: string }): { host: string; port: number; protocol: 'http' } {
  const url = new URL(service.url);
  return { host: url.hostname, port: Number(url.port), protocol: 'http' };
}

export async function startStripeEmulator(options: StripeEmulatorOptions & { port?: number; host?: string } = {}): Promise<RunningStripeEmulator> {
  const { port = 0, host = '127.0.0.1', ...rest } = options;
  const running = await serveEmulator('stripe-emulator', createStripeEmulator(rest), port, host);
  return { ...running, clientOptions: stripeClientOptions(running) };
}
