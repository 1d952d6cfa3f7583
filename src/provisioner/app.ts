/**
 * The provisioner's HTTP API (Hono). Every error answer is `{error: {code, message}}` with a
 * stable code; no stack trace leaves the process. Requests that fail validation (origin, rate
 * limit, content type, size, JSON, email, signature) are refused before Kong or Stripe is called.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { rateLimiter } from 'hono-rate-limiter';
import { z } from 'zod';
import { defaultPlan, type PlansFile } from '../shared/plans.ts';
import type { ErrorResponse, PlansResponse } from '../shared/provisioner-api.ts';
import { ProvisionError, type ProvisionErrorCode } from './errors.ts';
import { createKongEventReceiver } from './kong-events.ts';
import { resolvePlans, toPublicPlans, type PriceResolver } from './plan-prices.ts';
import { silentLogger, type ProvisionLogger } from './provision-log.ts';
import type { Provisioner } from './provisioner.ts';

/** One dependency /readyz checks; throws (with a message) when it is not usable. */
export interface ReadinessCheck {
  name: 'kong' | 'stripe' | 'moesif' | string;
  check(timeoutMs: number): Promise<void>;
}

export interface ProvisionerAppDeps {
  provisioner: Provisioner;
  plans: PlansFile;
  prices: PriceResolver;
  portalOrigins: string[];
  /** Undefined disables POST /kong/events. */
  eventHookSecret: string | undefined;
  /** POST /provision requests per minute per client address; default 30. */
  rateLimitPerMinute?: number;
  readiness?: ReadinessCheck[];
  /** Per-check timeout for /readyz; default 2 s. */
  readinessTimeoutMs?: number;
  /** How long GET /plans answers from memory; default 5 min. */
  plansCacheMs?: number;
  logger?: ProvisionLogger;
}

export const PROVISION_BODY_LIMIT = 8 * 1024;
const EVENT_BODY_LIMIT = 256 * 1024;

const provisionBody = z.object({
  email: z.string({ error: 'email is required' }).trim().max(254, 'email is too long').pipe(z.email('email is not a valid address')),
});

function fail(code: ProvisionErrorCode, status: number, message: string): never {
  throw new ProvisionError(code, status, message);
}

function errorJson(c: Context, code: string, status: number, message: string): Response {
  const body: ErrorResponse = { error: { code, message } };
  return c.json(body, status as ContentfulStatusCode);
}

/** Client address for the rate limiter (the socket's, not a spoofable header). */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function requireJson(c: Context): void {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type))
    fail('unsupported_media_type', 415, `send the body as JSON with content-type: application/json (got "${type || 'none'}")`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fail('invalid_json', 400, 'the body is not valid JSON');
  }
}

