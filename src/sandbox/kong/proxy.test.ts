import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKongEmulator, type RunningKongEmulator } from './kong-emulator.ts';

/** A tiny Moesif collector stand-in that records what it receives. */
async function startCollector(answer = 201): Promise<{ url: string; received: { path: string; headers: IncomingHttpHeaders; body: unknown }[]; close(): Promise<void> }> {
  const received: { path: string; headers: IncomingHttpHeaders; body: unknown }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(body) });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('proxy /test-service with key-auth', () => {
  let kong: RunningKongEmulator;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let key: string;
  let consumerId: string;

  beforeAll(async () => {
    collector = await startCollector();
    kong = await startKongEmulator({ moesifUrl: collector.url, moesifApplicationId: 'app-id-123', propagationMs: 0 });
    const developer = kong.state.addDeveloper('default', { email: 'caller@example.com', meta: { full_name: 'Caller' } });
    consumerId = developer.consumer?.id ?? '';
    key = kong.state.addKey('default', consumerId).key;
  });
  afterAll(async () => {
    await kong.close();
    await collector.close();
  });

  it('answers 401 "No API key found in request" without a key', async () => {
    const response = await fetch(`${kong.proxyUrl}/test-service`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: 'No API key found in request' });
    expect(response.headers.get('www-authenticate')).toMatch(/^Key realm=/);
  });

  it('answers 401 "Invalid authentication credentials" for an unknown key', async () => {
    const response = await fetch(`${kong.proxyUrl}/test-service`, { headers: { apikey: 'nope' } });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: 'Invalid authentication credentials' });
  });

  it('passes a good key in the header or the query and echoes the consumer headers (no custom id)', async () => {
    const viaHeader = await fetch(`${kong.proxyUrl}/test-service/anything?x=1`, { headers: { apikey: key } });
    expect(viaHeader.status).toBe(200);
    const echoed = (await viaHeader.json()) as { path: string; query: Record<string, string>; headers: Record<string, string> };
    expect(echoed.path).toBe('/anything');
    expect(echoed.query).toEqual({ x: '1' });
    expect(echoed.headers['x-consumer-id']).toBe(consumerId);
    expect(echoed.headers['x-consumer-username']).toBe('caller@example.com');
    expect(echoed.headers).not.toHaveProperty('x-consumer-custom-id');

    const viaQuery = await fetch(`${kong.proxyUrl}/test-service?apikey=${encodeURIComponent(key)}`);
    expect(viaQuery.status).toBe(200);
  });

  it('reports each proxied call to Moesif with user_id = consumer username', async () => {
    await kong.settle(); // earlier tests' posts
    collector.received.length = 0;
    await fetch(`${kong.proxyUrl}/test-service/metered`, { headers: { apikey: key } });
    await fetch(`${kong.proxyUrl}/test-service`); // rejected: not reported
    await kong.settle();
    expect(collector.received).toHaveLength(1);
    const [post] = collector.received as [(typeof collector.received)[0]];
    expect(post.path).toBe('/v1/events/batch');
    expect(post.headers['x-moesif-application-id']).toBe('app-id-123');
    const [event] = post.body as [{ user_id: string; request: { uri: string; verb: string; headers: Record<string, string> }; response: { status: number } }];
    expect(event.user_id).toBe('caller@example.com');
    expect(event.request.uri).toContain('/test-service/metered');
    expect(event.request.headers).not.toHaveProperty('apikey');
    expect(event.response.status).toBe(200);
  });

  it('enforces a consumer-scoped request-termination after key-auth, touching no other consumer', async () => {
    kong.state.patchWorkspaceConfig('default', { portal: true });
    const blocked = kong.state.addDeveloper('default', { email: 'blocked@example.com', key: 'k-blocked' });
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(kong.adminUrl + path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json().catch(() => undefined)) as { id: string } }));
    const plugin = await admin('POST', `/default/developers/${blocked.id}/plugins`, { name: 'request-termination', config: { status_code: 402, message: 'Payment required' } });
    expect(plugin.status).toBe(201);

    await kong.settle();
    collector.received.length = 0;
    const refused = await fetch(`${kong.proxyUrl}/test-service`, { headers: { apikey: 'k-blocked' } });
    expect(refused.status).toBe(402);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await refused.json()).toEqual({ message: 'Payment required' });
    expect((await fetch(`${kong.proxyUrl}/test-service`, { headers: { apikey: key } })).status).toBe(200);
    // Still identified first: no key is a 401, not the termination.
    expect((await fetch(`${kong.proxyUrl}/test-service`)).status).toBe(401);
    await kong.settle();
    const statuses = collector.received.map((post) => (post.body as [{ user_id: string; response: { status: number } }])[0]).map((e) => [e.user_id, e.response.status]);
    expect(statuses).toEqual([
      ['blocked@example.com', 402],
      ['caller@example.com', 200],
    ]);

    await admin('PATCH', `/default/developers/${blocked.id}/plugins/${plugin.body.id}`, { config: { message: null, body: '<p>pay</p>', content_type: 'text/html' } });
    const html = await fetch(`${kong.proxyUrl}/test-service`, { headers: { apikey: 'k-blocked' } });
    expect([html.status, html.headers.get('content-type'), await html.text()]).toEqual([402, 'text/html', '<p>pay</p>']);

    await admin('PATCH', `/default/developers/${blocked.id}/plugins/${plugin.body.id}`, { enabled: false });
    expect((await fetch(`${kong.proxyUrl}/test-service`, { headers: { apikey: 'k-blocked' } })).status).toBe(200);
    await admin('DELETE', `/default/developers/${blocked.id}/plugins/${plugin.body.id}`);
  });

  it('names the Moesif user like the plugin: user_id_header, then custom id, then username', async () => {
    const custom = kong.state.addDeveloper('default', { email: 'custom@example.com', key: 'k-custom', custom_id: 'crm-7' });
    const moesifPlugin = [...kong.state.requireWs('default').plugins.values()].find((p) => p.name === 'moesif');
    if (!moesifPlugin) throw new Error('no moesif plugin');
    await kong.settle();
    collector.received.length = 0;
    const echoed = (await (await fetch(`${kong.proxyUrl}/test-service`, { headers: { apikey: 'k-custom' } })).json()) as { headers: Record<string, string> };
    expect(echoed.headers['x-consumer-custom-id']).toBe('crm-7');
    // Changed as an Admin API write would: the proxy sees plugins through its propagated view.
    kong.state.putPlugin('default', { ...moesifPlugin, config: { ...moesifPlugin.config, user_id_header: 'x-user' } });
    try {
      await fetch(`${kong.proxyUrl}/test-service`, { headers: { apikey: key, 'x-user': 'someone-else' } });
    } finally {
      kong.state.putPlugin('default', { ...moesifPlugin, config: { ...moesifPlugin.config, user_id_header: null } });
    }
    await kong.settle();
    expect(collector.received.map((post) => (post.body as [{ user_id: string }])[0].user_id)).toEqual(['crm-7', 'someone-else']);
    kong.state.deleteDeveloper('default', custom.id);
  });

  it('answers 404 like Kong for paths no route matches', async () => {
    const response = await fetch(`${kong.proxyUrl}/other`, { headers: { apikey: key } });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'no Route matched with those values' });
  });
});

describe('proxy when Moesif is down', () => {
  it('still answers 200 and records the failed delivery', async () => {
    const collector = await startCollector();
    await collector.close(); // its port is now closed: every post fails
    const kong = await startKongEmulator({ moesifUrl: collector.url, moesifApplicationId: 'app', propagationMs: 0 });
    try {
      const developer = kong.state.addDeveloper('default', { email: 'down@example.com', key: 'k-down' });
      expect(developer.email).toBe('down@example.com');
      const response = await fetch(`${kong.proxyUrl}/test-service`, { headers: { apikey: 'k-down' } });
      expect(response.status).toBe(200);
      await kong.settle();
      expect(kong.state.moesifDeliveries).toHaveLength(1);
      expect(kong.state.moesifDeliveries[0]?.status).toBeUndefined();
      expect(kong.state.moesifDeliveries[0]?.error).toBeTruthy();
    } finally {
      await kong.close();
    }
  });
});
