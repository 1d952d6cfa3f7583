import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { seedSandboxApi, startAwsEmulator, type RunningAwsEmulator } from '../../sandbox/aws/aws-emulator.ts';
import { MonetizationError, SettingError } from '../../shared/errors.ts';
import { parsePlans, type Plan } from '../../shared/plans.ts';
import { runAwsSetupCommand } from './aws-setup-command.ts';
import { usagePlanLimitsOf, usagePlanPatch } from './usage-plan-limits.ts';

const credentials = { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox-aws-secret-key-0000000000000000' };
const region = 'us-east-1';
const managedPrice = (key: string) => ({ lookup_key: `kpm_${key}_monthly`, currency: 'usd', meter: 'api_calls', pricing: { model: 'per_unit', unit_amount_decimal: '1' } });

const PLANS = {
  product: { name: 'Test API' },
  meters: [{ event_name: 'api_calls', display_name: 'API calls' }],
  plans: [
    { id: 'starter', name: 'Starter', default: true, price: managedPrice('starter'), limits: { rate: { second: 5, hour: 36 }, quota: { calls: 1000, enforcement: 'hard' } } },
    { id: 'growth', name: 'Growth', price: managedPrice('growth'), limits: { rate: { hour: 100 }, quota: { calls: 50_000, enforcement: 'soft' } } },
    { id: 'open', name: 'Open', price: managedPrice('open') },
  ],
};

const planOf = (limits: unknown, price: unknown = managedPrice('x')): Plan => parsePlans({ ...PLANS, plans: [{ id: 'x', name: 'X', price, ...(limits ? { limits } : {}) }] }).plans[0] as Plan;

describe('plans file limits → AWS usage plan throttle and quota', () => {
  it('maps the rate to the lowest per-second rate, burst = the shortest window; a hard quota to MONTH × 2', () => {
    expect(usagePlanLimitsOf(planOf({ rate: { second: 5, minute: 120 }, quota: { calls: 1000, enforcement: 'hard' } }), 0)).toMatchObject({
      throttle: { rateLimit: 2, burstLimit: 5 },
      quota: { limit: 2000, period: 'MONTH', offset: 0 },
    });
    // 100/hour: never below the plan's rate (rounded up), burst the hour's calls.
    expect(usagePlanLimitsOf(planOf({ rate: { hour: 100 } }), 0).throttle).toEqual({ rateLimit: 0.027778, burstLimit: 100 });
    expect(usagePlanLimitsOf(planOf({ rate: { minute: 60 } }), 0).throttle).toEqual({ rateLimit: 1, burstLimit: 60 });
  });

  it('gives no quota for a soft quota, no quota, or a price stripe:setup does not manage; no throttle without a rate', () => {
    expect(usagePlanLimitsOf(planOf({ quota: { calls: 10, enforcement: 'soft' } }), 0)).toMatchObject({ throttle: undefined, quota: undefined });
    expect(usagePlanLimitsOf(planOf(undefined), 0)).toMatchObject({ throttle: undefined, quota: undefined });
    const existingPrice = usagePlanLimitsOf(planOf({ quota: { calls: 10, enforcement: 'hard' } }, { id: 'price_1Nxyz' }), 0);
    expect(existingPrice.quota).toBeUndefined();
    expect(existingPrice.notes.join(' ')).toContain('not managed by stripe:setup');
  });

  it('refuses a rate AWS cannot hold, naming the plan and its JSON path', () => {
    const error = (() => {
      try {
        usagePlanLimitsOf(planOf({ rate: { second: 3_000_000_000 } }), 4);
      } catch (caught) {
        return caught as MonetizationError;
      }
    })();
    expect(error).toBeInstanceOf(MonetizationError);
    expect(error?.code).toBe('aws_limit_too_large');
    expect(error?.message).toContain('plans.4.limits.rate.second (plan x)');
  });

  it('patches only what differs: add when absent, replace when present, remove when the plan has none', () => {
    const wanted = { throttle: { rateLimit: 2, burstLimit: 5 }, quota: { limit: 2000, period: 'MONTH' as const, offset: 0 as const } };
    expect(usagePlanPatch({}, wanted).map((op) => `${op.op} ${op.path}`)).toEqual(['add /throttle/rateLimit', 'add /throttle/burstLimit', 'add /quota/limit', 'add /quota/period', 'add /quota/offset']);
    expect(usagePlanPatch({ throttle: { rateLimit: 2.0000001, burstLimit: 9 }, quota: { limit: 2000, period: 'WEEK', offset: 0 } }, wanted)).toEqual([
      { op: 'replace', path: '/throttle/burstLimit', value: '5' },
      { op: 'replace', path: '/quota/period', value: 'MONTH' },
    ]);
    expect(usagePlanPatch({ throttle: { rateLimit: 1, burstLimit: 1 }, quota: { limit: 1, period: 'DAY', offset: 0 } }, { throttle: undefined, quota: undefined })).toEqual([
      { op: 'remove', path: '/throttle' },
      { op: 'remove', path: '/quota' },
    ]);
    expect(usagePlanPatch(wanted, wanted)).toEqual([]);
  });
});

describe('aws-setup against the AWS API Gateway emulator', () => {
  let aws: RunningAwsEmulator;
  let dir: string;
  let plansFile: string;
  let usagePlans: Record<string, string>;
  let output: string[];

  beforeAll(async () => {
    aws = await startAwsEmulator({ credentials, region });
    dir = await mkdtemp(join(tmpdir(), 'kpm-aws-setup-'));
    plansFile = join(dir, 'plans.json');
    await writeFile(plansFile, JSON.stringify(PLANS));
  });
  afterAll(async () => {
    await aws.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    aws.state.clear();
    aws.requests.length = 0;
    // What an admin starts from: usage plans someone set by hand.
    ({ usagePlans } = seedSandboxApi(aws.state, {
      plans: [{ key: 'starter', throttle: { rateLimit: 50, burstLimit: 100 } }, { key: 'growth', quota: { limit: 10, period: 'DAY', offset: 0 } }, { key: 'open' }],
    }));
    output = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void output.push(args.join(' ')));
  });
  afterEach(() => vi.restoreAllMocks());

  const env = (overrides: Record<string, string> = {}) => ({
    AWS_REGION: region,
    AWS_API_GATEWAY_USAGE_PLANS: Object.entries(usagePlans).map(([plan, id]) => `${plan}=${id}`).join(','),
    AWS_ENDPOINT_URL_API_GATEWAY: aws.endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    PLANS_FILE: plansFile,
    ...overrides,
  });
  const writes = () => aws.requests.filter((request) => request.method !== 'GET');

  it('--dry-run prints the patch operations and writes nothing', async () => {
    expect(await runAwsSetupCommand(['--dry-run'], env())).toBe(0);
    const text = output.join('\n');
    expect(text).toContain(`UpdateUsagePlan ${usagePlans.starter} (plan starter):`);
    expect(text).toContain('replace /throttle/rateLimit = 0.01');
    expect(text).toContain('replace /throttle/burstLimit = 5');
    expect(text).toContain('add /quota/limit = 2000');
    expect(text).toContain('add /throttle/rateLimit = 0.027778');
    expect(text).toContain('remove /quota');
    expect(text).toContain('dry run: nothing was written');
    expect(writes()).toEqual([]);
  });

  it('makes every usage plan match, and a second run writes nothing', async () => {
    expect(await runAwsSetupCommand([], env())).toBe(0);
    expect(aws.state.usagePlans.get(usagePlans.starter as string)).toMatchObject({ throttle: { rateLimit: 0.01, burstLimit: 5 }, quota: { limit: 2000, period: 'MONTH', offset: 0 } });
    expect(aws.state.usagePlans.get(usagePlans.growth as string)).toMatchObject({ throttle: { rateLimit: 0.027778, burstLimit: 100 } });
    expect(aws.state.usagePlans.get(usagePlans.growth as string)?.quota).toBeUndefined();
    expect(aws.state.usagePlans.get(usagePlans.open as string)?.throttle).toBeUndefined();
    expect(writes().map((w) => `${w.method} ${w.status}`)).toEqual(['PATCH 200', 'PATCH 200']);
    expect(output.join('\n')).toContain('2 usage plans updated');

    aws.requests.length = 0;
    output.length = 0;
    expect(await runAwsSetupCommand([], env())).toBe(0);
    expect(writes()).toEqual([]);
    expect(output.join('\n')).toContain('AWS already matches the plans file: 0 writes');
  });

  it('names the setting and the plan on bad input, and writes nothing', async () => {
    const refused = async (overrides: Record<string, string>, argv: string[] = []) => {
      const error = await runAwsSetupCommand(argv, env(overrides)).then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
      expect(writes()).toEqual([]);
      return error;
    };
    const unknownPlan = await refused({ AWS_API_GATEWAY_USAGE_PLANS: `starter=nosuch1,growth=${usagePlans.growth},open=${usagePlans.open}` });
    expect(unknownPlan).toBeInstanceOf(SettingError);
    expect(unknownPlan?.message).toBe('AWS_API_GATEWAY_USAGE_PLANS: usage plan nosuch1 (plan starter) does not exist in this region');
    const missing = await refused({ AWS_API_GATEWAY_USAGE_PLANS: `starter=${usagePlans.starter}` });
    expect(missing?.message).toContain('AWS_API_GATEWAY_USAGE_PLANS: has no usage plan for plans growth, open');
    const shared = await refused({ AWS_API_GATEWAY_USAGE_PLANS: `starter=${usagePlans.starter},growth=${usagePlans.starter},open=${usagePlans.open}` });
    expect(shared?.message).toContain('plans starter and growth share usage plan');
    const noRegion = await refused({ AWS_REGION: '' });
    expect(noRegion?.message).toContain('AWS_REGION');
    const badFile = await refused({}, ['--plans', join(dir, 'missing.json')]);
    expect(badFile?.message).toContain('missing.json');
  });

  it('the data plane honours the limits aws-setup wrote', async () => {
    expect(await runAwsSetupCommand([], env())).toBe(0);
    const { CreateApiKeyCommand, CreateUsagePlanKeyCommand, APIGatewayClient } = await import('@aws-sdk/client-api-gateway');
    const sdk = new APIGatewayClient({ region, endpoint: aws.endpoint, credentials, maxAttempts: 1 });
    const created = await sdk.send(new CreateApiKeyCommand({ name: 'dev@example.com', enabled: true }));
    await sdk.send(new CreateUsagePlanKeyCommand({ usagePlanId: usagePlans.starter, keyId: created.id, keyType: 'API_KEY' }));
    const api = [...aws.state.restApis.values()][0];
    const url = `${aws.invokeUrl}/${api?.stages[0]?.stageName}${api?.resources[1]?.path}`;
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(url, { headers: { 'x-api-key': created.value as string } })).status);
    // Burst 5 (the plan's 5 calls/second); the bucket refills at 36/hour, too slowly to matter here.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });

  it('--help exits 0 and shows the mapping', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
    expect(await runAwsSetupCommand(['--help'], env())).toBe(0);
    expect(lines.join('')).toContain('limit 2 x calls');
  });
});
