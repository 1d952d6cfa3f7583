/**
 * A running provisioner: the core from compose.ts, the HTTP app, served on 127.0.0.1 (or a given
 * host), plus the usage timer.
 * drain() stops taking connections, lets in-flight requests finish, then closes: what SIGTERM does.
 */
import { createUsageService, startUsageTimer, type UsageTimer } from './usage/usage-service.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KongAdminClient } from '../kong/kong-admin-client.ts';
import { KongConsumers } from '../kong/kong-consumers.ts';
import { awsReadinessCheck, checkUsagePlans } from './gateways/aws/aws-wiring.ts';
import { createHostedSignup } from './hosted-signup/hosted-signup.ts';
import type { SignupMailer } from '../shared/smtp-mailer.ts';
import { listen, type ListeningServer, type RunningService } from '../shared/http-listen.ts';
import { createProvisionerApp, type ReadinessCheck } from './http/app.ts';
import { createJsonLogger, type ProvisionLogger } from '../shared/provision-log.ts';
import { NO_BILLING_SETTINGS, type ProvisionerSettings } from './settings/settings.ts';
import { describeStripeTarget } from './stripe/stripe-client.ts';
import { createProvisionerCore, type CoreOptions, type ProvisionerCore } from './compose.ts';

function readinessChecks(settings: ProvisionerSettings, core: ProvisionerCore): ReadinessCheck[] {
  const kong = new KongAdminClient({ adminUrl: settings.kong.adminUrl, token: settings.kong.token, workspace: settings.kong.workspace, attempts: 1, timeoutMs: 2000 });
  const aws = core.aws;
  return [
    aws ? awsReadinessCheck(aws) : {
      name: 'kong',
      check: async () => void (await (settings.hostedSignup ? new KongConsumers(kong).listPage(1) : kong.listDevelopersPage({ size: 1 }))),
    },
    {
      name: 'stripe',
      check: async (timeoutMs) => {
        try {
          await core.stripe.prices.list({ limit: 1 }, { timeout: timeoutMs, maxNetworkRetries: 0 });
        } catch (error) {
          throw new Error(`${describeStripeTarget(settings.stripe)}: ${(error as Error).message}`, { cause: error });
        }
      },
    },
    { name: 'moesif', check: async (timeoutMs) => void (await core.moesifClient.check(timeoutMs)) },
  ];
}

function describeTrustedProxies(proxies: ProvisionerSettings['trustedProxies']): string {
  if (!proxies || proxies.kind === 'none') return 'none (X-Forwarded-For ignored)';
  return proxies.kind === 'hops' ? `${proxies.count} hop(s)` : proxies.entries.join(',');
}

export interface StartOptions extends CoreOptions {
  /** Overrides settings.port; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1; use 0.0.0.0 to serve other machines. */
  host?: string;
  /** Longest wait for in-flight requests on drain; default 25 s. */
  drainTimeoutMs?: number;
  /** Hosted signup email transport; default SMTP at SMTP_URL. */
  signupMailer?: SignupMailer;
  /** The sandbox: seconds its Stripe emulator's account clock is ahead of the wall (meter event timestamps follow it). */
  usageStripeTimeShiftSeconds?: () => number;
}

export type RunningProvisioner = RunningService & ProvisionerCore & { drain(): Promise<void> };

type HostedSignup = ReturnType<typeof createHostedSignup>;

