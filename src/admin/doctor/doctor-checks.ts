/**
 * The doctor's checks, in the order they print. Each is a small function of the shared state;
 * earlier checks leave what later ones need (the workspace, the theme, Stripe's meters) in it.
 * A setting that could not be read is carried as an Error and becomes that check's failure.
 */
import type Stripe from 'stripe';
import { KongError } from '../../kong/kong-errors.ts';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import type { KongPlugin, KongWorkspace } from '../../kong/kong-types.ts';
import { activeTheme, PORTAL_CONF } from '../sync/active-theme.ts';
import { loadBundle } from '../sync/bundle.ts';
import { inspectInstall } from '../sync/inspect-install.ts';
import { hasPlanField } from '../sync/configure-workspace.ts';
import { eventHookUrl, isOurHook } from '../sync/event-hook.ts';
import { MonetizationError } from '../../shared/errors.ts';
import { isPublicPlan, planPickerProblem, selectablePlans, type Plan, type PlansFile } from '../../shared/plans.ts';
import { workspacePaths } from '../../shared/bundle-layout.ts';
import type { StripeKeyMode } from '../shared/stripe-connection.ts';
import { describeStripeError, isStripeNotFound } from '../shared/stripe-failure.ts';
import { findPricesByLookupKey } from '../stripe-setup/catalog-setup.ts';
import { createMoesifClient } from '../../provisioner/moesif/moesif-client.ts';
import { fail, pass, type Check, type CheckOutcome, type CheckResult } from './check-runner.ts';
import { moesifIdentityCheck } from './moesif-identity-check.ts';
import { stripeWebhookCheck } from './stripe-webhook-check.ts';
import { plural } from '../../shared/plural.ts';
import { usageCheck } from './usage-check.ts';
import type { UsageSettings } from '../../provisioner/usage/usage-settings.ts';
import type { AwsSignupGateway } from '../../provisioner/gateways/aws/aws-gateway.ts';
import type { AwsGatewaySettings } from '../../provisioner/settings/aws-settings.ts';

/** What the AWS checks (aws-checks.ts) read: the gateway's settings and the gateway built from them. */
export interface AwsDoctorInputs {
  settings: AwsGatewaySettings;
  gateway: AwsSignupGateway;
}

export interface DoctorInputs {
  kong: KongAdminClient | Error;
  provisionerUrl: string;
  stripe: { client: Stripe; mode: StripeKeyMode; apiBase: string | undefined } | Error;
  plans: PlansFile | Error;
  moesif: { applicationId: string; apiBase: string } | Error;
  /** The local build (default: the package's theme/). */
  themeDir?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** READYZ_TOKEN: unlocks the provisioner's /readyz details (and a fresh probe). */
  readyzToken?: string;
  /** SIGNUP_MODE=hosted: no portal to check; consumers and the /signup page instead (hosted-checks.ts). */
  hosted?: boolean;
  /** GATEWAY=aws: the AWS settings and gateway, or why they could not be read (aws-checks.ts). */
  aws?: AwsDoctorInputs | Error;
  /** Usage reporting settings (USAGE_REPORTING, MOESIF_MANAGEMENT_TOKEN…); absent: not checked. */
  usage?: UsageSettings | Error;
}

export interface DoctorState extends DoctorInputs {
  workspace?: KongWorkspace;
  theme?: string;
  plugins?: KongPlugin[];
  meters?: Map<string, Stripe.Billing.Meter>;
}

/** Errors carried in the inputs (bad or missing settings) fail their check with the setting's hint. */
function settingFailure(value: unknown): CheckOutcome | undefined {
  if (!(value instanceof Error)) return undefined;
  return fail(value.message, value instanceof MonetizationError && value.hint ? value.hint : 'fix the setting named above');
}

const kongOf = (state: DoctorState) => state.kong as KongAdminClient;
const syncCommand = (state: DoctorState, flags: string) => `npm run sync -- --workspace ${kongOf(state).workspace} --provisioner-url ${state.provisionerUrl}${flags}`;

export const ADMIN_API = 'Kong Admin API';
export const PORTAL = 'portal enabled';
export const THEME = 'active theme';
export const BUNDLE = 'bundle installed and current';
export const PLAN_FIELD = 'plan meta field';
export const EVENT_HOOK = 'event hook';
const PROVISIONER = 'provisioner /readyz';
export const PLANS_FILE = 'plans file';
const STRIPE_KEY = 'Stripe key';
const STRIPE_PRICES = 'plan prices';
const MOESIF_APP = 'Moesif application id';
export const KEY_AUTH = 'key-auth plugin';
export const MOESIF_PLUGIN = 'Moesif plugin';

