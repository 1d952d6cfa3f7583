/**
 * Kong's `rate-limiting` plugin (3.4.2, kong/plugins/rate-limiting/handler.lua) at the emulated
 * proxy: fixed windows aligned on UTC calendar boundaries (second … year; `month` starts on the 1st
 * but Kong's reset arithmetic counts a month as 30 days and a year as 365), a counter per
 * identifier and window, the check before the count (a refused call is not counted), and the
 * headers Kong sends: `X-RateLimit-Limit-<Window>`, `X-RateLimit-Remaining-<Window>`,
 * `RateLimit-Limit/-Remaining/-Reset` for the tightest window, plus `Retry-After` on refusal,
 * whose body is `{"message": error_message}` with `error_code` (429 by default).
 *
 * Every policy (local, cluster, redis) is one exact shared counter here: Kong's `local` counts per
 * node, so a cluster lets more calls through than the limit; the emulator models the strict case.
 * Counters are kept per identifier, not per plugin, as Kong's keys are (route, service, identifier,
 * window).
 */
import { RATE_LIMIT_WINDOWS, type RateLimitWindow } from './plugin-schemas.ts';

/** Seconds per window in Kong's reset arithmetic (kong/plugins/rate-limiting/expiration.lua). */
const EXPIRATION: Record<RateLimitWindow, number> = { second: 1, minute: 60, hour: 3600, day: 86_400, month: 2_592_000, year: 31_536_000 };

const HEADER_WINDOW: Record<RateLimitWindow, string> = { second: 'Second', minute: 'Minute', hour: 'Hour', day: 'Day', month: 'Month', year: 'Year' };

/** The start (ms) of the UTC calendar window holding `now`, as kong.tools.timestamp.get_timestamps gives it. */
function windowStart(window: RateLimitWindow, now: number): number {
  const d = new Date(now);
  switch (window) {
    case 'second':
      return Math.floor(now / 1000) * 1000;
    case 'minute':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes());
    case 'hour':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours());
    case 'day':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    case 'year':
      return Date.UTC(d.getUTCFullYear(), 0, 1);
  }
}

interface RateLimitCall {
  config: Record<string, unknown>;
  consumerId: string;
  credentialId: string;
  serviceId: string;
  ip: string;
  path: string;
  header(name: string): string | undefined;
  now: number;
}

interface RateLimitVerdict {
  /** Headers for the client (none when `hide_client_headers`). */
  headers: Record<string, string>;
  /** Set when the call is refused. */
  refusal?: { status: number; body: string };
}

/** The identifier Kong counts against (handler.lua get_identifier); the client IP when none applies. */
function identifierOf(call: RateLimitCall): string {
  const { config } = call;
  switch (config.limit_by) {
    case 'service':
      return call.serviceId;
    case 'credential':
      return call.credentialId;
    case 'header':
      return call.header(String(config.header_name)) ?? call.ip;
    case 'path':
      return call.path === config.path ? call.path : call.ip;
    case 'ip':
      return call.ip;
    default:
      return call.consumerId;
  }
}

export class RateLimitCounters {
  private readonly counts = new Map<string, number>();

  /** Checks the call against every configured window and counts it when it passes. */
  check(call: RateLimitCall): RateLimitVerdict {
    const identifier = identifierOf(call);
    const limits = RATE_LIMIT_WINDOWS.filter((w) => typeof call.config[w] === 'number').map((w) => ({ window: w, limit: call.config[w] as number }));
    const usage = limits.map(({ window, limit }) => ({ window, limit, remaining: limit - (this.counts.get(this.key(identifier, window, call.now)) ?? 0) }));
    // Kong keeps the last window (in its iteration order) that is exhausted; any one refuses.
    const stop = usage.filter((u) => u.remaining <= 0).pop()?.window;
    const headers = this.headers(usage, stop, call.now);
    if (stop) {
      const status = Number(call.config.error_code ?? 429);
      const message = typeof call.config.error_message === 'string' ? call.config.error_message : 'API rate limit exceeded';
      const refusalHeaders = { ...(call.config.hide_client_headers === true ? {} : headers.visible), 'Retry-After': String(headers.reset) };
      return { headers: refusalHeaders, refusal: { status, body: JSON.stringify({ message }) } };
    }
    for (const { window } of limits) {
      const key = this.key(identifier, window, call.now);
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
    return { headers: call.config.hide_client_headers === true ? {} : headers.visible };
  }

  private key(identifier: string, window: RateLimitWindow, now: number): string {
    return `${identifier}|${window}|${windowStart(window, now)}`;
  }

  /** Per-window headers, and the RateLimit-* trio for the window with the fewest calls left (ties: the longer window). */
  private headers(usage: { window: RateLimitWindow; limit: number; remaining: number }[], stop: RateLimitWindow | undefined, now: number) {
    const visible: Record<string, string> = {};
    let chosen: { limit: number; remaining: number; span: number; reset: number } | undefined;
    for (const u of usage) {
      const remaining = Math.max(0, stop === undefined || stop === u.window ? u.remaining - 1 : u.remaining);
      const span = EXPIRATION[u.window];
      if (!chosen || remaining < chosen.remaining || (remaining === chosen.remaining && span > chosen.span)) {
        const reset = Math.max(1, span - Math.floor((now - windowStart(u.window, now)) / 1000));
        chosen = { limit: u.limit, remaining, span, reset };
      }
      visible[`X-RateLimit-Limit-${HEADER_WINDOW[u.window]}`] = String(u.limit);
      visible[`X-RateLimit-Remaining-${HEADER_WINDOW[u.window]}`] = String(remaining);
    }
    if (chosen) Object.assign(visible, { 'RateLimit-Limit': String(chosen.limit), 'RateLimit-Remaining': String(chosen.remaining), 'RateLimit-Reset': String(chosen.reset) });
    return { visible, reset: chosen?.reset ?? 1 };
  }
}
