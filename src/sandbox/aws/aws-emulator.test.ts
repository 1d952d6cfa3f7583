import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  GetApiKeyCommand,
  GetApiKeysCommand,
  GetTagsCommand,
  GetUsageCommand,
  GetUsagePlanKeysCommand,
  GetUsagePlansCommand,
  NotFoundException,
  TagResourceCommand,
  UpdateApiKeyCommand,
  UpdateUsagePlanCommand,
  BadRequestException,
  ConflictException,
} from '@aws-sdk/client-api-gateway';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMoesifEmulator, type RunningMoesifEmulator } from '../moesif/moesif-emulator.ts';
import { seedSandboxApi, startAwsEmulator, type RunningAwsEmulator } from './aws-emulator.ts';

const credentials = { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox-aws-secret-key-0000000000000000' };
const region = 'us-east-1';

let aws: RunningAwsEmulator;
let moesif: RunningMoesifEmulator;
let usagePlans: Record<string, string>;
let stage: string;
let path: string;

const client = (secret = credentials.secretAccessKey, maxAttempts = 3) =>
  new APIGatewayClient({ region, endpoint: aws.endpoint, credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: secret }, maxAttempts });

beforeAll(async () => {
  moesif = await startMoesifEmulator({ applicationIds: ['moesif-app'] });
  aws = await startAwsEmulator({ credentials, region, moesif: { url: moesif.url, applicationId: 'moesif-app' } });
});
afterAll(async () => {
  await aws.close();
  await moesif.close();
});
beforeEach(() => {
  aws.state.clear();
  aws.faults.length = 0;
  ({ usagePlans, stage, path } = seedSandboxApi(aws.state, {
    plans: [
      { key: 'starter', throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 3, offset: 0, period: 'MONTH' } },
      { key: 'pro' },
    ],
  }));
});

const call = (key: string | undefined) => fetch(`${aws.invokeUrl}/${stage}${path}`, { headers: key ? { 'x-api-key': key } : {} });

