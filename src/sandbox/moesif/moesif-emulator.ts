/**
 * A Moesif Collector API stand-in: POST /v1/users, /v1/companies, /v1/events and their /batch
 * forms, keyed by the X-Moesif-Application-Id header (401 when unknown). Users and companies merge
 * recursively on every call. Knobs: latency, a `down` switch (503 or dropped connections),
 * targeted and seeded random faults; emulator-only read routes under /_emulator/.
 */
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { z } from 'zod';
import { dropConnection, hangThenDrop, sleep } from '../faults/connection-faults.ts';
import {
  EmulatorKnobs,
  HeldRequests,
  serveEmulator,
  withControlRoutes,
} from '../faults/emulator-control.ts';
import { FaultInjector, type FaultDecision } from '../faults/fault-injector.ts';
import { RequestCounters } from '../faults/request-counters.ts';
import type { RunningService } from '../running-service.ts';
import { MOESIF_FAULT_KINDS, type MoesifFaultKind } from './moesif-fault-kinds.ts';
import { MoesifStore, type JsonObject, type MoesifCompany, type MoesifUser } from './moesif-store.ts';
import { mountEmulatorRoutes } from './moesif-emulator-routes.ts';
import { DEFAULT_MOESIF_KNOBS, knobsSchema, type BillingOptions, type MoesifEmulator, type MoesifEmulatorKnobs, type MoesifEmulatorOptions } from './moesif-emulator-api.ts';
import { countEvents, ManagementQueryError, parseMoesifTime, searchEvents } from './moesif-management-api.ts';
import { UsageBilling } from './usage-billing.ts';

export { deepMerge } from './moesif-store.ts';

export type { MoesifFaultKind } from './moesif-fault-kinds.ts';
export { DEFAULT_MOESIF_APPLICATION_ID, DEFAULT_MOESIF_MANAGEMENT_TOKEN, type MoesifEmulatorOptions } from './moesif-emulator-api.ts';

const MAX_BODY_BYTES = 5 * 1024 * 1024;

class MoesifRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const jsonObject = z.record(z.string(), z.json());
const userSchema = z.looseObject({
  user_id: z.string({ error: 'user_id is required and must be a string' }).min(1, 'user_id must not be empty'),
  company_id: z.string().min(1).optional(),
  metadata: jsonObject.optional(),
});
const companySchema = z.looseObject({
  company_id: z.string({ error: 'company_id is required and must be a string' }).min(1, 'company_id must not be empty'),
  metadata: jsonObject.optional(),
});
const eventSchema = z.looseObject({
  request: z.looseObject({ time: z.string().min(1), uri: z.string().min(1), verb: z.string().min(1) }, { error: 'request is required' }),
  response: z.looseObject({ time: z.string().min(1), status: z.number().int() }).optional(),
  user_id: z.string().optional(),
  company_id: z.string().optional(),
  metadata: jsonObject.optional(),
});

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new MoesifRequestError(400, 'validation_error', `${what}: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}`);
  return parsed.data;
}

function parseBatch<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T>[] {
  if (!Array.isArray(value)) throw new MoesifRequestError(400, 'validation_error', `${what} batch: the body must be a JSON array`);
  return value.map((item, index) => parseOrThrow(schema, item, `${what} batch[${index}]`));
}

async function readJson(request: Request): Promise<unknown> {
  let bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > MAX_BODY_BYTES) throw new MoesifRequestError(413, 'payload_too_large', `Body over ${MAX_BODY_BYTES} bytes`);
  if ((request.headers.get('content-encoding') ?? '').toLowerCase() === 'gzip') {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_BODY_BYTES });
    } catch {
      throw new MoesifRequestError(400, 'invalid_body', 'Content-Encoding is gzip but the body is not valid gzip');
    }
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new MoesifRequestError(400, 'invalid_json', 'The body is not valid JSON');
  }
}

const ROUTES = ['/v1/users', '/v1/users/batch', '/v1/companies', '/v1/companies/batch', '/v1/events', '/v1/events/batch'] as const;
type Route = (typeof ROUTES)[number];
const MANAGEMENT_ROUTES: Record<string, 'search' | 'count' | undefined> = { '/v1/search/~/search/events': 'search', '/v1/search/~/count/events': 'count' };

/** What the request handlers of one emulator share. */
interface EmulatorContext {
  now: () => number;
  store: MoesifStore;
  counters: RequestCounters;
  faults: FaultInjector<MoesifFaultKind>;
  knobs: EmulatorKnobs<MoesifFaultKind, MoesifEmulatorKnobs>;
  held: HeldRequests;
}

