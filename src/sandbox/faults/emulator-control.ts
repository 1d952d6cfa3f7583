/**
 * What the Stripe and Moesif emulators share around their fake APIs: knobs validated with zod
 * (seeded random faults restart when their knobs change), the release of requests held by
 * 'timeout' faults, the emulator-only control routes (/_emulator/config, faults, counters, reset;
 * the real services have none of them) and serving the whole on a port.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { listen, type FetchHandler, type RunningService } from '../running-service.ts';
import type { FaultInjector, FaultRule, FaultTiming } from './fault-injector.ts';
import type { RequestCounters } from './request-counters.ts';

/** The knobs every emulator has for seeded random faults. */
interface RandomFaultKnobs<K extends string> {
  /** Probability 0..1 that a call gets a random fault. */
  faultRate: number;
  faultSeed: number;
  faultKinds: K[];
  faultWhen: FaultTiming | 'mixed';
}

/** The zod fields of RandomFaultKnobs, to spread into an emulator's knobs schema. */
export function randomFaultKnobFields<K extends string>(kinds: readonly K[]) {
  return {
    faultRate: z.number().min(0).max(1),
    faultSeed: z.number().int(),
    faultKinds: z.array(z.enum(kinds as [K, ...K[]])).min(1),
    faultWhen: z.enum(['before', 'after', 'mixed']),
  };
}

/**
 * An emulator's current knobs. configure() validates the merged knobs before anything changes;
 * `onApply` carries knobs that live elsewhere (rate limits, handler settings) over.
 */
export class EmulatorKnobs<K extends string, T extends RandomFaultKnobs<K>> {
  readonly #schema: z.ZodType<T>;
  readonly #faults: FaultInjector<K>;
  readonly #onApply: (next: T, previous: T | undefined) => void;
  readonly #initial: T;
  #current: T;

  constructor(schema: z.ZodType<T>, initial: T, faults: FaultInjector<K>, onApply: (next: T, previous: T | undefined) => void = () => {}) {
    this.#schema = schema;
    this.#faults = faults;
    this.#onApply = onApply;
    this.#initial = schema.parse(initial);
    this.#current = this.#initial;
    this.#apply(this.#initial, undefined);
  }

  /** The live knobs, for the request handler (read only). */
  get current(): T {
    return this.#current;
  }

  /** A copy callers may keep or change. */
  snapshot(): T {
    return structuredClone(this.#current);
  }

  /** Unspecified knobs keep their value; changing a fault* knob restarts the seeded sequence. */
  configure(partial: Partial<T>): void {
    this.#apply(this.#schema.parse({ ...this.#current, ...partial }), this.#current);
  }

  /** Back to the creation options. */
  reset(): void {
    this.#apply(this.#initial, undefined);
  }

  #apply(next: T, previous: T | undefined): void {
    this.#onApply(next, previous);
    const faultsChanged =
      !previous ||
      next.faultRate !== previous.faultRate ||
      next.faultSeed !== previous.faultSeed ||
      next.faultWhen !== previous.faultWhen ||
      next.faultKinds.join() !== previous.faultKinds.join();
    if (faultsChanged) this.#faults.setRandom({ rate: next.faultRate, seed: next.faultSeed, kinds: next.faultKinds, when: next.faultWhen });
    this.#current = next;
  }
}

/** Lets reset() and close() release the requests 'timeout' faults are holding. */
export class HeldRequests {
  #stop = new AbortController();

  /** Aborts when the held requests must be let go. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /** Releases every request held so far; later holds wait again. */
  releaseAll(): void {
    this.#stop.abort();
    this.#stop = new AbortController();
  }
}

/**
 * Fields of a fault rule as JSON (POST /_emulator/faults) that every emulator accepts; each adds
 * its own matchers (Stripe: method, params; Moesif: userId). `pathPattern` is a RegExp source.
 */
export function faultRuleFields<K extends string>(kinds: readonly K[]) {
  return {
    kind: z.enum(kinds as [K, ...K[]]),
    path: z.string().optional(),
    pathPattern: z.string().optional(),
    when: z.enum(['before', 'during', 'after']).optional(),
    times: z.number().int().min(0).optional(),
    skip: z.number().int().min(0).optional(),
  };
}

