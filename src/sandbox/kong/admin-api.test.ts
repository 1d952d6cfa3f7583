import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import type { WireFile as KongFile } from './wire-types.ts';

interface KongPage<T> {
  data: T[];
  next: string | null;
  offset?: string | null;
}
import { kongSignature } from './event-hooks.ts';
import { startKongEmulator, type RunningKongEmulator } from './kong-emulator.ts';

let kong: RunningKongEmulator;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(kong.adminUrl + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  kong = await startKongEmulator({ workspaces: ['team-a'] });
});
afterAll(async () => {
  await kong.close();
});
beforeEach(() => {
  for (const name of ['default', 'team-a']) {
    const record = kong.state.requireWs(name);
    record.files.clear();
    kong.state.patchWorkspaceConfig(name, { portal: true });
  }
});

describe('Files API', () => {
  it('pages through 350 files with next links holding the workspace prefix and query', async () => {
    for (let i = 0; i < 350; i++) kong.state.putFile('default', `content/page-${String(i).padStart(3, '0')}.txt`, `page ${i}`);
    const seen: string[] = [];
    let page = (await call('GET', '/default/files?size=100')).body as KongPage<KongFile>;
    const nexts: string[] = [];
    for (;;) {
      seen.push(...page.data.map((f) => f.path));
      if (!page.next) break;
      nexts.push(page.next);
      page = (await call('GET', page.next)).body as KongPage<KongFile>;
    }
    expect(seen).toHaveLength(350);
    expect(new Set(seen).size).toBe(350);
    expect(nexts).toHaveLength(3);
    for (const next of nexts) {
      expect(next.startsWith('/default/files?')).toBe(true);
      expect(new URL(next, kong.adminUrl).searchParams.get('size')).toBe('100');
    }
    // Default page size is 100.
    expect(((await call('GET', '/default/files')).body as KongPage<KongFile>).data).toHaveLength(100);
  });

  it('keeps other query parameters such as fields in next', async () => {
    for (let i = 0; i < 5; i++) kong.state.putFile('default', `content/f${i}.txt`, 'x');
    const first = (await call('GET', '/default/files?size=2&fields=path')).body as KongPage<Partial<KongFile>>;
    expect(first.data[0]).toEqual({ path: 'content/f0.txt' });
    expect(first.next).toContain('fields=path');
    const second = (await call('GET', first.next as string)).body as KongPage<Partial<KongFile>>;
    expect(second.data.map((f) => f.path)).toEqual(['content/f2.txt', 'content/f3.txt']);
  });

  it('rejects a size outside 1..1000 and a garbage offset', async () => {
    expect((await call('GET', '/default/files?size=0')).status).toBe(400);
    expect((await call('GET', '/default/files?size=1001')).status).toBe(400);
    expect((await call('GET', '/default/files?offset=nope')).status).toBe(400);
  });

  it('creates with POST (201), refuses a duplicate (409), upserts with PUT (200), deletes (204)', async () => {
    const created = await call('POST', '/default/files', { path: 'themes/base/partials/a.html', contents: '<p>a</p>' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ path: 'themes/base/partials/a.html', contents: '<p>a</p>' });
    expect(created.body.checksum).toBe(createHash('sha256').update('<p>a</p>').digest('hex'));
    expect(typeof created.body.id).toBe('string');
    expect(Number.isInteger(created.body.created_at)).toBe(true);

    const duplicate = await call('POST', '/default/files', { path: 'themes/base/partials/a.html', contents: 'again' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.name).toBe('unique constraint violation');

    const put = await call('PUT', '/default/files/themes/base/partials/a.html', { contents: '<p>b</p>' });
    expect(put.status).toBe(200);
    expect(put.body.id).toBe(created.body.id);
    expect(put.body.checksum).toBe(createHash('sha256').update('<p>b</p>').digest('hex'));

    const putNew = await call('PUT', '/default/files/themes/base/assets/x.js', { path: 'themes/base/assets/x.js', contents: 'x()', checksum: 'given' });
    expect(putNew.status).toBe(200);
    expect(putNew.body.checksum).toBe('given');

    const got = await call('GET', '/default/files/themes/base/partials/a.html');
    expect(got.status).toBe(200);
    expect(got.body.contents).toBe('<p>b</p>');

    const patched = await call('PATCH', '/default/files/themes/base/partials/a.html', { contents: '<p>c</p>' });
    expect(patched.status).toBe(200);
    expect(patched.body.contents).toBe('<p>c</p>');

    expect((await call('DELETE', '/default/files/themes/base/partials/a.html')).status).toBe(204);
    expect((await call('GET', '/default/files/themes/base/partials/a.html')).status).toBe(404);
    expect((await call('PATCH', '/default/files/themes/base/partials/a.html', { contents: 'x' })).status).toBe(404);
  });

  it('answers schema violations with Kong fields for bad paths and contents', async () => {
    const slash = await call('POST', '/default/files', { path: '/themes/base/x.js', contents: 'x' });
    expect(slash.status).toBe(400);
    expect(slash.body).toMatchObject({ name: 'schema violation', code: 2, fields: { path: expect.stringContaining('slash') } });
    expect((await call('POST', '/default/files', { path: 'themes/base/README', contents: 'x' })).body.fields.path).toMatch(/extension/);
    expect((await call('PUT', '/default/files/themes/base/layouts/x.js', { contents: 'x' })).body.fields.path).toMatch(/\.html/);
    expect((await call('PUT', '/default/files/themes/base/partials/x.txt', { contents: 'x' })).status).toBe(400);
    const missing = await call('POST', '/default/files', { path: 'content/a.txt' });
    expect(missing.status).toBe(400);
    expect(missing.body.fields.contents).toBe('required field missing');
  });

  it('is 404 on every route while the portal is off, and for an unknown workspace', async () => {
    kong.state.putFile('default', 'content/a.txt', 'a');
    kong.state.patchWorkspaceConfig('default', { portal: false });
    for (const [method, path, body] of [
      ['GET', '/default/files', undefined],
      ['POST', '/default/files', { path: 'content/b.txt', contents: 'b' }],
      ['GET', '/default/files/content/a.txt', undefined],
      ['PUT', '/default/files/content/a.txt', { contents: 'x' }],
      ['PATCH', '/default/files/content/a.txt', { contents: 'x' }],
      ['DELETE', '/default/files/content/a.txt', undefined],
    ] as const) {
      const answer = await call(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body).toEqual({ message: 'Not Found' });
    }
    expect(kong.state.getFile('default', 'content/a.txt')?.contents).toBe('a');
    expect((await call('GET', '/nowhere/files')).status).toBe(404);
  });

  it('treats routes without a workspace prefix as the default workspace, like Kong', async () => {
    const put = await call('PUT', '/files/content/unprefixed.txt', { contents: 'u' });
    expect(put.status).toBe(200);
    expect(kong.state.getFile('default', 'content/unprefixed.txt')?.contents).toBe('u');
    expect((await call('GET', '/files?size=1')).body.data).toHaveLength(1);
    expect((await call('POST', '/files', { path: 'content/posted.txt', contents: 'p' })).status).toBe(201);
    expect(kong.state.getFile('team-a', 'content/unprefixed.txt')).toBeUndefined();
  });

  it('keeps workspaces apart', async () => {
    await call('PUT', '/team-a/files/content/only-a.txt', { contents: 'a' });
    expect((await call('GET', '/team-a/files/content/only-a.txt')).status).toBe(200);
    expect((await call('GET', '/default/files/content/only-a.txt')).status).toBe(404);
  });

  it('works with the shared KongAdminClient (put, get, list across pages, delete)', async () => {
    const client = new KongAdminClient({ adminUrl: kong.adminUrl, workspace: 'default' });
    for (let i = 0; i < 12; i++) await client.putFile(`content/c${i}.txt`, `c${i}`);
    expect((await client.getFile('content/c3.txt'))?.contents).toBe('c3');
    const paths: string[] = [];
    let page = await client.listFilesPage({ size: 5 });
    for (;;) {
      paths.push(...page.data.map((f) => f.path));
      if (!page.next) break;
      page = await client.listFilesPage({ size: 5, ...(page.offset ? { offset: page.offset } : {}) });
    }
    expect(paths).toHaveLength(12);
    await client.deleteFile('content/c3.txt');
    expect(await client.getFile('content/c3.txt')).toBeUndefined();
  });
});

describe('workspaces', () => {
  it('lists, reads and merges config on PATCH with Kong defaults', async () => {
    const list = await call('GET', '/workspaces');
    expect(list.body.data.map((w: { name: string }) => w.name)).toEqual(expect.arrayContaining(['default', 'team-a']));
    const ws = await call('GET', '/workspaces/team-a');
    expect(JSON.parse(ws.body.config.portal_developer_meta_fields)).toEqual([{ label: 'Full Name', title: 'full_name', validator: { required: true, type: 'string' } }]);

    const patched = await call('PATCH', '/team-a/workspaces/team-a', { config: { portal_auth: 'basic-auth', portal_auto_approve: true } });
    expect(patched.status).toBe(200);
    expect(patched.body.config).toMatchObject({ portal: true, portal_auth: 'basic-auth', portal_auto_approve: true });
    expect((await call('GET', '/team-a/workspaces/team-a')).body.config.portal_auth).toBe('basic-auth');

    expect((await call('PATCH', '/team-a/workspaces/team-a', { config: { portal_auth: 'magic' } })).status).toBe(400);
    expect((await call('PATCH', '/team-a/workspaces/team-a', { config: { portal_developer_meta_fields: [{ title: 'x' }] } })).status).toBe(400);
    expect((await call('GET', '/workspaces/nope')).status).toBe(404);
    expect((await call('PATCH', '/nope/workspaces/nope', { config: { portal: true } })).status).toBe(404);
  });

  it('accepts form-encoded PATCHes like curl --data config.portal=true', async () => {
    kong.state.patchWorkspaceConfig('team-a', { portal: false });
    const response = await fetch(`${kong.adminUrl}/workspaces/team-a`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'config.portal=true',
    });
    expect(response.status).toBe(200);
    expect(kong.state.portalEnabled('team-a')).toBe(true);
  });
});