function answer(ctx: EmulatorContext, status: number, body?: object): Response {
  ctx.counters.status(status);
  return body === undefined ? new Response(null, { status }) : Response.json(body, { status });
}

const errorBody = (code: string, message: string) => ({ moesif_error: { code, msg: message } });

async function faultAnswer(ctx: EmulatorContext, decision: FaultDecision<MoesifFaultKind>, request: Request, env: unknown): Promise<Response> {
  ctx.counters.fault(decision.kind);
  switch (decision.kind) {
    case '500':
      return answer(ctx, 500, errorBody('internal_error', 'Injected fault: internal error'));
    case '503':
      return answer(ctx, 503, errorBody('service_unavailable', 'Injected fault: service unavailable'));
    case '429':
      return answer(ctx, 429, errorBody('rate_limited', 'Injected fault: too many requests'));
    case 'drop':
      ctx.counters.status('drop');
      return dropConnection(env, 'the Moesif emulator');
    case 'timeout':
      ctx.counters.status('timeout');
      return hangThenDrop(request, env, ctx.knobs.current.hangMs, ctx.held.signal, 'the Moesif emulator');
  }
}

/** Applies one write; returns the status Moesif answers with (201 created, 200 updated). */
function write({ store, now }: EmulatorContext, route: Route, body: unknown): number {
  const received = new Date(now());
  switch (route) {
    case '/v1/users':
      return store.upsertUser(parseOrThrow(userSchema, body, 'user') as MoesifUser) ? 201 : 200;
    case '/v1/users/batch':
      parseBatch(userSchema, body, 'user').forEach((user) => store.upsertUser(user as MoesifUser));
      return 201;
    case '/v1/companies':
      return store.upsertCompany(parseOrThrow(companySchema, body, 'company') as MoesifCompany) ? 201 : 200;
    case '/v1/companies/batch':
      parseBatch(companySchema, body, 'company').forEach((company) => store.upsertCompany(company as MoesifCompany));
      return 201;
    case '/v1/events':
      store.addEvent(parseOrThrow(eventSchema, body, 'event') as JsonObject & { request: JsonObject }, received);
      return 201;
    case '/v1/events/batch':
      parseBatch(eventSchema, body, 'event').forEach((event) => store.addEvent(event as JsonObject & { request: JsonObject }, received));
      return 201;
  }
}

