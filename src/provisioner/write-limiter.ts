/**
 * Client-side token bucket for Stripe requests. Stripe allows 25 writes/s in test mode and 100/s
 * live; bursts over that come back as 429 storms. The bucket refills at `ratePerSecond` and holds
 * a quarter second's worth, so any one-second window sees at most 1.25 x rate requests: 25 at the
 * test default of 20/s and 100 at the live default of 80/s, i.e. exactly Stripe's limits.
 *
 * Order: every 'high' request (a signup in progress) goes before any 'low' one (background work:
 * webhook read-backs, grace rechecks). Among 'low' requests the freshest key goes first: work runs
 * under a key (`forKey`, e.g. a Stripe customer), and entering a key or asking for a token under
 * it makes the key the freshest, so an event that just arrived, and a run already started, are
 * served before a backlog queued earlier (a burst drains behind them; nothing is dropped). Within
 * one key, first come first served.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface WriteLimiter {
  /** Resolves when the caller may send one request (see the order above). */
  acquire(priority?: 'high' | 'low'): Promise<void>;
  /** Runs fn after acquiring a token. */
  schedule<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Runs fn with `key` as the fairness key of every token it asks for, and makes the key the
   * freshest now (its requests already waiting move ahead too). Inside another key's work, the
   * outer key stays (one piece of work, one key).
   */
  forKey<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Callers waiting for a token. */
  readonly waiting: number;
}

/** The same budget, every request taken at `priority` (e.g. background reads that must yield to signups). */
export function atPriority(limiter: WriteLimiter, priority: 'high' | 'low'): WriteLimiter {
  return {
    acquire: () => limiter.acquire(priority),
    schedule: async (fn) => {
      await limiter.acquire(priority);
      return fn();
    },
    forKey: (key, fn) => limiter.forKey(key, fn),
    get waiting() {
      return limiter.waiting;
    },
  };
}

/** `limiter.forKey(key, fn)`, or just fn when there is no limiter. */
export function underKey<T>(limiter: WriteLimiter | undefined, key: string, fn: () => Promise<T>): Promise<T> {
  return limiter ? limiter.forKey(key, fn) : fn();
}

interface LowWaiter {
  /** Undefined: asked outside any key; such requests share one implicit key. */
  key: string | undefined;
  /** Freshness at arrival, used if the key's own is gone (work left its key without waiting). */
  stamp: number;
  resolve: () => void;
}

/** Keys' freshness, kept only while a key has work running or waiting. */
function createFreshness() {
  let clock = 0;
  let unkeyed = 0;
  const stamps = new Map<string, number>();
  const users = new Map<string, number>();
  return {
    /** Marks a key (undefined: the unkeyed requests) as the freshest; answers the stamp. */
    touch(key: string | undefined): number {
      clock += 1;
      if (key === undefined) unkeyed = clock;
      else stamps.set(key, clock);
      return clock;
    },
    of: (waiter: LowWaiter) => (waiter.key === undefined ? unkeyed : (stamps.get(waiter.key) ?? waiter.stamp)),
    enter(key: string) {
      users.set(key, (users.get(key) ?? 0) + 1);
    },
    leave(key: string) {
      const left = (users.get(key) ?? 1) - 1;
      if (left > 0) users.set(key, left);
      else {
        users.delete(key);
        stamps.delete(key);
      }
    },
  };
}

export function createWriteLimiter(options: { ratePerSecond: number; burst?: number; now?: () => number }): WriteLimiter {
  const rate = options.ratePerSecond;
  if (!(rate > 0)) throw new RangeError('ratePerSecond must be positive');
  const capacity = Math.max(1, options.burst ?? Math.floor(rate / 4));
  const now = options.now ?? (() => performance.now());
  let tokens = capacity;
  let refilledAt = now();
  const queue: Array<() => void> = [];
  const lowQueue: LowWaiter[] = [];
  const freshness = createFreshness();
  const currentKey = new AsyncLocalStorage<string>();
  let timer: NodeJS.Timeout | undefined;

  const refill = () => {
    const at = now();
    tokens = Math.min(capacity, tokens + ((at - refilledAt) / 1000) * rate);
    refilledAt = at;
  };

  /** The freshest low request (the first of equals: FIFO within a key). */
  const takeLow = (): LowWaiter | undefined => {
    let best = 0;
    for (let i = 1; i < lowQueue.length; i++) if (freshness.of(lowQueue[i]!) > freshness.of(lowQueue[best]!)) best = i;
    return lowQueue.splice(best, 1)[0];
  };

  const pump = () => {
    timer = undefined;
    refill();
    while ((queue.length > 0 || lowQueue.length > 0) && tokens >= 1) {
      tokens -= 1;
      if (queue.length > 0) queue.shift()?.();
      else takeLow()?.resolve();
    }
    // Not unref()ed: whoever waits is real work (a reconcile run's writes may be all that is
    // left), and a process must not end under it. The timer exists only while someone waits.
    if (queue.length > 0 || lowQueue.length > 0) timer = setTimeout(pump, Math.max(1, Math.ceil(((1 - tokens) / rate) * 1000)));
  };

  const acquire = (priority: 'high' | 'low' = 'high') =>
    new Promise<void>((resolve) => {
      if (priority === 'high') queue.push(resolve);
      else {
        const key = currentKey.getStore();
        // Asking again under a key (the next read of a run) keeps that run ahead: finish what started.
        lowQueue.push({ key, stamp: freshness.touch(key), resolve });
      }
      if (!timer) pump();
    });

  return {
    acquire,
    async schedule(fn) {
      await acquire();
      return fn();
    },
    async forKey(key, fn) {
      if (currentKey.getStore() !== undefined) return fn();
      freshness.enter(key);
      freshness.touch(key);
      try {
        return await currentKey.run(key, fn);
      } finally {
        freshness.leave(key);
      }
    },
    get waiting() {
      return queue.length + lowQueue.length;
    },
  };
}
