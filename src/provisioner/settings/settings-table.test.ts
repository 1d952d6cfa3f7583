import { describe, expect, it } from 'vitest';
import { SettingError } from '../../shared/errors.ts';
import { loadPlansFile } from '../../shared/plans.ts';
import { packagePath } from '../../shared/package-root.ts';
import { HOSTED_SIGNUP_VARIABLES } from './hosted-settings.ts';
import { parseProvisionerEnv, PROVISIONER_VARIABLES } from './settings.ts';
import { parseAwsGatewayEnv } from './aws-settings.ts';

// docs/configuration.md's "Default" column is generated from these lists: what it says is
// required must be required, for the gateway it says, and nothing more.
const PLANS_FILE = packagePath('plans.example.json');
const COMMON = { STRIPE_SECRET_KEY: 'sk_test_settings_table', MOESIF_APPLICATION_ID: 'moesif-app', PLANS_FILE };
const HOSTED = { SIGNUP_MODE: 'hosted', SIGNUP_PUBLIC_URL: 'https://signup.example.com', SIGNUP_SECRET: 'x'.repeat(32), SMTP_URL: 'smtp://127.0.0.1:2525' };
const GATEWAYS = {
  kong: { ...COMMON, KONG_ADMIN_URL: 'http://127.0.0.1:8001' },
  'kong, hosted': { ...COMMON, ...HOSTED, KONG_ADMIN_URL: 'http://127.0.0.1:8001' },
  aws: { ...COMMON, ...HOSTED, GATEWAY: 'aws', AWS_REGION: 'us-east-1', AWS_API_GATEWAY_USAGE_PLANS: 'starter=a1,bundle=b2,growth=c3,volume=d4' },
};
type Setup = keyof typeof GATEWAYS;

/** The settings a parse of `env` refuses, or undefined when the provisioner would start. */
async function refusedSetting(env: Record<string, string>): Promise<string[] | undefined> {
  try {
    parseProvisionerEnv(env, { sandbox: true });
    parseAwsGatewayEnv(env, await loadPlansFile(PLANS_FILE));
    return undefined;
  } catch (error) {
    if (error instanceof SettingError) return error.parts.map((part) => part.setting);
    throw error;
  }
}

/** Where the table says a variable is required. */
function requiredIn(claim: string): Setup[] {
  if (claim === '(required)') return ['kong', 'kong, hosted', 'aws'];
  if (claim === '(required unless GATEWAY=aws)') return ['kong', 'kong, hosted'];
  if (claim.startsWith('(required with GATEWAY=aws')) return ['aws'];
  if (claim === '(required when hosted)') return ['kong, hosted', 'aws'];
  return [];
}

describe('the settings table, for GATEWAY=kong and GATEWAY=aws', () => {
  it.each(Object.keys(GATEWAYS) as Setup[])('%s: the variables it says are required are enough to start', async (setup) => {
    expect(await refusedSetting(GATEWAYS[setup])).toBeUndefined();
  });

  // Requirements that hang on the gateway or the signup mode (not on another setting, like RATE_LIMIT_REDIS_URL's).
  const claims = [...PROVISIONER_VARIABLES, ...HOSTED_SIGNUP_VARIABLES].filter((v) => v.default === '(required)' || /^\(required.*(GATEWAY|when hosted)/.test(v.default));
  it.each(claims.map((variable) => [variable.name, variable.default]))('%s %s: each setup it names refuses to start without it, the others do not need it', async (name, claim) => {
    const setups = requiredIn(claim);
    expect(setups.length, `a "required" default this test does not know: ${claim}`).toBeGreaterThan(0);
    for (const setup of Object.keys(GATEWAYS) as Setup[]) {
      const env: Record<string, string> = { ...GATEWAYS[setup] };
      delete env[name];
      if (setups.includes(setup)) expect(await refusedSetting(env), `${setup} without ${name}`).toContain(name);
      else expect(name in GATEWAYS[setup], `${name} is not needed by ${setup}, yet the setup sets it`).toBe(false);
    }
  });
});
