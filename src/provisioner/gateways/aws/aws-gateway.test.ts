/**
 * The AWS gateway's access port under the core's own applyAccess, against the emulator with the
 * real SDK: refusal disables and marks the key, allowance reopens only keys we closed, a repeated
 * refusal writes nothing, and a foreign key (no tags of ours) is never touched.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedSandboxApi, startAwsEmulator, type RunningAwsEmulator } from '../../../sandbox/aws/aws-emulator.ts';
import { SANDBOX_AWS } from '../../../sandbox/sandbox-credentials.ts';
import { applyAccess } from '../../core/kong-access.ts';
import { signupConsumerTags } from '../../hosted-signup/consumer-directory.ts';
import type { AwsSignupGateway } from './aws-gateway.ts';
import { createAwsSignupGateway } from './aws-wiring.ts';

let aws: RunningAwsEmulator;
let gateway: AwsSignupGateway;

beforeAll(async () => {
  aws = await startAwsEmulator({ credentials: SANDBOX_AWS, region: SANDBOX_AWS.region });
});
afterAll(() => aws.close());
beforeEach(() => {
  aws.state.clear();
  const { usagePlans } = seedSandboxApi(aws.state, { plans: [{ key: 'starter' }, { key: 'pro' }] });
  gateway = createAwsSignupGateway({ region: SANDBOX_AWS.region, usagePlans, endpoint: aws.endpoint, credentials: SANDBOX_AWS }, { maxAttempts: 1 });
});

const refused = { access: 'refused', reason: 'payment_overdue' } as const;
const allowed = { access: 'allowed', reason: 'active' } as const;
const writes = () => aws.requests.filter((r) => r.method !== 'GET').length;

describe('AWS access through applyAccess', () => {
  it('refused disables and marks the key; the same refusal again writes nothing; allowed reopens it', async () => {
    const consumer = await gateway.create({ username: 'dev@example.com', tags: signupConsumerTags({ name: 'Dev', plan: 'starter' }) });
    const key = aws.state.apiKeys.get(consumer.id)!;
    const directory = gateway.directory();
    expect(await applyAccess(directory, consumer.id, allowed, '')).toBe('unblocked');
    expect(key.enabled).toBe(true);
    expect(await applyAccess(directory, consumer.id, refused, 'Payment overdue: pay at https://x')).toBe('blocked');
    expect(key).toMatchObject({ enabled: false, tags: expect.objectContaining({ 'kpm-refused': expect.stringMatching(/^[0-9a-f]{32}$/) }) });
    const before = writes();
    expect(await applyAccess(directory, consumer.id, refused, 'Payment overdue: pay at https://x')).toBe('unchanged');
    expect(writes()).toBe(before);
    expect(await applyAccess(directory, consumer.id, allowed, '')).toBe('unblocked');
    expect(key).toMatchObject({ enabled: true, tags: expect.objectContaining({ 'kpm-refused': '' }) });
  });

  it('a key an admin disabled (no mark of ours) stays disabled when access is allowed', async () => {
    const consumer = await gateway.create({ username: 'held@example.com', tags: signupConsumerTags({ name: 'Held', plan: 'pro' }) });
    await applyAccess(gateway.directory(), consumer.id, allowed, '');
    const key = aws.state.apiKeys.get(consumer.id)!;
    // An admin disables it by hand in the console: no kpm-refused mark.
    key.enabled = false;
    expect(await applyAccess(gateway.directory(), consumer.id, allowed, '')).toBe('unchanged');
    expect(key.enabled).toBe(false);
  });

  it('a key not made by the signup (same email, no tags of ours) is seen as foreign and never written', async () => {
    aws.state.apiKeys.set('handmade01', { id: 'handmade01', value: 'h'.repeat(40), name: 'taken@example.com', customerId: undefined, description: undefined, enabled: true, createdDate: 1, lastUpdatedDate: 1, stageKeys: [], tags: {} });
    const before = writes();
    const consumer = await gateway.create({ username: 'taken@example.com', tags: signupConsumerTags({ name: 'Taken', plan: 'starter' }) });
    expect(consumer.tags).toEqual([]);
    expect(await gateway.directory().getDeveloper('taken@example.com')).toBeUndefined();
    expect(writes()).toBe(before);
    expect(aws.state.plansOfKey('handmade01')).toEqual([]);
  });
});
