import { afterEach, describe, expect, it, vi } from 'vitest';
import { MoesifError, type MoesifClient, type MoesifCompany, type MoesifUser } from './moesif-client.ts';
import { createMoesifSync, type MoesifRecord, type MoesifSync } from './moesif-sync.ts';
import { createMemoryLogger } from './provision-log.ts';

/** A Collector stand-in that fails while `down` is true and records what it accepted. */
function fakeCollector() {
  const state = { down: false, companies: [] as MoesifCompany[], users: [] as MoesifUser[], calls: 0 };
  const guard = () => {
    state.calls++;
    if (state.down) throw new MoesifError('Moesif answered 503', { status: 503, retriable: true });
  };
  const client: MoesifClient = {
    upsertCompany: async (company) => {
      guard();
      state.companies.push(company);
    },
    upsertUser: async (user) => {
      guard();
      state.users.push(user);
    },
    check: async () => 201,
  };
  return { state, client };
}

/** The same Collector with the /batch routes; `batches` records the size of each batch call. */
function batchingCollector() {
  const { state, client } = fakeCollector();
  const batches: Array<{ kind: string; size: number }> = [];
  const batching: MoesifClient = {
    ...client,
    upsertCompanies: async (companies) => {
      batches.push({ kind: 'companies', size: companies.length });
      for (const company of companies) await client.upsertCompany(company);
      state.calls -= companies.length - 1;
    },
    upsertUsers: async (users) => {
      batches.push({ kind: 'users', size: users.length });
      for (const user of users) await client.upsertUser(user);
      state.calls -= users.length - 1;
    },
  };
  return { state, client: batching, batches };
}

const record = (id: string, plan = 'starter'): MoesifRecord => ({
  developerId: id,
  company: { company_id: `sub_${id}`, metadata: { plan } },
  user: { user_id: `${id}@example.com`, company_id: `sub_${id}`, metadata: { plan } },
});

describe('createMoesifSync', () => {
  let sync: MoesifSync | undefined;
  afterEach(() => {
    sync?.close();
    vi.useRealTimers();
  });

  it('sends the company and the user at once, and answers synced when it waits for them', async () => {
    const { state, client } = fakeCollector();
    const started: string[] = [];
    const release: Array<() => void> = [];
    const held = (kind: string, accept: () => Promise<void>) => async () => {
      started.push(kind);
      await new Promise<void>((resolve) => release.push(resolve));
      await accept();
    };
    const slow: MoesifClient = {
      upsertCompany: (company) => held('company', () => client.upsertCompany(company))(),
      upsertUser: (user) => held('user', () => client.upsertUser(user))(),
      check: async () => 201,
    };
    sync = createMoesifSync(slow, { waitMs: Infinity });
    const answer = sync.sync(record('a'));
    await vi.waitFor(() => expect(started).toHaveLength(2));
    // Both requests are out before either has been answered.
    expect(started.sort()).toEqual(['company', 'user']);
    expect(sync.isPending('a')).toBe(true);
    release.forEach((resolve) => resolve());
    await expect(answer).resolves.toBe('synced');
    expect(state.companies).toEqual([record('a').company]);
    expect(state.users).toEqual([record('a').user]);
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
    const { state, client } = fakeCollector();
    let failFirst: (() => void) | undefined;
    const flaky: MoesifClient = {
      ...client,
      upsertUser: async (user) => {
        if (user.metadata.plan === 'starter') {
          await new Promise<void>((resolve) => (failFirst = resolve));
          throw new MoesifError('Moesif answered 503', { status: 503, retriable: true });
        }
        await client.upsertUser(user);
      },
    };
    sync = createMoesifSync(flaky, { retryBaseMs: 60_000 });
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
    const { state, client, batches } = batchingCollector();
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
    const { state, client, batches } = batchingCollector();
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
    const { client, batches } = batchingCollector();
    sync = createMoesifSync(client, { batchLingerMs: 60_000 });
    await sync.sync(record('a'));
    await expect(sync.sync(record('b'), { waitMs: Infinity })).resolves.toBe('synced');
    expect(batches.map((b) => b.size)).toEqual([2, 2]);
  });
});
