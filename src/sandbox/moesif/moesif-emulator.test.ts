/** The Moesif emulator over HTTP: auth, create-or-update with recursive merge, batches, events, down mode, faults. */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConnectionDroppedError } from '../faults/connection-faults.ts';
import { createMoesifEmulator, DEFAULT_MOESIF_APPLICATION_ID, deepMerge, startMoesifEmulator, type RunningMoesifEmulator } from './moesif-emulator.ts';

let moesif: RunningMoesifEmulator;

beforeAll(async () => {
  moesif = await startMoesifEmulator();
});
afterAll(() => moesif.close());
beforeEach(() => moesif.reset());

function send(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${moesif.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-moesif-application-id': DEFAULT_MOESIF_APPLICATION_ID, ...headers },
    body: typeof body === 'string' ? body : body instanceof Uint8Array ? new Blob([new Uint8Array(body)]) : JSON.stringify(body),
  });
}

async function read<T>(path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${moesif.url}${path}`);
  return { status: response.status, body: (await response.json()) as T };
}

const event = (userId: string, uri = 'http://127.0.0.1:8000/test-service') => ({
  request: { time: new Date(0).toISOString(), uri, verb: 'GET', headers: {} },
  response: { time: new Date(1).toISOString(), status: 200 },
  user_id: userId,
});

describe('authentication', () => {
  it('answers 401 for a missing or unknown application id and writes nothing', async () => {
    expect((await send('/v1/users', { user_id: 'a@example.com' }, { 'x-moesif-application-id': 'wrong' })).status).toBe(401);
    const missing = await fetch(`${moesif.url}/v1/users`, { method: 'POST', body: JSON.stringify({ user_id: 'a@example.com' }) });
    expect(missing.status).toBe(401);
    expect(moesif.store.users.size).toBe(0);
    moesif.configure({ applicationIds: ['other-app'] });
    expect((await send('/v1/users', { user_id: 'a@example.com' }, { 'x-moesif-application-id': 'other-app' })).status).toBe(201);
  });
});

describe('users and companies', () => {
  it('creates (201), then updates (200) with a recursive metadata merge', async () => {
    const created = await send('/v1/users', { user_id: 'dev@example.com', metadata: { email: 'dev@example.com', plan: { id: 'basic', tags: ['a', 'b'] } } });
    expect(created.status).toBe(201);
    const updated = await send('/v1/users', { user_id: 'dev@example.com', company_id: 'sub_123', metadata: { name: 'Dev', plan: { tags: ['c'], since: 1 } } });
    expect(updated.status).toBe(200);
    const { body } = await read<Record<string, unknown>>('/_emulator/users/dev@example.com');
    expect(body).toEqual({
      user_id: 'dev@example.com',
      company_id: 'sub_123',
      metadata: { email: 'dev@example.com', name: 'Dev', plan: { id: 'basic', tags: ['c'], since: 1 } },
    });
    expect((await read('/_emulator/users/nobody@example.com')).status).toBe(404);
  });

  it('requires user_id and company_id, and valid JSON', async () => {
    const noUser = await send('/v1/users', { company_id: 'sub_1' });
    expect(noUser.status).toBe(400);
    expect(JSON.stringify(await noUser.json())).toMatch(/user_id/);
    expect((await send('/v1/companies', { metadata: {} })).status).toBe(400);
    expect((await send('/v1/users', '{not json')).status).toBe(400);
    expect(moesif.store.users.size + moesif.store.companies.size).toBe(0);
  });

  it('accepts batches (all or nothing) and gzip bodies', async () => {
    expect((await send('/v1/users/batch', [{ user_id: 'a@example.com' }, { user_id: 'b@example.com', metadata: { x: 1 } }])).status).toBe(201);
    expect((await send('/v1/users/batch', [{ user_id: 'c@example.com' }, { metadata: {} }])).status).toBe(400);
    expect((await send('/v1/users/batch', { user_id: 'not-an-array' })).status).toBe(400);
    expect([...moesif.store.users.keys()].sort()).toEqual(['a@example.com', 'b@example.com']);

    expect((await send('/v1/companies/batch', [{ company_id: 'sub_1' }, { company_id: 'sub_2' }])).status).toBe(201);
    const gz = await send('/v1/companies', gzipSync(JSON.stringify({ company_id: 'sub_1', metadata: { plan: 'pro' } })), { 'content-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    const { body } = await read<{ company_id: string; metadata?: object }[]>('/_emulator/companies');
    expect(body).toEqual([{ company_id: 'sub_1', metadata: { plan: 'pro' } }, { company_id: 'sub_2' }]);
  });
});

describe('events', () => {
  it('stores single and batched events with request, response and ids, filterable by user_id', async () => {
    expect((await send('/v1/events', { ...event('a@example.com'), company_id: 'sub_1' })).status).toBe(201);
    expect((await send('/v1/events/batch', [event('b@example.com'), event('a@example.com', '/other')])).status).toBe(201);
    expect((await send('/v1/events', { user_id: 'x' })).status).toBe(400);
    const { body } = await read<{ user_id: string; company_id: string | null; request: { uri: string }; response: { status: number } }[]>('/_emulator/events?user_id=a@example.com');
    expect(body.map((e) => e.request.uri)).toEqual(['http://127.0.0.1:8000/test-service', '/other']);
    expect(body[0]).toMatchObject({ company_id: 'sub_1', response: { status: 200 } });
    expect((await read<unknown[]>('/_emulator/events')).body).toHaveLength(3);
  });
});

describe('down mode, faults and counters', () => {
  it("answers 503 or drops connections while down, and recovers", async () => {
    moesif.configure({ down: '503' });
    expect((await send('/v1/users', { user_id: 'd@example.com' })).status).toBe(503);
    moesif.configure({ down: 'drop' });
    await expect(send('/v1/users', { user_id: 'd@example.com' })).rejects.toThrow();
    moesif.configure({ down: false });
    expect((await send('/v1/users', { user_id: 'd@example.com' })).status).toBe(201);
    expect(moesif.store.users.size).toBe(1);
    expect(moesif.counters.snapshot().statuses).toMatchObject({ '503': 1, drop: 1, '201': 1 });
  });

  it("injects targeted faults: 'before' writes nothing, 'after' writes then fails", async () => {
    moesif.faults.add({ path: '/v1/users', kind: '500' });
    expect((await send('/v1/users', { user_id: 'f@example.com' })).status).toBe(500);
    expect(moesif.store.users.size).toBe(0);
    moesif.faults.add({ path: '/v1/companies', kind: '500', when: 'after' });
    expect((await send('/v1/companies', { company_id: 'sub_9' })).status).toBe(500);
    expect(moesif.store.companies.has('sub_9')).toBe(true);

    const rule = await fetch(`${moesif.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ path: '/v1/users', kind: 'timeout', userId: 'slow@example.com' }) });
    expect(rule.status).toBe(201);
    expect((await send('/v1/users', { user_id: 'fast@example.com' })).status).toBe(201);
    const slow = fetch(`${moesif.url}/v1/users`, {
      method: 'POST',
      headers: { 'x-moesif-application-id': DEFAULT_MOESIF_APPLICATION_ID },
      body: JSON.stringify({ user_id: 'slow@example.com' }),
      signal: AbortSignal.timeout(300),
    });
    await expect(slow).rejects.toThrow();
    expect(moesif.store.users.has('slow@example.com')).toBe(false);
    expect(moesif.counters.snapshot().faults).toEqual({ '500': 2, timeout: 1 });
  });

  it('repeats random faults for the same seed (in-process fetch rejects dropped connections)', async () => {
    const run = async () => {
      const local = createMoesifEmulator({ faultRate: 0.4, faultSeed: 11, faultKinds: ['503', 'drop'] });
      const results: string[] = [];
      for (let i = 0; i < 25; i += 1) {
        const request = new Request('http://moesif.local/v1/users', {
          method: 'POST',
          headers: { 'x-moesif-application-id': DEFAULT_MOESIF_APPLICATION_ID },
          body: JSON.stringify({ user_id: `u${i}` }),
        });
        results.push(await Promise.resolve(local.fetch(request)).then((r) => String(r.status), (e: unknown) => (e instanceof ConnectionDroppedError ? 'drop' : 'error')));
      }
      return results;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['201', '503', 'drop']));
  });

  it('counts requests and resets', async () => {
    await send('/v1/users', { user_id: 'c@example.com' });
    await send('/v1/events', event('c@example.com'));
    expect(moesif.counters.snapshot().requests).toEqual({ 'POST /v1/users': 1, 'POST /v1/events': 1 });
    expect((await fetch(`${moesif.url}/_emulator/reset`, { method: 'POST' })).status).toBe(204);
    expect(moesif.counters.total).toBe(0);
    expect(moesif.store.users.size).toBe(0);
  });
});

describe('deepMerge', () => {
  it('merges objects recursively and replaces scalars, arrays and null', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 'x', e: { f: 1 } }, { a: { c: [3], g: null }, d: 'y', e: null })).toEqual({ a: { b: 1, c: [3], g: null }, d: 'y', e: null });
  });
});
