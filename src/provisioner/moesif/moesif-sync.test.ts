import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMoesifClient, type MoesifClient, type MoesifCompany, type MoesifUser } from './moesif-client.ts';
import { createMoesifSync, type MoesifRecord, type MoesifSync } from './moesif-sync.ts';
import { createMemoryLogger } from '../../shared/provision-log.ts';

const MOESIF = 'https://api.moesif.test';

// The Collector answered at the network boundary: the sync drives the real client, whose requests msw sees as sent.
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

type Kind = 'company' | 'user';
/** Decides a request once it has arrived: accept it, or answer 503. */
type Gate = (kind: Kind, items: Array<MoesifCompany | MoesifUser>) => Promise<'accept' | 'fail'>;

/**
 * A Collector that answers 503 while `down` is true and records what it accepted. `calls` counts
 * HTTP requests (a batch is one), `batches` the size of each /batch request.
 */
function fakeCollector(gate?: Gate) {
  const state = { down: false, companies: [] as MoesifCompany[], users: [] as MoesifUser[], calls: 0, headers: [] as string[] };
  const batches: Array<{ kind: string; size: number }> = [];
  server.use(
    http.post(`${MOESIF}/v1/*`, async ({ request }) => {
      const path = new URL(request.url).pathname;
      const kind: Kind = path.startsWith('/v1/companies') ? 'company' : 'user';
      const body = (await request.json()) as MoesifCompany | MoesifUser | Array<MoesifCompany | MoesifUser>;
      state.headers.push(`${request.headers.get('content-type')} ${request.headers.get('x-moesif-application-id')}`);
      const items = Array.isArray(body) ? body : [body];
      if (path.endsWith('/batch')) batches.push({ kind: kind === 'company' ? 'companies' : 'users', size: items.length });
      state.calls++;
      const verdict = gate ? await gate(kind, items) : 'accept';
      if (state.down || verdict === 'fail') return new HttpResponse(null, { status: 503 });
      if (kind === 'company') state.companies.push(...(items as MoesifCompany[]));
      else state.users.push(...(items as MoesifUser[]));
      return new HttpResponse(null, { status: 201 });
    }),
  );
  // One attempt per call: the sync's own queue does the retrying under test.
  const client: MoesifClient = createMoesifClient({ apiBase: MOESIF, applicationId: 'app-id', attempts: 1 });
  return { state, client, batches };
}

const record = (id: string, plan = 'starter'): MoesifRecord => ({
  developerId: id,
  company: { company_id: `sub_${id}`, metadata: { plan } },
  user: { user_id: `${id}@example.com`, company_id: `sub_${id}`, metadata: { plan } },
});

/** An AWS-shaped record: the Moesif user is the API key id; a replacement key is a second user in the same company. */
const keyRecord = (id: string, keyId: string, plan = 'starter'): MoesifRecord => ({
  developerId: id,
  company: { company_id: `sub_${id}`, metadata: { plan } },
  user: { user_id: keyId, company_id: `sub_${id}`, metadata: { plan, email: `${id}@example.com` } },
});

