/**
 * The local sandbox behind `npm start`: Kong, Stripe and Moesif emulators plus the real
 * provisioner, wired together the way a production install is: the Stripe catalog comes from the
 * plans file through `stripe:setup`'s code, and the bundle lands in the portal through the real
 * sync code over the emulated Admin Files API. It binds free ports unless asked (npm start asks for the well-known ones).
 */
import { createUsageService, type UsageRun } from '../provisioner/usage/usage-service.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../shared/package-root.ts';
import { setupStripeCatalog, type CatalogSetupResult } from '../admin/stripe-setup/catalog-setup.ts';
import { KongAdminClient } from '../kong/kong-admin-client.ts';
import { syncBundle, type SyncBundleResult } from '../admin/sync/sync-bundle.ts';
import { createStripeClient } from '../provisioner/stripe/stripe-client.ts';
import { loadProvisionerSettings, type ProvisionerSettings } from '../provisioner/settings/settings.ts';
import { startProvisioner, type RunningProvisioner, type StartOptions } from '../provisioner/server.ts';
import { silentLogger, type ProvisionLogger } from '../shared/provision-log.ts';
import { SettingError } from '../shared/errors.ts';
import { loadPlansFile } from '../shared/plans.ts';
import { KONG_DB_UPDATE_FREQUENCY_MS, startKongEmulator, seedStandInTheme, type RunningKongEmulator } from '../sandbox/kong/index.ts';
import { startMoesifEmulator, type RunningMoesifEmulator, type MoesifEmulatorOptions } from '../sandbox/moesif/moesif-emulator.ts';
import { startStripeEmulator, type RunningStripeEmulator, type StripeEmulatorOptions } from '../sandbox/stripe/stripe-emulator.ts';
import { refuseLiveKeys, SANDBOX_AWS, SANDBOX_EVENT_HOOK_SECRET, SANDBOX_KONNECT, SANDBOX_LOG_HASH_KEY, SANDBOX_MOESIF_APP_ID, SANDBOX_MOESIF_MANAGEMENT_TOKEN, SANDBOX_READYZ_TOKEN, SANDBOX_STRIPE_KEY } from '../sandbox/sandbox-credentials.ts';
import { freePort, hostedSignupEnv, setupSandboxBilling } from './sandbox-wiring.ts';
import { startSandboxAws, type SandboxAws } from '../sandbox/aws/sandbox-aws.ts';
import { createApiGatewayClient } from '../provisioner/gateways/aws/aws-client.ts';
import { setupUsagePlanLimits } from '../admin/aws-setup/aws-setup.ts';

export * from '../sandbox/sandbox-credentials.ts';

export const SANDBOX_SERVICES = ['kong', 'stripe', 'moesif', 'provisioner'] as const;
export type SandboxService = (typeof SANDBOX_SERVICES)[number];

export interface SandboxPorts {
  kongAdmin: number;
  kongPages: number;
  kongPortalApi: number;
  kongProxy: number;
  stripe: number;
  moesif: number;
  provisioner: number;
  /** The AWS API Gateway emulator's control plane (the SDK's endpoint); hosted.gateway 'aws' only. */
  aws: number;
  /** The AWS API Gateway emulator's invoke URL (x-api-key calls); hosted.gateway 'aws' only. */
  awsInvoke: number;
}

/** The well-known ports of the real products, so docs and muscle memory carry over. */
export const DEFAULT_PORTS: SandboxPorts = {
  kongAdmin: 8001,
  kongPages: 8003,
  kongPortalApi: 8004,
  kongProxy: 8000,
  stripe: 12111,
  moesif: 9500,
  provisioner: 8787,
  // LocalStack's edge port and the next one: what AWS tooling pointed at a local endpoint expects.
  aws: 4566,
  awsInvoke: 4567,
};

/**
 * Every service on a free port: startSandbox's default, so tests and benches never collide with
 * `npm start` or each other. Still exported for callers that spell it out.
 */
export const FREE_PORTS: SandboxPorts = { kongAdmin: 0, kongPages: 0, kongPortalApi: 0, kongProxy: 0, stripe: 0, moesif: 0, provisioner: 0, aws: 0, awsInvoke: 0 };

export const DEFAULT_PLANS_FILE = packagePath('plans.example.json');

