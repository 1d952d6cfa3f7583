/**
 * doctor: reads each setting on its own (so one missing variable fails one check, not the whole
 * run), runs every check and answers the results. runDoctor is what tests and the sandbox call.
 */
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { readKongSettings } from '../../kong/kong-settings.ts';
import { SettingError } from '../../shared/errors.ts';
import { parseHttpUrl, withoutTrailingSlash } from '../../shared/http-url-setting.ts';
import { loadPlansFile } from '../../shared/plans.ts';
import { connectStripe, readStripeConnection } from '../shared/stripe-connection.ts';
import { runChecks, type CheckResult } from './check-runner.ts';
import { DOCTOR_CHECKS, type DoctorInputs } from './doctor-checks.ts';
import { HOSTED_DOCTOR_CHECKS } from './hosted-checks.ts';
import { AWS_DOCTOR_CHECKS } from './aws-checks.ts';
import { parseAwsGatewayEnv, parseGateway } from '../../provisioner/settings/aws-settings.ts';
import { createAwsSignupGateway } from '../../provisioner/gateways/aws/aws-wiring.ts';
import { readUsageSettings } from './usage-check.ts';

interface DoctorOptions {
  workspace?: string | undefined;
  provisionerUrl?: string | undefined;
  plansFile?: string | undefined;
  themeDir?: string | undefined;
  timeoutMs?: number;
}

function attempt<T>(read: () => T): T | Error {
  try {
    return read();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The provisioner doctor probes; unlike sync's --provisioner-url it may be a private address. */
function parseProvisionerUrl(value: string, setting: string): string {
  return withoutTrailingSlash(parseHttpUrl(value, setting, { example: 'http://127.0.0.1:8787' }));
}

/** Inputs from the environment the provisioner and sync use, with flags winning. */
export async function doctorInputsFromEnv(env: NodeJS.ProcessEnv, options: DoctorOptions = {}): Promise<DoctorInputs> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const provisionerUrl = options.provisionerUrl
    ? parseProvisionerUrl(options.provisionerUrl, '--provisioner-url')
    : env.PROVISIONER_URL
      ? parseProvisionerUrl(env.PROVISIONER_URL, 'PROVISIONER_URL')
      : `http://127.0.0.1:${env.PROVISIONER_PORT?.trim() || '8787'}`;
  const kong = attempt(() => {
    const settings = readKongSettings(env, { workspace: options.workspace });
    return new KongAdminClient({ adminUrl: settings.adminUrl, token: settings.token, workspace: settings.workspace, attempts: 1, timeoutMs });
  });
  const stripe = attempt(() => {
    const connection = readStripeConnection(env);
    return { client: connectStripe(connection, { maxNetworkRetries: 0, timeoutMs }), mode: connection.mode, apiBase: connection.apiBase?.origin };
  });
  const moesif = attempt(() => {
    const applicationId = env.MOESIF_APPLICATION_ID?.trim();
    if (!applicationId) throw new SettingError('MOESIF_APPLICATION_ID', 'is not set', 'copy the Collector Application Id from Moesif > Settings > API Keys');
    return { applicationId, apiBase: (env.MOESIF_API_BASE?.trim() || 'https://api.moesif.net').replace(/\/+$/, '') };
  });
  const plansPath = options.plansFile ?? env.PLANS_FILE?.trim();
  const plans = plansPath
    ? await loadPlansFile(plansPath).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))
    : new SettingError('PLANS_FILE', 'is not set', 'set PLANS_FILE (or pass --plans) to the plans file the provisioner uses');
  const readyzToken = env.READYZ_TOKEN?.trim();
  const hosted = env.SIGNUP_MODE?.trim() === 'hosted';
  const aws = attempt(() => {
    if (parseGateway(env) !== 'aws') return undefined;
    const settings = parseAwsGatewayEnv(env, plans instanceof Error ? undefined : plans);
    return settings ? { settings, gateway: createAwsSignupGateway(settings, { maxAttempts: 1 }) } : undefined;
  });
  return {
    kong,
    provisionerUrl,
    stripe,
    plans,
    moesif,
    usage: readUsageSettings(env),
    timeoutMs,
    ...(options.themeDir ? { themeDir: options.themeDir } : {}),
    ...(readyzToken ? { readyzToken } : {}),
    ...(hosted ? { hosted } : {}),
    ...(aws ? { aws } : {}),
  };
}

export async function runDoctor(inputs: DoctorInputs, onResult?: (result: CheckResult) => void): Promise<CheckResult[]> {
  const checks = inputs.aws ? AWS_DOCTOR_CHECKS : inputs.hosted ? HOSTED_DOCTOR_CHECKS : DOCTOR_CHECKS;
  return runChecks(checks as typeof DOCTOR_CHECKS, { ...inputs }, onResult);
}
