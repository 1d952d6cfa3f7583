// Beside the core, not in it: it drives the rate limit through both Kong faces, portal developers and hosted-signup consumers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KongPlugin } from '../../kong/kong-types.ts';
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { KongConsumers } from '../../kong/kong-consumers.ts';
import { startKongEmulator, type RunningKongEmulator } from '../../sandbox/kong/index.ts';
import { createConsumerDirectory, SIGNUP_CONSUMER_TAGS } from '../hosted-signup/consumer-directory.ts';
import { DEFAULT_RATE_LIMIT_SETTINGS, parseRateLimitSettings } from './rate-limit-settings.ts';
import { ACCESS_TAGS, type DeveloperPlugins } from './kong-access.ts';
import { applyRateLimit, applyRateLimitOrLog, RATE_LIMIT_TAGS, rateLimitConfig } from './kong-rate-limit.ts';
import { KongError } from '../../kong/kong-errors.ts';
import { createMemoryLogger } from '../../shared/provision-log.ts';

/** Kong's developer plugin routes over a list, counting writes; Kong fills defaults into config as it does. */
function fakeKong(initial: Array<KongPlugin> = []) {
  const plugins: KongPlugin[] = structuredClone(initial);
  const writes: string[] = [];
  let next = 1;
  const kong: DeveloperPlugins = {
    async listDeveloperPlugins(_developer, { tags }) {
      return structuredClone(plugins.filter((plugin) => tags.every((tag) => plugin.tags?.includes(tag))));
    },
    async createDeveloperPlugin(_developer, plugin) {
      writes.push('create');
      const created = { id: `p${next++}`, enabled: true, ...structuredClone(plugin), config: { day: null, month: null, year: null, redis_timeout: 2000, ...plugin.config } };
      plugins.push(created);
      return structuredClone(created);
    },
    async updateDeveloperPlugin(_developer, id, patch) {
      writes.push(`update ${id}`);
      const plugin = plugins.find((p) => p.id === id)!;
      plugin.config = { ...plugin.config, ...patch.config };
      return structuredClone(plugin);
    },
    async deleteDeveloperPlugin(_developer, id) {
      writes.push(`delete ${id}`);
      plugins.splice(
        plugins.findIndex((p) => p.id === id),
        1,
      );
    },
  };
  return { kong, plugins, writes };
}

const local = DEFAULT_RATE_LIMIT_SETTINGS;
const theirs: KongPlugin = { id: 'team-rl', name: 'rate-limiting', enabled: true, config: { minute: 1 }, tags: ['team'] };

describe('applyRateLimit', () => {
  it('shares its first tag with the access block, so one listing finds both', () => {
    expect(RATE_LIMIT_TAGS[0]).toBe(ACCESS_TAGS[0]);
  });

  it('creates one tagged plugin limited by consumer; a second apply writes nothing', async () => {
    const { kong, plugins, writes } = fakeKong();
    expect(await applyRateLimit(kong, 'dev-1', { minute: 60 }, local)).toBe('created');
    expect(plugins[0]).toMatchObject({ name: 'rate-limiting', tags: [...RATE_LIMIT_TAGS], config: { limit_by: 'consumer', policy: 'local', minute: 60, second: null, hour: null } });
    expect(await applyRateLimit(kong, 'dev-1', { minute: 60 }, local)).toBe('unchanged');
    expect(writes).toEqual(['create']);
  });

  it('a plan change is one PATCH that also clears the windows the new plan does not set', async () => {
    const { kong, plugins, writes } = fakeKong();
    await applyRateLimit(kong, 'dev-1', { minute: 60 }, local);
    expect(await applyRateLimit(kong, 'dev-1', { second: 5, hour: 1000 }, local)).toBe('updated');
    expect(plugins[0]?.config).toMatchObject({ second: 5, minute: null, hour: 1000 });
    expect(writes).toEqual(['create', 'update p1']);
  });

  it('an admin’s edit, a disabled copy or a spare are repaired in at most two writes; the plugin goes with the limit', async () => {
    const { kong, plugins, writes } = fakeKong();
    await applyRateLimit(kong, 'dev-1', { minute: 60 }, local);
    plugins[0]!.config.day = 5; // an admin adds a window
    expect(await applyRateLimit(kong, 'dev-1', { minute: 60 }, local)).toBe('updated');
    expect(plugins[0]?.config.day).toBeNull();
    plugins[0]!.enabled = false; // an admin disables ours: replaced (the port patches config only)
    writes.length = 0;
    expect(await applyRateLimit(kong, 'dev-1', { minute: 60 }, local)).toBe('created');
    expect(writes).toEqual(['delete p1', 'create']);
    expect(plugins.map((p) => [p.id, p.enabled])).toEqual([['p2', true]]);
    writes.length = 0;
    expect(await applyRateLimit(kong, 'dev-1', undefined, local)).toBe('removed');
    expect(writes).toEqual(['delete p2']);
    expect(await applyRateLimit(kong, 'dev-1', undefined, local)).toBe('unchanged');
  });

  it('never touches another rate-limiting plugin; Kong’s one-per-consumer conflict is reported, not forced', async () => {
    const { kong, plugins } = fakeKong([theirs]);
    const conflicting: DeveloperPlugins = {
      ...kong,
      createDeveloperPlugin: async () => {
        const { KongError } = await import('../../kong/kong-errors.ts');
        throw new KongError('kong_conflict', 'unique constraint violation', { status: 409, method: 'POST', path: '/default/developers/dev-1/plugins' });
      },
    };
    expect(await applyRateLimit(conflicting, 'dev-1', { minute: 60 }, local)).toBe('conflict');
    expect(await applyRateLimit(kong, 'dev-1', undefined, local)).toBe('unchanged');
    expect(plugins).toEqual([theirs]);
  });

  it('redis policy carries the connection from RATE_LIMIT_REDIS_URL', () => {
    const settings = parseRateLimitSettings({ RATE_LIMIT_POLICY: 'redis', RATE_LIMIT_REDIS_URL: 'rediss://kong:s3cret@redis.internal:6380/2' });
    expect(rateLimitConfig({ second: 10 }, settings)).toMatchObject({
      policy: 'redis',
      redis_host: 'redis.internal',
      redis_port: 6380,
      redis_database: 2,
      redis_ssl: true,
      redis_username: 'kong',
      redis_password: 's3cret',
    });
  });
});

