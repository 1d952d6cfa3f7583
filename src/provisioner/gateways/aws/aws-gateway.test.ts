/**
 * The AWS gateway's access port under the core's own applyAccess, against the emulator with the
 * real SDK: refusal disables and marks the key, allowance reopens only keys we closed, a repeated
 * refusal writes nothing, and a foreign key (no tags of ours) is never touched. Key replacement:
 * the developer id outlives the first key, two processes stage one key, a refused developer's new
 * key is refused, and access and plan changes act on every key of the developer.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedSandboxApi, startAwsEmulator, type RunningAwsEmulator } from '../../../sandbox/aws/aws-emulator.ts';
import { SANDBOX_AWS } from '../../../sandbox/sandbox-credentials.ts';
import { applyAccess } from '../../core/kong-access.ts';
import { applyRateLimitOrLog } from '../../core/kong-rate-limit.ts';
import { consumerAsDeveloper, signupConsumerTags } from '../../hosted-signup/consumer-directory.ts';
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

  it("a plan's rate limit (Kong's rate-limiting plugin) is refused as a failed rate limit and never disables a key", async () => {
    const consumer = await gateway.create({ username: 'limited@example.com', tags: signupConsumerTags({ name: 'Limited', plan: 'starter' }) });
    await applyAccess(gateway.directory(), consumer.id, allowed, '');
    const logged: unknown[] = [];
    const logger = { info: () => undefined, warn: () => undefined, error: (line: unknown) => void logged.push(line) };
    const change = await applyRateLimitOrLog(gateway.directory(), consumer.id, { minute: 5 }, { policy: 'local' } as never, undefined, logger as never);
    expect(change).toBe('failed');
    expect(logged).toEqual([expect.objectContaining({ event: 'rate_limit_failed' })]);
    expect(aws.state.apiKeys.get(consumer.id)).toMatchObject({ enabled: true, tags: expect.objectContaining({ 'kpm-refused': '' }) });
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

/** A signed-up developer whose key was shown and opened: the developer id and the first key. */
async function shownDeveloper(email: string, plan = 'starter') {
  const consumer = await gateway.create({ username: email, tags: signupConsumerTags({ name: 'Dev', plan }) });
  await applyAccess(gateway.directory(), consumer.id, allowed, '');
  await gateway.createKey(consumer.id);
  return { id: consumer.id, first: aws.state.apiKeys.get(consumer.id)! };
}
const keysOf = (email: string) => [...aws.state.apiKeys.values()].filter((key) => key.name === email);
const anotherProcess = () => createAwsSignupGateway({ region: SANDBOX_AWS.region, usagePlans: Object.fromEntries(Object.entries(gateway.keys.usagePlans)), endpoint: aws.endpoint, credentials: SANDBOX_AWS }, { maxAttempts: 1 });

