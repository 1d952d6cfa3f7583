import { afterEach, describe, expect, it } from 'vitest';
import { listen, type RunningService } from '../sandbox/running-service.ts';
import { KongAdminClient } from './kong-admin-client.ts';

const running: RunningService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
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