export interface SandboxOptions {
  /** Which services to start; default all four. */
  services?: readonly SandboxService[];
  /** Ports; 0 = a free port. Default FREE_PORTS; `npm start` asks for DEFAULT_PORTS explicitly. */
  ports?: Partial<SandboxPorts>;
  /** `real` talks to Stripe test mode with STRIPE_SECRET_KEY from `env`; the only way a credential is read from `env`. */
  stripe?: 'emulator' | 'real';
  /**
   * Where `--stripe real` reads STRIPE_SECRET_KEY, and where URLs of services the sandbox does not
   * start come from; default process.env. No other credential is ever read from it.
   */
  env?: NodeJS.ProcessEnv;
  plansFile?: string;
  /** Give the workspace an optional `plan` meta field (so the page shows a plan picker). Default true. */
  planField?: boolean;
  /** Register the Kong event hook pointing at the provisioner. Default true. */
  eventHook?: boolean;
  /** RBAC token the Kong emulator demands; default none. */
  kongAdminToken?: string;
  /**
   * How long a plugin or key-auth change takes to reach the Kong emulator's proxy (ms). Default
   * 5000, Kong's `db_update_frequency`; tests that test other things pass 0.
   */
  kongPropagationMs?: number;
  stripeEmulator?: Omit<StripeEmulatorOptions, 'now'>;
  moesifEmulator?: Omit<MoesifEmulatorOptions, 'applicationIds'>;
  /**
   * Emulate Moesif's own billing meter reporting to Stripe (the Moesif emulator sends the meter
   * events; USAGE_REPORTING=moesif so the provisioner does not too). Off: the product's usage
   * reporter reads the Moesif emulator's Management API, as in production.
   */
  moesifBillingMeter?: boolean;
  /** POST /provision per minute per address (everything here comes from 127.0.0.1). */
  provisionRateLimitPerMinute?: number;
  provisionerLogger?: ProvisionLogger;
  /** Extra provisioner variables, e.g. STRIPE_MAX_WRITES_PER_SECOND (they win over the sandbox's). */
  provisionerEnv?: Record<string, string>;
  /** Start options of the provisioner (timeouts, retry tuning) beside port and logger. */
  provisionerOptions?: Omit<StartOptions, 'port' | 'logger'>;
  /** Progress lines; default silent. */
  log?: (line: string) => void;
  /**
   * Hosted signup (SIGNUP_MODE=hosted) instead of the portal: no bundle sync, emails to `smtpUrl`;
   * `konnect` points the provisioner at the Kong emulator's Konnect-style core-entities base;
   * `gateway: 'aws'` puts keys on the AWS API Gateway emulator (ports.aws, ports.awsInvoke) and
   * starts no Kong emulator (GATEWAY=aws never calls Kong).
   */
  hosted?: { smtpUrl: string; konnect?: boolean; gateway?: 'kong' | 'aws' };
}

export interface Sandbox {
  kong: RunningKongEmulator | undefined;
  stripe: RunningStripeEmulator | undefined;
  moesif: RunningMoesifEmulator | undefined;
  /** hosted.gateway 'aws': the AWS API Gateway emulator. */
  aws?: SandboxAws | undefined;
  provisioner: RunningProvisioner | undefined;
  /** Settings the provisioner runs with (undefined when it was not started). */
  provisionerSettings: ProvisionerSettings | undefined;
  catalog: CatalogSetupResult | undefined;
  sync: SyncBundleResult | undefined;
  /** The environment a CLI (sync, reconcile, doctor) needs to talk to this sandbox. */
  env: Record<string, string>;
  /**
   * What the printed "money moves" command does: close the open usage window now (no ingestion
   * lag wait) and run the usage reporter once, as `usage --once --close-open-window` does.
   */
  reportUsage(): Promise<UsageRun>;
  /** Start the provisioner again after stopProvisioner (same port). */
  startProvisioner(): Promise<RunningProvisioner>;
  stopProvisioner(): Promise<void>;
  close(): Promise<void>;
}

/** What the steps of one startSandbox call share. */
interface Wiring {
  options: SandboxOptions;
  services: Set<SandboxService>;
  /** Mutable: a provisioner port 0 becomes the free port picked for it. */
  ports: SandboxPorts;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Stops what was started, run in reverse order on close or on a failed start. */
  stopping: Array<() => Promise<void>>;
}

interface Emulators {
  moesif: RunningMoesifEmulator | undefined;
  /** The Moesif emulator's URL, or one elsewhere, never a real account. */
  moesifUrl: string;
  stripe: RunningStripeEmulator | undefined;
  kong: RunningKongEmulator | undefined;
}