/** The Management API (api.moesif.com): bearer token, from/to, an Elasticsearch DSL body. */
async function handleManagement(ctx: EmulatorContext, request: Request, url: URL, operation: 'search' | 'count'): Promise<Response> {
  const { store, now } = ctx;
  const { managementTokens, ingestionLagMs } = ctx.knobs.current;
  const token = /^Bearer (.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  if (!token || (managementTokens !== null && !managementTokens.includes(token)))
    return answer(ctx, 401, errorBody('unauthorized', token ? 'Unknown management API token' : 'Missing Authorization: Bearer <management API token>'));
  if (request.method.toUpperCase() !== 'POST') return answer(ctx, 405, errorBody('method_not_allowed', `${url.pathname} accepts POST only`));
  try {
    const body = await readJson(request);
    const at = now();
    const search = { from: parseMoesifTime(url.searchParams.get('from') ?? undefined, 'from', at), to: parseMoesifTime(url.searchParams.get('to') ?? undefined, 'to', at), now: at, ingestionLagMs, body };
    const companyOf = (event: Parameters<MoesifStore['companyOf']>[0]) => store.companyOf(event);
    if (operation === 'count') return answer(ctx, 200, countEvents(store, companyOf, search) as object);
    return answer(ctx, 201, searchEvents(store, companyOf, search) as object);
  } catch (error) {
    if (error instanceof MoesifRequestError) return answer(ctx, error.status, errorBody(error.code, error.message));
    if (error instanceof ManagementQueryError) return answer(ctx, 400, errorBody('invalid_query', error.message));
    throw error;
  }
}

/** A Collector write once the route and method are known: application id, body, faults, then the write. */
async function handleWrite(ctx: EmulatorContext, request: Request, env: unknown, url: URL, route: Route): Promise<Response> {
  const { applicationIds } = ctx.knobs.current;
  const applicationId = request.headers.get('x-moesif-application-id');
  if (!applicationId || (applicationIds !== null && !applicationIds.includes(applicationId)))
    return answer(ctx, 401, errorBody('unauthorized', applicationId ? 'Unknown X-Moesif-Application-Id' : 'Missing X-Moesif-Application-Id header'));

  let body: unknown;
  try {
    body = await readJson(request);
  } catch (error) {
    if (error instanceof MoesifRequestError) return answer(ctx, error.status, errorBody(error.code, error.message));
    throw error;
  }
  const decision = ctx.faults.decide({ method: 'POST', path: url.pathname, route, params: body });
  if (decision?.when === 'before') return faultAnswer(ctx, decision, request, env);
  let status: number;
  try {
    status = write(ctx, route, body);
  } catch (error) {
    if (error instanceof MoesifRequestError) return answer(ctx, error.status, errorBody(error.code, error.message));
    throw error;
  }
  if (decision) return faultAnswer(ctx, decision, request, env);
  return answer(ctx, status);
}

async function handleCollector(ctx: EmulatorContext, request: Request, env: unknown): Promise<Response> {
  const url = new URL(request.url);
  const management = MANAGEMENT_ROUTES[url.pathname.replace(/%7E/gi, '~').replace(/\/$/, '')];
  const method = request.method.toUpperCase();
  const route = ROUTES.find((candidate) => candidate === url.pathname.replace(/\/$/, ''));
  ctx.counters.request(method, route ?? url.pathname, method === 'POST' && !management);
  await sleep(ctx.knobs.current.latencyMs);
  // Read after the latency: a test may flip a knob while a request is in it.
  const { down } = ctx.knobs.current;
  if (down === 'drop') {
    ctx.counters.status('drop');
    return dropConnection(env, 'the Moesif emulator (down)');
  }
  if (down === '503') return answer(ctx, 503, errorBody('service_unavailable', 'The Moesif emulator is down (down mode)'));
  if (management) {
    const decision = ctx.faults.decide({ method, path: url.pathname, route: url.pathname, params: undefined });
    if (decision) return faultAnswer(ctx, decision, request, env);
    return handleManagement(ctx, request, url, management);
  }
  if (!route) return answer(ctx, 404, errorBody('not_found', `No route ${method} ${url.pathname}`));
  if (method !== 'POST') return answer(ctx, 405, errorBody('method_not_allowed', `${url.pathname} accepts POST only`));
  return handleWrite(ctx, request, env, url, route);
}

/** Usage reporting to Stripe: replaced whole by configure, flushed on an optional timer. */
function createBillingSlot(store: MoesifStore) {
  let billing: UsageBilling | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  const configure = (billingOptions: BillingOptions | undefined) => {
    clearInterval(flushTimer);
    flushTimer = undefined;
    billing = billingOptions ? new UsageBilling(store, billingOptions) : undefined;
    if (billing && billingOptions?.flushIntervalMs) {
      const reporter = billing;
      // A failed flush keeps its batches for the next tick; nothing to do with the error here.
      flushTimer = setInterval(() => void reporter.flush().catch(() => undefined), billingOptions.flushIntervalMs);
      flushTimer.unref();
    }
  };
  return { configure, current: () => billing, stopTimer: () => clearInterval(flushTimer) };
}

export function createMoesifEmulator(options: MoesifEmulatorOptions = {}): MoesifEmulator {
  const { now = Date.now, billing: _billing, ...initial } = options;
  const store = new MoesifStore();
  const counters = new RequestCounters();
  const faults = new FaultInjector<MoesifFaultKind>(MOESIF_FAULT_KINDS);
  const knobs = new EmulatorKnobs(knobsSchema, { ...DEFAULT_MOESIF_KNOBS, ...initial }, faults);
  const held = new HeldRequests();
  const ctx: EmulatorContext = { now, store, counters, faults, knobs, held };
  const billing = createBillingSlot(store);
  billing.configure(options.billing);

  const app = new Hono();
  const emulator: MoesifEmulator = {
    app,
    fetch: withControlRoutes(app, (request, env) => handleCollector(ctx, request, env)),
    store,
    faults,
    counters,
    knobs: () => knobs.snapshot(),
    configure(partial) {
      knobs.configure(partial);
    },
    reset() {
      held.releaseAll();
      store.clear();
      counters.reset();
      faults.clear();
      knobs.reset();
      billing.current()?.clear();
    },
    configureBilling: billing.configure,
    billing: billing.current,
    flushUsage() {
      const reporter = billing.current();
      if (!reporter) return Promise.reject(new Error('usage billing is not configured on the Moesif emulator'));
      return reporter.flush();
    },
    close() {
      billing.stopTimer();
      held.releaseAll();
    },
  };
  mountEmulatorRoutes(emulator, knobsSchema.partial());
  return emulator;
}

export interface RunningMoesifEmulator extends RunningService, Omit<MoesifEmulator, 'close'> {}

export async function startMoesifEmulator(options: MoesifEmulatorOptions & { port?: number; host?: string } = {}): Promise<RunningMoesifEmulator> {
  const { port = 0, host = '127.0.0.1', ...rest } = options;
  return serveEmulator('moesif-emulator', createMoesifEmulator(rest), port, host);
}
