/**
 * The provisioner's HTTP API (Hono). Every error answer is `{error: {code, message}}` with a
 * stable code; no stack trace leaves the process. Requests that fail validation (origin, rate
 * limit, content type, size, JSON, email, signature) are refused before Kong or Stripe is called.
 * Public: /healthz, /readyz (status only), /plans, POST /provision (see provision-route.ts).
 * Signed: POST /kong/events. /readyz details need the READYZ_TOKEN bearer.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context, type Next } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { z } from 'zod';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { rateLimiter } from 'hono-rate-limiter';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { defaultPlan, selectablePlans, type PlansFile } from '../../shared/plans.ts';
import type { ErrorResponse, PlansResponse, ReadyzPublicAnswer } from '../../shared/provisioner-api.ts';
import { rateLimitKey, resolveClientAddress, type TrustedProxies } from './client-address.ts';
import { ProvisionError, publicMessage, type ProvisionErrorCode } from '../../shared/provision-error.ts';
import { createKongEventReceiver } from './kong-events.ts';
import { resolvePlans, toPublicPlans, type PriceResolver } from '../core/plan-prices.ts';
import { errorFields, silentLogger, type ProvisionLogger } from '../../shared/provision-log.ts';
import { createProvisionRoute, provisionBody } from './provision-route.ts';
import { parseSpendCap } from '../core/spend-cap.ts';
import type { Provisioner } from '../core/provisioner.ts';
import type { BillingCore } from '../wiring/billing-wiring.ts';
import { createStripeWebhookRoute } from './stripe-webhook-route.ts';
import { createdSyncOptions } from '../core/access-sync.ts';

/** POST /billing/spend-cap: the proof of POST /provision, and the cap in cents (null removes it; checked by parseSpendCap). */
const spendCapBody = provisionBody.required({ developer_id: true }).extend({ spend_cap: z.unknown() });
import type Stripe from 'stripe';
import { createReadinessProbe, type ReadinessCheck } from './readiness.ts';

export type { ReadinessCheck } from './readiness.ts';

export interface ProvisionerAppDeps {
  provisioner: Provisioner;
  /** Kong reads of the HTTP layer (the proof check of POST /provision). */
  kong: Pick<KongAdminClient, 'getDeveloper'>;
  plans: PlansFile;
  prices: PriceResolver;
  portalOrigins: string[];
  /** Undefined disables POST /kong/events. */
  eventHookSecret: string | undefined;
  /** POST /provision requests per minute per client address; default 30. */
  rateLimitPerMinute?: number;
  /** Whose X-Forwarded-For the rate limiter believes; default nobody's. */
  trustedProxies?: TrustedProxies;
  readiness?: ReadinessCheck[];
  /** Per-check timeout for /readyz; default 2 s. */
  readinessTimeoutMs?: number;
  /** How long a /readyz probe result is reused; default 5 s. */
  readinessCacheMs?: number;
  /** Bearer token that unlocks /readyz details; undefined = never shown. */
  readyzToken?: string | undefined;
  /** How long GET /plans answers from memory; default 5 min. */
  plansCacheMs?: number;
  logger?: ProvisionLogger;
  /** Access at Kong, billing status and Stripe events; omitted: no billing routes or answers. */
  billing?: Pick<BillingCore, 'access' | 'billing' | 'handleStripeEvent' | 'removeDeveloper' | 'setSpendCap'>;
  /** Needed by POST /stripe/webhooks (stripe-node's constructEvent). */
  stripe?: Stripe;
  /** whsec_ secret; undefined answers POST /stripe/webhooks with 404 and how to turn it on. */
  stripeWebhookSecret?: string | undefined;
  /** GET/POST /signup… (SIGNUP_MODE=hosted; hosted-signup/). */
  hostedSignup?: Hono | undefined;
}

export const PROVISION_BODY_LIMIT = 8 * 1024;
const EVENT_BODY_LIMIT = 256 * 1024;

function fail(code: ProvisionErrorCode, status: number, message: string): never {
  throw new ProvisionError(code, status, message);
}

function errorJson(c: Context, code: string, status: number, message: string): Response {
  const body: ErrorResponse = { error: { code, message } };
  return c.json(body, status as ContentfulStatusCode);
}

/** Rate-limit key: the socket's address, or X-Forwarded-For read through trusted proxies only. */
function clientKey(c: Context, proxies: TrustedProxies): string {
  let socket: string | undefined;
  try {
    socket = getConnInfo(c).remote.address;
  } catch {
    socket = undefined;
  }
  return rateLimitKey(resolveClientAddress(socket, c.req.header('x-forwarded-for'), proxies));
}

