/**
 * A developer in grace must be refused when the grace ends even if Stripe sends nothing then
 * (its next retry may be days later). One timer per developer, re-armed by every decision; a
 * restart forgets them, and the next webhook or reconcile run applies the refusal.
 *
 * A recheck that fails (Stripe or Kong unreachable at that moment) is logged and retried after
 * each of `retryDelaysMs` in turn; after the last, the failure is logged as given up and the next
 * webhook or reconcile run applies it. A new decision for the developer replaces a pending retry.
 */
import { errorFields, silentLogger, type ProvisionLogger } from '../../shared/provision-log.ts';

export interface GraceTimers {
  /** Calls `recheck` at `atMs` (replacing an earlier timer for this developer). */
  arm(developerId: string, atMs: number, recheck: () => Promise<unknown>): void;
  disarm(developerId: string): void;
  readonly size: number;
  clear(): void;
}

interface GraceTimerOptions {
  now?: () => number;
  maxTimers?: number;
  logger?: ProvisionLogger;
  /** Waits before each retry of a failed recheck; the count bounds the retries. */
  retryDelaysMs?: readonly number[];
}

/** 10 s, 30 s, 1 min, 5 min, 15 min, 1 h: about 1.5 h of outage covered, then reconcile's turn. */
const GRACE_RECHECK_RETRY_DELAYS_MS: readonly number[] = [10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000];

/** setTimeout's limit; a grace further away is re-armed in steps. */
const MAX_TIMEOUT_MS = 2_147_483_647;

export function createGraceTimers(options: GraceTimerOptions = {}): GraceTimers {
  const now = options.now ?? Date.now;
  const maxTimers = options.maxTimers ?? 100_000;
  const logger = options.logger ?? silentLogger;
  const retryDelays = options.retryDelaysMs ?? GRACE_RECHECK_RETRY_DELAYS_MS;
  const timers = new Map<string, NodeJS.Timeout>();

  const disarm = (developerId: string) => {
    clearTimeout(timers.get(developerId));
    timers.delete(developerId);
  };

  /** One timer per developer; background work, so it does not hold the process open. */
  const schedule = (developerId: string, delayMs: number, fire: () => void) => {
    disarm(developerId);
    if (timers.size >= maxTimers) return; // reconcile covers the rest
    const timer = setTimeout(() => {
      timers.delete(developerId);
      fire();
    }, delayMs);
    timer.unref();
    timers.set(developerId, timer);
  };

  const recheckNow = (developerId: string, recheck: () => Promise<unknown>, failures: number) => {
    recheck().then(
      () => {
        if (failures > 0) logger.info({ event: 'grace_recheck_recovered', developer_id: developerId, failed_attempts: failures });
      },
      (error: unknown) => {
        // The recheck may have re-armed (a decision was made before the failure): that timer wins.
        if (timers.has(developerId)) return;
        const delay = retryDelays[failures];
        const base = { event: 'grace_recheck_failed', developer_id: developerId, attempt: failures + 1, ...errorFields(error) };
        if (delay === undefined) {
          logger.error({ ...base, gave_up: true, next: 'the next Stripe event for this developer or a reconcile run applies the grace end' });
          return;
        }
        logger.warn({ ...base, retry_in_ms: delay });
        schedule(developerId, delay, () => recheckNow(developerId, recheck, failures + 1));
      },
    );
  };

  const arm = (developerId: string, atMs: number, recheck: () => Promise<unknown>) => {
    const delay = Math.max(0, atMs - now());
    schedule(developerId, Math.min(delay + 1_000, MAX_TIMEOUT_MS), () => {
      if (delay > MAX_TIMEOUT_MS) arm(developerId, atMs, recheck);
      else recheckNow(developerId, recheck, 0);
    });
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
