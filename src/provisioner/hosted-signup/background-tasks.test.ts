import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryLogger } from '../../shared/provision-log.ts';
import { createBackgroundTasks } from './background-tasks.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('background tasks of the hosted signup', () => {
  it('runs at most `limit` at once: one more is dropped and logged, and a freed slot takes work again', async () => {
    const logger = createMemoryLogger();
    const tasks = createBackgroundTasks({ logger, limit: 2 });
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    expect([tasks.start('a', () => gate), tasks.start('b', () => gate), tasks.start('c', () => gate)]).toEqual([true, true, false]);
    expect(logger.entries).toMatchObject([{ level: 'warn', event: 'signup_background_dropped', what: 'c' }]);
    release();
    await tasks.idle();
    expect(tasks.running).toBe(0);
    expect(tasks.start('d', async () => {})).toBe(true);
    await tasks.idle();
  });

  it('a hung task gives its slot back after timeoutMs', async () => {
    vi.useFakeTimers();
    const logger = createMemoryLogger();
    const tasks = createBackgroundTasks({ logger, limit: 1, timeoutMs: 1000 });
    tasks.start('hung smtp', () => new Promise(() => {}));
    expect(tasks.start('next', async () => {})).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(tasks.running).toBe(0);
    expect(logger.entries.map((e) => e.event)).toEqual(['signup_background_dropped', 'signup_background_slow']);
  });
});
