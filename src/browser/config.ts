/**
 * Reads window.PortalMonetizationConfig, the public settings the sync command writes into
 * required-scripts.html. Anything missing or malformed turns monetization off (with one warning)
 * rather than half-working.
 */
import type { PublicConfig } from '../shared/bundle-layout.ts';
import { DEFAULT_RETRY_DELAYS_MS } from './retry.ts';

export interface BrowserConfig extends PublicConfig {
  /** Waits between provision attempts. Tests shorten it through an undocumented config key. */
  retryDelaysMs: readonly number[];
}

type ConfigResult = { ok: true; config: BrowserConfig } | { ok: false; problem: string };

const MAX_TEST_DELAYS = 10;
const MAX_TEST_DELAY_MS = 60_000;

function fail(problem: string): ConfigResult {
  return { ok: false, problem };
}

/** `pageUrl` resolves a relative provisionerUrl (a provisioner behind the portal's own proxy). */
export function parseConfig(raw: unknown, pageUrl: string): ConfigResult {
  if (raw === undefined || raw === null) {
    return fail('window.PortalMonetizationConfig is not set; run the sync command so required-scripts.html defines it');
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) return fail('window.PortalMonetizationConfig is not an object');
  const settings = raw as Record<string, unknown>;

  const url = settings.provisionerUrl;
  if (typeof url !== 'string' || url.trim() === '') return fail('provisionerUrl is missing from window.PortalMonetizationConfig');
  let parsed: URL;
  try {
    parsed = new URL(url.trim(), pageUrl);
  } catch {
    return fail(`provisionerUrl "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return fail(`provisionerUrl "${url}" must be an http(s) URL`);
  if (parsed.search || parsed.hash) return fail(`provisionerUrl "${url}" must not have a query or fragment`);

  const planField = settings.planField ?? false;
  if (typeof planField !== 'boolean') return fail('planField in window.PortalMonetizationConfig must be true or false');

  return {
    ok: true,
    config: {
      provisionerUrl: parsed.href.replace(/\/+$/, ''),
      planField,
      retryDelaysMs: parseRetryDelays(settings.retryDelaysMs),
    },
  };
}

/** Test-only knob: a short list of small non-negative numbers, else the default schedule. */
function parseRetryDelays(value: unknown): readonly number[] {
  if (!Array.isArray(value) || value.length > MAX_TEST_DELAYS) return DEFAULT_RETRY_DELAYS_MS;
  const valid = value.every((d) => typeof d === 'number' && Number.isFinite(d) && d >= 0 && d <= MAX_TEST_DELAY_MS);
  return valid ? (value as number[]) : DEFAULT_RETRY_DELAYS_MS;
}
