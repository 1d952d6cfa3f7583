import { afterEach, describe, expect, it } from 'vitest';
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { createKongEmulator } from '../../sandbox/kong/kong-emulator.ts';
import { listen, type RunningService } from '../../sandbox/running-service.ts';
import { ensureEventHook } from './event-hook.ts';

// The client remembers which event-hook route form the gateway serves; ensureEventHook drives it.
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
