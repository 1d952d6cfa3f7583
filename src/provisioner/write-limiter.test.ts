import { afterEach, describe, expect, it, vi } from 'vitest';
import { atPriority, createWriteLimiter } from './write-limiter.ts';

describe('createWriteLimiter', () => {
  afterEach(() => vi.useRealTimers());

  it('lets a quarter second of writes through at once, then paces the rest at the rate', async () => {
    vi.useFakeTimers();
    const limiter = createWriteLimiter({ ratePerSecond: 20, now: () => Date.now() });
    const granted: number[] = [];
    const start = Date.now();
    const all = Array.from({ length: 25 }, (_, i) => limiter.acquire().then(() => granted.push(i)));
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(5); // burst = floor(20 / 4)
    await vi.advanceTimersByTimeAsync(1000);
    // 5 up front + 20 refilled over one second: 25 in the first second, Stripe's test-mode limit.
    expect(granted).toHaveLength(25);
    await Promise.all(all);
    expect(granted).toEqual([...granted].sort((a, b) => a - b)); // FIFO
    expect(Date.now() - start).toBeLessThanOrEqual(1000);
  });

  it('never exceeds rate + burst in any one-second window', async () => {
    vi.useFakeTimers();
    const limiter = createWriteLimiter({ ratePerSecond: 80, now: () => Date.now() });
    const times: number[] = [];
    const all = Array.from({ length: 400 }, () => limiter.acquire().then(() => times.push(Date.now())));
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(all);
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(100);
  });

  it('schedule runs the work after a token and returns its value', async () => {
    const limiter = createWriteLimiter({ ratePerSecond: 10 });
    await expect(limiter.schedule(async () => 42)).resolves.toBe(42);
    expect(limiter.waiting).toBe(0);
  });

  it('rejects a non-positive rate', () => {
    expect(() => createWriteLimiter({ ratePerSecond: 0 })).toThrow(RangeError);
  });

  it('a high-priority request waiting goes before every low-priority one queued earlier', async () => {
    vi.useFakeTimers();
    const limiter = createWriteLimiter({ ratePerSecond: 10, burst: 1, now: () => Date.now() });
    const order: string[] = [];
    await limiter.acquire(); // empties the bucket
    const waits = [
      limiter.acquire('low').then(() => order.push('low 1')),
      limiter.acquire('low').then(() => order.push('low 2')),
      limiter.acquire('high').then(() => order.push('high')),
    ];
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(waits);
    expect(order).toEqual(['high', 'low 1', 'low 2']);
    vi.useRealTimers();
  });

  it('atPriority takes every request of a view at that priority from the same budget', async () => {
    vi.useFakeTimers();
    const limiter = createWriteLimiter({ ratePerSecond: 10, burst: 1, now: () => Date.now() });
    const background = atPriority(limiter, 'low');
    const order: string[] = [];
    await limiter.acquire();
    const waits = [background.schedule(async () => order.push('background')), limiter.acquire().then(() => order.push('signup'))];
    expect(background.waiting).toBe(2);
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(waits);
    expect(order).toEqual(['signup', 'background']);
  });
});
