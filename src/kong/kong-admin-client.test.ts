import { afterEach, describe, expect, it } from 'vitest';
import { createKongEmulator } from '../sandbox/kong/kong-emulator.ts';
import { listen, type RunningService } from '../sandbox/running-service.ts';
import { KongAdminClient } from './kong-admin-client.ts';
import { ensureEventHook } from './sync/event-hook.ts';

const running: RunningService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

/** The emulator's Admin API with one event-hook route form answering 404, as some gateways do. */
async function gatewayServing(form: 'global only' | 'workspace only') {
  const apps = createKongEmulator({ workspaces: ['team-a'] });
  const seen: string[] = [];
  const server = await listen('kong admin', (request: Request) => {
    const path = new URL(request.url).pathname;
    if (path.includes('event-hooks')) seen.push(`${request.method} ${path}`);
    const global = path.startsWith('/event-hooks');
    if ((form === 'global only' && !global && path.includes('/event-hooks')) || (form === 'workspace only' && global)) return Response.json({ message: 'Not Found' }, { status: 404 });
    return apps.admin.fetch(request);
  });
  running.push(server);
  return { apps, url: server.url, seen };
}

describe('event hooks on either route form', () => {
  it('falls back on /event-hooks when /{ws}/event-hooks answers 404, and remembers it', async () => {
    const gateway = await gatewayServing('global only');
    const client = new KongAdminClient({ adminUrl: gateway.url, workspace: 'team-a' });
    const target = { url: 'http://127.0.0.1:1/kong/events', secret: 'a-long-enough-secret' };
    expect((await ensureEventHook(client, target, false)).action).toBe('created');
    expect((await ensureEventHook(client, target, false)).action).toBe('unchanged');
    expect(gateway.apps.state.eventHooks.size).toBe(1);
    expect(gateway.seen).toEqual(['GET /team-a/event-hooks', 'GET /event-hooks', 'POST /event-hooks', 'GET /event-hooks']);
  });

  it('uses /{ws}/event-hooks first when the gateway serves it', async () => {
    const gateway = await gatewayServing('workspace only');
    const client = new KongAdminClient({ adminUrl: gateway.url, workspace: 'team-a' });
    await ensureEventHook(client, { url: 'http://127.0.0.1:1/kong/events', secret: 'a-long-enough-secret' }, false);
    expect(gateway.seen).toEqual(['GET /team-a/event-hooks', 'POST /team-a/event-hooks']);
  });
});

describe('redirects (issue 17.8)', () => {
  /** A Kong Admin URL that redirects to another origin, and that origin recording what reached it. */
  async function redirectingKong(status: number, pathPrefix = '') {
    const reached: Array<Record<string, string>> = [];
    const elsewhere = await listen('elsewhere', (request: Request) => {
      reached.push(Object.fromEntries(request.headers.entries()));
      return Response.json({ data: [], next: null });
    });
    running.push(elsewhere);
    const kong = await listen('redirecting kong', (request: Request) => {
      const url = new URL(request.url);
      return new Response(null, { status, headers: { location: `${elsewhere.url}${url.pathname}${url.search}&leak=1` } });
    });
    running.push(kong);
    return { adminUrl: `${kong.url}${pathPrefix}`, reached };
  }

  it.each([301, 302, 307, 308])('a %i is refused with kong_redirect naming KONG_ADMIN_URL, and the admin token goes nowhere else', async (status) => {
    const { adminUrl, reached } = await redirectingKong(status);
    for (const insecure of [false, true]) {
      const client = new KongAdminClient({ adminUrl, workspace: 'default', token: 'admin-token-that-stays-home', insecure });
      const error = await client.listDevelopersPage().then(() => undefined, (failure: unknown) => failure);
      expect(error).toMatchObject({ code: 'kong_redirect', status, hint: expect.stringContaining('KONG_ADMIN_URL') });
      expect((error as Error).message).toMatch(/redirects/);
      // Only where it points, never its query (it may carry secrets).
      expect((error as Error).message).not.toContain('leak=1');
    }
    expect(reached).toEqual([]);
  });

  it('a Konnect bearer token is not sent on either', async () => {
    const { adminUrl, reached } = await redirectingKong(307, '/v2/control-planes/cp-1/core-entities');
    const client = new KongAdminClient({ adminUrl, workspace: 'default', token: 'kpat_secret_token' });
    await expect(client.request('GET', '/consumers')).rejects.toMatchObject({ code: 'kong_redirect' });
    expect(reached).toEqual([]);
  });
});
