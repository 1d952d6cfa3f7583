import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kongSignature } from './event-hooks.ts';
import { startKongEmulator, type RunningKongEmulator } from './kong-emulator.ts';
import { seedStandInTheme } from './seed-theme.ts';

let kong: RunningKongEmulator;
let api: string;

/** A form-encoded POST exactly as jQuery sends Kong.Auth.register's data. */
function registerForm(fields: Record<string, string>, meta: Record<string, unknown>): string {
  return new URLSearchParams({ ...fields, meta: JSON.stringify(meta) }).toString();
}

async function register(fields: Record<string, string>, meta: Record<string, unknown>) {
  const response = await fetch(`${api}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8', origin: kong.portalUrl },
    body: registerForm(fields, meta),
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

async function login(email: string, password: string) {
  const response = await fetch(`${api}/auth`, { headers: { authorization: `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}` } });
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  return { status: response.status, cookie, text: await response.text() };
}

beforeAll(async () => {
  kong = await startKongEmulator();
  seedStandInTheme(kong, { planField: true });
  api = `${kong.portalApiUrl}/default`;
});
afterAll(async () => {
  await kong.close();
});
beforeEach(() => {
  kong.state.patchWorkspaceConfig('default', { portal: true, portal_auth: 'basic-auth', portal_auto_approve: true, portal_email_verification: null });
});

describe('POST /{ws}/register', () => {
  it('creates an approved developer with meta as a JSON string and a consumer named by the email', async () => {
    const answer = await register({ email: 'ada@example.com', password: 'pw-123456' }, { full_name: 'Ada Lovelace', plan: 'growth' });
    expect(answer.status).toBe(200);
    expect(answer.body.developer).toMatchObject({ email: 'ada@example.com', status: 0 });
    expect(JSON.parse(answer.body.developer.meta)).toEqual({ full_name: 'Ada Lovelace', plan: 'growth' });
    expect(answer.headers.get('access-control-allow-origin')).toBe(kong.portalUrl);

    const stored = kong.state.getDeveloper('default', 'ada@example.com');
    const consumer = kong.state.requireWs('default').consumers.get(stored?.consumer?.id ?? '');
    expect(consumer?.username).toBe('ada@example.com');
    expect(consumer?.custom_id).toBeNull();
  });

  it('answers 409 with Kong unique-violation message when the email is taken', async () => {
    await register({ email: 'taken@example.com', password: 'pw' }, { full_name: 'First' });
    const again = await register({ email: 'taken@example.com', password: 'pw' }, { full_name: 'Second' });
    expect(again.status).toBe(409);
    expect(again.body.message).toBe(`UNIQUE violation detected on '{email="taken@example.com"}'`);
    expect(JSON.parse(kong.state.getDeveloper('default', 'taken@example.com')?.meta ?? '{}').full_name).toBe('First');
  });

  it('validates meta against the workspace meta fields and the auth fields, errors in `fields`', async () => {
    const missing = await register({ email: 'm@example.com', password: 'pw' }, { plan: 'growth' });
    expect(missing.status).toBe(400);
    expect(missing.body.fields).toEqual({ meta: { full_name: 'required field missing' } });

    const unknown = await register({ email: 'u@example.com', password: 'pw' }, { full_name: 'U', price: '0' });
    expect(unknown.body.fields).toEqual({ meta: { price: 'unknown field' } });

    const noPassword = await register({ email: 'p@example.com' }, { full_name: 'P' });
    expect(noPassword.body.fields).toEqual({ password: 'required field missing' });

    const badEmail = await register({ email: 'not-an-email', password: 'pw' }, { full_name: 'E' });
    expect(Object.keys(badEmail.body.fields)).toEqual(['email']);
    expect(badEmail.body).toMatchObject({ name: 'schema violation', code: 2 });
    expect(kong.state.getDeveloper('default', 'm@example.com')).toBeUndefined();
  });

  it('takes the status from portal_auto_approve and portal_email_verification', async () => {
    kong.state.patchWorkspaceConfig('default', { portal_auto_approve: false });
    expect((await register({ email: 'pending@example.com', password: 'pw' }, { full_name: 'P' })).body.developer.status).toBe(1);
    kong.state.patchWorkspaceConfig('default', { portal_email_verification: true });
    expect((await register({ email: 'unverified@example.com', password: 'pw' }, { full_name: 'U' })).body.developer.status).toBe(5);
  });

  it('is 404 while the portal is off', async () => {
    kong.state.patchWorkspaceConfig('default', { portal: false });
    expect((await register({ email: 'off@example.com', password: 'pw' }, { full_name: 'O' })).status).toBe(404);
  });

  it('fires the developers create event hook, signed', async () => {
    const bodies: { body: string; signature: string | undefined }[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        bodies.push({ body, signature: req.headers['x-kong-signature'] as string | undefined });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
      const hook = await fetch(`${kong.adminUrl}/event-hooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: 'crud', event: 'developers', handler: 'webhook', config: { url, secret: 'shh' } }),
      });
      expect(hook.status).toBe(201);
      await kong.settle();
      bodies.length = 0; // the ping that answers the hook's creation
      await register({ email: 'hook@example.com', password: 'pw' }, { full_name: 'Hook' });
      await kong.settle();
      expect(bodies).toHaveLength(1);
      const [delivery] = bodies as [(typeof bodies)[0]];
      expect(delivery.signature).toBe(`sha1=${kongSignature(delivery.body, 'shh')}`);
      expect(JSON.parse(delivery.body)).toMatchObject({ operation: 'create', event: 'developers', source: 'crud', entity: { email: 'hook@example.com', status: 0 } });
      await fetch(`${kong.adminUrl}/event-hooks/${((await hook.json()) as { id: string }).id}`, { method: 'DELETE' });
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});

