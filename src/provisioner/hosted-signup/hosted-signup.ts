/**
 * Builds the hosted signup from the provisioner's settings and core: the token signer, the SMTP
 * mailer, the service (over the same provisioner and access sync as everything else) and its
 * routes. server.ts mounts the result when SIGNUP_MODE=hosted.
 */
import type { Hono } from 'hono';
import type Stripe from 'stripe';
import type { SignupConsumers } from './signup-gateway.ts';
import type { PlansFile } from '../../shared/plans.ts';
import type { TrustedProxies } from '../settings/trusted-proxies.ts';
import type { AccessSync } from '../core/access-sync.ts';
import type { PriceResolver } from '../core/plan-prices.ts';
import type { ProvisionLogger } from '../../shared/provision-log.ts';
import type { Provisioner } from '../core/provisioner.ts';
import type { PaymentCollection } from '../../shared/plans.ts';
import type { WriteLimiter } from '../stripe/write-limiter.ts';
import type { HostedSignupSettings } from '../settings/hosted-settings.ts';
import { createAccountRoutes } from './account-routes.ts';
import { createAccountService } from './account-service.ts';
import { createBackgroundTasks } from './background-tasks.ts';
import { createLinkLimits } from './link-limits.ts';
import type { UsageFiguresService } from '../usage/usage-figures.ts';
import { createPageKit } from './page-kit.ts';
import { createTokenSigner } from './signed-token.ts';
import { createSmtpMailer, type SignupMailer } from '../../shared/smtp-mailer.ts';
import { createSignupRoutes } from './signup-routes.ts';
import { createSignupService } from './signup-service.ts';

interface HostedSignupDeps {
  settings: HostedSignupSettings;
  stripe: Stripe;
  writeLimiter?: WriteLimiter;
  consumers: SignupConsumers;
  /** The header the gateway reads keys from, for the key page (default apikey: Kong; AWS: x-api-key). */
  keyHeader?: string;
  provisioner: Pick<Provisioner, 'provisionDeveloper'>;
  access: AccessSync;
  plans: PlansFile;
  prices: PriceResolver;
  defaultCollection: PaymentCollection;
  trustedProxies: TrustedProxies;
  logger: ProvisionLogger;
  /** Defaults to SMTP at settings.smtpUrl (tests pass a capturing one). */
  mailer?: SignupMailer;
  now?: () => number;
  /** Calls and amount so far on the account page (usage/usage-figures.ts); absent: not shown. */
  usage?: UsageFiguresService;
}

const CLOSE_GRACE_MS = 5_000;

interface HostedSignup {
  app: Hono;
  close(): void;
}

export function createHostedSignup(deps: HostedSignupDeps): HostedSignup {
  const { settings } = deps;
  const signer = createTokenSigner(settings.secret, deps.now);
  const mailer = deps.mailer ?? createSmtpMailer(settings.smtpUrl, settings.emailFrom);
  const background = createBackgroundTasks({ logger: deps.logger });
  const service = createSignupService({
    stripe: deps.stripe,
    writeLimiter: deps.writeLimiter,
    consumers: deps.consumers,
    provisioner: deps.provisioner,
    access: deps.access,
    plans: deps.plans,
    prices: deps.prices,
    defaultCollection: deps.defaultCollection,
    signer,
    mailer,
    publicUrl: settings.publicUrl,
    productName: settings.productName,
    linkTtlMinutes: settings.linkTtlMinutes,
    logger: deps.logger,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const brand = { productName: settings.productName, logoUrl: settings.logoUrl, accentColor: settings.accentColor, termsUrl: settings.termsUrl };
  const kit = createPageKit({
    signer,
    brand,
    publicUrl: settings.publicUrl,
    trustedProxies: deps.trustedProxies,
    emailsPerHour: settings.emailsPerHour,
    logger: deps.logger,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const linkLimits = createLinkLimits({ kit, perAddressPerMinute: settings.requestsPerMinute });
  const app = createSignupRoutes({
    service,
    signer,
    kit,
    plans: deps.plans,
    prices: deps.prices,
    brand,
    apiUrl: settings.apiUrl,
    keyHeader: deps.keyHeader,
    publicUrl: settings.publicUrl,
    trustedProxies: deps.trustedProxies,
    requestsPerMinute: settings.requestsPerMinute,
    emailsPerHour: settings.emailsPerHour,
    logger: deps.logger,
    background,
    linkLimits,
  });
  const account = createAccountService({
    stripe: deps.stripe,
    writeLimiter: deps.writeLimiter,
    consumers: deps.consumers,
    provisioner: deps.provisioner,
    access: deps.access,
    plans: deps.plans,
    signer,
    mailer,
    publicUrl: settings.publicUrl,
    productName: settings.productName,
    linkTtlMinutes: settings.linkTtlMinutes,
    logger: deps.logger,
    ...(deps.usage ? { usage: deps.usage } : {}),
  });
  app.route('/', createAccountRoutes({ service: account, kit, brand, apiUrl: settings.apiUrl, keyHeader: deps.keyHeader, requestsPerMinute: settings.requestsPerMinute, background, linkLimits }));
  return {
    app,
    // Emails already answered for get a few seconds to go out before the transport closes.
    close: () => void Promise.race([background.idle(), new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())]).finally(() => mailer.close()),
  };
}