export function createProvisionerApp(deps: ProvisionerAppDeps): Hono {
  const logger = deps.logger ?? silentLogger;
  const allowedOrigins = new Set(deps.portalOrigins);
  const plansCacheMs = deps.plansCacheMs ?? 5 * 60_000;
  let plansCache: { at: number; body: Promise<PlansResponse> } | undefined;

  const app = new Hono();

  app.onError((error, c) => {
    if (error instanceof ProvisionError) return errorJson(c, error.code, error.status, error.message);
    if (error instanceof HTTPException && error.status < 500) return errorJson(c, 'bad_request', error.status, error.message || 'bad request');
    logger.error({ event: 'unhandled_error', path: c.req.path, message: (error as Error).message });
    return errorJson(c, 'internal_error', 500, 'the provisioner failed unexpectedly; see its log');
  });
  app.notFound((c) => errorJson(c, 'not_found', 404, `no route ${c.req.method} ${c.req.path}`));

  app.use(
    '*',
    cors({
      origin: (origin) => (allowedOrigins.has(origin) ? origin : null),
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: ['content-type'],
      maxAge: 600,
    }),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const timeoutMs = deps.readinessTimeoutMs ?? 2000;
    const results = await Promise.all(
      (deps.readiness ?? []).map(async ({ name, check }) => {
        const started = performance.now();
        try {
          await withTimeout(check(timeoutMs), timeoutMs, `${name} did not answer within ${timeoutMs} ms`);
          return { name, ok: true as const, ms: Math.round(performance.now() - started) };
        } catch (error) {
          return { name, ok: false as const, ms: Math.round(performance.now() - started), message: (error as Error).message };
        }
      }),
    );
    const checks = Object.fromEntries(results.map(({ name, ...rest }) => [name, rest]));
    const failing = results.filter((r) => !r.ok);
    if (failing.length === 0) return c.json({ status: 'ready', checks });
    return c.json(
      {
        status: 'not_ready',
        error: { code: 'not_ready', message: failing.map((r) => `${r.name}: ${r.message}`).join('; ') },
        checks,
      },
      503,
    );
  });

  app.get('/plans', async (c) => {
    const now = Date.now();
    if (!plansCache || now - plansCache.at >= plansCacheMs) {
      const body = resolvePlans(deps.plans, deps.prices).then((resolved) => ({ plans: toPublicPlans(resolved, defaultPlan(deps.plans)?.id) }));
      const entry = { at: now, body };
      plansCache = entry;
      body.catch(() => {
        if (plansCache === entry) plansCache = undefined;
      });
    }
    const body = await plansCache.body;
    c.header('cache-control', `public, max-age=${Math.floor(plansCacheMs / 1000)}`);
    return c.json(body);
  });

  app.post(
    '/provision',
    async (c, next) => {
      const origin = c.req.header('origin');
      if (origin !== undefined && !allowedOrigins.has(origin))
        fail('origin_not_allowed', 403, `origin ${origin} is not allowed to call the provisioner (PORTAL_ORIGINS)`);
      await next();
    },
    rateLimiter({
      windowMs: 60_000,
      limit: deps.rateLimitPerMinute ?? 30,
      standardHeaders: 'draft-6',
      keyGenerator: clientAddress,
      handler: (c) => errorJson(c, 'rate_limited', 429, 'too many signup requests from this address; retry in a minute'),
    }),
    async (c, next) => {
      requireJson(c);
      await next();
    },
    bodyLimit({
      maxSize: PROVISION_BODY_LIMIT,
      onError: (c) => errorJson(c, 'payload_too_large', 413, `the body is larger than ${PROVISION_BODY_LIMIT} bytes; send only {"email": "..."}`),
    }),
    async (c) => {
      const json = parseJson(await c.req.text());
      const parsed = provisionBody.safeParse(json);
      if (!parsed.success) fail('invalid_email', 400, parsed.error.issues[0]?.message ?? 'email is required');
      const outcome = await deps.provisioner.provisionDeveloper(parsed.data.email, { mode: 'interactive' });
      return c.json({
        developerId: outcome.developerId,
        customerId: outcome.customerId,
        subscriptionId: outcome.subscriptionId,
        plan: outcome.plan,
        moesif: outcome.moesif,
      });
    },
  );

  // The receiver refuses a short secret at start-up (createKongEventReceiver throws).
  const receiveKongEvent = deps.eventHookSecret
    ? createKongEventReceiver({
        secret: deps.eventHookSecret,
        provision: (developerId) => deps.provisioner.provisionDeveloper(developerId, { mode: 'interactive' }),
        isProvisionableStatus: (status) => deps.provisioner.isProvisionable({ status }),
        // Gone, of another workspace, or no longer eligible by the time we read Kong: nothing for Kong to retry.
        isNothingToDo: (error) => error instanceof ProvisionError && (error.code === 'developer_not_found' || error.code === 'developer_not_provisionable'),
      })
    : undefined;
  app.post(
    '/kong/events',
    bodyLimit({ maxSize: EVENT_BODY_LIMIT, onError: (c) => errorJson(c, 'payload_too_large', 413, `the event is larger than ${EVENT_BODY_LIMIT} bytes`) }),
    async (c) => {
      if (!receiveKongEvent) fail('event_hook_not_configured', 404, 'the Kong event hook receiver is off; set KONG_EVENT_HOOK_SECRET to enable it');
      const answer = await receiveKongEvent(new Uint8Array(await c.req.arrayBuffer()), c.req.header('x-kong-signature'));
      return c.json(answer.body, answer.status);
    },
  );

  return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
