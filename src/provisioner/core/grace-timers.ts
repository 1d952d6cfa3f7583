/**
 * A developer in grace must be refused when the grace ends even if Stripe sends nothing then
 * (its next retry may be days later). One timer per developer, re-armed by every decision; a
 * restart forgets them, and the next webhook or reconcile run applies the refusal.
 */
export interface GraceTimers {
  /** Calls `recheck` at `atMs` (replacing an earlier timer for this developer). */
  arm(developerId: string, atMs: number, recheck: () => Promise<unknown>): void;
  disarm(developerId: string): void;
  readonly size: number;
  clear(): void;
}

/** setTimeout's limit; a grace further away is re-armed in steps. */
const MAX_TIMEOUT_MS = 2_147_483_647;

export function createGraceTimers(options: { now?: () => number; maxTimers?: number } = {}): GraceTimers {
  const now = options.now ?? Date.now;
  const maxTimers = options.maxTimers ?? 100_000;
  const timers = new Map<string, NodeJS.Timeout>();
  const disarm = (developerId: string) => {
    clearTimeout(timers.get(developerId));
    timers.delete(developerId);
  };
  const arm = (developerId: string, atMs: number, recheck: () => Promise<unknown>) => {
    disarm(developerId);
    if (timers.size >= maxTimers) return; // reconcile covers the rest
    const delay = Math.max(0, atMs - now());
    const timer = setTimeout(() => {
      timers.delete(developerId);
      if (delay > MAX_TIMEOUT_MS) arm(developerId, atMs, recheck);
      else void recheck().catch(() => undefined);
    }, Math.min(delay + 1_000, MAX_TIMEOUT_MS));
    timer.unref();
    timers.set(developerId, timer);
  };
  return {
    arm,
    disarm,
    get size() {
      return timers.size;
    },
    clear() {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
