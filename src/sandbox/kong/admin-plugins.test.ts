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
  it('answers next as /<entity>?offset=…&size=… with no workspace prefix; a nested list as /<parent>/<key>/<entity>?offset=… alone', async () => {
    const dev = kong.state.addDeveloper('team-a', { email: 'pager@example.com' });
    for (const tag of ['a', 'b', 'c']) kong.state.putPlugin('team-a', { id: crypto.randomUUID(), name: 'rate-limiting', enabled: true, config: {}, consumer: dev.consumer, route: { id: tag }, service: null, tags: [tag] });
    const first = await call('GET', '/team-a/plugins?size=2');
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next).toBe(`/plugins?offset=${encodeURIComponent(first.body.offset)}&size=2`);
    const nested = await call('GET', '/team-a/developers/pager@example.com/plugins?size=2&tags=a/b/c');
    // endpoints.lua's nested form: the parent key as the client gave it, no size, no tags.
    expect(nested.body.next).toBe(`/developers/pager@example.com/plugins?offset=${encodeURIComponent(nested.body.offset)}`);
    const tagged = await call('GET', '/team-a/plugins?size=2&tags=a/b/c');
    expect(tagged.body.next).toBe(`/plugins?offset=${encodeURIComponent(tagged.body.offset)}&tags=a%2Fb%2Fc&size=2`);
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

  it('validates request-termination like its schema.lua: defaults, message xor body/content_type, unknown fields, tags', async () => {
    kong.state.addDeveloper('team-a', { email: 'v@example.com' });
    const post = (body: unknown) => call('POST', '/team-a/developers/v@example.com/plugins', body);
    expect((await post({ name: 'request-termination', config: { status_code: 402, message: 'x', body: 'y' } })).body).toMatchObject({
      message: 'schema violation (config: message cannot be used with content_type or body)',
      fields: { config: 'message cannot be used with content_type or body' },
    });
    expect((await post({ name: 'request-termination', config: { status_code: 402, content_type: 'text/plain' } })).body.fields).toEqual({ config: 'content_type requires a body' });
    expect((await post({ name: 'request-termination', config: { status_code: 700 } })).body.fields).toEqual({ config: { status_code: 'value should be between 100 and 599' } });
    expect((await post({ name: 'request-termination', config: { status_code: 402, mesage: 'typo' } })).body).toEqual({
      message: 'schema violation (config.mesage: unknown field)',
      name: 'schema violation',
      fields: { config: { mesage: 'unknown field' } },
      code: 2,
    });
    expect((await post({ name: 'no-such-plugin' })).body.fields).toEqual({ name: "plugin 'no-such-plugin' not enabled; add it to the 'plugins' configuration property" });
    expect((await post({ ...BLOCK, tags: ['a,b'] })).status).toBe(400);
    expect((await post({ ...BLOCK, colour: 'red' })).body.fields).toEqual({ colour: 'unknown field' });
    expect(kong.state.consumerPlugins('team-a', kong.state.getDeveloper('team-a', 'v@example.com')?.consumer?.id ?? '')).toEqual([]);
    // No status_code: Kong's default 503; every field of the schema comes back, null when unset.
    const created = await post({ name: 'request-termination', config: {} });
    expect([created.status, created.body.config]).toEqual([201, { status_code: 503, message: null, content_type: null, body: null, echo: false, trigger: null }]);
  });

  it('answers a second plugin of a name on one consumer with 409 naming the whole cache key', async () => {
    const dev = kong.state.addDeveloper('team-a', { email: 'twice@example.com' });
    expect((await call('POST', '/team-a/developers/twice@example.com/plugins', BLOCK)).status).toBe(201);
    const again = await call('POST', '/team-a/developers/twice@example.com/plugins', BLOCK);
    expect(again).toEqual({
      status: 409,
      body: {
        message: `UNIQUE violation detected on '{consumer={id="${dev.consumer?.id}"},name="request-termination",route=null,service=null}'`,
        name: 'unique constraint violation',
        fields: { consumer: { id: dev.consumer?.id }, name: 'request-termination', route: null, service: null },
        code: 5,
      },
    });
  });

  it('refuses a bad tags filter with invalid options (code 11, errors under options)', async () => {
    expect(await call('GET', '/team-a/plugins?tags=a,b/c')).toEqual({ status: 400, body: { message: 'invalid option (tags: invalid filter syntax)', name: 'invalid options', options: { tags: 'invalid filter syntax' }, code: 11 } });
    expect((await call('GET', '/team-a/plugins?size=0')).body).toMatchObject({ name: 'invalid size', code: 9 });
  });

  it('deletes a developer’s plugins with the developer', async () => {
    const dev = kong.state.addDeveloper('team-a', { email: 'gone@example.com' });
    const plugin = (await call('POST', `/team-a/developers/${dev.id}/plugins`, BLOCK)).body;
    kong.state.deleteDeveloper('team-a', dev.id);
    expect((await call('GET', `/team-a/plugins/${plugin.id}`)).status).toBe(404);
  });
});
