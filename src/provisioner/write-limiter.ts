/**
 * Client-side token bucket for Stripe writes. Stripe allows 25 writes/s in test mode and 100/s
 * live; bursts over that come back as 429 storms. The bucket refills at `ratePerSecond` and holds
 * a quarter second's worth, so any one-second window sees at most 1.25 x rate writes: 25 at the
 * test default of 20/s and 100 at the live default of 80/s, i.e. exactly Stripe's limits.
 */
export interface WriteLimiter {
  /**
   * Resolves when the caller may send one request. FIFO within a priority; 'low' (background
   * work such as webhook read-backs) waits while any 'high' (a signup in progress) is waiting.
   */
  acquire(priority?: 'high' | 'low'): Promise<void>;
  /** Runs fn after acquiring a token. */
  schedule<T>(fn: () => Promise<T>): Promise<T>;
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
    get waiting() {
      return limiter.waiting;
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
  const lowQueue: Array<() => void> = [];
  let timer: NodeJS.Timeout | undefined;

  const refill = () => {
    const at = now();
    tokens = Math.min(capacity, tokens + ((at - refilledAt) / 1000) * rate);
    refilledAt = at;
  };

  const pump = () => {
    timer = undefined;
    refill();
    while ((queue.length > 0 || lowQueue.length > 0) && tokens >= 1) {
      tokens -= 1;
      (queue.length > 0 ? queue : lowQueue).shift()?.();
    }
    if (queue.length > 0 || lowQueue.length > 0) {
      const waitMs = Math.max(1, Math.ceil(((1 - tokens) / rate) * 1000));
      timer = setTimeout(pump, waitMs);
      // A pending write keeps its own request alive; the limiter alone must not hold the process.
      timer.unref();
    }
  };

  const acquire = (priority: 'high' | 'low' = 'high') =>
    new Promise<void>((resolve) => {
      (priority === 'low' ? lowQueue : queue).push(resolve);
      if (!timer) pump();
    });

  return {
    acquire,
    async schedule(fn) {
      await acquire();
      return fn();
    },
    get waiting() {
      return queue.length + lowQueue.length;
    },
  };
}
