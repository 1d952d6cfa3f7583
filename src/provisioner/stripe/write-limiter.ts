/**
 * Client-side token bucket for Stripe requests. Stripe allows 25 requests/s in test mode and
 * 100/s live (one global limit, reads and writes together); bursts over that come back as 429 storms. The bucket refills at `ratePerSecond` and holds
 * a quarter second's worth, so any one-second window sees at most 1.25 x rate requests: 25 at the
 * test default of 20/s and 100 at the live default of 80/s, i.e. exactly Stripe's limits.
 *
 * Order: every 'high' request (a signup in progress) goes before any 'low' one (background work:
 * webhook read-backs, grace rechecks). Among 'low' requests the freshest work goes first: work
 * runs under a key and a time (`forKey`: a Stripe customer and its event's `created`), a key's
 * requests go by its newest work, and equal times are first come, first served. So an event
 * created after a burst is read before the burst's backlog (which drains behind it; nothing is
 * dropped), a new event for a customer whose read waits moves that read up, and a run that
 * started keeps its place for its next read. Stripe's event times are whole seconds: events of
 * the same second are served in arrival order.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface WriteLimiter {
  /** Resolves when the caller may send one request (see the order above). */
  acquire(priority?: 'high' | 'low'): Promise<void>;
  /** Runs fn after acquiring a token. */
  schedule<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Runs fn as work for `key` (e.g. a Stripe customer) made at `at` (e.g. the Stripe event's
   * `created`; default: the newest time seen, as fresh as the freshest work): every token it asks
   * for, and every one the key already waits for, goes by the key's newest work. Inside another
   * key's work the outer key stays (one piece of work, one key).
   */
  forKey<T>(key: string, fn: () => Promise<T>, at?: number): Promise<T>;
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
    forKey: (key, fn, at) => limiter.forKey(key, fn, at),
    get waiting() {
      return limiter.waiting;
    },
  };
}

/** `limiter.forKey(key, fn, at)`, or just fn when there is no limiter. */
export function underKey<T>(limiter: WriteLimiter | undefined, key: string, fn: () => Promise<T>, at?: number): Promise<T> {
  return limiter ? limiter.forKey(key, fn, at) : fn();
}

/** How fresh a piece of work is: its time (newer first), then its arrival (earlier first among equal times). */
interface Freshness {
  at: number;
  seq: number;
}

const fresher = (a: Freshness, b: Freshness) => a.at > b.at || (a.at === b.at && a.seq < b.seq);

interface LowWaiter {
  /** Undefined: asked outside any key's work. */
  key: string | undefined;
  /** Its own freshness, for unkeyed requests (and a key whose work ended without waiting for it). */
  own: Freshness;
  resolve: () => void;
}

/** Keys' freshness, kept only while a key has work running. */
function createFreshness() {
  let seq = 0;
  /** The newest time seen: work without a time of its own is as fresh as the freshest event. */
  let latest = 0;
  const stamps = new Map<string, Freshness>();
  const users = new Map<string, number>();
  return {
    now(): Freshness {
      return { at: latest, seq: ++seq };
    },
    /** New work for a key at `at` (default: the newest time seen); an older time never makes a key staler. */
    touch(key: string, at = latest) {
      latest = Math.max(latest, at);
      const current = stamps.get(key);
      if (!current || at > current.at) stamps.set(key, { at, seq: ++seq });
    },
    of: (waiter: LowWaiter) => (waiter.key === undefined ? waiter.own : (stamps.get(waiter.key) ?? waiter.own)),
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
    for (let i = 1; i < lowQueue.length; i++) if (fresher(freshness.of(lowQueue[i]!), freshness.of(lowQueue[best]!))) best = i;
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
        // Under a key, the request is as fresh as the key's newest work (the next read of a run started keeps its place).
        lowQueue.push({ key: currentKey.getStore(), own: freshness.now(), resolve });
      }
      if (!timer) pump();
    });

  return {
    acquire,
    async schedule(fn) {
      await acquire();
      return fn();
    },
    async forKey(key, fn, at) {
      if (currentKey.getStore() !== undefined) return fn();
      freshness.enter(key);
      freshness.touch(key, at);
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
