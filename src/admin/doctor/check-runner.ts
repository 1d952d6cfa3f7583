/**
 * doctor's runner: each check is a small function answering {ok, detail, fix}; a check whose
 * prerequisite failed is reported as "skipped because X failed" instead of being run into a
 * cascade of the same error. One check may answer several lines (one per plan price).
 */
import { MonetizationError } from '../../shared/errors.ts';

export interface CheckResult {
  name: string;
  ok: boolean;
  /** True when it did not run because a prerequisite failed (ok is false then). */
  skipped?: boolean;
  detail: string;
  /** How to fix it, when it failed. */
  fix?: string;
}

export type CheckOutcome = Omit<CheckResult, 'name'>;

export interface Check<S> {
  /** Also the id other checks name in `needs`. */
  name: string;
  needs?: string[];
  run(state: S): Promise<CheckOutcome | CheckResult[]>;
}

export const pass = (detail: string): CheckOutcome => ({ ok: true, detail });
export const fail = (detail: string, fix: string): CheckOutcome => ({ ok: false, detail, fix });

/** An unexpected exception becomes the check's failure, with a MonetizationError's hint as the fix. */
function fromError(error: unknown): CheckOutcome {
  if (error instanceof MonetizationError) return { ok: false, detail: error.message, fix: error.hint ?? 'see the message' };
  return { ok: false, detail: error instanceof Error ? error.message : String(error), fix: 'rerun with DEBUG=1 for details' };
}

export async function runChecks<S>(checks: Check<S>[], state: S, onResult?: (result: CheckResult) => void): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const failed = new Set<string>();
  const emit = (result: CheckResult) => {
    results.push(result);
    onResult?.(result);
  };
  for (const check of checks) {
    const missing = (check.needs ?? []).find((need) => failed.has(need));
    if (missing) {
      failed.add(check.name);
      emit({ name: check.name, ok: false, skipped: true, detail: `skipped because "${missing}" failed` });
      continue;
    }
    let outcome: CheckOutcome | CheckResult[];
    try {
      outcome = await check.run(state);
    } catch (error) {
      outcome = fromError(error);
    }
    const lines = Array.isArray(outcome) ? outcome : [{ name: check.name, ...outcome }];
    if (lines.some((line) => !line.ok)) failed.add(check.name);
    lines.forEach(emit);
  }
  return results;
}

/** One line per check; failures get an indented fix line. */
export function formatCheck(result: CheckResult): string {
  const mark = result.skipped ? 'SKIP' : result.ok ? 'PASS' : 'FAIL';
  const head = `${mark}  ${result.name}: ${result.detail}`;
  return !result.ok && !result.skipped && result.fix ? `${head}\n      fix: ${result.fix}` : head;
}
