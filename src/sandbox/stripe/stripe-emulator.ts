/**
 * A stateful, in-memory Stripe for tests, benches and the sandbox. stripe-node reaches it with
 * `new Stripe(key, {host, port, protocol: 'http'})` (see `stripeClientOptions`). Knobs (latency,
 * rate limits, random and targeted faults) can be set at creation, with `configure()` or over
 * HTTP on the emulator-only `/_emulator/*` routes, which do not exist on Stripe.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { FaultInjector, type FaultRule } from '../faults/fault-injector.ts';
import { RequestCounters } from '../faults/request-counters.ts';
import { TokenBucket } from '../faults/token-bucket.ts';
import { listen, type FetchHandler, type RunningService } from '../running-service.ts';
import { IdempotencyStore } from './idempotency.ts';
import { createStripeApiHandler, STRIPE_FAULT_KINDS, type StripeApiSettings, type StripeFaultKind } from './stripe-api.ts';
import { StripeState } from './stripe-state.ts';
import { viewSubscription } from './views.ts';

export { STRIPE_FAULT_KINDS, STRIPE_ROUTES, type StripeFaultKind } from './stripe-api.ts';
export { StripeState } from './stripe-state.ts';

const knobsSchema = z
  .object({
    /** Added to every call (half before, half while "processing"). */
    latencyMs: z.number().min(0).max(600_000),
    /** Writes (POST/DELETE) per second; null or 0 = unlimited. Stripe test mode allows 25. */
    writeRateLimit: z.number().min(0).nullable(),
    /** Reads per second; null or 0 = unlimited. */
    readRateLimit: z.number().min(0).nullable(),
    /** Probability 0..1 that a call gets a random fault. */
    faultRate: z.number().min(0).max(1),
    faultSeed: z.number().int(),
    faultKinds: z.array(z.enum(STRIPE_FAULT_KINDS as [StripeFaultKind, ...StripeFaultKind[]])).min(1),
    faultWhen: z.enum(['before', 'after', 'mixed']),
    /** Allowed secret keys; null accepts any sk_test_/rk_test_ key. */
    apiKeys: z.array(z.string().min(1)).nullable(),
    /** Longest a 'timeout' fault holds a request before dropping it (stripe-node times out at 80 s). */
    hangMs: z.number().min(0).max(600_000),
  })
  .strict();

export type StripeEmulatorKnobs = z.infer<typeof knobsSchema>;

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
};

export interface StripeEmulatorOptions extends Partial<StripeEmulatorKnobs> {
  /** Clock in milliseconds (object timestamps, idempotency expiry, rate limits). */
  now?: () => number;
}

/** Emulator-only view of everything stored (prices include their tiers). */
export interface StripeEmulatorSnapshot {
  customers: object[];
  products: object[];
  prices: object[];
  meters: object[];
  meterEvents: object[];
  subscriptions: object[];
}

export interface StripeEmulator {
  /** Hono app with the emulator-only routes; `fetch` serves both these and the Stripe API. */
  app: Hono;
  fetch: FetchHandler;
  state: StripeState;
  faults: FaultInjector<StripeFaultKind>;
  counters: RequestCounters;
  knobs(): StripeEmulatorKnobs;
  /** Changes knobs at runtime; unspecified ones keep their value. Setting fault* restarts the seeded sequence. */
  configure(knobs: Partial<StripeEmulatorKnobs>): void;
  snapshot(): StripeEmulatorSnapshot;
  /** Empties the account, counters, idempotency keys, fault rules; knobs go back to the creation options. */
  reset(): void;
  /** Releases requests held by 'timeout' faults. */
  close(): void;
}