describe('developers', () => {
  it('lists with pagination, gets by email or id, patches and deletes', async () => {
    for (let i = 0; i < 7; i++) kong.state.addDeveloper('team-a', { email: `dev${i}@example.com`, meta: { full_name: `Dev ${i}` } });
    const first = await call('GET', '/team-a/developers?size=5');
    expect(first.body.data).toHaveLength(5);
    expect(first.body.total).toBe(5);
    expect(first.body.next).toMatch(/^\/team-a\/developers\?/);
    // Portal lists: offset = the next row's id.
    expect(first.body.offset).toBe(kong.state.listDevelopers('team-a')[5]?.id);
    const second = await call('GET', first.body.next);
    expect(second.body.data).toHaveLength(2);
    expect(second.body.total).toBe(2);
    expect(second.body.next).toBeNull();

    const byEmail = await call('GET', '/team-a/developers/dev3@example.com');
    expect(byEmail.body).toMatchObject({ email: 'dev3@example.com', status: 0, meta: JSON.stringify({ full_name: 'Dev 3' }) });
    expect(byEmail.body.consumer.id).toEqual(expect.any(String));
    expect(byEmail.body).not.toHaveProperty('custom_id');
    expect((await call('GET', `/team-a/developers/${byEmail.body.id}`)).body.email).toBe('dev3@example.com');

    // Developer consumers are hidden from /consumers.
    expect((await call('GET', `/team-a/consumers/${byEmail.body.consumer.id}`)).status).toBe(404);
    expect((await call('GET', `/team-a/consumers/${byEmail.body.consumer.id}/plugins`)).status).toBe(404);
    expect((await call('GET', '/team-a/consumers')).body.data).toEqual([]);

    const patched = await call('PATCH', '/team-a/developers/dev3@example.com', { meta: JSON.stringify({ full_name: 'Dev Three', plan: 'pro' }) });
    expect(patched.status).toBe(200);
    expect(JSON.parse(patched.body.developer.meta)).toEqual({ full_name: 'Dev Three', plan: 'pro' });
    expect((await call('PATCH', '/team-a/developers/dev3@example.com', { meta: { not: 'a string' } })).status).toBe(400);

    expect((await call('DELETE', '/team-a/developers/dev3@example.com')).status).toBe(204);
    expect((await call('GET', '/team-a/developers/dev3@example.com')).status).toBe(404);
    expect((await call('GET', '/team-a/developers/nobody@example.com')).status).toBe(404);
  });

  it('seeds thousands of developers quickly through the state helper', async () => {
    const record = kong.state.requireWs('team-a');
    record.developers.clear();
    record.developersByEmail.clear();
    for (let i = 0; i < 5000; i++) kong.state.addDeveloper('team-a', { email: `bulk${i}@example.com`, meta: { full_name: `B ${i}` } });
    const client = new KongAdminClient({ adminUrl: kong.adminUrl, workspace: 'team-a' });
    let count = 0;
    for await (const _developer of client.listDevelopers(1000)) count++;
    expect(count).toBe(5000);
    expect(kong.state.listDevelopers('team-a')).toHaveLength(5000);
  });
});

