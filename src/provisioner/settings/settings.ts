/**
 * Provisioner settings, read once from the environment at start and validated with zod. A missing
 * or malformed variable stops the start with a SettingError naming it. Reconcile and doctor load
 * the same settings through loadProvisionerSettings so every tool reads the environment one way.
 */
import { parseUsageSettings, type UsageSettings } from '../usage/usage-settings.ts';
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { collectSettingError, combineSettingErrors, SettingError } from '../../shared/errors.ts';
import { isHttpUrl, parseHttpUrl } from '../../shared/http-url-setting.ts';
import { loadPlansFile, PAYMENT_COLLECTIONS, planPickerProblem, PlansFileError, type PaymentCollection, type PlansFile } from '../../shared/plans.ts';
import { readKongSettings, type KongSettings } from '../../kong/kong-settings.ts';
import { DEVELOPER_STATUS, type DeveloperStatusName } from '../../kong/kong-types.ts';
import { REMOVAL_POLICIES, type RemovalPolicy } from '../core/developer-removal.ts';
import { parseTrustedProxies, type TrustedProxies } from './trusted-proxies.ts';
import { parseHostedSignupEnv, type HostedSignupSettings } from './hosted-settings.ts';
import { AWS_VARIABLES, AWS_WITHOUT_KONG, parseAwsGatewayEnv, parseGateway, type AwsGatewaySettings } from './aws-settings.ts';
import { parseStripeApiBase, parseStripeSecretKey, type StripeKeyMode, type StripeSettings } from '../stripe/stripe-settings.ts';
import type { MoesifCompanyIdSource } from '../moesif/moesif-client.ts';
import { refuseSandboxSettingsInProduction, type SandboxMarker } from './production-guard.ts';
import { ALERT_VARIABLES, parseAlertSettings, type AlertSettings } from './alert-settings.ts';
import { parseRateLimitSettings, RATE_LIMIT_VARIABLES, type RateLimitSettings } from '../core/rate-limit-settings.ts';


interface MoesifSettings {
  applicationId: string;
  apiBase: string;
  companyIdSource: MoesifCompanyIdSource;
}

export interface ProvisionerSettings {
  stripe: StripeSettings;
  moesif: MoesifSettings;
  kong: KongSettings;
  /** Exact origins (scheme://host[:port]) allowed to call the provisioner from a browser. */
  portalOrigins: string[];
  plansFile: string;
  plans: PlansFile;
  port: number;
  /** Shared secret of the Kong event hook; undefined disables POST /kong/events. */
  eventHookSecret: string | undefined;
  /** Developer status codes that get provisioned. */
  provisionStatuses: number[];
  /** POST /provision requests per minute per client address. */
  rateLimitPerMinute: number;
  /** Proxies whose X-Forwarded-For the rate limiter believes; none when absent. */
  trustedProxies?: TrustedProxies;
  /** Bearer token that unlocks /readyz details; absent = details never shown. */
  readyzToken?: string | undefined;
  /** Key of the HMAC that hashes emails in logs (LOG_HASH_KEY, else derived from STRIPE_SECRET_KEY); absent = a random key per process. */
  logHashKey?: { key: string; source: 'LOG_HASH_KEY' | 'derived from STRIPE_SECRET_KEY' };
  /** Absent (settings built in code, e.g. older tests): NO_BILLING_SETTINGS. */
  billing?: BillingSettings;
  /** SIGNUP_MODE=hosted: the provisioner serves /signup and works on consumers, not portal developers. */
  hostedSignup?: HostedSignupSettings | undefined;
  /** GATEWAY=aws: keys and access on AWS API Gateway instead of Kong (gateways/aws/). */
  aws?: AwsGatewaySettings | undefined;
  /** Usage reporting (src/provisioner/usage); absent (settings built in code): no reporter timer. */
  usage?: UsageSettings;
  /** How Kong counts the plans' rate limits (RATE_LIMIT_POLICY); local when absent. */
  rateLimit?: RateLimitSettings;
  /** Where usage alerts go (SMTP_URL + ALERT_EMAIL_FROM, ALERT_WEBHOOK_URL); none: no alerts. */
  alerts?: AlertSettings;
}

