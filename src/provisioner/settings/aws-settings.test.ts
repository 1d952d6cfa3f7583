import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingError } from '../../shared/errors.ts';
import type { PlansFile } from '../../shared/plans.ts';
import { seedSandboxApi, startAwsEmulator, type RunningAwsEmulator } from '../../sandbox/aws/aws-emulator.ts';
import { SANDBOX_AWS } from '../../sandbox/sandbox-credentials.ts';
import { parseAwsGatewayEnv } from './aws-settings.ts';
import { checkUsagePlans, createAwsSignupGateway } from '../gateways/aws/aws-wiring.ts';

const plans = { plans: [{ id: 'starter' }, { id: 'pro' }] } as unknown as PlansFile;
const good = { GATEWAY: 'aws', SIGNUP_MODE: 'hosted', AWS_REGION: 'eu-west-3', AWS_API_GATEWAY_USAGE_PLANS: 'starter=abc123,pro=def456' };

function settingError(env: Record<string, string | undefined>): { setting: string; message: string } {
  try {
    parseAwsGatewayEnv(env, plans);
  } catch (error) {
    if (error instanceof SettingError) return { setting: error.setting, message: error.message };
    throw error;
  }
  throw new Error('no error');
}

describe('GATEWAY=aws settings', () => {
  it('reads region, usage plans and the endpoint override; credentials only as AWS names them', () => {
    expect(parseAwsGatewayEnv(good, plans)).toEqual({ region: 'eu-west-3', usagePlans: { starter: 'abc123', pro: 'def456' }, endpoint: undefined, credentials: undefined });
    expect(parseAwsGatewayEnv({ ...good, AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's' }, plans)?.credentials).toEqual({ accessKeyId: 'AKIA', secretAccessKey: 's' });
    expect(parseAwsGatewayEnv({ SIGNUP_MODE: 'hosted' }, plans)).toBeUndefined();
  });

  it('refuses bad values with an error naming the setting', () => {
    expect(settingError({ ...good, GATEWAY: 'azure' })).toMatchObject({ setting: 'GATEWAY' });
    expect(settingError({ ...good, SIGNUP_MODE: 'portal' })).toMatchObject({ setting: 'GATEWAY', message: expect.stringContaining('SIGNUP_MODE=hosted') });
    expect(settingError({ ...good, AWS_REGION: '' })).toMatchObject({ setting: 'AWS_REGION', message: expect.stringContaining('not set') });
    expect(settingError({ ...good, AWS_REGION: 'Europe' })).toMatchObject({ setting: 'AWS_REGION', message: expect.stringContaining('not an AWS region') });
    expect(settingError({ ...good, AWS_API_GATEWAY_USAGE_PLANS: undefined })).toMatchObject({ setting: 'AWS_API_GATEWAY_USAGE_PLANS' });
    expect(settingError({ ...good, AWS_API_GATEWAY_USAGE_PLANS: 'starter:abc' })).toMatchObject({ message: expect.stringContaining('plan=usagePlanId') });
    expect(settingError({ ...good, AWS_API_GATEWAY_USAGE_PLANS: 'starter=abc123' })).toMatchObject({ message: expect.stringContaining('no usage plan for plans pro') });
    expect(settingError({ ...good, AWS_API_GATEWAY_USAGE_PLANS: 'starter=abc123,pro=def456,gold=x1' })).toMatchObject({ message: expect.stringContaining('does not have: gold') });
    expect(settingError({ ...good, AWS_ENDPOINT_URL_API_GATEWAY: 'localhost:4566' })).toMatchObject({ setting: 'AWS_ENDPOINT_URL_API_GATEWAY' });
  });
});

describe('GATEWAY=aws start-up preflight', () => {
  let aws: RunningAwsEmulator;
  let usagePlans: Record<string, string>;
  beforeAll(async () => {
    aws = await startAwsEmulator({ credentials: SANDBOX_AWS, region: SANDBOX_AWS.region });
    ({ usagePlans } = seedSandboxApi(aws.state, { plans: [{ key: 'starter' }, { key: 'pro' }] }));
  });
  afterAll(() => aws.close());

  const settingsWith = (over: Partial<{ usagePlans: Record<string, string>; region: string; secret: string }>) => ({
    region: over.region ?? SANDBOX_AWS.region,
    usagePlans: over.usagePlans ?? usagePlans,
    endpoint: aws.endpoint,
    credentials: { accessKeyId: SANDBOX_AWS.accessKeyId, secretAccessKey: over.secret ?? SANDBOX_AWS.secretAccessKey },
  });
  const preflight = (settings: ReturnType<typeof settingsWith>) => checkUsagePlans(createAwsSignupGateway(settings, { maxAttempts: 1 }), settings);

  it('passes when every usage plan exists', async () => {
    await expect(preflight(settingsWith({}))).resolves.toBeUndefined();
  });

  it('an unknown usage plan, wrong credentials or another region: a SettingError, and nothing written', async () => {
    const writesBefore = aws.requests.filter((r) => r.method !== 'GET').length;
    await expect(preflight(settingsWith({ usagePlans: { ...usagePlans, pro: 'nosuch' } }))).rejects.toMatchObject({
      setting: 'AWS_API_GATEWAY_USAGE_PLANS',
      message: expect.stringContaining('usage plan nosuch (plan pro) does not exist'),
    });
    await expect(preflight(settingsWith({ secret: 'wrong-secret-wrong-secret-wrong-secret00' }))).rejects.toMatchObject({
      setting: 'AWS credentials',
      message: expect.stringContaining('InvalidSignatureException'),
    });
    await expect(preflight(settingsWith({ region: 'eu-west-1' }))).rejects.toMatchObject({ setting: 'AWS credentials' });
    expect(aws.requests.filter((r) => r.method !== 'GET').length).toBe(writesBefore);
    expect(aws.state.apiKeys.size).toBe(0);
  });

  it('missing credentials: a SettingError naming the default chain', async () => {
    const saved = { ...process.env };
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete process.env[name];
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    try {
      const settings = { ...settingsWith({}), credentials: undefined };
      await expect(checkUsagePlans(createAwsSignupGateway(settings, { maxAttempts: 1 }), settings)).rejects.toMatchObject({
        setting: 'AWS credentials',
        hint: expect.stringContaining('default chain'),
      });
    } finally {
      process.env = saved;
    }
  });
});
