import { describe, expect, it } from 'vitest';
import { createCoalescer } from './coalesce.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('createCoalescer', () => {
  it('requests made during a run share one follow-up run, which starts after the first ends', async () => {
    const coalesce = createCoalescer<number>();
    let runs = 0;
    let running = 0;
    let overlapped = false;
    const work = async () => {
      running++;
      if (running > 1) overlapped = true;
      const n = ++runs;
      await tick();
      running--;
      return n;
    };
    const first = coalesce('a', work);
    // Requests made before the first run starts share it; these come once it is under way.
    await Promise.resolve();
    await Promise.resolve();
    expect(running).toBe(1);
    const later = await Promise.all([coalesce('a', work), coalesce('a', work), coalesce('a', work)]);
    expect(await first).toBe(1);
    expect(later).toEqual([2, 2, 2]);
    expect(runs).toBe(2);
    expect(overlapped).toBe(false);
  });

  it('keys are independent and a failed run does not block the next', async () => {
    const coalesce = createCoalescer<string>();
    await expect(coalesce('x', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await coalesce('x', async () => 'ok')).toBe('ok');
    expect(await Promise.all([coalesce('p', async () => 'p'), coalesce('q', async () => 'q')])).toEqual(['p', 'q']);
  });
});