describe('AWS key replacement at the gateway', () => {
  it('the developer id outlives the first key: another process finds the developer by it, and by the new key id', async () => {
    const { id, first } = await shownDeveloper('rotated@example.com');
    // Never replaced: the first key is the whole developer, one GetApiKey finds it.
    const calls = aws.requests.length;
    expect(await anotherProcess().directory().getDeveloper(id)).toMatchObject({ id, custom_id: first.id });
    expect(aws.requests.slice(calls).map((r) => `${r.method} ${r.path}`)).toEqual([`GET /apikeys/${id}`]);
    const staged = await gateway.stageKey(id);
    expect(first.tags['kpm-replacing']).toBe('true');
    expect(staged).toMatchObject({ id, username: 'rotated@example.com' });
    expect(staged.custom_id).not.toBe(first.id);
    const shown = await gateway.createKey(id);
    expect(shown.id).toBe(staged.custom_id);
    await gateway.deleteKey(id, first.id);
    expect(aws.state.apiKeys.has(first.id)).toBe(false);

    const fresh = anotherProcess().directory();
    expect(await fresh.getDeveloper(id)).toMatchObject({ id, email: 'rotated@example.com', custom_id: shown.id, meta: JSON.stringify({ full_name: 'Dev', plan: 'starter' }) });
    expect(await fresh.getDeveloper(shown.id)).toMatchObject({ id, custom_id: shown.id });
    expect(await fresh.getDeveloper('rotated@example.com')).toMatchObject({ id, custom_id: shown.id });
    expect(await fresh.getDeveloper('nobody0000')).toBeUndefined();
  });

  it('two processes staging the same replacement at once end with one new key', async () => {
    const { id } = await shownDeveloper('twice@example.com');
    const [a, b] = await Promise.all([gateway.stageKey(id), anotherProcess().stageKey(id)]);
    expect(a.custom_id).toBe(b.custom_id);
    expect(keysOf('twice@example.com')).toHaveLength(2);
    expect(aws.state.plansOfKey(a.custom_id!).map((plan) => plan.id)).toEqual([gateway.keys.usagePlans.starter]);
  });

  it('showing again after the key was shown, with no replacement staged, is a used link and makes no key', async () => {
    const { id } = await shownDeveloper('shown-twice@example.com');
    await expect(gateway.createKey(id)).rejects.toMatchObject({ code: 'link_used', status: 410 });
    expect(keysOf('shown-twice@example.com')).toHaveLength(1);
  });

  it('never deletes the only key the developer was shown', async () => {
    const { id, first } = await shownDeveloper('only@example.com');
    await expect(gateway.deleteKey(id, first.id)).rejects.toThrow(/only shown key/);
    // A staged replacement not shown yet does not count either.
    await gateway.stageKey(id);
    await expect(gateway.deleteKey(id, first.id)).rejects.toThrow(/only shown key/);
    expect(aws.state.apiKeys.has(first.id)).toBe(true);
  });

  it('a refused developer\'s new key is refused with the same mark; allowance reopens both; a refusal after the replacement closes the new key', async () => {
    const { id, first } = await shownDeveloper('refused@example.com');
    const directory = gateway.directory();
    expect(await applyAccess(directory, id, refused, 'Payment overdue')).toBe('blocked');
    const staged = aws.state.apiKeys.get((await gateway.stageKey(id)).custom_id!)!;
    expect(staged).toMatchObject({ enabled: false, tags: expect.objectContaining({ 'kpm-refused': first.tags['kpm-refused'], 'kpm-developer': id, 'kpm-replaces': first.id }) });
    const before = writes();
    expect(await applyAccess(directory, id, refused, 'Payment overdue')).toBe('unchanged');
    expect(writes()).toBe(before);
    expect(await applyAccess(directory, id, allowed, '')).toBe('unblocked');
    expect([first.enabled, staged.enabled]).toEqual([true, true]);

    await gateway.createKey(id);
    await gateway.deleteKey(id, first.id);
    expect(await applyAccess(directory, id, refused, 'Payment overdue')).toBe('blocked');
    expect(staged.enabled).toBe(false);
  });

  it('a key left open while the others were refused (a replacement racing a refusal) is closed by the next refusal', async () => {
    const { id, first } = await shownDeveloper('raced@example.com');
    const directory = gateway.directory();
    const staged = aws.state.apiKeys.get((await gateway.stageKey(id)).custom_id!)!;
    expect(await applyAccess(directory, id, refused, 'Payment overdue')).toBe('blocked');
    // As if the replacement had been created from the key read just before the refusal.
    staged.enabled = true;
    staged.tags['kpm-refused'] = '';
    expect(await applyAccess(directory, id, refused, 'Payment overdue')).toBe('updated');
    expect([first.enabled, staged.enabled]).toEqual([false, false]);
  });

  it('a plan switch moves every key of the developer', async () => {
    const { id, first } = await shownDeveloper('mover@example.com');
    const staged = (await gateway.stageKey(id)).custom_id!;
    const developer = await gateway.directory().updateDeveloperMeta(id, JSON.stringify({ plan: 'pro' }));
    expect(developer).toMatchObject({ id, meta: JSON.stringify({ full_name: 'Dev', plan: 'pro' }) });
    for (const key of [first.id, staged]) {
      expect(aws.state.plansOfKey(key).map((plan) => plan.id)).toEqual([gateway.keys.usagePlans.pro]);
      expect(aws.state.apiKeys.get(key)!.tags['kpm-plan']).toBe('pro');
    }
    expect(consumerAsDeveloper((await gateway.get('mover@example.com'))!)).toMatchObject({ id, custom_id: first.id });
  });
});
