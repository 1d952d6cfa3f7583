/**
 * The Moesif Collector client never follows a redirect: the X-Moesif-Application-Id header would
 * go to wherever Location points (issue 17.8).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type RunningService } from '../sandbox/running-service.ts';
import { createMoesifClient } from './moesif-client.ts';

const running: RunningService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

describe('moesif client redirects', () => {
  it('refuses a redirect with moesif_redirect naming MOESIF_API_BASE, without retrying or sending the id elsewhere', async () => {
    const reached: string[] = [];
    const elsewhere = await listen('elsewhere', (request: Request) => {
      reached.push(request.headers.get('x-moesif-application-id') ?? '');
      return new Response(null, { status: 201 });
    });
    let asked = 0;
    const moesif = await listen('redirecting moesif', (request: Request) => {
      asked++;
      return new Response(null, { status: 308, headers: { location: `${elsewhere.url}${new URL(request.url).pathname}` } });
    });
    running.push(elsewhere, moesif);
    const client = createMoesifClient({ apiBase: moesif.url, applicationId: 'the-moesif-application-id', baseDelayMs: 1 });
    await expect(client.upsertUser({ user_id: 'a@example.com', company_id: 'sub_1', metadata: {} })).rejects.toMatchObject({
      code: 'moesif_redirect',
      retriable: false,
      hint: expect.stringContaining('MOESIF_API_BASE'),
    });
    await expect(client.check(1000)).rejects.toMatchObject({ code: 'moesif_redirect' });
    expect(asked).toBe(2);
    expect(reached).toEqual([]);
  });
});