export function createStripeEmulator(options: StripeEmulatorOptions = {}): StripeEmulator {
  const { now = Date.now, ...initial } = options;
  const initialKnobs = knobsSchema.parse({ ...DEFAULT_STRIPE_KNOBS, ...initial });
  let knobs: StripeEmulatorKnobs = initialKnobs;
  const state = new StripeState(() => Math.floor(now() / 1000));
  const counters = new RequestCounters();
  const faults = new FaultInjector<StripeFaultKind>(STRIPE_FAULT_KINDS);
  const idempotency = new IdempotencyStore(now);
  const writeLimit = new TokenBucket(undefined, now);
  const readLimit = new TokenBucket(undefined, now);
  const settings: StripeApiSettings = { latencyMs: 0, apiKeys: undefined, hangMs: 0 };
  let stop = new AbortController();

  function apply(next: StripeEmulatorKnobs, previous: StripeEmulatorKnobs | undefined): void {
    settings.latencyMs = next.latencyMs;
    settings.apiKeys = next.apiKeys ?? undefined;
    settings.hangMs = next.hangMs;
    if (next.writeRateLimit !== previous?.writeRateLimit) writeLimit.setRate(next.writeRateLimit ?? undefined);
    if (next.readRateLimit !== previous?.readRateLimit) readLimit.setRate(next.readRateLimit ?? undefined);
    const faultsChanged =
      !previous ||
      next.faultRate !== previous.faultRate ||
      next.faultSeed !== previous.faultSeed ||
      next.faultWhen !== previous.faultWhen ||
      next.faultKinds.join() !== previous.faultKinds.join();
    if (faultsChanged) faults.setRandom({ rate: next.faultRate, seed: next.faultSeed, kinds: next.faultKinds, when: next.faultWhen });
    knobs = next;
  }
  apply(initialKnobs, undefined);

  const handleApi = createStripeApiHandler({ state, settings, faults, counters, idempotency, writeLimit, readLimit, stop: () => stop.signal });

  const emulator: StripeEmulator = {
    app: new Hono(),
    fetch: (request, env) => (new URL(request.url).pathname.startsWith('/_emulator/') ? emulator.app.fetch(request, env) : handleApi(request, env)),
    state,
    faults,
    counters,
    knobs: () => structuredClone(knobs),
    configure(partial) {
      apply(knobsSchema.parse({ ...knobs, ...partial }), knobs);
    },
    snapshot() {
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
      });
    },
    reset() {
      stop.abort();
      stop = new AbortController();
      state.clear();
      counters.reset();
      faults.clear();
      idempotency.clear();
      apply(initialKnobs, undefined);
      writeLimit.setRate(initialKnobs.writeRateLimit ?? undefined);
      readLimit.setRate(initialKnobs.readRateLimit ?? undefined);
    },
    close() {
      stop.abort();
    },
  };
  mountEmulatorRoutes(emulator);
  return emulator;
}

/** A fault rule as JSON (for POST /_emulator/faults): `pathPattern` is a RegExp source, `params` must all equal. */
const faultRuleSchema = z
  .object({
    kind: z.enum(STRIPE_FAULT_KINDS as [StripeFaultKind, ...StripeFaultKind[]]),
    method: z.string().optional(),
    path: z.string().optional(),
    pathPattern: z.string().optional(),
    params: z.record(z.string(), z.string()).optional(),
    when: z.enum(['before', 'after']).optional(),
    times: z.number().int().min(0).optional(),
    skip: z.number().int().min(0).optional(),
  })
  .strict();

function mountEmulatorRoutes(emulator: StripeEmulator): void {
  const { app } = emulator;
  const badRequest = (message: string) => ({ error: { type: 'emulator_error', message } });
  app.get('/_emulator/state', (c) => c.json(emulator.snapshot()));
  app.get('/_emulator/customers', (c) => {
    const email = c.req.query('email');
    return c.json(emulator.snapshot().customers.filter((customer) => email === undefined || (customer as { email: string | null }).email === email));
  });
  app.get('/_emulator/subscriptions', (c) => {
    const customer = c.req.query('customer');
    return c.json(emulator.snapshot().subscriptions.filter((sub) => customer === undefined || (sub as { customer: string }).customer === customer));
  });
  app.get('/_emulator/counters', (c) => c.json(emulator.counters.snapshot()));
  app.get('/_emulator/config', (c) => c.json(emulator.knobs()));
  app.post('/_emulator/config', async (c) => {
    const parsed = knobsSchema.partial().safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json(badRequest(z.prettifyError(parsed.error)), 400);
    emulator.configure(parsed.data);
    return c.json(emulator.knobs());
  });
  app.get('/_emulator/faults', (c) => c.json({ random: emulator.faults.random ?? null, fired: emulator.faults.fired }));
  app.post('/_emulator/faults', async (c) => {
    const parsed = faultRuleSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json(badRequest(z.prettifyError(parsed.error)), 400);
    const { pathPattern, params, path, ...rest } = parsed.data;
    const rule: FaultRule<StripeFaultKind> = { ...rest };
    if (pathPattern !== undefined) rule.path = new RegExp(pathPattern);
    else if (path !== undefined) rule.path = path;
    if (params)
      rule.match = (request) =>
        Object.entries(params).every(([name, value]) => (request.params as Record<string, unknown> | undefined)?.[name] === value);
    emulator.faults.add(rule);
    return c.json({ added: parsed.data }, 201);
  });
  app.delete('/_emulator/faults', (c) => {
    emulator.faults.clear();
    emulator.configure({ faultRate: 0 });
    return c.body(null, 204);
  });
  app.post('/_emulator/reset', (c) => {
    emulator.reset();
    return c.body(null, 204);
  });
  app.notFound((c) => c.json(badRequest(`No emulator route ${c.req.method} ${c.req.path}`), 404));
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
  const emulator = createStripeEmulator(rest);
  const running = await listen('stripe-emulator', emulator.fetch, port, host);
  return {
    ...emulator,
    name: running.name,
    url: running.url,
    port: running.port,
    clientOptions: stripeClientOptions(running),
    async close() {
      emulator.close();
      await running.close();
    },
  };
}