interface BillingSettings {
  /** whsec_ secret of the Stripe webhook endpoint; undefined disables POST /stripe/webhooks. */
  webhookSecret: string | undefined;
  /** How plans that do not say collect payment. */
  paymentCollection: PaymentCollection;
  /** Days a past_due developer keeps access, from the first failed payment. */
  graceDays: number;
  /** Where Checkout returns to and where refused developers are sent to fix it. */
  dashboardUrl: string | undefined;
  /** What happens to the subscription of a developer deleted, revoked or rejected in Kong. */
  onDeveloperRemoved: RemovalPolicy;
}

/** Billing when settings carry none: no payment collected, no webhooks. */
export const NO_BILLING_SETTINGS: BillingSettings = { webhookSecret: undefined, paymentCollection: 'none', graceDays: 3, dashboardUrl: undefined, onDeveloperRemoved: 'period_end' };

const MIN_SECRET_LENGTH = 16;

/** Every variable with its default, for --help and docs/configuration.md (npm run docs). */
export const PROVISIONER_VARIABLES: ReadonlyArray<{ name: string; default: string; description: string }> = [
  { name: 'STRIPE_SECRET_KEY', default: '(required)', description: 'Stripe secret or restricted key: sk_test_/rk_test_ or sk_live_/rk_live_' },
  { name: 'STRIPE_API_BASE', default: 'https://api.stripe.com', description: 'a Stripe-compatible server, e.g. http://127.0.0.1:12111 (the sandbox emulator)' },
  { name: 'STRIPE_MAX_WRITES_PER_SECOND', default: '20 (test keys) / 80 (live keys)', description: 'client-side Stripe write limit, under Stripe\'s 25/s test and 100/s live' },
  { name: 'MOESIF_APPLICATION_ID', default: '(required)', description: 'Moesif Collector Application Id (X-Moesif-Application-Id)' },
  { name: 'MOESIF_API_BASE', default: 'https://api.moesif.net', description: 'Moesif Collector API base URL' },
  { name: 'MOESIF_COMPANY_ID_SOURCE', default: 'subscription', description: 'Moesif company_id: the Stripe subscription id, or "customer" for the customer id' },
  { name: 'KONG_ADMIN_URL', default: '(required unless GATEWAY=aws)', description: 'Kong Admin API URL, e.g. http://127.0.0.1:8001; GATEWAY=aws calls no Kong' },
  { name: 'KONG_ADMIN_TOKEN', default: '(none)', description: 'RBAC token sent as Kong-Admin-Token' },
  { name: 'KONG_ADMIN_TOKEN_FILE', default: '(none)', description: 'file holding the RBAC token; wins over KONG_ADMIN_TOKEN' },
  { name: 'KONG_WORKSPACE', default: 'default', description: 'portal workspace' },
  { name: 'PLANS_FILE', default: '(required)', description: 'plans file (see plans.example.json)' },
  { name: 'PORTAL_ORIGINS', default: '(none: no browser may call)', description: 'comma-separated CORS allowlist, e.g. http://localhost:8003' },
  { name: 'PROVISIONER_PORT', default: '8787', description: 'HTTP port (the --port flag wins)' },
  { name: 'KONG_EVENT_HOOK_SECRET', default: '(none: POST /kong/events disabled)', description: 'secret of the Kong "developers" event hook (x-kong-signature), at least 16 characters' },
  { name: 'PROVISION_STATUSES', default: 'approved', description: 'developer statuses that get provisioned, names or codes (0-5); the event hook provisions on approval' },
  { name: 'PROVISION_RATE_LIMIT_PER_MINUTE', default: '30', description: 'POST /provision requests per minute per client address (IPv6: per /64)' },
  { name: 'TRUSTED_PROXIES', default: '(none: X-Forwarded-For ignored)', description: 'proxies whose X-Forwarded-For is believed: addresses/CIDRs (10.0.0.0/8,::1) or a hop count (1-10); prefixes shorter than /8 refused outside the sandbox' },
  { name: 'READYZ_TOKEN', default: '(none: /readyz shows the status only)', description: 'bearer token that unlocks /readyz details, at least 16 characters' },
  { name: 'STRIPE_WEBHOOK_SECRET', default: '(none: POST /stripe/webhooks disabled)', description: 'whsec_ signing secret of the Stripe webhook endpoint (printed once by stripe:setup --webhook-url)' },
  { name: 'PAYMENT_COLLECTION', default: 'checkout', description: 'how plans that do not say collect payment: checkout (a card via Stripe Checkout), invoice (emailed invoices) or none' },
  { name: 'BILLING_GRACE_DAYS', default: '3', description: 'days a past_due developer keeps API access, counted from the first failed payment (0-60)' },
  { name: 'PORTAL_DASHBOARD_URL', default: '(none: no Checkout link for a refused developer)', description: 'where Stripe Checkout returns and where 402 answers send developers: the portal dashboard, or with SIGNUP_MODE=hosted (either gateway) <SIGNUP_PUBLIC_URL>/signup/account' },
  { name: 'ON_DEVELOPER_REMOVED', default: 'period_end', description: 'subscription of a developer deleted/revoked/rejected in Kong: period_end, now or never' },
  { name: 'LOG_HASH_KEY', default: '(derived from STRIPE_SECRET_KEY)', description: 'HMAC key for email hashes in logs, at least 16 characters' },
  ...AWS_VARIABLES,
  ...RATE_LIMIT_VARIABLES,
  ...ALERT_VARIABLES,
];

