/**
 * The provision retry schedule. A signup must settle in about ten seconds even when the
 * provisioner is down: the Kong account already exists and the Kong event hook or `reconcile`
 * finishes billing later, so waiting longer only keeps the developer staring at a spinner.
 */

/** Waits between attempts; they add up to the 10 s budget. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 1500, 2500, 4500];

/** Even late in the budget, give one attempt long enough for a slow but working provisioner. */
export const MIN_ATTEMPT_TIMEOUT_MS = 2000;

export function retryBudgetMs(delaysMs: readonly number[]): number {
  return delaysMs.reduce((sum, delay) => sum + delay, 0);
}

/** Network failures are retried separately; these HTTP statuses are worth another try. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** How long one attempt may run before it is abandoned. */
export function attemptTimeoutMs(delaysMs: readonly number[], elapsedMs: number): number {
  return Math.max(MIN_ATTEMPT_TIMEOUT_MS, retryBudgetMs(delaysMs) - elapsedMs);
}

/**
 * Wait before retry number `retryIndex` (0 = the first retry), or undefined when it is time to
 * give up: the schedule is used up, or a hanging attempt spent the budget. Quick failed answers
 * get a grace of MIN_ATTEMPT_TIMEOUT_MS so a slow network or busy machine doesn't eat retries.
 */
export function nextRetryDelayMs(delaysMs: readonly number[], retryIndex: number, elapsedMs: number): number | undefined {
  const delay = delaysMs[retryIndex];
  if (delay === undefined || elapsedMs >= retryBudgetMs(delaysMs) + MIN_ATTEMPT_TIMEOUT_MS) return undefined;
  return delay;
}