/** `--stripe real`'s key: credentials come from the environment only when the mode asks for the real service. */
function realStripeKeyOf(env: NodeJS.ProcessEnv, stripeMode: 'emulator' | 'real'): string | undefined {
  const realStripeKey = stripeMode === 'real' ? env.STRIPE_SECRET_KEY : undefined;
  if (stripeMode === 'real' && !realStripeKey?.startsWith('sk_test_') && !realStripeKey?.startsWith('rk_test_'))
    throw new SettingError('STRIPE_SECRET_KEY', '--stripe real needs a Stripe test-mode key (sk_test_… or rk_test_…)', 'export STRIPE_SECRET_KEY=sk_test_… from your Stripe dashboard (test mode), or drop --stripe real to use the emulator');
  return realStripeKey;
}

async function startEmulators({ options, services, ports, env, log, stopping }: Wiring, stripeMode: 'emulator' | 'real'): Promise<Emulators> {
  const moesif = services.has('moesif')
    ? await startMoesifEmulator({ ...options.moesifEmulator, port: ports.moesif, applicationIds: [SANDBOX_MOESIF_APP_ID], managementTokens: [SANDBOX_MOESIF_MANAGEMENT_TOKEN] })
    : undefined;
  if (moesif) {
    stopping.push(() => moesif.close());
    log(`moesif emulator    ${moesif.url}`);
  }
  // Not started here: a Moesif emulator elsewhere (`npm start -- --services stripe,moesif`), never a real account.
  const moesifUrl = moesif?.url ?? env.MOESIF_API_BASE ?? `http://127.0.0.1:${DEFAULT_PORTS.moesif}`;

  const stripe = services.has('stripe') && stripeMode === 'emulator' ? await startStripeEmulator({ ...options.stripeEmulator, port: ports.stripe }) : undefined;
  if (stripe) {
    stopping.push(() => stripe.close());
    log(`stripe emulator    ${stripe.url}`);
  }

  const kong = services.has('kong')
    ? await startKongEmulator({
        ports: { admin: ports.kongAdmin, pages: ports.kongPages, portalApi: ports.kongPortalApi, proxy: ports.kongProxy },
        adminToken: options.kongAdminToken,
        propagationMs: options.kongPropagationMs ?? KONG_DB_UPDATE_FREQUENCY_MS,
        moesifUrl,
        moesifApplicationId: SANDBOX_MOESIF_APP_ID,
        ...(options.hosted?.konnect ? { konnect: SANDBOX_KONNECT } : {}),
      })
    : undefined;
  if (kong) {
    stopping.push(() => kong.close());
    // Hosted signup stands for a gateway without the legacy portal: the workspace keeps it off.
    if (!options.hosted) seedStandInTheme(kong, { planField: options.planField ?? true });
    log(`kong emulator      admin ${kong.adminUrl}  portal ${kong.portalUrl}  portal API ${kong.portalApiUrl}  proxy ${kong.proxyUrl}`);
  }
  return { moesif, moesifUrl, stripe, kong };
}

/** Hosted signup on the AWS API Gateway emulator: no Kong emulator, no Kong settings. */
const onAws = (options: SandboxOptions) => options.hosted?.gateway === 'aws';

/** Sets `name` unless the value is undefined. */
function setIn(target: Record<string, string>, name: string, value: string | undefined): void {
  if (value !== undefined) target[name] = value;
}

