/**
 * The composition root without the web server: wires settings into the Stripe client, write
 * limiter, Kong client, Moesif sync, price resolver, the provisioner and the billing core.
 * Reconcile, doctor and the server all build from here; nothing here loads Hono, the rate
 * limiter or the mailer, so a cron job stays small.
 */
import type Stripe from 'stripe';
import { KongAdminClient } from '../kong/kong-admin-client.ts';
import { KongConsumers } from '../kong/kong-consumers.ts';
import { kongSignupGateway, type SignupGateway } from './hosted-signup/signup-gateway.ts';
import { createAwsSignupGateway } from './gateways/aws/aws-wiring.ts';
import type { AwsSignupGateway } from './gateways/aws/aws-gateway.ts';
import { createMoesifClient, type MoesifClient } from './moesif/moesif-client.ts';
import { createMoesifSync, type MoesifSync, type MoesifSyncOptions } from './moesif/moesif-sync.ts';
import { createPriceResolver, type PriceResolver } from './core/plan-prices.ts';
import { setEmailHashKey } from './stripe/idempotency.ts';
import { createJsonLogger, type ProvisionLogger } from '../shared/provision-log.ts';
import { createProvisioner, type Provisioner } from './core/provisioner.ts';
import { NO_BILLING_SETTINGS, type ProvisionerSettings } from './settings/settings.ts';
import { createBillingCore, type BillingCore } from './wiring/billing-wiring.ts';
import { alertChannelsOf } from './settings/alert-settings.ts';
import { createStripeClient, type StripeClientOptions } from './stripe/stripe-client.ts';
import type { StripeRetryOptions } from './stripe/stripe-calls.ts';
import { createWriteLimiter, type WriteLimiter } from './stripe/write-limiter.ts';

export interface ProvisionerCore {
  stripe: Stripe;
  kong: KongAdminClient;
  moesifClient: MoesifClient;
  moesif: MoesifSync;
  prices: PriceResolver;
  writeLimiter: WriteLimiter;
  provisioner: Provisioner;
  /** Access at Kong, billing status, Stripe events, removals. */
  billing: BillingCore;
  /** SIGNUP_MODE=hosted: Kong consumers (the provisioner and billing then work on consumers, not portal developers). */
  consumers?: KongConsumers;
  /** GATEWAY=aws: API keys at AWS API Gateway are the developers (instead of Kong consumers). */
  aws?: AwsSignupGateway;
  /** SIGNUP_MODE=hosted: the gateway seam the hosted signup works through (Kong consumers or AWS keys). */
  signupGateway?: SignupGateway;
}

export interface CoreOptions {
  logger?: ProvisionLogger;
  stripeClient?: StripeClientOptions;
  stripeRetry?: StripeRetryOptions;
  moesifSync?: Omit<MoesifSyncOptions, 'logger'>;
  /** Clock in ms for billing decisions (grace) and provisioning; default Date.now. The sandbox passes the Stripe emulator's account clock. */
  now?: () => number;
  /** Moesif client retry tuning (tests shorten it). */
  moesifAttempts?: number;
  moesifBaseDelayMs?: number;
}

/** Everything but HTTP: what reconcile and doctor build to reuse the provisioning sequence. */
export function createProvisionerCore(settings: ProvisionerSettings, options: CoreOptions = {}): ProvisionerCore {
  const logger = options.logger ?? createJsonLogger();
  // Email hashes in every log line of this process are keyed (never an unsalted digest).
  if (settings.logHashKey) setEmailHashKey(settings.logHashKey.key);
  const stripe = createStripeClient(settings, options.stripeClient);
  const writeLimiter = createWriteLimiter({ ratePerSecond: settings.stripe.maxWritesPerSecond });
  const kong = new KongAdminClient({ adminUrl: settings.kong.adminUrl, token: settings.kong.token, workspace: settings.kong.workspace });
  const moesifClient = createMoesifClient({
    apiBase: settings.moesif.apiBase,
    applicationId: settings.moesif.applicationId,
    ...(options.moesifAttempts === undefined ? {} : { attempts: options.moesifAttempts }),
    ...(options.moesifBaseDelayMs === undefined ? {} : { baseDelayMs: options.moesifBaseDelayMs }),
  });
  const moesif = createMoesifSync(moesifClient, { ...options.moesifSync, logger });
  const aws = settings.hostedSignup && settings.aws ? createAwsSignupGateway(settings.aws) : undefined;
  const consumers = settings.hostedSignup && !aws ? new KongConsumers(kong) : undefined;
  // Hosted signup: a consumer (or an AWS API key) is the developer (consumer-directory.ts), on every path.
  const signupGateway = aws ?? (consumers ? kongSignupGateway(consumers) : undefined);
  const developers = signupGateway ? signupGateway.directory() : kong;
  const prices = createPriceResolver(stripe);
  const provisioner = createProvisioner({
    stripe,
    // A hosted consumer's meta lives in its tags, which hold only the plan: nothing to remember there.
    kong: consumers ? { getDeveloper: (emailOrId: string) => developers.getDeveloper(emailOrId) } : kong,
    moesif,
    prices,
    plans: settings.plans,
    workspace: settings.kong.workspace,
    provisionStatuses: settings.provisionStatuses,
    companyIdSource: settings.moesif.companyIdSource,
    paymentCollection: (settings.billing ?? NO_BILLING_SETTINGS).paymentCollection,
    writeLimiter,
    logger,
    ...(options.stripeRetry ? { stripeRetry: options.stripeRetry } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const billing = createBillingCore(settings, {
    stripe,
    retry: options.stripeRetry,
    writeLimiter,
    kong: developers,
    provisioner,
    logger,
    alertChannels: alertChannelsOf(settings.alerts),
    ...(options.now ? { now: options.now } : {}),
  });
  return { stripe, kong, moesifClient, moesif, prices, writeLimiter, provisioner, billing, ...(consumers ? { consumers } : {}), ...(aws ? { aws } : {}), ...(signupGateway ? { signupGateway } : {}) };
}