const adminApi: Check<DoctorState> = {
  name: ADMIN_API,
  async run(state) {
    const bad = settingFailure(state.kong);
    if (bad) return bad;
    const kong = kongOf(state);
    const workspace = await kong.getWorkspace();
    if (!workspace) return fail(`reachable at ${kong.adminUrl}, token accepted, but workspace "${kong.workspace}" does not exist`, 'pass --workspace with an existing workspace, or create it in Kong Manager');
    state.workspace = workspace;
    return pass(`reachable at ${kong.adminUrl}, token accepted, workspace "${workspace.name}"`);
  },
};

const portal: Check<DoctorState> = {
  name: PORTAL,
  needs: [ADMIN_API],
  async run(state) {
    const kong = kongOf(state);
    const fix = `enable the Dev Portal for workspace "${kong.workspace}" in Kong Manager, or: curl -X PATCH ${kong.adminUrl}/${kong.workspace}/workspaces/${kong.workspace} --json '{"config":{"portal":true}}'`;
    if (state.workspace?.config.portal !== true) return fail(`config.portal is ${JSON.stringify(state.workspace?.config.portal ?? null)} for workspace "${kong.workspace}"`, fix);
    try {
      await kong.listFilesPage({ size: 1 });
    } catch (error) {
      if (error instanceof KongError && error.status === 404) return fail('the Files API answers 404: the portal is not enabled', fix);
      throw error;
    }
    return pass(`workspace "${kong.workspace}" serves a portal`);
  },
};

const theme: Check<DoctorState> = {
  name: THEME,
  needs: [PORTAL],
  async run(state) {
    const kong = kongOf(state);
    const name = activeTheme((await kong.getFile(PORTAL_CONF))?.contents);
    const paths = workspacePaths(name);
    const missing: string[] = [];
    for (const path of [paths.kongAuth, paths.requiredScripts]) if (!(await kong.getFile(path))) missing.push(path);
    if (missing.length) return fail(`theme "${name}" (from ${PORTAL_CONF}) lacks ${missing.join(' and ')}`, 'push the theme (kong-portal-cli deploy), or fix theme.name in portal.conf.yaml');
    state.theme = name;
    return pass(`"${name}" (${PORTAL_CONF} theme.name)`);
  },
};

const bundle: Check<DoctorState> = {
  name: BUNDLE,
  needs: [THEME],
  async run(state) {
    const kong = kongOf(state);
    const built = await loadBundle(state.themeDir);
    const install = await inspectInstall(kong, state.theme, { bundle: built });
    const fix = `${install.installed ? 'upgrade' : 'install'} it: ${syncCommand(state, '')}`;
    const problems = install.files.filter((file) => !file.current).map((file) => `${file.path}: ${file.problem ?? 'not current'}`);
    if (!install.current) return fail(problems.join('; ') || `installed v${install.version ?? '?'}, built v${install.builtVersion}`, fix);
    const target = install.config?.provisionerUrl;
    if (target && target.replace(/\/+$/, '') !== state.provisionerUrl.replace(/\/+$/, ''))
      return fail(`v${install.version} is current, but the page calls the provisioner at ${target}, not ${state.provisionerUrl}`, `point it at the right provisioner: ${syncCommand(state, '')}`);
    return pass(`v${install.version} in theme "${install.theme}", matching the build; the page calls ${target ?? 'the provisioner'}`);
  },
};

const planField: Check<DoctorState> = {
  name: PLAN_FIELD,
  needs: [ADMIN_API],
  async run(state) {
    if (hasPlanField(state.workspace as KongWorkspace)) return pass('the registration form has a "plan" field');
    // Private plans are the admin's to assign: only the ones a developer may pick need a picker.
    const plans = state.plans instanceof Error ? undefined : selectablePlans(state.plans).length;
    if (plans === 1) return pass('no "plan" field, and none needed: developers can pick only one plan');
    return fail('portal_developer_meta_fields has no "plan" field, so developers cannot pick a plan', `add it: ${syncCommand(state, ' --configure-workspace')}`);
  },
};

const eventHook: Check<DoctorState> = {
  name: EVENT_HOOK,
  needs: [ADMIN_API],
  async run(state) {
    const kong = kongOf(state);
    const wanted = eventHookUrl(state.provisionerUrl);
    const fix = `create it: ${syncCommand(state, ' --event-hook')} (with KONG_EVENT_HOOK_SECRET set as in the provisioner)`;
    let hooks;
    try {
      hooks = await kong.listEventHooks();
    } catch (error) {
      if (error instanceof KongError && error.status === 404) return fail('this Kong has no event hooks API (an Enterprise feature)', 'run reconcile from cron instead, so signups the browser did not finish are completed');
      throw error;
    }
    const ours = hooks.filter(isOurHook);
    if (ours.some((hook) => hook.config.url === wanted)) return pass(`crud/developers webhook to ${wanted}`);
    if (ours.length) return fail(`the developers hook posts to ${ours.map((h) => h.config.url).join(', ')}, not ${wanted}`, fix);
    return fail('no crud/developers webhook to the provisioner', fix);
  },
};

