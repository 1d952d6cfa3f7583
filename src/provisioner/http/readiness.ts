/**
 * /readyz probes: every dependency checked in parallel with a timeout, the result cached for a
 * few seconds (and shared by concurrent requests) so a public endpoint cannot be used to make us
 * call Stripe, Kong and Moesif once per request; holders of READYZ_TOKEN may ask for a fresh
 * probe. Messages are redacted (URL userinfo, emails).
 */
import { redactText } from '../../shared/redact.ts';

/** One dependency /readyz checks; throws (with a message) when it is not usable. */
export interface ReadinessCheck {
  name: 'kong' | 'stripe' | 'moesif' | string;
  check(timeoutMs: number): Promise<void>;
}

type CheckResult = { ok: true; ms: number } | { ok: false; ms: number; message: string };

interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
  /** "kong: …; stripe: …" for the failing checks. */
  problems: string;
}

export function createReadinessProbe(checks: ReadinessCheck[], options: { timeoutMs?: number; cacheMs?: number; now?: () => number } = {}): (fresh?: boolean) => Promise<ReadinessReport> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const cacheMs = options.cacheMs ?? 5000;
  const now = options.now ?? Date.now;
  let cached: { at: number; report: Promise<ReadinessReport> } | undefined;

  async function probe(): Promise<ReadinessReport> {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        const started = performance.now();
        try {
          await withTimeout(check(timeoutMs), timeoutMs, `${name} did not answer within ${timeoutMs} ms`);
          return [name, { ok: true, ms: Math.round(performance.now() - started) }] as const;
        } catch (error) {
          return [name, { ok: false, ms: Math.round(performance.now() - started), message: redactText((error as Error).message) }] as const;
        }
      }),
    );
    const failing = results.filter(([, result]) => !result.ok) as Array<readonly [string, Extract<CheckResult, { ok: false }>]>;
    return {
      ready: failing.length === 0,
      checks: Object.fromEntries(results),
      problems: failing.map(([name, result]) => `${name}: ${result.message}`).join('; '),
    };
  }

  /** `fresh`: probe now (a READYZ_TOKEN holder asking) and refresh the cache for everyone. */
  return (fresh = false) => {
    const at = now();
    if (fresh || !cached || at - cached.at >= cacheMs) cached = { at, report: probe() };
    return cached.report;
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