describe('admin token (RBAC)', () => {
  let secured: RunningKongEmulator;
  beforeAll(async () => {
    secured = await startKongEmulator({ adminToken: 's3cret' });
  });
  afterAll(async () => {
    await secured.close();
  });

  it('answers 401 with Kong message without or with a wrong token, and serves the right one', async () => {
    const missing = await fetch(`${secured.adminUrl}/workspaces`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ message: 'Invalid credentials. Token or User credentials required' });
    const wrong = await fetch(`${secured.adminUrl}/workspaces`, { headers: { 'Kong-Admin-Token': 'nope' } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${secured.adminUrl}/workspaces`, { headers: { 'Kong-Admin-Token': 's3cret' } });
    expect(right.status).toBe(200);
  });
});

describe('event hooks', () => {
  let receiver: Server;
  let receiverUrl: string;
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/kong-hook`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('creates, lists and deletes hooks, and validates them', async () => {
    const created = await call('POST', '/default/event-hooks', { source: 'crud', event: 'developers', handler: 'webhook', config: { url: receiverUrl, secret: 'x' } });
    expect(created.status).toBe(201);
    expect((await call('GET', '/event-hooks')).body.data.map((h: { id: string }) => h.id)).toContain(created.body.id);
    expect((await call('GET', '/default/event-hooks')).body.data.map((h: { id: string }) => h.id)).toContain(created.body.id);
    expect((await call('DELETE', `/event-hooks/${created.body.id}`)).status).toBe(204);
    expect((await call('GET', '/event-hooks')).body.data).toHaveLength(0);
    expect((await call('POST', '/event-hooks', { source: 'crud', handler: 'webhook', config: {} })).status).toBe(400);
  });

  it('POSTs developer create and update events signed with HMAC-SHA1 of the raw body', async () => {
    const hook = await call('POST', '/event-hooks', { source: 'crud', event: 'developers', handler: 'webhook', config: { url: receiverUrl, secret: 'hook-secret' } });
    await kong.settle();
    received.length = 0;
    // Hooks are global: a developer of team-a fires them too.
    const created = await call('POST', '/team-a/developers', { email: 'hooked@example.com', meta: JSON.stringify({ full_name: 'Hooked' }) });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe(1);
    await call('PATCH', '/team-a/developers/hooked@example.com', { status: 0 });
    await kong.settle();

    expect(received).toHaveLength(2);
    const [create, update] = received as [(typeof received)[0], (typeof received)[0]];
    expect(create.headers['x-kong-signature']).toBe(`sha1=${kongSignature(create.body, 'hook-secret')}`);
    expect(create.headers['x-kong-signature']).not.toBe(`sha1=${kongSignature(create.body, 'other-secret')}`);
    const payload = JSON.parse(create.body);
    expect(payload).toMatchObject({ operation: 'create', schema: 'developers', event: 'developers', source: 'crud', entity: { email: 'hooked@example.com', id: created.body.id } });
    expect(payload).not.toHaveProperty('old_entity');
    expect(JSON.stringify(payload)).not.toContain('null');
    const updated = JSON.parse(update.body);
    expect(updated).toMatchObject({ operation: 'update', entity: { status: 0 }, old_entity: { status: 1 } });

    const log = kong.state.hookDeliveries.filter((d) => d.hookId === hook.body.id);
    expect(log.map((d) => [d.event, d.operation, d.status])).toEqual([
      ['ping', 'create', 200],
      ['developers', 'create', 200],
      ['developers', 'update', 200],
    ]);
    await call('DELETE', '/team-a/developers/hooked@example.com');
    await call('DELETE', `/event-hooks/${hook.body.id}`);
  });

  it('pings the hook URL on create, update and delete, with the hook entity (secret included), signed', async () => {
    await kong.settle();
    received.length = 0;
    const hook = await call('POST', '/event-hooks', { source: 'crud', event: 'developers', handler: 'webhook', config: { url: receiverUrl, secret: 'ping-secret-0123456' } });
    await call('PATCH', `/team-a/event-hooks/${hook.body.id}`, { config: { secret: 'ping-secret-6543210' } });
    await call('DELETE', `/event-hooks/${hook.body.id}`);
    await kong.settle();
    const pings = received.map((r) => ({ ...r, payload: JSON.parse(r.body) }));
    expect(pings.map((p) => [p.payload.source, p.payload.event, p.payload.operation])).toEqual([
      ['kong:event_hooks', 'ping', 'create'],
      ['kong:event_hooks', 'ping', 'update'],
      ['kong:event_hooks', 'ping', 'delete'],
    ]);
    expect(pings[0]?.payload.event_hooks).toMatchObject({ id: hook.body.id, config: { secret: 'ping-secret-0123456' } });
    expect(pings[0]?.headers['x-kong-signature']).toBe(`sha1=${kongSignature(pings[0]?.body ?? '', 'ping-secret-0123456')}`);
    expect(pings[1]?.headers['x-kong-signature']).toBe(`sha1=${kongSignature(pings[1]?.body ?? '', 'ping-secret-6543210')}`);
  });

  it('does not fire for developers seeded through the test helper', async () => {
    const hook = await call('POST', '/event-hooks', { source: 'crud', event: 'developers', handler: 'webhook', config: { url: receiverUrl } });
    await kong.settle();
    received.length = 0;
    kong.state.addDeveloper('default', { email: 'quiet@example.com' });
    await kong.settle();
    expect(received).toHaveLength(0);
    await call('DELETE', `/event-hooks/${hook.body.id}`);
  });
});

describe('gateway entities', () => {
  it('lists the key-auth plugin on the test-service route and the moesif plugin', async () => {
    const plugins = (await call('GET', '/default/plugins')).body.data as { name: string; route: { id: string } | null; config: Record<string, unknown> }[];
    const routes = (await call('GET', '/default/routes')).body.data as { id: string; paths: string[] }[];
    const keyAuth = plugins.find((p) => p.name === 'key-auth');
    expect(keyAuth?.config.key_names).toEqual(['apikey']);
    expect(routes.find((r) => r.id === keyAuth?.route?.id)?.paths).toEqual(['/test-service']);
    expect(plugins.some((p) => p.name === 'moesif')).toBe(true);
  });
});
