import { APIGatewayClient, BadRequestException, CreateApiKeyCommand, CreateUsagePlanKeyCommand, GetUsagePlanCommand, UpdateUsagePlanCommand, type PatchOperation } from '@aws-sdk/client-api-gateway';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedSandboxApi, startAwsEmulator, type RunningAwsEmulator } from './aws-emulator.ts';
import { patchUsagePlanLimits } from './aws-usage-plan-patch.ts';

const credentials = { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox-aws-secret-key-0000000000000000' };
const region = 'us-east-1';

let aws: RunningAwsEmulator;
let sdk: APIGatewayClient;
let usagePlans: Record<string, string>;
let invoke: string;

beforeAll(async () => {
  aws = await startAwsEmulator({ credentials, region });
  sdk = new APIGatewayClient({ region, endpoint: aws.endpoint, credentials, maxAttempts: 1 });
});
afterAll(() => aws.close());
beforeEach(() => {
  aws.state.clear();
  const seeded = seedSandboxApi(aws.state, { plans: [{ key: 'limited', throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 1000, offset: 0, period: 'MONTH' } }, { key: 'open' }] });
  usagePlans = seeded.usagePlans;
  invoke = `${aws.invokeUrl}/${seeded.stage}${seeded.path}`;
});

const update = (usagePlanId: string, patchOperations: PatchOperation[]) => sdk.send(new UpdateUsagePlanCommand({ usagePlanId, patchOperations }));

async function keyIn(usagePlanId: string): Promise<string> {
  const key = await sdk.send(new CreateApiKeyCommand({ name: 'dev@example.com', enabled: true }));
  await sdk.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: key.id, keyType: 'API_KEY' }));
  return key.value as string;
}

const statusOf = async (key: string) => (await fetch(invoke, { headers: { 'x-api-key': key } })).status;

describe('AWS emulator: UpdateUsagePlan throttle and quota, through the real SDK', () => {
  it('replaces throttle and quota fields and answers the updated usage plan', async () => {
    const updated = await update(usagePlans.limited as string, [
      { op: 'replace', path: '/throttle/rateLimit', value: '0.5' },
      { op: 'replace', path: '/throttle/burstLimit', value: '5' },
      { op: 'replace', path: '/quota/limit', value: '300' },
      { op: 'replace', path: '/quota/period', value: 'WEEK' },
      { op: 'replace', path: '/quota/offset', value: '1' },
    ]);
    expect(updated.throttle).toEqual({ rateLimit: 0.5, burstLimit: 5 });
    expect(updated.quota).toEqual({ limit: 300, period: 'WEEK', offset: 1 });
    const read = await sdk.send(new GetUsagePlanCommand({ usagePlanId: usagePlans.limited }));
    expect(read.quota).toEqual({ limit: 300, period: 'WEEK', offset: 1 });
  });

  it('adds a throttle and quota to a plan without them, and removes them', async () => {
    const open = usagePlans.open as string;
    const added = await update(open, [
      { op: 'add', path: '/throttle/rateLimit', value: '2' },
      { op: 'add', path: '/throttle/burstLimit', value: '4' },
      { op: 'add', path: '/quota/limit', value: '10' },
      { op: 'add', path: '/quota/period', value: 'MONTH' },
      { op: 'add', path: '/quota/offset', value: '0' },
    ]);
    expect(added).toMatchObject({ throttle: { rateLimit: 2, burstLimit: 4 }, quota: { limit: 10, period: 'MONTH', offset: 0 } });
    const removed = await update(open, [
      { op: 'remove', path: '/throttle' },
      { op: 'remove', path: '/quota' },
    ]);
    expect(removed.throttle).toBeUndefined();
    expect(removed.quota).toBeUndefined();
  });

  it('refuses bad values, unknown paths and half-set limits with BadRequestException, changing nothing', async () => {
    const limited = usagePlans.limited as string;
    const open = usagePlans.open as string;
    const refused: Array<[string, PatchOperation[]]> = [
      [limited, [{ op: 'replace', path: '/throttle/rateLimit', value: '-1' }]],
      [limited, [{ op: 'replace', path: '/throttle/burstLimit', value: '1.5' }]],
      [limited, [{ op: 'replace', path: '/quota/limit', value: 'lots' }]],
      [limited, [{ op: 'replace', path: '/quota/period', value: 'YEAR' }]],
      [limited, [{ op: 'replace', path: '/quota/offset', value: '1001' }]],
      [limited, [{ op: 'replace', path: '/quota/limit', value: '5' }, { op: 'move', path: '/throttle', from: '/quota' }]],
      [limited, [{ op: 'replace', path: '/name', value: 'renamed' }]],
      // Stricter than known: replace/remove of what the plan lacks, and half a throttle or quota.
      [open, [{ op: 'replace', path: '/throttle/rateLimit', value: '1' }]],
      [open, [{ op: 'remove', path: '/quota' }]],
      [open, [{ op: 'add', path: '/throttle/rateLimit', value: '1' }]],
      [open, [{ op: 'add', path: '/quota/limit', value: '1' }]],
    ];
    for (const [usagePlanId, operations] of refused) await expect(update(usagePlanId, operations), JSON.stringify(operations)).rejects.toBeInstanceOf(BadRequestException);
    expect(aws.state.usagePlans.get(limited)).toMatchObject({ throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 1000, period: 'MONTH', offset: 0 } });
    expect(aws.state.usagePlans.get(open)?.throttle).toBeUndefined();
    expect(aws.state.usagePlans.get(open)?.quota).toBeUndefined();
  });

  it('an empty list changes nothing', () => {
    expect(patchUsagePlanLimits({ throttle: { rateLimit: 1, burstLimit: 2 } }, [])).toEqual({ ok: true, throttle: { rateLimit: 1, burstLimit: 2 }, quota: undefined });
    expect(patchUsagePlanLimits({}, undefined)).toEqual({ ok: true, throttle: undefined, quota: undefined });
  });
});

describe('AWS emulator data plane after UpdateUsagePlan', () => {
  it('throttles by the updated burst, and stops throttling once the throttle is removed', async () => {
    const open = usagePlans.open as string;
    const key = await keyIn(open);
    expect(await statusOf(key)).toBe(200);
    // A rate so slow the bucket does not refill within the test: one call, then 429.
    await update(open, [
      { op: 'add', path: '/throttle/rateLimit', value: '0.001' },
      { op: 'add', path: '/throttle/burstLimit', value: '1' },
    ]);
    expect(await statusOf(key)).toBe(200);
    expect(await statusOf(key)).toBe(429);
    await update(open, [{ op: 'remove', path: '/throttle' }]);
    expect(await statusOf(key)).toBe(200);
  });

  it('refuses past an updated quota (429 Limit Exceeded), and admits again once the quota is raised or removed', async () => {
    const limited = usagePlans.limited as string;
    const key = await keyIn(limited);
    expect(await statusOf(key)).toBe(200);
    await update(limited, [{ op: 'replace', path: '/quota/limit', value: '2' }]);
    expect(await statusOf(key)).toBe(200);
    const over = await fetch(invoke, { headers: { 'x-api-key': key } });
    expect(over.status).toBe(429);
    expect(await over.json()).toEqual({ message: 'Limit Exceeded' });
    await update(limited, [{ op: 'replace', path: '/quota/limit', value: '3' }]);
    expect(await statusOf(key)).toBe(200);
    expect(await statusOf(key)).toBe(429);
    await update(limited, [{ op: 'remove', path: '/quota' }]);
    expect(await statusOf(key)).toBe(200);
  });
});