describe('applyRateLimitOrLog (inside the access sync)', () => {
  it('a limit Kong refuses is logged as an error and never fails the sync; other errors still do', async () => {
    const { kong } = fakeKong();
    const refusing: DeveloperPlugins = {
      ...kong,
      createDeveloperPlugin: async () => {
        throw new KongError('kong_bad_request', "schema violation (config.policy: 'cluster' not supported with DB-less)", { status: 400, method: 'POST', path: '/default/developers/dev-1/plugins' });
      },
    };
    const logger = createMemoryLogger();
    expect(await applyRateLimitOrLog(refusing, 'dev-1', { second: 1 }, { policy: 'cluster' }, undefined, logger)).toBe('failed');
    expect(logger.entries).toEqual([expect.objectContaining({ level: 'error', event: 'rate_limit_failed', developer_id: 'dev-1' })]);
    const stale: DeveloperPlugins = { ...kong, createDeveloperPlugin: async () => Promise.reject(new Error('stale snapshot')) };
    await expect(applyRateLimitOrLog(stale, 'dev-1', { second: 1 }, local, undefined, logger)).rejects.toThrow('stale snapshot');
  });
});

describe('RATE_LIMIT_POLICY and RATE_LIMIT_REDIS_URL', () => {
  it('defaults to local; cluster needs nothing more', () => {
    expect(parseRateLimitSettings({})).toEqual({ policy: 'local' });
    expect(parseRateLimitSettings({ RATE_LIMIT_POLICY: 'cluster' })).toEqual({ policy: 'cluster' });
    expect(parseRateLimitSettings({ RATE_LIMIT_POLICY: 'redis', RATE_LIMIT_REDIS_URL: 'redis://r' }).redis).toEqual({ host: 'r', port: 6379, database: 0, ssl: false });
  });

  it('bad values name the setting and never echo the URL (it may hold a password)', () => {
    expect(() => parseRateLimitSettings({ RATE_LIMIT_POLICY: 'global' })).toThrow(/^RATE_LIMIT_POLICY: "global" is not a policy; use local, cluster or redis$/);
    expect(() => parseRateLimitSettings({ RATE_LIMIT_POLICY: 'redis' })).toThrow(/^RATE_LIMIT_REDIS_URL: is not set, and RATE_LIMIT_POLICY is redis$/);
    expect(() => parseRateLimitSettings({ RATE_LIMIT_REDIS_URL: 'redis://r' })).toThrow(/^RATE_LIMIT_REDIS_URL: is set but RATE_LIMIT_POLICY is local/);
    for (const url of ['http://:hunter2@r', 'redis://:hunter2@r/x', 'not a url hunter2']) {
      let message = '';
      try {
        parseRateLimitSettings({ RATE_LIMIT_POLICY: 'redis', RATE_LIMIT_REDIS_URL: url });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^RATE_LIMIT_REDIS_URL: /);
      expect(message).not.toContain('hunter2');
    }
  });
});

describe('hosted mode: the plugin on /consumers/{id}/plugins', () => {
  let kong: RunningKongEmulator;
  beforeAll(async () => {
    kong = await startKongEmulator({ propagationMs: 0 });
  });
  afterAll(() => kong.close());

  it('creates, changes and removes the plugin on the signup consumer only', async () => {
    const consumers = new KongConsumers(new KongAdminClient({ adminUrl: kong.adminUrl, workspace: 'default' }));
    const directory = createConsumerDirectory(consumers);
    const mine = await consumers.create({ username: 'rl@example.com', tags: [...SIGNUP_CONSUMER_TAGS] });
    const other = await consumers.create({ username: 'other@example.com', tags: [...SIGNUP_CONSUMER_TAGS] });
    expect(await applyRateLimit(directory, mine.id, { second: 3 }, local)).toBe('created');
    expect(await applyRateLimit(directory, mine.id, { second: 3 }, local)).toBe('unchanged');
    const [plugin] = await consumers.listPlugins(mine.id);
    expect(plugin).toMatchObject({ name: 'rate-limiting', consumer: { id: mine.id }, tags: [...RATE_LIMIT_TAGS], config: expect.objectContaining({ second: 3, limit_by: 'consumer' }) });
    expect(await applyRateLimit(directory, mine.id, { minute: 100 }, local)).toBe('updated');
    expect((await consumers.listPlugins(mine.id))[0]).toMatchObject({ id: plugin!.id, config: expect.objectContaining({ second: null, minute: 100 }) });
    expect(await consumers.listPlugins(other.id)).toEqual([]);
    expect(await applyRateLimit(directory, mine.id, undefined, local)).toBe('removed');
    expect(await consumers.listPlugins(mine.id)).toEqual([]);
  });
});
