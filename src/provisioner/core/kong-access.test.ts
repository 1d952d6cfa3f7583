import { describe, expect, it } from 'vitest';
import type { KongPlugin } from '../../kong/kong-types.ts';
import { KongError } from '../../kong/kong-errors.ts';
import { ACCESS_TAGS, applyAccess, type DeveloperPlugins } from './kong-access.ts';

/** Kong's developer plugin routes over a list, counting writes. */
function fakeKong(initial: Array<KongPlugin & { tags?: string[] }> = []) {
  const plugins = [...initial];
  const writes: string[] = [];
  let next = 1;
  const kong: DeveloperPlugins = {
    async listDeveloperPlugins(_developer, { tags }) {
      return plugins.filter((plugin) => tags.every((tag) => plugin.tags?.includes(tag))).map((plugin) => structuredClone(plugin));
    },
    async createDeveloperPlugin(_developer, plugin) {
      writes.push('create');
      const created = { id: `p${next++}`, enabled: true, ...plugin };
      plugins.push(created);
      return created;
    },
    async updateDeveloperPlugin(_developer, id, patch) {
      writes.push(`update ${id}`);
      const plugin = plugins.find((p) => p.id === id);
      if (!plugin) throw new Error('no such plugin');
      plugin.config = patch.config;
      return plugin;
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

const refused = { access: 'refused', reason: 'payment_method_required' } as const;
const allowed = { access: 'allowed', reason: 'active' } as const;
const otherPlugin = { id: 'rate', name: 'rate-limiting', enabled: true, config: { minute: 5 }, tags: ['team'] };

describe('applyAccess', () => {
  it('blocks with one tagged 402 request-termination, and a second apply writes nothing', async () => {
    const { kong, plugins, writes } = fakeKong([otherPlugin]);
    expect(await applyAccess(kong, 'dev-1', refused, 'add a card')).toBe('blocked');
    expect(plugins).toContainEqual(expect.objectContaining({ name: 'request-termination', config: { status_code: 402, message: 'add a card' }, tags: [...ACCESS_TAGS] }));
    expect(await applyAccess(kong, 'dev-1', refused, 'add a card')).toBe('unchanged');
    expect(writes).toEqual(['create']);
  });

  it('changes the message in place when the reason changes', async () => {
    const { kong, writes } = fakeKong();
    await applyAccess(kong, 'dev-1', refused, 'add a card');
    expect(await applyAccess(kong, 'dev-1', { access: 'refused', reason: 'payment_overdue' }, 'pay the invoice')).toBe('updated');
    expect(writes).toEqual(['create', 'update p1']);
  });

  it('unblocks by deleting only its own plugins, leaving every other plugin alone', async () => {
    const { kong, plugins } = fakeKong([otherPlugin]);
    await applyAccess(kong, 'dev-1', refused, 'add a card');
    expect(await applyAccess(kong, 'dev-1', allowed, '')).toBe('unblocked');
    expect(plugins).toEqual([otherPlugin]);
    expect(await applyAccess(kong, 'dev-1', { access: 'grace', reason: 'past_due_grace' }, '')).toBe('unchanged');
  });

  it('removes a spare block left by two processes racing', async () => {
    const tags = [...ACCESS_TAGS];
    const block = (id: string) => ({ id, name: 'request-termination', enabled: true, config: { status_code: 402, message: 'add a card' }, tags });
    const { kong, plugins } = fakeKong([block('a'), block('b')]);
    expect(await applyAccess(kong, 'dev-1', refused, 'add a card')).toBe('updated');
    expect(plugins.map((p) => p.id)).toEqual(['a']);
  });

  // Issue 17.10: a webhook blocking the same developer at the same moment made reconcile report "failed" in portal mode.
  it('adopts the block a concurrent sync created (Kong 409: one plugin of a name per consumer)', async () => {
    const { kong, plugins, writes } = fakeKong();
    const racing: DeveloperPlugins = {
      ...kong,
      async listDeveloperPlugins(developer, options) {
        const seen = await kong.listDeveloperPlugins(developer, options);
        // The other sync creates its block right after this one listed none.
        if (!plugins.length) await kong.createDeveloperPlugin(developer, { name: 'request-termination', config: { status_code: 402, message: 'old reason' }, tags: [...ACCESS_TAGS] });
        return seen;
      },
      async createDeveloperPlugin(developer, plugin) {
        if (plugins.some((p) => p.name === plugin.name))
          throw new KongError('kong_conflict', 'unique constraint violation', { status: 409, method: 'POST', path: `/default/developers/${developer}/plugins` });
        return kong.createDeveloperPlugin(developer, plugin);
      },
    };
    expect(await applyAccess(racing, 'dev-1', refused, 'add a card')).toBe('blocked');
    expect(plugins).toHaveLength(1);
    expect(plugins[0]!.config).toEqual({ status_code: 402, message: 'add a card' });
    expect(writes).toEqual(['create', 'update p1']);
  });

  it('does not adopt a request-termination that is not ours: the 409 stands', async () => {
    const foreign = { id: 'x', name: 'request-termination', enabled: true, config: { status_code: 503 }, tags: ['team'] };
    const { kong } = fakeKong([foreign]);
    const conflicting: DeveloperPlugins = {
      ...kong,
      createDeveloperPlugin: async () => {
        throw new KongError('kong_conflict', 'unique constraint violation', { status: 409, method: 'POST', path: '/default/developers/dev-1/plugins' });
      },
    };
    await expect(applyAccess(conflicting, 'dev-1', refused, 'add a card')).rejects.toMatchObject({ code: 'kong_conflict' });
  });

  it('a quota refusal answers 429; moving between a payment refusal and a quota changes the one block in place', async () => {
    const { kong, plugins, writes } = fakeKong();
    const quota = { access: 'refused', reason: 'quota_exceeded', limit: { quota: { limit: 5, used: 5, resetsAt: 1 } } } as const;
    expect(await applyAccess(kong, 'dev-1', quota, 'quota reached')).toBe('blocked');
    expect(plugins[0]?.config).toEqual({ status_code: 429, message: 'quota reached' });
    expect(await applyAccess(kong, 'dev-1', { access: 'refused', reason: 'payment_overdue' }, 'quota reached')).toBe('updated');
    expect(plugins[0]?.config).toEqual({ status_code: 402, message: 'quota reached' });
    expect(writes).toEqual(['create', 'update p1']);
  });
});
