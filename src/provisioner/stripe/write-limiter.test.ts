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

  it('low requests: the freshest work first, first come first served among equal times', async () => {
    vi.useFakeTimers();
    const limiter = createWriteLimiter({ ratePerSecond: 10, burst: 1, now: () => Date.now() });
    const background = atPriority(limiter, 'low');
    const order: string[] = [];
    await limiter.acquire(); // empties the bucket: everything below queues
    const read = (key: string, at: number | undefined, label: string) => background.forKey(key, () => background.schedule(async () => void order.push(label)), at);
    // A burst's events (created at second 100), then an event created a second later arrives in their middle.
    const waits = [read('cus_b1', 100, 'burst 1'), read('cus_b2', 100, 'burst 2'), read('cus_lone', 101, 'lone'), read('cus_b3', 100, 'burst 3')];
    // An old event redelivered (created at 90) waits behind all of them; work with no time of its own is as fresh as the newest.
    waits.push(read('cus_old', 90, 'redelivered'), read('dev_1', undefined, 'grace recheck'));
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(waits);
    expect(order).toEqual(['lone', 'grace recheck', 'burst 1', 'burst 2', 'burst 3', 'redelivered']);
  });

  it('a newer event for a customer whose read already waits moves that read up; a run keeps its place for its next read', async () => {
    vi.useFakeTimers();
    const limiter = createWriteLimiter({ ratePerSecond: 10, burst: 1, now: () => Date.now() });
    const background = atPriority(limiter, 'low');
    const order: string[] = [];
    await limiter.acquire();
    const run = (key: string, reads: number) =>
      background.forKey(
        key,
        async () => {
          for (let i = 1; i <= reads; i++) await background.schedule(async () => void order.push(`${key} read ${i}`));
        },
        100,
      );
    const waits = [run('cus_a', 2), run('cus_b', 1), run('cus_c', 1)];
    // Another event for cus_a, created later (it would join cus_a's queued work): cus_a goes first, both its reads.
    waits.push(background.forKey('cus_a', async () => undefined, 101));
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all(waits);
    expect(order).toEqual(['cus_a read 1', 'cus_a read 2', 'cus_b read 1', 'cus_c read 1']);
  });

  it('inside one key\'s work another key changes nothing: the outer key stays', async () => {
    vi.useFakeTimers();
    const limiter = createWriteLimiter({ ratePerSecond: 10, burst: 1, now: () => Date.now() });
    const background = atPriority(limiter, 'low');
    const order: string[] = [];
    await limiter.acquire();
    const waits = [
      background.forKey('cus_old', () => background.forKey('dev_inner', () => background.schedule(async () => void order.push('old')), 200), 100),
      background.forKey('cus_new', () => background.schedule(async () => void order.push('new')), 150),
    ];
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(waits);
    expect(order).toEqual(['new', 'old']);
  });

  it('keeps the process alive while someone waits (the pacing timer is not unref()ed)', async () => {
    const limiter = createWriteLimiter({ ratePerSecond: 10, burst: 1 });
    await limiter.acquire();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const wait = limiter.acquire(); // the next token is 100 ms away: a pacing timer
    const timers = spy.mock.results.map((result) => result.value as NodeJS.Timeout);
    spy.mockRestore();
    expect(timers).toHaveLength(1);
    expect(timers[0]?.hasRef()).toBe(true);
    await wait;
  });
});
