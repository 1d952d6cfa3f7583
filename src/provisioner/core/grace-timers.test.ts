import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryLogger } from '../../shared/provision-log.ts';
import { createGraceTimers } from './grace-timers.ts';

const DEV = 'dev-1';

describe('grace timers', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 0 }));
  afterEach(() => void vi.useRealTimers());

  /** A recheck that fails `failures` times (Stripe down), then succeeds. */
  function flakyRecheck(failures: number) {
    const calls: number[] = [];
    const recheck = vi.fn(async () => {
      calls.push(Date.now());
      if (calls.length <= failures) throw new Error('Stripe is unavailable while trying to read the customer: connect ECONNREFUSED (key sk_test_51SecretInLog)');
    });
    return { recheck, calls };
  }

  it('calls the recheck a second after the grace ends', async () => {
    const timers = createGraceTimers({ now: Date.now });
    const { recheck, calls } = flakyRecheck(0);
    timers.arm(DEV, 60_000, recheck);
    await vi.advanceTimersByTimeAsync(60_999);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([61_000]);
    expect(timers.size).toBe(0);
  });

  it('a failed recheck is logged and retried with backoff until it succeeds', async () => {
    const logger = createMemoryLogger();
    const timers = createGraceTimers({ now: Date.now, logger, retryDelaysMs: [10_000, 30_000, 60_000] });
    const { recheck, calls } = flakyRecheck(2);
    timers.arm(DEV, 0, recheck);
    await vi.advanceTimersByTimeAsync(200_000);
    expect(calls).toEqual([1_000, 11_000, 41_000]);
    expect(logger.entries.map((e) => [e.level, e.event, e.attempt, e.retry_in_ms])).toEqual([
      ['warn', 'grace_recheck_failed', 1, 10_000],
      ['warn', 'grace_recheck_failed', 2, 30_000],
      ['info', 'grace_recheck_recovered', undefined, undefined],
    ]);
    expect(logger.entries[0]).toMatchObject({ developer_id: DEV, error: { message: expect.stringContaining('ECONNREFUSED') } });
    expect(JSON.stringify(logger.entries)).not.toContain('sk_test_51SecretInLog');
    expect(timers.size).toBe(0);
  });

  it('retries are bounded: after the last one the failure is logged as given up and nothing stays armed', async () => {
    const logger = createMemoryLogger();
    const timers = createGraceTimers({ now: Date.now, logger, retryDelaysMs: [10_000, 30_000] });
    const { recheck, calls } = flakyRecheck(Infinity);
    timers.arm(DEV, 0, recheck);
    await vi.advanceTimersByTimeAsync(24 * 3600_000);
    expect(calls).toEqual([1_000, 11_000, 41_000]);
    expect(logger.entries.at(-1)).toMatchObject({ level: 'error', event: 'grace_recheck_failed', attempt: 3, gave_up: true });
    expect(timers.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a new decision for the developer replaces a pending retry', async () => {
    const timers = createGraceTimers({ now: Date.now, retryDelaysMs: [10_000] });
    const { recheck, calls } = flakyRecheck(1);
    timers.arm(DEV, 0, recheck);
    await vi.advanceTimersByTimeAsync(1_000); // first recheck fails; a retry waits 10 s
    expect(timers.size).toBe(1);
    timers.disarm(DEV); // e.g. a webhook: the developer paid
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([1_000]);
  });
});
