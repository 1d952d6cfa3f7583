/**
 * doctor's usage reporting check: says who reports usage to Stripe (USAGE_REPORTING), checks the
 * Moesif Management API token when this product reports, and warns about double billing: a
 * Moesif billing meter reporting to the same prices would bill every call twice.
 */
import { createMoesifManagementClient } from '../../provisioner/usage/moesif-management-client.ts';
import { parseUsageSettings, type UsageSettings } from '../../provisioner/usage/usage-settings.ts';
import { MonetizationError } from '../../shared/errors.ts';
import { fail, pass, type Check } from './check-runner.ts';

export const USAGE_REPORTING = 'usage reporting';

interface UsageCheckState {
  usage?: UsageSettings | Error;
  fetch?: typeof fetch;
}

export function readUsageSettings(env: NodeJS.ProcessEnv): UsageSettings | Error {
  try {
    return parseUsageSettings(env);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

const DOUBLE_BILLING = 'no Moesif billing meter may report to the same Stripe prices, or every call is billed twice';

async function checkProvisionerMode(usage: UsageSettings, state: UsageCheckState) {
  if (!usage.managementToken)
    return fail('USAGE_REPORTING=provisioner but MOESIF_MANAGEMENT_TOKEN is not set: no usage reaches Stripe and nothing is invoiced', 'create a Management API key with scope read:events in Moesif (API Keys) and set MOESIF_MANAGEMENT_TOKEN');
  const client = createMoesifManagementClient({ apiBase: usage.managementApiBase, token: usage.managementToken, billable: usage.billable, ...(state.fetch ? { fetch: state.fetch } : {}) });
  const status = await client.check();
  if (status === 401 || status === 403) return fail(`${usage.managementApiBase} refused MOESIF_MANAGEMENT_TOKEN (${status})`, 'use a Management API key with scope read:events (Moesif > API Keys)');
  if (status < 200 || status >= 300) return fail(`${usage.managementApiBase} answered ${status || 'nothing'} to a count of billable events`, 'check MOESIF_MANAGEMENT_API_BASE and the network');
  return pass(`this product reports (hourly windows of ${usage.windowMinutes} min, ${usage.lagMinutes} min ingestion lag, billed statuses ${usage.billableText}); token accepted; ${DOUBLE_BILLING}`);
}

export function usageCheck(): Check<UsageCheckState> {
  return {
    name: USAGE_REPORTING,
    async run(state) {
      const usage = state.usage;
      if (usage === undefined) return pass('not checked (no usage settings given)');
      if (usage instanceof Error) return fail(usage.message, usage instanceof MonetizationError && usage.hint ? usage.hint : 'fix the setting named above');
      if (usage.mode === 'off') return fail('USAGE_REPORTING=off: nothing here reports calls to Stripe, so metered prices bill nothing', 'set USAGE_REPORTING=provisioner (the default) and MOESIF_MANAGEMENT_TOKEN');
      if (usage.mode === 'moesif')
        return pass(`Moesif's own billing meter reports (USAGE_REPORTING=moesif; for legacy usage-record prices only: meter-based prices created by stripe:setup take no usage records); this product sends nothing; ${DOUBLE_BILLING}`);
      return checkProvisionerMode(usage, state);
    },
  };
}