/** The FaultRule for the shared JSON fields (and any that map one to one, like `method`); `pathPattern` wins over `path`. */
export function faultRuleFromJson<K extends string>(json: { kind: K; path?: string | undefined; pathPattern?: string | undefined; method?: string | undefined; when?: FaultTiming | undefined; times?: number | undefined; skip?: number | undefined }): FaultRule<K> {
  const { pathPattern, path, ...rest } = json;
  const rule: FaultRule<K> = { ...rest };
  if (pathPattern !== undefined) rule.path = new RegExp(pathPattern);
  else if (path !== undefined) rule.path = path;
  return rule;
}

/** The body of every emulator-only error answer. */
export function emulatorError(message: string): { error: { type: 'emulator_error'; message: string } } {
  return { error: { type: 'emulator_error', message } };
}

/** What the control routes need from an emulator. */
interface ControllableEmulator<K extends string, T extends RandomFaultKnobs<K>> {
  app: Hono;
  faults: FaultInjector<K>;
  counters: RequestCounters;
  knobs(): T;
  configure(knobs: Partial<T>): void;
  reset(): void;
}

interface ControlRouteOptions<K extends string, T extends RandomFaultKnobs<K>, R> {
  /** The knobs schema's .partial(): what POST /_emulator/config accepts. */
  partialKnobs: z.ZodType<Partial<T>>;
  /** What POST /_emulator/faults accepts, and how it becomes a rule. */
  faultRule: z.ZodType<R>;
  toFaultRule: (json: R) => FaultRule<K>;
}

/**
 * GET /_emulator/counters; GET and POST /_emulator/config; GET, POST and DELETE /_emulator/faults;
 * POST /_emulator/reset; a JSON 404 for any other /_emulator/ route. Mount the emulator's own
 * read routes on the same app.
 */
export function mountControlRoutes<K extends string, T extends RandomFaultKnobs<K>, R>(emulator: ControllableEmulator<K, T>, options: ControlRouteOptions<K, T, R>): void {
  const { app } = emulator;
  app.get('/_emulator/counters', (c) => c.json(emulator.counters.snapshot()));
  app.get('/_emulator/config', (c) => c.json(emulator.knobs()));
  app.post('/_emulator/config', async (c) => {
    const parsed = options.partialKnobs.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json(emulatorError(z.prettifyError(parsed.error)), 400);
    emulator.configure(parsed.data);
    return c.json(emulator.knobs());
  });
  app.get('/_emulator/faults', (c) => c.json({ random: emulator.faults.random ?? null, fired: emulator.faults.fired }));
  app.post('/_emulator/faults', async (c) => {
    const parsed = options.faultRule.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json(emulatorError(z.prettifyError(parsed.error)), 400);
    emulator.faults.add(options.toFaultRule(parsed.data));
    return c.json({ added: parsed.data }, 201);
  });
  app.delete('/_emulator/faults', (c) => {
    emulator.faults.clear();
    emulator.configure({ faultRate: 0 } as Partial<T>);
    return c.body(null, 204);
  });
  app.post('/_emulator/reset', (c) => {
    emulator.reset();
    return c.body(null, 204);
  });
  app.notFound((c) => c.json(emulatorError(`No emulator route ${c.req.method} ${c.req.path}`), 404));
}

/** One fetch handler for both: /_emulator/* goes to the control app, everything else to the fake API. */
export function withControlRoutes(app: Hono, api: FetchHandler): FetchHandler {
  return (request, env) => (new URL(request.url).pathname.startsWith('/_emulator/') ? app.fetch(request, env) : api(request, env));
}

/** Serves an emulator on 127.0.0.1 (or `host`); close() releases held requests, then stops the server. */
export async function serveEmulator<E extends { fetch: FetchHandler; close(): void }>(
  name: string,
  emulator: E,
  port: number,
  host: string,
): Promise<RunningService & Omit<E, 'close'>> {
  const running = await listen(name, emulator.fetch, port, host);
  return {
    ...emulator,
    name: running.name,
    url: running.url,
    port: running.port,
    async close() {
      emulator.close();
      await running.close();
    },
  };
}