/** The provisioner's environment (and that of CLIs pointed at the sandbox), before billing and hosted signup. */
function baseEnv({ options, env }: Wiring, { stripe, kong, moesifUrl }: Emulators, realStripeKey: string | undefined): Record<string, string> {
  const providedEnv: Record<string, string> = {};
  const setEnv = (name: string, value: string | undefined) => setIn(providedEnv, name, value);
  if (options.stripe === 'real') {
    setEnv('STRIPE_SECRET_KEY', realStripeKey);
    setEnv('STRIPE_API_BASE', env.STRIPE_API_BASE);
  } else {
    // The emulator's fake key, also when the emulator runs elsewhere (another `npm start`).
    setEnv('STRIPE_SECRET_KEY', SANDBOX_STRIPE_KEY);
    setEnv('STRIPE_API_BASE', stripe?.url ?? env.STRIPE_API_BASE ?? `http://127.0.0.1:${DEFAULT_PORTS.stripe}`);
  }
  setEnv('MOESIF_APPLICATION_ID', SANDBOX_MOESIF_APP_ID);
  setEnv('MOESIF_API_BASE', moesifUrl);
  setEnv('MOESIF_MANAGEMENT_API_BASE', moesifUrl);
  setEnv('MOESIF_MANAGEMENT_TOKEN', SANDBOX_MOESIF_MANAGEMENT_TOKEN);
  if (options.moesifBillingMeter) setEnv('USAGE_REPORTING', 'moesif');
  // GATEWAY=aws calls no Kong and serves no portal: no Kong or portal variable (not even the shell's).
  if (!onAws(options)) {
    setEnv('KONG_ADMIN_URL', kong?.adminUrl ?? env.KONG_ADMIN_URL);
    // Only the token the sandbox itself set on its Kong emulator; never KONG_ADMIN_TOKEN from the shell.
    setEnv('KONG_ADMIN_TOKEN', options.kongAdminToken);
    setEnv('KONG_WORKSPACE', 'default');
    setEnv('KONG_EVENT_HOOK_SECRET', SANDBOX_EVENT_HOOK_SECRET);
    setEnv('PORTAL_ORIGINS', kong?.portalUrl ?? env.PORTAL_ORIGINS);
  }
  setEnv('PLANS_FILE', options.plansFile ?? env.PLANS_FILE ?? DEFAULT_PLANS_FILE);
  setEnv('READYZ_TOKEN', SANDBOX_READYZ_TOKEN);
  setEnv('LOG_HASH_KEY', SANDBOX_LOG_HASH_KEY);
  setEnv('PROVISION_RATE_LIMIT_PER_MINUTE', String(options.provisionRateLimitPerMinute ?? 600));
  // Caller overrides win, and CLIs pointed at the sandbox (env) see them too.
  Object.assign(providedEnv, options.provisionerEnv);
  return providedEnv;
}

/** The catalog is created by stripe:setup's own code, exactly as an admin would run it. */
async function setupCatalog({ services, log }: Wiring, { stripe }: Emulators, providedEnv: Record<string, string>): Promise<CatalogSetupResult | undefined> {
  const needsStripe = services.has('provisioner') || stripe !== undefined;
  if (!needsStripe || !providedEnv.STRIPE_SECRET_KEY) return undefined;
  const plans = await loadPlansFile(providedEnv.PLANS_FILE as string);
  const stripeClient = createStripeClient({
    secretKey: providedEnv.STRIPE_SECRET_KEY,
    mode: 'test',
    apiBase: providedEnv.STRIPE_API_BASE ? new URL(providedEnv.STRIPE_API_BASE) : undefined,
    maxWritesPerSecond: 20,
  });
  const catalog = await setupStripeCatalog(stripeClient, plans);
  if (!catalog.ok) throw new Error(`stripe:setup failed in the sandbox:\n${JSON.stringify(catalog.rows, null, 2)}`);
  log(`stripe catalog     ${catalog.rows.filter((r) => r.kind === 'price').length} plans from ${providedEnv.PLANS_FILE} (${catalog.writes} writes)`);
  return catalog;
}

/** Opt-in emulation of Moesif's billing meter: metered calls go to the Stripe emulator's meter (the plans file's first). */
async function configureMoesifMeter(moesif: RunningMoesifEmulator, stripe: RunningStripeEmulator, providedEnv: Record<string, string>): Promise<void> {
  const plans = await loadPlansFile(providedEnv.PLANS_FILE as string);
  moesif.configureBilling({
    stripeApiBase: stripe.url,
    stripeSecretKey: SANDBOX_STRIPE_KEY,
    eventName: plans.meters[0]?.event_name ?? 'api_calls',
    companyIdSource: providedEnv.MOESIF_COMPANY_ID_SOURCE === 'customer' ? 'customer' : 'subscription',
    flushIntervalMs: 60_000,
    stripeTimeShiftSeconds: () => stripe.state.skippedSeconds,
  });
}

/**
 * Billing: where Checkout returns and 402s point, the customer portal, and Stripe's webhooks to
 * the provisioner (the emulator only: real Stripe cannot reach 127.0.0.1; use `stripe listen`).
 */