const DEFAULT_WRITES_PER_SECOND: Record<StripeKeyMode, number> = { test: 20, live: 80 };

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** An optional numeric variable; `problem` returns why a number is not acceptable. */
const numberVar = (problem: (n: number) => string | undefined) =>
  optionalText.transform((value, ctx) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    const message = Number.isFinite(n) ? problem(n) : `"${value}" is not a number`;
    if (message) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return n;
  });

/** An optional secret: when set, at least MIN_SECRET_LENGTH characters (as sync demands of the hook secret). */
const secretVar = optionalText.refine((value) => value === undefined || value.length >= MIN_SECRET_LENGTH, `is shorter than ${MIN_SECRET_LENGTH} characters`);

const httpUrl = (example: string) => z.string().trim().refine(isHttpUrl, `must be an http(s) URL such as ${example}`);

const origin = z.string().refine((value) => {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}, 'each entry must be an origin such as http://localhost:8003 (scheme, host and port; no path or trailing slash)');

const statusNames = Object.keys(DEVELOPER_STATUS) as DeveloperStatusName[];

const envSchema = z.object({
  STRIPE_MAX_WRITES_PER_SECOND: numberVar((n) => (n > 0 && n <= 1000 ? undefined : 'must be a number above 0 and at most 1000')),
  MOESIF_APPLICATION_ID: z.string({ error: 'is not set' }).trim().min(1, 'is empty'),
  MOESIF_API_BASE: optionalText.pipe(httpUrl('https://api.moesif.net').optional()),
  MOESIF_COMPANY_ID_SOURCE: optionalText.pipe(z.enum(['subscription', 'customer'], 'must be "subscription" or "customer"').optional()),
  PLANS_FILE: z.string({ error: 'is not set' }).trim().min(1, 'is empty'),
  PORTAL_ORIGINS: optionalText.transform((value, ctx) => {
    const list = (value ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
    for (const entry of list) {
      const result = origin.safeParse(entry);
      if (!result.success) ctx.addIssue({ code: 'custom', message: `"${entry}": ${result.error.issues[0]?.message}` });
    }
    return list;
  }),
  PROVISIONER_PORT: numberVar((n) => (Number.isInteger(n) && n >= 0 && n <= 65535 ? undefined : 'must be a port number 0-65535')),
  KONG_EVENT_HOOK_SECRET: secretVar,
  READYZ_TOKEN: secretVar,
  LOG_HASH_KEY: secretVar,
  TRUSTED_PROXIES: optionalText.transform((value, ctx) => {
    const parsed = parseTrustedProxies(value);
    if ('problem' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }
    return parsed;
  }),
  PROVISION_STATUSES: optionalText.transform((value, ctx) => {
    const entries = (value ?? 'approved').split(',').map((entry) => entry.trim().toLowerCase()).filter(Boolean);
    const codes: number[] = [];
    for (const entry of entries) {
      const code = /^\d+$/.test(entry) ? Number(entry) : DEVELOPER_STATUS[entry as DeveloperStatusName];
      if (code === undefined || !Object.values(DEVELOPER_STATUS).includes(code as never))
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not a developer status; use ${statusNames.join(', ')} or their codes 0-5` });
      else if (!codes.includes(code)) codes.push(code);
    }
    if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'lists no status' });
    return codes;
  }),
  PROVISION_RATE_LIMIT_PER_MINUTE: numberVar((n) => (Number.isInteger(n) && n > 0 ? undefined : 'must be a positive integer')),
  STRIPE_WEBHOOK_SECRET: optionalText.refine((value) => value === undefined || /^whsec_[A-Za-z0-9_+/=-]{8,}$/.test(value), 'must be the whsec_... signing secret of the webhook endpoint'),
  PAYMENT_COLLECTION: optionalText.pipe(z.enum(PAYMENT_COLLECTIONS, 'must be checkout, invoice or none').optional()),
  BILLING_GRACE_DAYS: numberVar((n) => (n >= 0 && n <= 60 ? undefined : 'must be a number of days from 0 to 60')),
  PORTAL_DASHBOARD_URL: optionalText.transform((value, ctx) => {
    if (value === undefined) return undefined;
    try {
      return parseHttpUrl(value, 'PORTAL_DASHBOARD_URL', { example: 'https://portal.example.com/default/dashboard', publicInBrowser: true }).href;
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as SettingError).message.replace(/^PORTAL_DASHBOARD_URL:?\s*/, '') });
      return z.NEVER;
    }
  }),
  ON_DEVELOPER_REMOVED: optionalText.pipe(z.enum(REMOVAL_POLICIES, 'must be period_end, now or never').optional()),
});

const HINTS: Record<string, string> = {
  MOESIF_APPLICATION_ID: 'copy the Collector Application Id from Moesif > Settings > API Keys',
  PLANS_FILE: 'point it at your plans file; start from plans.example.json',
  PORTAL_ORIGINS: 'list the portal origins, comma separated, e.g. http://localhost:8003,https://portal.example.com',
  PROVISION_STATUSES: 'e.g. approved (the default), or approved,pending',
  KONG_EVENT_HOOK_SECRET: 'use a long random value, e.g. `openssl rand -hex 32`, and give sync the same one',
  READYZ_TOKEN: 'use a long random value, e.g. `openssl rand -hex 32`',
  LOG_HASH_KEY: 'use a long random value, e.g. `openssl rand -hex 32`, or unset it to derive one from STRIPE_SECRET_KEY',
  STRIPE_WEBHOOK_SECRET: 'run `npm run stripe:setup -- --webhook-url https://<provisioner>/stripe/webhooks` and copy the secret it prints once',
  PORTAL_DASHBOARD_URL: 'the dashboard page of your portal, e.g. https://portal.example.com/default/dashboard',
  TRUSTED_PROXIES: 'list your load balancers, e.g. 10.0.0.0/8, or give the number of proxies in front, e.g. 1',
};

/**
 * Environment variables only; no file is read. Throws a SettingError naming every bad variable, or,
 * outside the sandbox, every setting that holds a sandbox value (production-guard.ts).
 */
export function parseProvisionerEnv(env: NodeJS.ProcessEnv, marker: SandboxMarker = {}): Omit<ProvisionerSettings, 'plans'> {
  const problems: SettingError[] = [];
  // The Stripe pair first, with the rules the admin commands share (stripe-settings.ts).
  const stripeKey = collectSettingError(problems, () => parseStripeSecretKey(env.STRIPE_SECRET_KEY));
  const apiBase = collectSettingError(problems, () => parseStripeApiBase(env.STRIPE_API_BASE));
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const seen = new Set<string>();
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? 'environment');
      if (!seen.has(variable)) problems.push(new SettingError(variable, issue.message, HINTS[variable]));
      seen.add(variable);
    }
  }
  // GATEWAY=aws runs without Kong: no Admin API is ever called, so none is required.
  const kong = parseGateway(env) === 'aws' && !env.KONG_ADMIN_URL?.trim() ? AWS_WITHOUT_KONG : collectSettingError(problems, () => readKongSettings(env));
  const hostedSignup = collectSettingError(problems, () => parseHostedSignupEnv(env));
  const rateLimit = collectSettingError(problems, () => parseRateLimitSettings(env));
  const alerts = collectSettingError(problems, () => parseAlertSettings(env, hostedSignup));
  if (problems.length > 0 || !stripeKey || !kong || !parsed.success) throw combineSettingErrors(problems);
  const { secretKey, mode } = stripeKey;
  const values = parsed.data;
  refuseSandboxSettingsInProduction(env, marker);
  return {
    stripe: {
      secretKey,
      mode,
      apiBase,
      maxWritesPerSecond: values.STRIPE_MAX_WRITES_PER_SECOND ?? DEFAULT_WRITES_PER_SECOND[mode],
    },
    moesif: {
      applicationId: values.MOESIF_APPLICATION_ID,
      apiBase: (values.MOESIF_API_BASE ?? 'https://api.moesif.net').replace(/\/+$/, ''),
      companyIdSource: values.MOESIF_COMPANY_ID_SOURCE ?? 'subscription',
    },
    kong,
    portalOrigins: values.PORTAL_ORIGINS,
    plansFile: values.PLANS_FILE,
    port: values.PROVISIONER_PORT ?? 8787,
    eventHookSecret: values.KONG_EVENT_HOOK_SECRET,
    provisionStatuses: values.PROVISION_STATUSES,
    rateLimitPerMinute: values.PROVISION_RATE_LIMIT_PER_MINUTE ?? 30,
    trustedProxies: values.TRUSTED_PROXIES,
    readyzToken: values.READYZ_TOKEN,
    billing: {
      webhookSecret: values.STRIPE_WEBHOOK_SECRET,
      paymentCollection: values.PAYMENT_COLLECTION ?? 'checkout',
      graceDays: values.BILLING_GRACE_DAYS ?? 3,
      dashboardUrl: values.PORTAL_DASHBOARD_URL,
      onDeveloperRemoved: values.ON_DEVELOPER_REMOVED ?? 'period_end',
    },
    hostedSignup,
    usage: parseUsageSettings(env),
    ...(rateLimit ? { rateLimit } : {}),
    ...(alerts ? { alerts } : {}),
    logHashKey: values.LOG_HASH_KEY
      ? { key: values.LOG_HASH_KEY, source: 'LOG_HASH_KEY' }
      : // Stable across restarts without a new setting; one-way, so the log key reveals nothing of the Stripe key.
        { key: createHmac('sha256', secretKey).update('kong-portal-monetization log hash v1').digest('hex'), source: 'derived from STRIPE_SECRET_KEY' },
  };
}

/** Environment plus the plans file it names (PlansFileError names the file and the bad field). */
export async function loadProvisionerSettings(env: NodeJS.ProcessEnv = process.env, marker: SandboxMarker = {}): Promise<ProvisionerSettings> {
  const settings = parseProvisionerEnv(env, marker);
  const plans = await loadPlansFile(settings.plansFile);
  // A picker without a default leaves a developer who picks nothing (or a plan not offered) unprovisionable.
  const problem = planPickerProblem(plans);
  if (problem) throw new PlansFileError(settings.plansFile, [problem]);
  const aws = parseAwsGatewayEnv(env, plans);
  return { ...settings, plans, ...(aws ? { aws } : {}) };
}