const provisioner: Check<DoctorState> = {
  name: PROVISIONER,
  async run(state) {
    const url = `${state.provisionerUrl.replace(/\/+$/, '')}/readyz`;
    const fix = `start it (npm run provisioner) or pass --provisioner-url with its address`;
    let response: Response;
    try {
      const headers: Record<string, string> = state.readyzToken ? { authorization: `Bearer ${state.readyzToken}` } : {};
      // Not followed: READYZ_TOKEN goes to the provisioner's own address only.
      response = await (state.fetch ?? fetch)(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(state.timeoutMs ?? 5000) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      return fail(`cannot reach ${url} (${cause})`, fix);
    }
    const text = await response.text();
    if (response.ok) return pass(`${url} answered ${response.status}`);
    if (!state.readyzToken)
      return fail(`${url} answered ${response.status}: ${text.slice(0, 300)}`, 'set READYZ_TOKEN (the provisioner\'s) so the answer names the failing dependency');
    return fail(`${url} answered ${response.status}: ${text.slice(0, 300)}`, 'the answer names the failing dependency; fix its setting in the provisioner and restart it');
  },
};

const plansFile: Check<DoctorState> = {
  name: PLANS_FILE,
  async run(state) {
    const bad = settingFailure(state.plans);
    if (bad) return bad;
    const plans = state.plans as PlansFile;
    const picker = planPickerProblem(plans);
    if (picker) return fail(picker, 'mark the plan a developer gets without choosing with "default": true (the provisioner refuses to start without one)');
    const private_ = plans.plans.filter((plan) => !isPublicPlan(plan)).map((plan) => plan.id);
    return pass(`${plural(plans.plans.length, 'plan')}: ${plans.plans.map((p) => p.id).join(', ')}${private_.length ? `; assigned by the admin only: ${private_.join(', ')}` : ''}`);
  },
};

const stripeKey: Check<DoctorState> = {
  name: STRIPE_KEY,
  async run(state) {
    const bad = settingFailure(state.stripe);
    if (bad) return bad;
    const stripe = state.stripe as Exclude<DoctorState['stripe'], Error>;
    const meters = new Map<string, Stripe.Billing.Meter>();
    try {
      for await (const meter of stripe.client.billing.meters.list({ limit: 100 })) meters.set(meter.id, meter);
    } catch (error) {
      return fail(`Stripe${stripe.apiBase ? ` at ${stripe.apiBase}` : ''} refused or did not answer: ${describeStripeError(error)}`, 'check STRIPE_SECRET_KEY (and STRIPE_API_BASE when set)');
    }
    state.meters = meters;
    return pass(`${stripe.mode} mode key accepted${stripe.apiBase ? ` by ${stripe.apiBase}` : ''}${stripe.mode === 'live' ? ' (LIVE: real charges)' : ''}`);
  },
};

async function findPrice(stripe: Stripe, plan: Plan): Promise<Stripe.Price | undefined> {
  if ('id' in plan.price) {
    try {
      return await stripe.prices.retrieve(plan.price.id);
    } catch (error) {
      if (isStripeNotFound(error)) return undefined;
      throw error;
    }
  }
  return (await findPricesByLookupKey(stripe, [plan.price.lookup_key])).get(plan.price.lookup_key);
}

const stripePrices: Check<DoctorState> = {
  name: STRIPE_PRICES,
  needs: [STRIPE_KEY, PLANS_FILE],
  async run(state) {
    const stripe = (state.stripe as Exclude<DoctorState['stripe'], Error>).client;
    const results: CheckResult[] = [];
    const setup = 'run `npm run stripe:setup` with this plans file and key';
    for (const plan of (state.plans as PlansFile).plans) {
      const name = `plan "${plan.id}" price`;
      const ref = 'id' in plan.price ? plan.price.id : `lookup_key ${plan.price.lookup_key}`;
      let price: Stripe.Price | undefined;
      try {
        price = await findPrice(stripe, plan);
      } catch (error) {
        results.push({ name, ok: false, detail: `${ref}: ${describeStripeError(error)}`, fix: 'check the Stripe key and network' });
        continue;
      }
      const meterId = price?.recurring?.meter ?? undefined;
      const meter = meterId ? state.meters?.get(meterId) : undefined;
      const problem = !price
        ? `no Stripe price with ${ref}`
        : !price.active
          ? `${price.id} (${ref}) is archived`
          : price.recurring?.usage_type !== 'metered'
            ? `${price.id} is not a metered recurring price`
            : !meterId
              ? `${price.id} is metered but names no billing meter`
              : !meter
                ? `${price.id} names meter ${meterId}, which Stripe does not have`
                : meter.status !== 'active'
                  ? `${price.id} is billed by meter ${meterId} ("${meter.event_name}"), which is deactivated`
                  : undefined;
      if (problem) results.push({ name, ok: false, detail: problem, fix: setup });
      else results.push({ name, ok: true, detail: `${price?.id} active, metered by "${meter?.event_name}" (${meterId})` });
    }
    return results;
  },
};

const moesifApp: Check<DoctorState> = {
  name: MOESIF_APP,
  async run(state) {
    const bad = settingFailure(state.moesif);
    if (bad) return bad;
    const moesif = state.moesif as Exclude<DoctorState['moesif'], Error>;
    // The provisioner's own /readyz probe: one definition of "this application id works".
    const client = createMoesifClient({ apiBase: moesif.apiBase, applicationId: moesif.applicationId, ...(state.fetch ? { fetch: state.fetch } : {}) });
    const status = await client.check(state.timeoutMs ?? 5000);
    return pass(`accepted by ${moesif.apiBase} (empty company batch answered ${status})`);
  },
};

async function plugins(state: DoctorState): Promise<KongPlugin[]> {
  state.plugins ??= await kongOf(state).listPlugins();
  return state.plugins;
}

function scope(plugin: KongPlugin): string {
  if (plugin.route?.id) return `route ${plugin.route.id}`;
  if (plugin.service?.id) return `service ${plugin.service.id}`;
  return 'global';
}

const keyAuth: Check<DoctorState> = {
  name: KEY_AUTH,
  needs: [ADMIN_API],
  async run(state) {
    const all = (await plugins(state)).filter((p) => p.name === 'key-auth' && p.enabled && !p.consumer?.id);
    const good = all.filter((p) => Array.isArray(p.config.key_names) && (p.config.key_names as unknown[]).includes('apikey'));
    const kong = kongOf(state);
    const fix = `curl -X POST ${kong.adminUrl}/${kong.workspace}/services/<your-service>/plugins --json '{"name":"key-auth","config":{"key_names":["apikey"]}}'`;
    if (good.length) return pass(`key_names include "apikey" on ${good.map(scope).join(', ')}`);
    if (all.length) return fail(`key-auth is enabled on ${all.map(scope).join(', ')} but no key_names include "apikey"`, `add "apikey" to config.key_names, or ${fix}`);
    return fail('no enabled key-auth plugin on any service or route, so developers\' keys are not checked', fix);
  },
};

const moesifPlugin: Check<DoctorState> = {
  name: MOESIF_PLUGIN,
  needs: [ADMIN_API],
  async run(state) {
    const found = (await plugins(state)).filter((p) => p.name === 'moesif' && p.enabled);
    const kong = kongOf(state);
    const appId = state.moesif instanceof Error ? undefined : state.moesif.applicationId;
    const fix = `curl -X POST ${kong.adminUrl}/${kong.workspace}/plugins --json '{"name":"moesif","config":{"application_id":"<MOESIF_APPLICATION_ID>"}}'`;
    if (!found.length) return fail('no enabled Moesif plugin, so API calls are not metered', fix);
    const mismatched = appId ? found.filter((p) => typeof p.config.application_id === 'string' && p.config.application_id !== appId) : [];
    if (mismatched.length === found.length) return fail(`the Moesif plugin (${found.map(scope).join(', ')}) sends to another application id than MOESIF_APPLICATION_ID`, 'set the plugin\'s config.application_id to the same Collector Application Id as the provisioner');
    return pass(`enabled (${found.map(scope).join(', ')})`);
  },
};

/** Every check, in print order. */
export const DOCTOR_CHECKS: Check<DoctorState>[] = [
  adminApi,
  portal,
  theme,
  bundle,
  planField,
  eventHook,
  provisioner,
  plansFile,
  stripeKey,
  stripePrices,
  moesifApp,
  keyAuth,
  moesifPlugin,
  moesifIdentityCheck([ADMIN_API]) as Check<DoctorState>,
  stripeWebhookCheck([STRIPE_KEY]) as Check<DoctorState>,
  usageCheck() as Check<DoctorState>,
];