describe('session and credentials', () => {
  it('logs in with basic auth, reads /developer, creates and lists keys, logs out', async () => {
    await register({ email: 'flow@example.com', password: 'secret-pw' }, { full_name: 'Flow' });
    expect((await login('flow@example.com', 'wrong')).status).toBe(401);
    expect((await fetch(`${api}/developer`)).status).toBe(401);

    const session = await login('flow@example.com', 'secret-pw');
    expect(session.status).toBe(200);
    expect(session.cookie).toMatch(/^portal_session=/);
    const cookie = { cookie: session.cookie as string };

    const me = await fetch(`${api}/developer`, { headers: cookie });
    expect(((await me.json()) as { email: string }).email).toBe('flow@example.com');

    const random = await fetch(`${api}/credentials/key-auth`, { method: 'POST', headers: { ...cookie, 'content-type': 'application/json' }, body: '{}' });
    expect(random.status).toBe(201);
    const randomKey = (await random.json()) as { key: string; consumer: { id: string } };
    expect(randomKey.key.length).toBeGreaterThanOrEqual(20);
    expect(randomKey.consumer.id).toBe(kong.state.getDeveloper('default', 'flow@example.com')?.consumer?.id);

    const chosen = await fetch(`${api}/credentials/key-auth`, { method: 'POST', headers: { ...cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'key=my-own-key' });
    expect(((await chosen.json()) as { key: string }).key).toBe('my-own-key');
    const duplicate = await fetch(`${api}/credentials/key-auth`, { method: 'POST', headers: { ...cookie, 'content-type': 'application/json' }, body: '{"key":"my-own-key"}' });
    expect(duplicate.status).toBe(409);

    const list = (await (await fetch(`${api}/credentials/key-auth`, { headers: cookie })).json()) as { data: { key: string }[] };
    expect(list.data.map((k) => k.key).sort()).toEqual([randomKey.key, 'my-own-key'].sort());

    const logout = await fetch(`${api}/auth?session_logout=true`, { method: 'DELETE', headers: cookie });
    expect(logout.status).toBe(200);
    expect((await fetch(`${api}/developer`, { headers: cookie })).status).toBe(401);
  });

  it('refuses to log in a developer who is not approved, saying why', async () => {
    kong.state.patchWorkspaceConfig('default', { portal_auto_approve: false });
    await register({ email: 'waiting@example.com', password: 'pw' }, { full_name: 'W' });
    const answer = await fetch(`${api}/auth`, { headers: { authorization: `Basic ${Buffer.from('waiting@example.com:pw').toString('base64')}` } });
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ status: 1, label: 'PENDING' });
  });

  it('answers CORS preflights for the pages origin with credentials, and not for others', async () => {
    const allowed = await fetch(`${api}/auth`, {
      method: 'OPTIONS',
      headers: { origin: kong.portalUrl, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(kong.portalUrl);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');

    const other = await fetch(`${api}/auth`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe("the developer's own account (routes Kong's portal app calls)", () => {
  async function loggedIn(email: string) {
    await register({ email, password: 'old-password-1' }, { full_name: 'Account Owner' });
    const { cookie } = await login(email, 'old-password-1');
    return (method: string, path: string, body?: unknown) =>
      fetch(`${api}${path}`, { method, headers: { 'content-type': 'application/json', cookie: cookie ?? '' }, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  it('refuses every account route without a session', async () => {
    for (const [method, path] of [['PATCH', '/developer/email'], ['PUT', '/developer/meta'], ['PATCH', '/developer/meta'], ['PATCH', '/developer/password'], ['DELETE', '/credentials/key-auth/x']])
      expect((await fetch(`${api}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'DELETE' ? undefined : '{}' })).status).toBe(401);
  });

  it('PATCH /developer/email renames the developer and its consumer, fires the update hook with old_entity, and refuses a taken email', async () => {
    const hits: { body: string }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        hits.push({ body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const hook = await fetch(`${kong.adminUrl}/event-hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'crud', event: 'developers', handler: 'webhook', config: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` } }),
    });
    const hookId = ((await hook.json()) as { id: string }).id;
    try {
      const as = await loggedIn('before@example.com');
      await register({ email: 'someone@example.com', password: 'pw-123456' }, { full_name: 'Someone' });
      expect((await as('PATCH', '/developer/email', { email: 'someone@example.com' })).status).toBe(409);
      expect((await as('PATCH', '/developer/email', { email: 'not-an-email' })).status).toBe(400);
      await kong.settle();
      hits.length = 0;
      const changed = await as('PATCH', '/developer/email', { email: 'after@example.com' });
      expect([changed.status, ((await changed.json()) as { email: string }).email]).toEqual([200, 'after@example.com']);
      const developer = kong.state.getDeveloper('default', 'after@example.com');
      expect(kong.state.requireWs('default').consumers.get(developer?.consumer?.id ?? '')?.username).toBe('after@example.com');
      await kong.settle();
      const payloads = hits.map((h) => JSON.parse(h.body) as { operation: string; entity: { email: string }; old_entity: { email: string } });
      expect(payloads.map((p) => [p.operation, p.old_entity.email, p.entity.email])).toEqual([['update', 'before@example.com', 'after@example.com']]);
      // The session follows the developer, not the email.
      expect((await as('GET', '/developer')).status).toBe(200);
    } finally {
      await fetch(`${kong.adminUrl}/event-hooks/${hookId}`, { method: 'DELETE' });
      await kong.settle();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('PUT /developer/meta replaces the meta (the GUI), PATCH merges it (the spec); both check the workspace fields', async () => {
    const as = await loggedIn('meta@example.com');
    expect(await (await as('PUT', '/developer/meta', {})).json()).toEqual({ message: 'meta required' });
    const put = await as('PUT', '/developer/meta', { meta: JSON.stringify({ full_name: 'Meta Person', plan: 'growth' }) });
    expect([put.status, await put.text()]).toEqual([200, '']);
    expect(JSON.parse(kong.state.getDeveloper('default', 'meta@example.com')?.meta ?? '')).toEqual({ full_name: 'Meta Person', plan: 'growth' });
    const patched = await as('PATCH', '/developer/meta', { meta: JSON.stringify({ plan: 'starter' }) });
    expect(patched.status).toBe(200);
    expect(JSON.parse(kong.state.getDeveloper('default', 'meta@example.com')?.meta ?? '')).toEqual({ full_name: 'Meta Person', plan: 'starter' });
    expect(((await (await as('PUT', '/developer/meta', { meta: JSON.stringify({ plan: 'growth' }) })).json()) as { fields: unknown }).fields).toEqual({ meta: { full_name: 'required field missing' } });
    expect((await as('PUT', '/developer/meta', { meta: JSON.stringify({ full_name: 'X', custom_id: 'mine' }) })).status).toBe(400);
  });

  it('PATCH /developer/password needs the old password; the new one logs in', async () => {
    const as = await loggedIn('pw@example.com');
    expect((await as('PATCH', '/developer/password', {})).status).toBe(400);
    expect((await as('PATCH', '/developer/password', { old_password: 'wrong', password: 'new-password-2' })).status).toBe(400);
    expect((await as('PATCH', '/developer/password', { old_password: 'old-password-1', password: 'new-password-2' })).status).toBe(204);
    expect((await login('pw@example.com', 'old-password-1')).status).toBe(401);
    expect((await login('pw@example.com', 'new-password-2')).status).toBe(200);
  });

  it('DELETE /credentials/key-auth/{id} removes only the developer’s own key', async () => {
    const as = await loggedIn('keys@example.com');
    const key = (await (await as('POST', '/credentials/key-auth', {})).json()) as { id: string };
    const other = kong.state.addDeveloper('default', { email: 'other-keys@example.com', key: 'other-key' });
    const otherKey = kong.state.keysOf('default', other.consumer?.id ?? '')[0];
    expect((await as('DELETE', `/credentials/key-auth/${otherKey?.id}`)).status).toBe(404);
    expect((await as('DELETE', `/credentials/key-auth/${key.id}`)).status).toBe(204);
    expect(kong.state.keysOf('default', kong.state.getDeveloper('default', 'keys@example.com')?.consumer?.id ?? '')).toEqual([]);
  });
});