async function wireBilling({ options, services, ports, log }: Wiring, { stripe, kong }: Emulators, providedEnv: Record<string, string>, catalog: CatalogSetupResult | undefined): Promise<void> {
  if (options.hosted) {
    // No portal dashboard: Checkout, 402 answers and the customer portal return to the hosted account page.
    if (ports.provisioner === 0) ports.provisioner = await freePort();
    setIn(providedEnv, 'PORTAL_DASHBOARD_URL', `http://127.0.0.1:${ports.provisioner}/signup/account`);
  } else if (kong) setIn(providedEnv, 'PORTAL_DASHBOARD_URL', `${kong.portalUrl}/default/dashboard`);
  if (!stripe || !services.has('provisioner') || !catalog) return;
  const billingSetup = await setupSandboxBilling(stripe, providedEnv, ports.provisioner);
  ports.provisioner = billingSetup.provisionerPort;
  setIn(providedEnv, 'STRIPE_WEBHOOK_SECRET', billingSetup.webhookSecret);
  log(`stripe webhooks    ${billingSetup.webhookUrl}; customer portal login ${billingSetup.portalLoginUrl ?? '(off)'}`);
}

/**
 * The AWS API Gateway emulator, its usage plans then given the plans file's limits by aws-setup's
 * own code, as an admin would run it.
 */
async function startAws(w: Wiring, moesif: RunningMoesifEmulator | undefined, stripe: RunningStripeEmulator | undefined, providedEnv: Record<string, string>): Promise<SandboxAws> {
  const plans = await loadPlansFile(providedEnv.PLANS_FILE as string);
  const aws = await startSandboxAws({
    plans,
    moesif: moesif ? { url: moesif.url, applicationId: SANDBOX_MOESIF_APP_ID } : undefined,
    controlPort: w.ports.aws,
    invokePort: w.ports.awsInvoke,
    ...(stripe ? { now: () => stripe.state.now() * 1000 } : {}),
  });
  w.stopping.push(() => aws.close());
  w.log(`aws api gateway    control ${aws.emulator.endpoint}  invoke ${aws.apiUrl} (x-api-key)`);
  const client = createApiGatewayClient({ region: SANDBOX_AWS.region, endpoint: aws.emulator.endpoint, credentials: SANDBOX_AWS });
  const setup = await setupUsagePlanLimits(client, plans, aws.usagePlans, { dryRun: false });
  if (!setup.ok) throw new Error(`aws-setup failed in the sandbox:\n${JSON.stringify(setup.rows, null, 2)}`);
  w.log(`aws usage plans    ${setup.rows.length} plans from ${providedEnv.PLANS_FILE} (${setup.writes} writes)`);
  return aws;
}

/** Hosted signup's environment and, for `gateway: 'aws'`, the AWS API Gateway emulator; then where doctor finds the provisioner. */
async function wireHosted(w: Wiring, { moesif, stripe, kong }: Emulators, providedEnv: Record<string, string>): Promise<SandboxAws | undefined> {
  const { options, ports } = w;
  if (options.hosted) Object.assign(providedEnv, hostedSignupEnv(options.hosted, kong, ports.provisioner === 0 ? (ports.provisioner = await freePort()) : ports.provisioner));
  const aws = onAws(options) ? await startAws(w, moesif, stripe, providedEnv) : undefined;
  if (aws) Object.assign(providedEnv, aws.env);
  Object.assign(providedEnv, options.provisionerEnv);
  // Where doctor (and the fix lines it prints) find this provisioner, also on a moved port.
  if (w.services.has('provisioner')) {
    if (ports.provisioner === 0) ports.provisioner = await freePort();
    setIn(providedEnv, 'PROVISIONER_URL', `http://127.0.0.1:${ports.provisioner}`);
  }
  return aws;
}

/** The bundle synced by sync's own code; the provisioner URL is where it listens, or will when started later. */
async function syncSandboxBundle({ options, log }: Wiring, kong: RunningKongEmulator, provisionerUrl: string, backupRoot: string): Promise<SyncBundleResult> {
  const client = new KongAdminClient({ adminUrl: kong.adminUrl, token: options.kongAdminToken, workspace: 'default' });
  const sync = await syncBundle({
    client,
    provisionerUrl,
    configureWorkspace: options.planField ?? true,
    eventHook: options.eventHook === false ? undefined : { secret: SANDBOX_EVENT_HOOK_SECRET },
    backupRoot,
  });
  log(`sync               ${sync.actions.filter((a) => a.kind === 'file').map((a) => `${a.target.split('/').pop()} ${a.action}`).join(', ')}`);
  return sync;
}

