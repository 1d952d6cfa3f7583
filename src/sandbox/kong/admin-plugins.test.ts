import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { KongError } from '../../kong/kong-errors.ts';
import { startKongEmulator, type RunningKongEmulator } from './kong-emulator.ts';

let kong: RunningKongEmulator;

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(kong.adminUrl + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const BLOCK = { name: 'request-termination', config: { status_code: 402, message: 'Payment required: update your card' }, tags: ['monetization', 'billing-block'] };

beforeAll(async () => {
  kong = await startKongEmulator({ workspaces: ['team-a'] });
});
afterAll(async () => {
  await kong.close();
});
beforeEach(() => {
  for (const name of ['default', 'team-a']) {
    kong.state.patchWorkspaceConfig(name, { portal: true });
    const record = kong.state.requireWs(name);
    for (const [id, plugin] of record.plugins) if (plugin.consumer) record.plugins.delete(id);
    for (const developer of kong.state.listDevelopers(name)) kong.state.deleteDeveloper(name, developer.id);
  }
});

describe('core-entity pagination (Kong 3.4 endpoints.lua)', () => {
  it('answers next as /<entity>?offset=…&size=… with no workspace prefix, even on a nested route', async () => {
    const dev = kong.state.addDeveloper('team-a', { email: 'pager@example.com' });
    for (const tag of ['a', 'b', 'c']) kong.state.putPlugin('team-a', { id: crypto.randomUUID(), name: 'rate-limiting', enabled: true, config: {}, consumer: dev.consumer, route: { id: tag }, service: null, tags: [tag] });
    const first = await call('GET', '/team-a/plugins?size=2');
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next).toBe(`/plugins?offset=${encodeURIComponent(first.body.offset)}&size=2`);
    const nested = await call('GET', '/team-a/developers/pager@example.com/plugins?size=2');
    expect(nested.body.next).toMatch(/^\/plugins\?offset=/);
    // Following `next` lands in the default workspace: the bug the client must not have.
    const followed = await call('GET', first.body.next);
    expect(followed.body.data.every((p: { consumer: unknown }) => p.consumer === null)).toBe(true);
    const second = await call('GET', `/team-a/plugins?size=2&offset=${encodeURIComponent(first.body.offset)}`);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.next).toBeNull();
    expect((await call('GET', '/team-a/plugins?offset=%%%')).status).toBe(400);
  });

  it('lets the client read page 2 of a non-default workspace (plugins, developer plugins, developers)', async () => {
    const client = new KongAdminClient({ adminUrl: kong.adminUrl, workspace: 'team-a', pageSize: 2 });
    const dev = kong.state.addDeveloper('team-a', { email: 'many@example.com' });
    for (const tag of ['a', 'b', 'c', 'd', 'e']) kong.state.putPlugin('team-a', { id: crypto.randomUUID(), name: 'rate-limiting', enabled: true, config: {}, consumer: dev.consumer, route: { id: tag }, service: null, tags: [tag, 'all'] });
    for (let i = 0; i < 5; i++) kong.state.addDeveloper('team-a', { email: `p${i}@example.com` });
    expect((await client.listPlugins()).map((p) => p.tags?.[0])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await client.listDeveloperPlugins('many@example.com', { tags: ['all'] })).toHaveLength(5);
    const developers: string[] = [];
    for await (const developer of client.listDevelopers(2)) developers.push(developer.email);
    expect(developers).toHaveLength(6);
  });
});

describe('developer plugins', () => {
  it('creates, lists by tags, updates and deletes a consumer-scoped plugin through the developer', async () => {
    const client = new KongAdminClient({ adminUrl: kong.adminUrl, workspace: 'team-a' });
    const dev = kong.state.addDeveloper('team-a', { email: 'billed@example.com' });
    const other = kong.state.addDeveloper('team-a', { email: 'other@example.com' });
    const created = await client.createDeveloperPlugin('billed@example.com', BLOCK);
    expect(created).toMatchObject({ name: 'request-termination', enabled: true, consumer: { id: dev.consumer?.id }, tags: BLOCK.tags });
    await expect(client.createDeveloperPlugin(dev.id, BLOCK)).rejects.toMatchObject({ code: 'kong_conflict', status: 409 });

    expect(await client.listDeveloperPlugins(dev.id, { tags: ['monetization', 'billing-block'] })).toHaveLength(1);
    expect(await client.listDeveloperPlugins(dev.id, { tags: ['monetization', 'nope'] })).toHaveLength(0);
    expect(await client.listDeveloperPlugins('other@example.com')).toHaveLength(0);
    expect((await client.listPlugins({ tags: ['billing-block'] })).map((p) => p.id)).toEqual([created.id]);
    expect((await call('GET', '/team-a/plugins?tags=a,b,c,d,e,f')).status).toBe(400);

    const updated = await client.updateDeveloperPlugin(dev.id, created.id, { enabled: false, config: { status_code: 403 } });
    expect(updated).toMatchObject({ enabled: false, config: { status_code: 403, message: BLOCK.config.message } });
    // A plugin of another developer is not reachable through this one.
    expect((await call('GET', `/team-a/developers/${other.id}/plugins/${created.id}`)).status).toBe(404);
    expect((await call('PATCH', `/team-a/developers/${other.id}/plugins/${created.id}`, { enabled: true })).status).toBe(404);

    await client.deleteDeveloperPlugin(dev.id, created.id);
    await client.deleteDeveloperPlugin(dev.id, created.id); // already gone: fine
    expect(await client.listDeveloperPlugins(dev.id)).toEqual([]);
    await expect(client.listDeveloperPlugins('ghost@example.com')).rejects.toBeInstanceOf(KongError);
  });

  it('validates request-termination (status_code required, message xor body) and tags', async () => {
    kong.state.addDeveloper('team-a', { email: 'v@example.com' });
    const post = (body: unknown) => call('POST', '/team-a/developers/v@example.com/plugins', body);
    expect((await post({ name: 'request-termination', config: { message: 'x' } })).body.fields).toEqual({ config: { status_code: 'required field missing' } });
    expect((await post({ name: 'request-termination', config: { status_code: 402, message: 'x', body: 'y' } })).status).toBe(400);
    expect((await post({ name: 'request-termination', config: { status_code: 700 } })).status).toBe(400);
    expect((await post({ name: 'no-such-plugin' })).status).toBe(400);
    expect((await post({ ...BLOCK, tags: ['a,b'] })).status).toBe(400);
    expect(kong.state.consumerPlugins('team-a', kong.state.getDeveloper('team-a', 'v@example.com')?.consumer?.id ?? '')).toEqual([]);
  });

  it('deletes a developer’s plugins with the developer', async () => {
    const dev = kong.state.addDeveloper('team-a', { email: 'gone@example.com' });
    const plugin = (await call('POST', `/team-a/developers/${dev.id}/plugins`, BLOCK)).body;
    kong.state.deleteDeveloper('team-a', dev.id);
    expect((await call('GET', `/team-a/plugins/${plugin.id}`)).status).toBe(404);
  });
});