describe('createMoesifSync', () => {
  let sync: MoesifSync | undefined;
  afterEach(() => {
    sync?.close();
    vi.useRealTimers();
  });

  it('sends the company and the user at once, and answers synced when it waits for them', async () => {
    const started: string[] = [];
    const release: Array<() => void> = [];
    const { state, client } = fakeCollector(async (kind) => {
      started.push(kind);
      await new Promise<void>((resolve) => release.push(resolve));
      return 'accept';
    });
    sync = createMoesifSync(client, { waitMs: Infinity });
    const answer = sync.sync(record('a'));
    await vi.waitFor(() => expect(started).toHaveLength(2));
    // Both requests are out before either has been answered.
    expect(started.sort()).toEqual(['company', 'user']);
    expect(sync.isPending('a')).toBe(true);
    release.forEach((resolve) => resolve());
    await expect(answer).resolves.toBe('synced');
    expect(state.companies).toEqual([record('a').company]);
    expect(state.users).toEqual([record('a').user]);
    expect(state.headers).toEqual(['application/json app-id', 'application/json app-id']);
    expect(sync.isPending('a')).toBe(false);
  });

  it('by default answers pending at once, delivers in the background, then answers synced without a call', async () => {
    const { state, client } = fakeCollector();
    sync = createMoesifSync(client);
    await expect(sync.sync(record('a'))).resolves.toBe('pending');
    expect(sync.pendingCount).toBe(1);
    await sync.flush();
    expect(sync.pendingCount).toBe(0);
    expect(state.users.map((u) => u.user_id)).toEqual(['a@example.com']);
    const calls = state.calls;
    await expect(sync.sync(record('a'))).resolves.toBe('synced');
    expect(state.calls).toBe(calls);
  });

  it('a per-call wait overrides the default', async () => {
    const { client } = fakeCollector();
    sync = createMoesifSync(client);
    await expect(sync.sync(record('a'), { waitMs: Infinity })).resolves.toBe('synced');
  });

  it('a sync of the record being delivered joins that delivery instead of sending again', async () => {
    const { state, client } = fakeCollector();
    sync = createMoesifSync(client);
    await sync.sync(record('a'));
    await expect(sync.sync(record('a'), { waitMs: Infinity })).resolves.toBe('synced');
    expect(state.calls).toBe(2);
  });

  it('does not resend an identical record, but sends a changed one', async () => {
    const { state, client } = fakeCollector();
    sync = createMoesifSync(client, { waitMs: Infinity });
    await sync.sync(record('a'));
    await sync.sync(record('a'));
    expect(state.calls).toBe(2);
    await sync.sync(record('a', 'growth'));
    expect(state.calls).toBe(4);
  });

  it('an older record failing after a newer one was delivered is not queued over it', async () => {
    let failFirst: (() => void) | undefined;
    const { state, client } = fakeCollector(async (kind, items) => {
      if (kind !== 'user' || (items[0] as MoesifUser).metadata.plan !== 'starter') return 'accept';
      await new Promise<void>((resolve) => (failFirst = resolve));
      return 'fail';
    });
    sync = createMoesifSync(client, { retryBaseMs: 60_000 });
    await sync.sync(record('a', 'starter'));
    await vi.waitFor(() => expect(failFirst).toBeDefined());
    await expect(sync.sync(record('a', 'growth'), { waitMs: Infinity })).resolves.toBe('synced');
    failFirst?.();
    await sync.flush();
    expect(sync.isPending('a')).toBe(false);
    expect(state.users.map((u) => u.metadata.plan)).toEqual(['growth']);
  });

  it('answers pending while Moesif is down, then syncs in the background when it is back', async () => {
    vi.useFakeTimers();
    const { state, client } = fakeCollector();
    const logger = createMemoryLogger();
    sync = createMoesifSync(client, { retryBaseMs: 100, retryMaxMs: 400, waitMs: Infinity, logger });
    state.down = true;
    await expect(sync.sync(record('a'))).resolves.toBe('pending');
    expect(sync.isPending('a')).toBe(true);
    await vi.advanceTimersByTimeAsync(1000); // still down: backoff keeps it queued
    expect(sync.isPending('a')).toBe(true);
    state.down = false;
    await vi.advanceTimersByTimeAsync(500);
    expect(sync.isPending('a')).toBe(false);
    expect(state.users.map((u) => u.user_id)).toEqual(['a@example.com']);
    expect(logger.entries.some((e) => e.event === 'moesif_synced' && e.developer_id === 'a')).toBe(true);
  });

  it('keeps the queue bounded, dropping the oldest developer', async () => {
    const { state, client } = fakeCollector();
    const logger = createMemoryLogger();
    sync = createMoesifSync(client, { maxQueue: 2, retryBaseMs: 60_000, waitMs: Infinity, logger });
    state.down = true;
    for (const id of ['a', 'b', 'c']) await sync.sync(record(id));
    expect(sync.pendingCount).toBe(2);
    expect(sync.isPending('a')).toBe(false);
    expect(logger.entries.find((e) => e.event === 'moesif_queue_overflow')?.developer_id).toBe('a');
    state.down = false;
    await sync.flush();
    expect(sync.pendingCount).toBe(0);
    expect(state.users.map((u) => u.user_id).sort()).toEqual(['b@example.com', 'c@example.com']);
  });

  it('records of one I/O turn go out as one company batch and one user batch, at most batchMax each', async () => {
    const { state, client, batches } = fakeCollector();
    sync = createMoesifSync(client, { batchMax: 2 });
    for (const id of ['a', 'b', 'c']) await expect(sync.sync(record(id))).resolves.toBe('pending');
    await sync.flush();
    expect(batches).toEqual([
      { kind: 'companies', size: 2 },
      { kind: 'users', size: 2 },
    ]);
    // The third record travelled alone: single routes.
    expect(state.calls).toBe(4);
    expect(state.users.map((u) => u.user_id).sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
    expect(sync.pendingCount).toBe(0);
    await expect(sync.sync(record('b'))).resolves.toBe('synced');
  });

  it('with a linger, records spread over time share a batch; a failed batch leaves each record pending, retried as a batch', async () => {
    vi.useFakeTimers();
    const { state, client, batches } = fakeCollector();
    sync = createMoesifSync(client, { batchLingerMs: 500, retryBaseMs: 60_000 });
    state.down = true;
    await sync.sync(record('a'));
    await vi.advanceTimersByTimeAsync(200);
    await sync.sync(record('b'));
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(400);
    expect(batches.map((b) => b.size)).toEqual([2, 2]);
    expect(sync.isPending('a') && sync.isPending('b')).toBe(true);
    state.down = false;
    await sync.flush();
    expect(batches.map((b) => b.size)).toEqual([2, 2, 2, 2]);
    expect(sync.pendingCount).toBe(0);
    expect(state.users.map((u) => u.user_id).sort()).toEqual(['a@example.com', 'b@example.com']);
  });

  it('a caller that waits is not held by the linger', async () => {
    const { client, batches } = fakeCollector();
    sync = createMoesifSync(client, { batchLingerMs: 60_000 });
    await sync.sync(record('a'));
    await expect(sync.sync(record('b'), { waitMs: Infinity })).resolves.toBe('synced');
    expect(batches.map((b) => b.size)).toEqual([2, 2]);
  });

  describe("a developer's Moesif users (an AWS key and its replacement) are delivered on their own", () => {
    it("a replacement key's record does not drop the old key's queued one: Moesif ends with both users in the company", async () => {
      const { state, client } = fakeCollector();
      sync = createMoesifSync(client, { retryBaseMs: 60_000, waitMs: Infinity });
      state.down = true;
      await expect(sync.sync(keyRecord('d', 'key-old'))).resolves.toBe('pending');
      await expect(sync.sync(keyRecord('d', 'key-new'))).resolves.toBe('pending');
      state.down = false;
      await sync.flush();
      expect(sync.isPending('d')).toBe(false);
      expect(state.users.map((u) => [u.user_id, u.company_id]).sort()).toEqual([
        ['key-new', 'sub_d'],
        ['key-old', 'sub_d'],
      ]);
      expect(new Set(state.companies.map((c) => c.company_id))).toEqual(new Set(['sub_d']));
      // Both are remembered as sent: a repeat of either answers at once, without a call.
      const calls = state.calls;
      await expect(sync.sync(keyRecord('d', 'key-old'), { waitMs: 0 })).resolves.toBe('synced');
      await expect(sync.sync(keyRecord('d', 'key-new'), { waitMs: 0 })).resolves.toBe('synced');
      expect(state.calls).toBe(calls);
    });

    it("the old key's record failing while the replacement's is in flight is still queued", async () => {
      const { state, client } = fakeCollector();
      sync = createMoesifSync(client, { retryBaseMs: 60_000 });
      state.down = true;
      // The same I/O turn: both travel in one failing batch.
      await sync.sync(keyRecord('d', 'key-old'));
      await sync.sync(keyRecord('d', 'key-new'));
      await sync.flush();
      expect(sync.isPending('d')).toBe(true);
      state.down = false;
      await sync.flush();
      expect(state.users.map((u) => u.user_id).sort()).toEqual(['key-new', 'key-old']);
      expect(sync.pendingCount).toBe(0);
    });

    it('a newer record of the same user supersedes the older one (never resent); the newer company reaches the other user too', async () => {
      const { state, client } = fakeCollector();
      sync = createMoesifSync(client, { retryBaseMs: 60_000, waitMs: Infinity });
      state.down = true;
      await sync.sync(keyRecord('d', 'key-old', 'starter'));
      await sync.sync(keyRecord('d', 'key-new', 'starter'));
      await sync.sync(keyRecord('d', 'key-new', 'growth'));
      state.down = false;
      await sync.flush();
      // key-new's starter record never reaches Moesif; key-old keeps its own record.
      expect(state.users.map((u) => `${u.user_id}:${String(u.metadata.plan)}`).sort()).toEqual(['key-new:growth', 'key-old:starter']);
      // The old key's late retry carries the newest company, not the one it was queued with.
      expect(state.companies.map((c) => c.metadata.plan)).toEqual(['growth', 'growth']);
      const calls = state.calls;
      await sync.flush();
      expect(state.calls).toBe(calls);
    });

    it('isPending(developer) holds while any of its users is pending; pendingCount counts developers', async () => {
      const { state, client } = fakeCollector();
      sync = createMoesifSync(client, { retryBaseMs: 60_000, waitMs: Infinity });
      state.down = true;
      await sync.sync(keyRecord('d', 'key-old'));
      await sync.sync(keyRecord('d', 'key-new'));
      await sync.sync(keyRecord('e', 'key-e'));
      expect(sync.pendingCount).toBe(2);
      state.down = false;
      // The replacement is delivered; the old key's record is still only queued.
      await expect(sync.sync(keyRecord('d', 'key-new'))).resolves.toBe('synced');
      expect(sync.isPending('d')).toBe(true);
      expect(sync.pendingCount).toBe(2);
      expect(state.users.map((u) => u.user_id)).toEqual(['key-new']);
      await sync.flush();
      expect(sync.isPending('d')).toBe(false);
      expect(sync.isPending('e')).toBe(false);
      expect(sync.pendingCount).toBe(0);
      expect(state.users.map((u) => u.user_id).sort()).toEqual(['key-e', 'key-new', 'key-old']);
    });
  });
});