/** Constant-time check of `Authorization: Bearer <token>` (digests make the lengths equal). */
function hasBearer(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header?.startsWith('Bearer ')) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(header.slice('Bearer '.length).trim()), digest(token));
}

/**
 * JSON, declared as application/json or as text/plain: the page sends text/plain so its call is
 * a CORS simple request (no preflight); the body is parsed as JSON either way and the origin is
 * checked here, not by the browser.
 */
function requireJson(c: Context): void {
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/([\w.+-]+\+)?json|text\/plain)\s*(;|$)/i.test(type))
    // The header is not echoed: an answer never reflects what the request carried.
    fail('unsupported_media_type', 415, 'send the body as JSON with content-type: application/json or text/plain');
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
  const trustedProxies = deps.trustedProxies ?? { kind: 'none' };
  const billing = deps.billing;
  /**
   * Provisioning whose failure still converges access: a developer who cannot be provisioned (no
   * such plan, Stripe refusing) is read by the access sync, which refuses them under card
   * collection and names a permanent problem, instead of leaving their key open.
   */
  const provisioner: Provisioner = {
    ...deps.provisioner,
    async provisionDeveloper(input, options) {
      try {
        return await deps.provisioner.provisionDeveloper(input, options);
      } catch (error) {
        const nothingToDo = error instanceof ProvisionError && (error.code === 'developer_not_found' || error.code === 'developer_not_provisionable');
        if (billing && !nothingToDo) await billing.access.syncDeveloper(input).catch(() => undefined);
        throw error;
      }
    },
  };
  const provisionRoute = createProvisionRoute({
    provisioner,
    // Hosted signup has no portal developers: an unproven email would name a signup consumer.
    background: !deps.hostedSignup,
    kong: deps.kong,
    logger,
    ...(billing
      ? {
          billing: (developer, outcome) => billing.billing.status(developer, createdSyncOptions(outcome.createdObjects)),
        }
      : {}),
  });
  let plansCache: { at: number; body: Promise<PlansResponse> } | undefined;

  const app = new Hono();

  // Every 5xx answer leaves one log line with its cause chain and stack (redacted by the logger):
  // the answer says only "see its log", so the log must say why.
  app.onError((error, c) => {
    const request = { method: c.req.method, path: c.req.path };
    if (error instanceof ProvisionError) {
      const answer = publicMessage(error);
      // The browser gets a generic text; the operator gets what happened (the logger redacts it).
      if (answer.generic || error.status >= 500) logger.error({ event: 'request_failed', ...request, status: error.status, code: error.code, ...errorFields(error) });
      return errorJson(c, error.code, error.status, answer.message);
    }
    if (error instanceof HTTPException && error.status < 500) return errorJson(c, 'bad_request', error.status, error.message || 'bad request');
    logger.error({ event: 'unhandled_error', ...request, status: 500, ...errorFields(error) });
    return errorJson(c, 'internal_error', 500, 'the provisioner failed unexpectedly; see its log');
  });
  app.notFound((c) => errorJson(c, 'not_found', 404, `no route ${c.req.method} ${c.req.path}`));

  // Every answer, JSON ones included, is read as what its content-type says and nothing else.
  app.use('*', async (c, next) => {
    await next();
    try {
      c.res.headers.set('x-content-type-options', 'nosniff');
    } catch {
      // A response with immutable headers (Response.redirect, a passed-through fetch): copy it.
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set('x-content-type-options', 'nosniff');
    }
  });

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

  const readiness = createReadinessProbe(deps.readiness ?? [], {
    ...(deps.readinessTimeoutMs === undefined ? {} : { timeoutMs: deps.readinessTimeoutMs }),
    ...(deps.readinessCacheMs === undefined ? {} : { cacheMs: deps.readinessCacheMs }),
  });
  app.get('/readyz', async (c) => {
    // Details name dependencies and their errors: only for whoever holds READYZ_TOKEN, who also gets a fresh probe.
    const trusted = hasBearer(c.req.header('authorization'), deps.readyzToken);
    const report = await readiness(trusted);
    const status = report.ready ? 200 : 503;
    c.header('cache-control', 'no-store');
    if (!trusted) {
      const body: ReadyzPublicAnswer = { status: report.ready ? 'ready' : 'not_ready' };
      return c.json(body, status);
    }
    if (report.ready) return c.json({ status: 'ready', checks: report.checks });
    return c.json({ status: 'not_ready', error: { code: 'not_ready', message: report.problems }, checks: report.checks }, 503);
  });

  app.get('/plans', async (c) => {
    const now = Date.now();
    if (!plansCache || now - plansCache.at >= plansCacheMs) {
      // The picker offers what a developer may choose: private plans (invoice, free) are assigned by the admin.
      const body = resolvePlans({ ...deps.plans, plans: selectablePlans(deps.plans) }, deps.prices).then((resolved) => ({ plans: toPublicPlans(resolved, defaultPlan(deps.plans)?.id) }));
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

  // The browser routes that act for a developer: only the portal's origins, a budget per client address.
  const refuseOtherOrigins = async (c: Context, next: Next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !allowedOrigins.has(origin)) fail('origin_not_allowed', 403, `origin ${origin} is not allowed to call the provisioner (PORTAL_ORIGINS)`);
    await next();
  };
  const limitPerAddress = (message: string) =>
    rateLimiter({
      windowMs: 60_000,
      limit: deps.rateLimitPerMinute ?? 30,
      standardHeaders: 'draft-6',
      keyGenerator: (c) => clientKey(c, trustedProxies),
      handler: (c) => errorJson(c, 'rate_limited', 429, message),
    });

  app.post(
    '/provision',
    refuseOtherOrigins,
    limitPerAddress('too many signup requests from this address; retry in a minute'),
    async (c, next) => {
      requireJson(c);
      await next();
    },
    bodyLimit({
      maxSize: PROVISION_BODY_LIMIT,
      onError: (c) => errorJson(c, 'payload_too_large', 413, `the body is larger than ${PROVISION_BODY_LIMIT} bytes; send only {"email": "...", "developer_id": "..."}`),
    }),
    async (c) => {
      const json = parseJson(await c.req.text());
      const parsed = provisionBody.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        if (issue?.path[0] === 'developer_id') fail('invalid_proof', 400, issue.message);
        fail('invalid_email', 400, issue?.message ?? 'email is required');
      }
      const answer = await provisionRoute(parsed.data);
      return c.json(answer.body, answer.status);
    },
  );

  // The developer's spend cap (issue 21): the same proof as POST /provision, the billing status back.
  if (billing)
    app.post(
      '/billing/spend-cap',
      refuseOtherOrigins,
      async (c, next) => {
        requireJson(c);
        await next();
      },
      limitPerAddress('too many requests from this address; retry in a minute'),
      bodyLimit({ maxSize: PROVISION_BODY_LIMIT, onError: (c) => errorJson(c, 'payload_too_large', 413, `the body is larger than ${PROVISION_BODY_LIMIT} bytes`) }),
      async (c) => {
        const parsed = spendCapBody.safeParse(parseJson(await c.req.text()));
        if (!parsed.success) fail(parsed.error.issues[0]?.path[0] === 'email' ? 'invalid_email' : 'invalid_proof', 400, parsed.error.issues[0]?.message ?? 'bad request');
        const cap = parseSpendCap(parsed.data.spend_cap);
        const developer = await deps.kong.getDeveloper(parsed.data.developer_id);
        if (!developer || developer.email.trim().toLowerCase() !== parsed.data.email.trim().toLowerCase())
          fail('invalid_proof', 403, 'developer_id and email do not name one developer; sign in to the portal again');
        return c.json(await billing.billing.fromOutcome(await billing.setSpendCap(developer, cap)));
      },
    );

  // The receiver refuses a short secret at start-up (createKongEventReceiver throws).
  const receiveKongEvent = deps.eventHookSecret
    ? createKongEventReceiver({
        secret: deps.eventHookSecret,
        provision: async (developerId, options) => {
          const outcome = await provisioner.provisionDeveloper(developerId, { mode: 'interactive', previousEmails: options.previousEmails });
          // A new developer under "checkout" is refused until a card exists: before their first key, not after.
          const access = billing ? await billing.access.syncDeveloper(outcome.developerId, createdSyncOptions(outcome.createdObjects)) : undefined;
          // The answer goes back to whoever signed the event: ids and what happened, never Stripe's objects.
          const { customerId, subscriptionId, plan, moesif, created } = outcome;
          return { developerId: outcome.developerId, customerId, subscriptionId, plan, moesif, created, ...(access ? { access: access.decision.access, reason: access.decision.reason } : {}) };
        },
        ...(billing
          ? {
              removed: async (developer: { id: string; email: string; deleted: boolean }) => {
                const { removal, access } = await billing.removeDeveloper(developer);
                return { subscription: removal.action, ...(access ? { access: access.decision.access, reason: access.decision.reason } : {}) };
              },
            }
          : {}),
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

  if (deps.hostedSignup) app.route('/', deps.hostedSignup);

  if (deps.stripe && billing)
    app.route('/', createStripeWebhookRoute({ stripe: deps.stripe, webhookSecret: deps.stripeWebhookSecret, handle: (event) => billing.handleStripeEvent(event), logger }));

  return app;
}
