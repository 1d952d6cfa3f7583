import { describe, expect, it } from 'vitest';
import { attemptTimeoutMs, DEFAULT_RETRY_DELAYS_MS, isRetryableStatus, MIN_ATTEMPT_TIMEOUT_MS, nextRetryDelayMs, retryBudgetMs } from './retry.ts';

describe('retry schedule', () => {
  it('waits about ten seconds in all by default', () => {
    expect(retryBudgetMs(DEFAULT_RETRY_DELAYS_MS)).toBe(10_000);
    expect(DEFAULT_RETRY_DELAYS_MS.every((delay, i) => i === 0 || delay >= DEFAULT_RETRY_DELAYS_MS[i - 1]!)).toBe(true);
  });

  it('retries network-ish failures: 408, 429 and 5xx, not other 4xx', () => {
    expect([408, 429, 500, 502, 503, 504].map(isRetryableStatus)).toEqual([true, true, true, true, true, true]);
    expect([400, 401, 403, 404, 409, 422].map(isRetryableStatus)).toEqual([false, false, false, false, false, false]);
  });

  it('walks the schedule while budget remains', () => {
    const delays = [100, 200, 300];
    expect(nextRetryDelayMs(delays, 0, 5)).toBe(100);
    expect(nextRetryDelayMs(delays, 1, 110)).toBe(200);
    expect(nextRetryDelayMs(delays, 2, 320)).toBe(300);
    expect(nextRetryDelayMs(delays, 3, 630)).toBeUndefined();
  });

  it('keeps the schedule when answers are slow, but stops once a hanging attempt spent the budget and the grace', () => {
    expect(nextRetryDelayMs([100, 200, 300], 1, 600 + MIN_ATTEMPT_TIMEOUT_MS - 1)).toBe(200);
    expect(nextRetryDelayMs([100, 200, 300], 0, 600 + MIN_ATTEMPT_TIMEOUT_MS)).toBeUndefined();
    expect(nextRetryDelayMs([], 0, 0)).toBeUndefined();
  });

  it('gives each attempt what is left of the budget, but never less than the minimum', () => {
    expect(attemptTimeoutMs(DEFAULT_RETRY_DELAYS_MS, 0)).toBe(10_000);
    expect(attemptTimeoutMs(DEFAULT_RETRY_DELAYS_MS, 7_000)).toBe(3_000);
    expect(attemptTimeoutMs(DEFAULT_RETRY_DELAYS_MS, 9_500)).toBe(MIN_ATTEMPT_TIMEOUT_MS);
  });
});
