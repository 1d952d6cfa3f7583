import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seedSandboxApi, startAwsEmulator, type RunningAwsEmulator } from '../../sandbox/aws/aws-emulator.ts';
import { runAwsSetupCommand } from '../aws-setup/aws-setup-command.ts';
import { AWS_CREDENTIALS, AWS_DOCTOR_CHECKS, AWS_USAGE_PLAN_LIMITS, AWS_USAGE_PLANS } from './aws-checks.ts';
import { runChecks } from './check-runner.ts';
import { PLANS_FILE } from './doctor-checks.ts';
import { doctorInputsFromEnv } from './doctor.ts';

const credentials = { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox-aws-secret-key-0000000000000000' };
const price = (key: string) => ({ lookup_key: `kpm_${key}`, currency: 'usd', meter: 'api_calls', pricing: { model: 'per_unit', unit_amount_decimal: '1' } });
const PLANS = {
  product: { name: 'Test API' },
  meters: [{ event_name: 'api_calls', display_name: 'API calls' }],
  plans: [
    { id: 'starter', name: 'Starter', default: true, price: price('starter'), limits: { rate: { minute: 60 }, quota: { calls: 500, enforcement: 'hard' } } },
    { id: 'pro', name: 'Pro', price: price('pro') },
  ],
};

let aws: RunningAwsEmulator;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  aws = await startAwsEmulator({ credentials, region: 'us-east-1' });
  // Usage plans as someone set them by hand: not what the plans file says.
  const { usagePlans } = seedSandboxApi(aws.state, { plans: [{ key: 'starter', throttle: { rateLimit: 50, burstLimit: 100 } }, { key: 'pro', quota: { limit: 10, period: 'DAY', offset: 0 } }] });
  dir = await mkdtemp(join(tmpdir(), 'kpm-doctor-aws-'));
  await writeFile(join(dir, 'plans.json'), JSON.stringify(PLANS));
  env = {
    GATEWAY: 'aws',
    SIGNUP_MODE: 'hosted',
    AWS_REGION: 'us-east-1',
    AWS_API_GATEWAY_USAGE_PLANS: `starter=${usagePlans.starter},pro=${usagePlans.pro}`,
    AWS_ENDPOINT_URL_API_GATEWAY: aws.endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    PLANS_FILE: join(dir, 'plans.json'),
  };
});
afterAll(async () => {
  await aws.close();
  await rm(dir, { recursive: true, force: true });
});

const CHECKS = new Set([AWS_CREDENTIALS, AWS_USAGE_PLANS, PLANS_FILE, AWS_USAGE_PLAN_LIMITS]);
async function limitsCheck() {
  const inputs = await doctorInputsFromEnv(env);
  const results = await runChecks(AWS_DOCTOR_CHECKS.filter((check) => CHECKS.has(check.name)), { ...inputs });
  return results.find((result) => result.name === AWS_USAGE_PLAN_LIMITS);
}

describe('doctor under GATEWAY=aws: usage plan limits against the plans file', () => {
  it('runs right after the plans file check', () => {
    const names = AWS_DOCTOR_CHECKS.map((check) => check.name);
    expect(names.indexOf(AWS_USAGE_PLAN_LIMITS)).toBe(names.indexOf(PLANS_FILE) + 1);
  });

  it('fails on a usage plan whose throttle or quota differs, naming it, with aws:setup as the fix; passes once aws-setup ran', async () => {
    const before = await limitsCheck();
    expect(before).toMatchObject({ ok: false, fix: expect.stringContaining('npm run aws:setup') });
    expect(before?.detail).toContain('(plan starter) differs from the plans file (replace /throttle/rateLimit = 1, replace /throttle/burstLimit = 60, add /quota/limit = 1000');
    expect(before?.detail).toContain('(plan pro) differs from the plans file (remove /quota)');

    vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await runAwsSetupCommand([], env)).toBe(0);
    } finally {
      vi.restoreAllMocks();
    }
    expect(await limitsCheck()).toMatchObject({ ok: true, detail: expect.stringContaining('2 usage plan(s) hold the plans file') });
  });
});