/** SIGNUP_MODE=hosted: the signup and account pages, on the gateway the core chose. */
function hostedSignupOf(settings: ProvisionerSettings, core: ProvisionerCore, logger: ProvisionLogger, options: StartOptions): HostedSignup | undefined {
  const signupConsumers = core.signupGateway;
  if (!settings.hostedSignup || !signupConsumers) return undefined;
  return createHostedSignup({
    settings: settings.hostedSignup,
    stripe: core.stripe,
    writeLimiter: core.writeLimiter,
    consumers: signupConsumers,
    keyHeader: signupConsumers.keyHeader,
    provisioner: core.provisioner,
    access: core.billing.access,
    plans: settings.plans,
    prices: core.prices,
    defaultCollection: (settings.billing ?? NO_BILLING_SETTINGS).paymentCollection,
    trustedProxies: settings.trustedProxies ?? { kind: 'none' },
    logger,
    // The billing core's figures: one cache of Stripe's preview for the account page, the portal panel and the limits feed.
    usage: core.billing.usageFigures,
    ...(options.signupMailer ? { mailer: options.signupMailer } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

function appOf(settings: ProvisionerSettings, core: ProvisionerCore, logger: ProvisionLogger, hosted: HostedSignup | undefined) {
  return createProvisionerApp({
    provisioner: core.provisioner,
    plans: settings.plans,
    prices: core.prices,
    kong: core.kong,
    portalOrigins: settings.portalOrigins,
    eventHookSecret: settings.eventHookSecret,
    rateLimitPerMinute: settings.rateLimitPerMinute,
    trustedProxies: settings.trustedProxies ?? { kind: 'none' },
    readiness: readinessChecks(settings, core),
    readyzToken: settings.readyzToken,
    logger,
    // Settings built in code without billing (older tests, benches) keep the signup's two round trips.
    ...(settings.billing ? { billing: core.billing } : {}),
    stripe: core.stripe,
    stripeWebhookSecret: settings.billing?.webhookSecret,
    hostedSignup: hosted?.app,
  });
}

function logStartSettings(settings: ProvisionerSettings, logger: ProvisionLogger): void {
  logger.info({
    event: 'provisioner_settings',
    log_hash_key: settings.logHashKey?.source ?? 'random per process (email hashes change on restart)',
    readyz_details: settings.readyzToken ? 'READYZ_TOKEN bearer' : 'off',
    trusted_proxies: describeTrustedProxies(settings.trustedProxies),
  });
  for (const warning of billingWarnings(settings)) logger.warn({ event: 'provisioner_setting_warning', message: warning });
}

/**
 * Counts a request until its response is fully written (or the client went away), so drain never
 * cuts an answer that the app has produced but Node has not sent yet. Returns the wait for none left.
 */
function countInFlight(server: ListeningServer['server']): (timeoutMs: number) => Promise<void> {
  let inFlight = 0;
  let idle: (() => void) | undefined;
  server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    inFlight++;
    response.once('close', () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
  });
  return (timeoutMs) =>
    inFlight === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
}

export async function startProvisioner(settings: ProvisionerSettings, options: StartOptions = {}): Promise<RunningProvisioner> {
  const logger = options.logger ?? createJsonLogger();
  const core = createProvisionerCore(settings, { ...options, logger });
  // GATEWAY=aws: an unknown usage plan or unusable credentials stop the start, before any signup writes.
  if (core.aws && settings.aws) await checkUsagePlans(core.aws, settings.aws);
  const hosted = hostedSignupOf(settings, core, logger, options);
  const app = appOf(settings, core, logger, hosted);
  const usage = startProvisionerUsage(settings, core, logger, options);

  let draining = false;
  const fetchHandler = (request: Request, env: unknown): Response | Promise<Response> =>
    draining
      ? Response.json({ error: { code: 'shutting_down', message: 'the provisioner is shutting down; retry shortly' } }, { status: 503, headers: { connection: 'close', 'x-content-type-options': 'nosniff' } })
      : app.fetch(request, env);

  logStartSettings(settings, logger);
  const running = await listen('provisioner', fetchHandler, options.port ?? settings.port, options.host ?? '127.0.0.1', { portHint: '--port or PROVISIONER_PORT' });
  const { server } = running;
  const waitForInFlight = countInFlight(server);

  const close = async () => {
    draining = true;
    usage?.stop();
    hosted?.close();
    core.moesif.close();
    core.billing.timers.clear();
    await running.close();
  };

  let drainPromise: Promise<void> | undefined;
  const drain = () =>
    (drainPromise ??= (async () => {
      draining = true;
      usage?.stop();
      const done = running.stopAccepting();
      server.closeIdleConnections();
      await waitForInFlight(options.drainTimeoutMs ?? 25_000);
      if (core.moesif.pendingCount > 0) {
        await core.moesif.flush();
        if (core.moesif.pendingCount > 0)
          logger.warn({ event: 'moesif_pending_on_exit', count: core.moesif.pendingCount, message: 'run `npm run reconcile` to finish them' });
      }
      core.moesif.close();
      hosted?.close();
      core.billing.timers.clear();
      server.closeAllConnections();
      await done;
    })());

  return { name: running.name, url: running.url, port: running.port, close, drain, ...core };
}

/** USAGE_REPORTING=provisioner with a management token: the reporter's timer (several replicas may run it). */
function startProvisionerUsage(settings: ProvisionerSettings, core: ProvisionerCore, logger: ProvisionLogger, options: StartOptions): UsageTimer | undefined {
  const usage = settings.usage;
  if (!usage || usage.mode !== 'provisioner') return undefined;
  if (!usage.managementToken) {
    logger.warn({ event: 'usage_reporting_off', message: 'USAGE_REPORTING=provisioner but MOESIF_MANAGEMENT_TOKEN is not set: no usage reaches Stripe; set it (scope read:events) or USAGE_REPORTING=moesif|off' });
    return undefined;
  }
  const service = createUsageService(usage, {
    stripe: core.stripe,
    writeLimiter: core.writeLimiter,
    companyIdSource: settings.moesif.companyIdSource,
    // After each run the seen developers' period figures re-decide their access (quotas, spend caps).
    limits: core.billing,
    ...(options.usageStripeTimeShiftSeconds ? { stripeTimeShiftSeconds: options.usageStripeTimeShiftSeconds } : {}),
  });
  return startUsageTimer(service, usage.intervalSeconds, (entry) => (entry.event === 'usage_report_failed' ? logger.warn(entry) : logger.info(entry)));
}

/** Billing settings that work but leave developers without a way to pay or without updates. */
export function billingWarnings(settings: ProvisionerSettings): string[] {
  const billing = settings.billing;
  if (!billing) return [];
  const warnings: string[] = [];
  const checkoutPlans = settings.plans.plans.filter((plan) => (plan.payment_collection ?? billing.paymentCollection) === 'checkout').map((plan) => plan.id);
  if (checkoutPlans.length && !billing.dashboardUrl)
    warnings.push(
      `plans ${checkoutPlans.join(', ')} collect a card through Checkout, but PORTAL_DASHBOARD_URL is not set: no Checkout link is offered and those developers stay refused until they add a card in the customer portal; set PORTAL_DASHBOARD_URL to the portal dashboard`,
    );
  if (!billing.webhookSecret)
    warnings.push('STRIPE_WEBHOOK_SECRET is not set: Kong access follows Stripe only through the page, the Kong event hook and reconcile; run `npm run stripe:setup -- --webhook-url https://<this provisioner>/stripe/webhooks`');
  return warnings;
}
