/**
 * doctor under SIGNUP_MODE=hosted (Kong 3.5+, OSS, Konnect): there is no portal, theme, bundle,
 * plan field or event hook to check. The Admin API check reads consumers (what the hosted signup
 * writes) instead of the workspace, and the provisioner must serve GET /signup. The Stripe,
 * Moesif, key-auth and Moesif-plugin checks are the portal mode's own.
 */
import { KongConsumers } from '../../kong/kong-consumers.ts';
import { fail, pass, type Check } from './check-runner.ts';
import { ADMIN_API, BUNDLE, DOCTOR_CHECKS, EVENT_HOOK, PLAN_FIELD, PORTAL, THEME, type DoctorState } from './doctor-checks.ts';

const SIGNUP_PAGE = 'hosted signup page';
const PORTAL_ONLY = new Set([ADMIN_API, PORTAL, THEME, BUNDLE, PLAN_FIELD, EVENT_HOOK]);

const hostedAdminApi: Check<DoctorState> = {
  name: ADMIN_API,
  async run(state) {
    if (state.kong instanceof Error) return fail(state.kong.message, 'fix KONG_ADMIN_URL / KONG_ADMIN_TOKEN');
    const kong = state.kong;
    await new KongConsumers(kong).listPage(1);
    return pass(`reachable at ${kong.adminUrl}${kong.isKonnect ? ' (Konnect control plane)' : ''}, token accepted, consumers readable`);
  },
};

const signupPage: Check<DoctorState> = {
  name: SIGNUP_PAGE,
  async run(state) {
    const url = `${state.provisionerUrl}/signup`;
    let status: number;
    try {
      status = (await (state.fetch ?? fetch)(url, { signal: AbortSignal.timeout(state.timeoutMs ?? 5000) })).status;
    } catch (error) {
      return fail(`cannot reach ${url} (${(error as Error).message})`, 'start the provisioner with SIGNUP_MODE=hosted, or pass --provisioner-url');
    }
    if (status !== 200) return fail(`${url} answered ${status}`, 'start the provisioner with SIGNUP_MODE=hosted (and SIGNUP_PUBLIC_URL, SIGNUP_SECRET, SMTP_URL)');
    return pass(`${url} serves the form`);
  },
};

/** The hosted mode's checks, in print order. */
export const HOSTED_DOCTOR_CHECKS: Check<DoctorState>[] = [hostedAdminApi, signupPage, ...DOCTOR_CHECKS.filter((check) => !PORTAL_ONLY.has(check.name))];