describe('AWS API Gateway emulator, control plane through the real SDK', () => {
  it('creates a key, finds it by name and customer, tags it, adds it to a usage plan', async () => {
    const sdk = client();
    const key = await sdk.send(new CreateApiKeyCommand({ name: 'kpm-dev@example.com', enabled: true, customerId: 'cus_1', tags: { 'kpm:signup': 'true' } }));
    expect(key.id).toMatch(/^[a-z0-9]{10}$/);
    expect(key.value).toHaveLength(40);
    const byName = await sdk.send(new GetApiKeysCommand({ nameQuery: 'kpm-dev@', includeValues: false }));
    expect(byName.items?.map((k) => k.id)).toEqual([key.id]);
    expect(byName.items?.[0]?.value).toBeUndefined();
    const byCustomer = await sdk.send(new GetApiKeysCommand({ customerId: 'cus_1', includeValues: true }));
    expect(byCustomer.items?.[0]?.value).toBe(key.value);
    const tags = await sdk.send(new GetTagsCommand({ resourceArn: `arn:aws:apigateway:${region}::/apikeys/${key.id}` }));
    expect(tags.tags).toEqual({ 'kpm:signup': 'true' });
    await sdk.send(new CreateUsagePlanKeyCommand({ usagePlanId: usagePlans.starter, keyId: key.id, keyType: 'API_KEY' }));
    const planKeys = await sdk.send(new GetUsagePlanKeysCommand({ usagePlanId: usagePlans.starter }));
    expect(planKeys.items?.map((k) => k.id)).toEqual([key.id]);
    const plans = await sdk.send(new GetUsagePlansCommand({ keyId: key.id }));
    expect(plans.items?.map((p) => p.id)).toEqual([usagePlans.starter]);
  });

  it("answers AWS's errors as the SDK's exception classes", async () => {
    const sdk = client();
    await expect(sdk.send(new GetApiKeyCommand({ apiKey: 'nosuchkey0' }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(sdk.send(new CreateApiKeyCommand({ name: 'x', value: 'short' }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(sdk.send(new CreateApiKeyCommand({ name: 'x', tags: { plan: 'a,b' } }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(sdk.send(new CreateApiKeyCommand({ name: 'x', tags: { 'aws:owner': 'me' } }))).rejects.toBeInstanceOf(BadRequestException);
    const key = await sdk.send(new CreateApiKeyCommand({ name: 'x', enabled: true }));
    await sdk.send(new CreateUsagePlanKeyCommand({ usagePlanId: usagePlans.starter, keyId: key.id, keyType: 'API_KEY' }));
    await expect(sdk.send(new CreateUsagePlanKeyCommand({ usagePlanId: usagePlans.starter, keyId: key.id, keyType: 'API_KEY' }))).rejects.toBeInstanceOf(ConflictException);
    // Two usage plans on the same API stage cannot share a key.
    await expect(sdk.send(new CreateUsagePlanKeyCommand({ usagePlanId: usagePlans.pro, keyId: key.id, keyType: 'API_KEY' }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(sdk.send(new UpdateApiKeyCommand({ apiKey: key.id, patchOperations: [{ op: 'replace', path: '/value', value: 'x' }] }))).rejects.toBeInstanceOf(BadRequestException);
  });

  it('refuses a request signed with the wrong secret with 403 InvalidSignatureException, and changes nothing', async () => {
    const error = await client('not-the-sandbox-secret-000000000000000000', 1)
      .send(new CreateApiKeyCommand({ name: 'intruder', enabled: true }))
      .catch((e: unknown) => e as { name: string; $metadata: { httpStatusCode: number } });
    expect(error).toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
    expect(aws.state.apiKeys.size).toBe(0);
  });

  it('refuses an unsigned request with 403 MissingAuthenticationToken', async () => {
    const response = await fetch(`${aws.endpoint}/apikeys`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toMatch(/^MissingAuthenticationTokenException/);
    expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it('TooManyRequestsException is retried by the SDK, and surfaces when retries run out', async () => {
    aws.faults.push({ method: 'POST', pathPrefix: '/apikeys', type: 'TooManyRequestsException', times: 1 });
    const key = await client().send(new CreateApiKeyCommand({ name: 'retried', enabled: true }));
    expect(key.id).toBeTruthy();
    expect(aws.requests.filter((r) => r.path === '/apikeys' && r.method === 'POST').map((r) => r.status).slice(-2)).toEqual([429, 201]);
    aws.faults.push({ method: 'GET', pathPrefix: '/apikeys', type: 'TooManyRequestsException', times: 5 });
    await expect(client(credentials.secretAccessKey, 2).send(new GetApiKeysCommand({}))).rejects.toMatchObject({ name: 'TooManyRequestsException' });
  });

  it('deletes a key and takes it out of its usage plans', async () => {
    const sdk = client();
    const key = await sdk.send(new CreateApiKeyCommand({ name: 'gone', enabled: true }));
    await sdk.send(new CreateUsagePlanKeyCommand({ usagePlanId: usagePlans.pro, keyId: key.id, keyType: 'API_KEY' }));
    await sdk.send(new DeleteApiKeyCommand({ apiKey: key.id }));
    expect((await sdk.send(new GetUsagePlanKeysCommand({ usagePlanId: usagePlans.pro }))).items).toEqual([]);
    await expect(sdk.send(new GetApiKeyCommand({ apiKey: key.id }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(sdk.send(new DeleteApiKeyCommand({ apiKey: key.id }))).rejects.toBeInstanceOf(NotFoundException);
    expect((await call(key.value)).status).toBe(403);
  });

  it('TagResource adds and overwrites tags (others stay), and listed keys carry their tags', async () => {
    const sdk = client();
    const key = await sdk.send(new CreateApiKeyCommand({ name: 'tagged', enabled: true, tags: { a: '1', b: '2' } }));
    await sdk.send(new TagResourceCommand({ resourceArn: `arn:aws:apigateway:${region}::/apikeys/${key.id}`, tags: { b: '3', c: '' } }));
    const listed = await sdk.send(new GetApiKeysCommand({ nameQuery: 'tagged' }));
    expect(listed.items?.map((k) => k.tags)).toEqual([{ a: '1', b: '3', c: '' }]);
    await expect(sdk.send(new TagResourceCommand({ resourceArn: `arn:aws:apigateway:${region}::/apikeys/nosuchkey0`, tags: { a: '1' } }))).rejects.toBeInstanceOf(NotFoundException);
  });
});

describe('AWS API Gateway emulator, data plane', () => {
  async function keyIn(plan: string | undefined, enabled = true) {
    const sdk = client();
    const key = await sdk.send(new CreateApiKeyCommand({ name: 'caller', enabled }));
    if (plan) await sdk.send(new CreateUsagePlanKeyCommand({ usagePlanId: plan, keyId: key.id, keyType: 'API_KEY' }));
    return key as { id: string; value: string };
  }

  it('403 Forbidden for a missing, unknown, disabled or plan-less key; 200 for a good one, reported to Moesif as the key id', async () => {
    const good = await keyIn(usagePlans.pro);
    const disabled = await keyIn(usagePlans.pro, false);
    const planless = await keyIn(undefined);
    for (const key of [undefined, 'x'.repeat(40), disabled.value, planless.value]) {
      const response = await call(key);
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ message: 'Forbidden' });
    }
    expect((await call(good.value)).status).toBe(200);
    await aws.settled();
    expect(aws.moesifDeliveries.at(-1)).toMatchObject({ userId: good.id, status: 201 });
  });

  it('re-enabling a disabled key restores access', async () => {
    const key = await keyIn(usagePlans.pro);
    await client().send(new UpdateApiKeyCommand({ apiKey: key.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
    expect((await call(key.value)).status).toBe(403);
    await client().send(new UpdateApiKeyCommand({ apiKey: key.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'true' }] }));
    expect((await call(key.value)).status).toBe(200);
  });

  it('throttles past the burst with 429 Too Many Requests, then answers 429 Limit Exceeded past the quota', async () => {
    const key = await keyIn(usagePlans.starter);
    const statuses: Array<[number, unknown]> = [];
    for (let i = 0; i < 3; i++) {
      const response = await call(key.value);
      statuses.push([response.status, await response.json()]);
    }
    expect(statuses[0]?.[0]).toBe(200);
    expect(statuses[1]?.[0]).toBe(200);
    expect(statuses[2]).toEqual([429, { message: 'Too Many Requests' }]);
    // Refill the bucket without waiting: the quota (3) is what refuses next.
    aws.state.buckets.clear();
    expect((await call(key.value)).status).toBe(200);
    aws.state.buckets.clear();
    const over = await call(key.value);
    expect([over.status, await over.json()]).toEqual([429, { message: 'Limit Exceeded' }]);
  });

  it("quota offset is requests taken off the initial period's limit (AWS's API reference), not a shift of the period start", async () => {
    const key = await keyIn(usagePlans.pro);
    await client().send(
      new UpdateUsagePlanCommand({
        usagePlanId: usagePlans.pro,
        patchOperations: [
          { op: 'add', path: '/quota/limit', value: '3' },
          { op: 'add', path: '/quota/period', value: 'MONTH' },
          { op: 'add', path: '/quota/offset', value: '2' },
        ],
      }),
    );
    const statuses = async (n: number) => {
      const seen: number[] = [];
      for (let i = 0; i < n; i++) seen.push((await call(key.value)).status);
      return seen;
    };
    // The initial month allows 3 - 2 = 1 call; the next month the whole limit.
    expect(await statuses(2)).toEqual([200, 429]);
    const counter = [...aws.state.quotaUsed.values()][0]!;
    counter.periodStart -= 31 * 86_400_000;
    counter.firstPeriodStart -= 31 * 86_400_000;
    expect(await statuses(4)).toEqual([200, 200, 200, 429]);
    // An offset above the limit is refused (AWS's answer is not documented: stricter).
    await expect(client().send(new UpdateUsagePlanCommand({ usagePlanId: usagePlans.pro, patchOperations: [{ op: 'replace', path: '/quota/offset', value: '4' }] }))).rejects.toBeInstanceOf(BadRequestException);
  });

  it('GetUsage answers the admitted calls per key and day, [used, remaining]', async () => {
    const key = await keyIn(usagePlans.starter);
    const other = await keyIn(usagePlans.starter);
    expect((await call(key.value)).status).toBe(200);
    expect((await call(key.value)).status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    const usage = await client().send(new GetUsageCommand({ usagePlanId: usagePlans.starter, startDate: today, endDate: today }));
    expect(usage.items).toEqual({ [key.id]: [[2, 1]], [other.id]: [[0, 3]] });
    const one = await client().send(new GetUsageCommand({ usagePlanId: usagePlans.starter, keyId: other.id, startDate: today, endDate: today }));
    expect(Object.keys(one.items ?? {})).toEqual([other.id]);
    await expect(client().send(new GetUsageCommand({ usagePlanId: usagePlans.starter, startDate: 'today', endDate: today }))).rejects.toBeInstanceOf(BadRequestException);
  });

  it('a path with no method answers 403 Missing Authentication Token', async () => {
    const response = await fetch(`${aws.invokeUrl}/${stage}/nothing-here`);
    expect([response.status, await response.json()]).toEqual([403, { message: 'Missing Authentication Token' }]);
  });
});
