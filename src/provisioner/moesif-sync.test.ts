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
    check: async () => {},
  };
  return { state, client };
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

  it('sends the company before the user and answers synced', async () => {
    const { state, client } = fakeCollector();
    sync = createMoesifSync(client);
    await expect(sync.sync(record('a'))).resolves.toBe('synced');
    expect(state.companies).toEqual([record('a').company]);
    expect(state.users).toEqual([record('a').user]);
  });

  it('does not resend an identical record, but sends a changed one', async () => {
    const { state, client } = fakeCollector();
    sync = createMoesifSync(client);
    await sync.sync(record('a'));
    await sync.sync(record('a'));
    expect(state.calls).toBe(2);
    await sync.sync(record('a', 'growth'));
    expect(state.calls).toBe(4);
  });

  it('answers pending while Moesif is down, then syncs in the background when it is back', async () => {
    vi.useFakeTimers();
    const { state, client } = fakeCollector();
    const logger = createMemoryLogger();
    sync = createMoesifSync(client, { retryBaseMs: 100, retryMaxMs: 400, logger });
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
    sync = createMoesifSync(client, { maxQueue: 2, retryBaseMs: 60_000, logger });
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
});
