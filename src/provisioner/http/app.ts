/**
 * The provisioner's HTTP API (Hono). Every error answer is `{error: {code, message}}` with a
 * stable code; no stack trace leaves the process (middleware.ts). Requests that fail validation
 * (origin, rate limit, content type, size, JSON, email, signature) are refused before Kong or
 * Stripe is called. Public: /healthz, /readyz (status only), /plans, POST /provision (see
 * provision-route.ts). Signed: POST /kong/events. /readyz details need the READYZ_TOKEN bearer.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type Stripe from 'stripe';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import type { PlansFile } from '../../shared/plans.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import { silentLogger, type ProvisionLogger } from '../../shared/provision-log.ts';
import { createdSyncOptions } from '../core/access-sync.ts';
import type { PriceResolver } from '../core/plan-prices.ts';
import type { Provisioner } from '../core/provisioner.ts';
import type { BillingCore } from '../wiring/billing-wiring.ts';
import type { TrustedProxies } from '../settings/trusted-proxies.ts';
import { mountHealthRoutes } from './health-routes.ts';
import { createKongEventReceiver } from './kong-events.ts';
import { answerErrors, answerHeaders, browserRouteGuards, errorJson, fail } from './middleware.ts';
import { mountPlansRoute } from './plans-route.ts';
import { createProvisionRoute, mountProvisionRoute } from './provision-route.ts';
import type { ReadinessCheck } from './readiness.ts';
import { mountSpendCapRoute } from './spend-cap-route.ts';
import { createStripeWebhookRoute } from './stripe-webhook-route.ts';

export type { ReadinessCheck } from './readiness.ts';

type AppBilling = Pick<BillingCore, 'access' | 'billing' | 'handleStripeEvent' | 'removeDeveloper' | 'setSpendCap'>;

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
  billing?: AppBilling;
  /** Needed by POST /stripe/webhooks (stripe-node's constructEvent). */
  stripe?: Stripe;
  /** whsec_ secret; undefined answers POST /stripe/webhooks with 404 and how to turn it on. */
  stripeWebhookSecret?: string | undefined;
  /** GET/POST /signup… (SIGNUP_MODE=hosted; hosted-signup/). */
  hostedSignup?: Hono | undefined;
}

const EVENT_BODY_LIMIT = 256 * 1024;

/** Gone, of another workspace, or no longer eligible by the time we read Kong: nothing to retry, nothing to converge. */
const nothingToDo = (error: unknown) => error instanceof ProvisionError && (error.code === 'developer_not_found' || error.code === 'developer_not_provisionable');

/**
 * Provisioning whose failure still converges access: a developer who cannot be provisioned (no
 * such plan, Stripe refusing) is read by the access sync, which refuses them under card
 * collection and names a permanent problem, instead of leaving their key open.
 */
function convergingOnFailure(provisioner: Provisioner, billing: AppBilling | undefined): Provisioner {
  return {
    ...provisioner,
    async provisionDeveloper(input, options) {
      try {
        return await provisioner.provisionDeveloper(input, options);
      } catch (error) {
        if (billing && !nothingToDo(error)) await billing.access.syncDeveloper(input).catch(() => undefined);
        throw error;
      }
    },
  };
}

/** POST /kong/events; the receiver refuses a short secret at start-up (createKongEventReceiver throws). */
function mountKongEvents(app: Hono, secret: string | undefined, provisioner: Provisioner, isProvisionable: Provisioner['isProvisionable'], billing: AppBilling | undefined): void {
  const receiveKongEvent = secret
    ? createKongEventReceiver({
        secret,
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
        isProvisionableStatus: (status) => isProvisionable({ status }),
        isNothingToDo: nothingToDo,
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
}

export function createProvisionerApp(deps: ProvisionerAppDeps): Hono {
  const logger = deps.logger ?? silentLogger;
  const allowedOrigins = new Set(deps.portalOrigins);
  const billing = deps.billing;
  const provisioner = convergingOnFailure(deps.provisioner, billing);
  const guards = browserRouteGuards({ allowedOrigins, rateLimitPerMinute: deps.rateLimitPerMinute ?? 30, trustedProxies: deps.trustedProxies ?? { kind: 'none' } });
  const app = new Hono();
  answerErrors(app, logger);
  answerHeaders(app, allowedOrigins);
  mountHealthRoutes(app, { readiness: deps.readiness ?? [], timeoutMs: deps.readinessTimeoutMs, cacheMs: deps.readinessCacheMs, readyzToken: deps.readyzToken });
  mountPlansRoute(app, { plans: deps.plans, prices: deps.prices, cacheMs: deps.plansCacheMs ?? 5 * 60_000 });
  const provisionRoute = createProvisionRoute({
    provisioner,
    // Hosted signup has no portal developers: an unproven email would name a signup consumer.
    background: !deps.hostedSignup,
    kong: deps.kong,
    logger,
    ...(billing ? { billing: (developer, outcome) => billing.billing.status(developer, createdSyncOptions(outcome.createdObjects)) } : {}),
  });
  mountProvisionRoute(app, provisionRoute, guards);
  if (billing) mountSpendCapRoute(app, { kong: deps.kong, billing, guards });
  mountKongEvents(app, deps.eventHookSecret, provisioner, (developer) => deps.provisioner.isProvisionable(developer), billing);
  if (deps.hostedSignup) app.route('/', deps.hostedSignup);
  if (deps.stripe && billing)
    app.route('/', createStripeWebhookRoute({ stripe: deps.stripe, webhookSecret: deps.stripeWebhookSecret, handle: (event) => billing.handleStripeEvent(event), logger }));
  return app;
}
