/**
 * The Moesif Collector client over the wire: what it sends, what it retries, and that it never
 * follows a redirect (the X-Moesif-Application-Id header would go to wherever Location points,
 * issue 17.8). msw answers at the network boundary, so the client's own fetch builds the request.
 */
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMoesifClient } from './moesif-client.ts';

const MOESIF = 'https://api.moesif.test';
const ELSEWHERE = 'https://elsewhere.test';
const APP_ID = 'the-moesif-application-id';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  redirect: RequestRedirect;
  body: unknown;
}

async function sent(request: Request): Promise<Sent> {
  const text = await request.text();
  return { method: request.method, path: new URL(request.url).pathname, headers: Object.fromEntries(request.headers), redirect: request.redirect, body: text ? JSON.parse(text) : undefined };
}

const client = () => createMoesifClient({ apiBase: `${MOESIF}/`, applicationId: APP_ID, baseDelayMs: 1 });

describe('moesif client requests', () => {
  it('posts a user as JSON with the application id header, never following redirects', async () => {
    const requests: Sent[] = [];
    server.use(http.post(`${MOESIF}/v1/users`, async ({ request }) => (requests.push(await sent(request)), new HttpResponse(null, { status: 201 }))));
    const user = { user_id: 'a@example.com', company_id: 'sub_1', metadata: { plan: 'starter' } };
    await client().upsertUser(user);
    expect(requests).toEqual([
      {
        method: 'POST',
        path: '/v1/users',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-moesif-application-id': APP_ID },
        redirect: 'manual',
        body: user,
      },
    ]);
  });

  it('sends batches as arrays to the /batch routes, skips empty ones, and checks with an empty company batch', async () => {
    const requests: Sent[] = [];
    server.use(http.post(`${MOESIF}/v1/*`, async ({ request }) => (requests.push(await sent(request)), new HttpResponse(null, { status: 201 }))));
    const moesif = client();
    const company = { company_id: 'sub_1', metadata: { plan: 'growth' } };
    await moesif.upsertCompanies?.([company]);
    await moesif.upsertUsers?.([]);
    expect(await moesif.check(1000)).toBe(201);
    expect(requests.map(({ method, path, body }) => ({ method, path, body }))).toEqual([
      { method: 'POST', path: '/v1/companies/batch', body: [company] },
      { method: 'POST', path: '/v1/companies/batch', body: [] },
    ]);
  });

  it('retries 503 and network errors up to its attempts, and not a 401, which names MOESIF_APPLICATION_ID', async () => {
    const answers = [HttpResponse.error(), new HttpResponse(null, { status: 503 }), new HttpResponse(null, { status: 201 })];
    let calls = 0;
    server.use(http.post(`${MOESIF}/v1/companies`, () => (calls++, answers.shift())));
    await client().upsertCompany({ company_id: 'sub_1', metadata: {} });
    expect(calls).toBe(3);

    let refused = 0;
    server.use(http.post(`${MOESIF}/v1/companies`, () => (refused++, new HttpResponse(null, { status: 401 }))));
    await expect(client().upsertCompany({ company_id: 'sub_1', metadata: {} })).rejects.toMatchObject({ code: 'moesif_unauthorized', retriable: false, hint: expect.stringContaining('MOESIF_APPLICATION_ID') });
    expect(refused).toBe(1);
  });
});

describe('moesif client redirects', () => {
  it('refuses a redirect with moesif_redirect naming MOESIF_API_BASE, without retrying or sending the id elsewhere', async () => {
    const reached: string[] = [];
    let asked = 0;
    server.use(
      http.post(`${ELSEWHERE}/*`, ({ request }) => {
        reached.push(request.headers.get('x-moesif-application-id') ?? '');
        return new HttpResponse(null, { status: 201 });
      }),
      http.post(`${MOESIF}/*`, ({ request }) => {
        asked++;
        return new HttpResponse(null, { status: 308, headers: { location: `${ELSEWHERE}${new URL(request.url).pathname}` } });
      }),
    );
    const moesif = client();
    await expect(moesif.upsertUser({ user_id: 'a@example.com', company_id: 'sub_1', metadata: {} })).rejects.toMatchObject({
      code: 'moesif_redirect',
      retriable: false,
      hint: expect.stringContaining('MOESIF_API_BASE'),
    });
    await expect(moesif.check(1000)).rejects.toMatchObject({ code: 'moesif_redirect' });
    expect(asked).toBe(2);
    expect(reached).toEqual([]);
  });
});