/** The provisioner as the sandbox runs it, restartable on the same port. */
function provisionerSlot({ options, ports }: Wiring, stripe: RunningStripeEmulator | undefined, providedEnv: Record<string, string>) {
  const slot = {
    provisioner: undefined as RunningProvisioner | undefined,
    settings: undefined as ProvisionerSettings | undefined,
    async launch(): Promise<RunningProvisioner> {
      slot.settings ??= await loadProvisionerSettings({ PROVISIONER_PORT: String(ports.provisioner), ...providedEnv }, { sandbox: true });
      const running = await startProvisioner(slot.settings, {
        // The provisioner reads time as Stripe does: the emulator's account clock moves when advanced.
        ...(stripe ? { now: () => stripe.state.now() * 1000, usageStripeTimeShiftSeconds: () => stripe.state.skippedSeconds } : {}),
        ...options.provisionerOptions,
        port: slot.provisioner?.port ?? ports.provisioner,
        logger: options.provisionerLogger ?? silentLogger,
      });
      slot.provisioner = running;
      return running;
    },
  };
  return slot;
}

type ProvisionerSlot = ReturnType<typeof provisionerSlot>;

/** What the printed "money moves" command does: settle Kong, then Moesif's meter or the product's usage reporter. */
async function reportSandboxUsage({ options, ports }: Wiring, { kong, moesif, stripe }: Emulators, slot: ProvisionerSlot, providedEnv: Record<string, string>): Promise<UsageRun> {
  await kong?.settle();
  if (options.moesifBillingMeter && moesif) {
    await moesif.flushUsage();
    return { windows: [], trueUps: [] };
  }
  slot.settings ??= await loadProvisionerSettings({ PROVISIONER_PORT: String(ports.provisioner), ...providedEnv });
  const settings = slot.settings;
  const usage = settings.usage;
  if (!usage) throw new Error('the sandbox has no usage settings');
  const { provisioner } = slot;
  const service = createUsageService(usage, {
    stripe: provisioner?.stripe ?? createStripeClient(settings),
    companyIdSource: settings.moesif.companyIdSource,
    ...(stripe ? { stripeTimeShiftSeconds: () => stripe.state.skippedSeconds } : {}),
    // As the provisioner's own timer does: the figures reach quotas and spend caps at once.
    ...(provisioner ? { limits: provisioner.billing } : {}),
  });
  return service.run({ closeOpenWindow: true });
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const stripeMode = options.stripe ?? 'emulator';
  const services = new Set<SandboxService>(options.services ?? SANDBOX_SERVICES);
  // GATEWAY=aws never calls Kong: a Kong emulator would be one more server whose URLs mean nothing.
  if (onAws(options)) services.delete('kong');
  const w: Wiring = {
    options,
    services,
    ports: { ...FREE_PORTS, ...options.ports },
    env: options.env ?? process.env,
    log: options.log ?? (() => {}),
    stopping: [],
  };
  refuseLiveKeys(w.env, options.provisionerEnv);
  const realStripeKey = realStripeKeyOf(w.env, stripeMode);

  const closeAll = async () => {
    for (const stop of w.stopping.reverse()) await stop().catch(() => {});
    w.stopping.length = 0;
  };
  const backupRoot = await mkdtemp(join(tmpdir(), 'kpm-sandbox-backups-'));
  w.stopping.push(() => rm(backupRoot, { recursive: true, force: true }));

  try {
    const emulators = await startEmulators(w, stripeMode);
    const { kong, stripe, moesif } = emulators;
    const providedEnv = baseEnv(w, emulators, realStripeKey);
    const catalog = await setupCatalog(w, emulators, providedEnv);
    if (moesif && stripe && options.moesifBillingMeter) await configureMoesifMeter(moesif, stripe, providedEnv);
    await wireBilling(w, emulators, providedEnv, catalog);
    const aws = await wireHosted(w, emulators, providedEnv);

    const slot = provisionerSlot(w, stripe, providedEnv);
    if (w.services.has('provisioner')) {
      await slot.launch();
      w.stopping.push(async () => {
        await slot.provisioner?.close();
      });
      w.log(`provisioner        ${slot.provisioner?.url}`);
    }

    // Hosted signup: a gateway without the legacy portal, so nothing to sync.
    const sync = kong && !options.hosted ? await syncSandboxBundle(w, kong, slot.provisioner?.url ?? `http://127.0.0.1:${w.ports.provisioner}`, backupRoot) : undefined;

    return {
      kong,
      stripe,
      moesif,
      aws,
      get provisioner() {
        return slot.provisioner;
      },
      get provisionerSettings() {
        return slot.settings;
      },
      catalog,
      sync,
      env: providedEnv,
      startProvisioner: () => slot.launch(),
      reportUsage: () => reportSandboxUsage(w, emulators, slot, providedEnv),
      async stopProvisioner() {
        await slot.provisioner?.close();
      },
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

