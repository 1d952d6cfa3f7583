/**
 * Outside the sandbox the provisioner refuses settings that only make sense in it: the sandbox's
 * published fake secrets (anyone could forge account links with SIGNUP_SECRET, sign Kong events,
 * read /readyz details, or undo the email hashing of the logs) and a TRUSTED_PROXIES that trusts
 * (nearly) every address (any client could then pick its own rate-limit key). Every bad setting
 * is named at once, each with its fix; no value is ever printed.
 *
 * "The sandbox" is what `npm start` runs: startSandbox says so explicitly, and a CLI pointed at it
 * is recognised by the emulator's own Stripe key, which real Stripe refuses (so those settings
 * cannot reach real money). A live key is never the sandbox, whatever else is said.
 */
import { SettingError } from '../../shared/errors.ts';
import { PUBLISHED_SANDBOX_SECRETS } from '../../shared/published-sandbox-secrets.ts';

export interface SandboxMarker {
  /** Set by startSandbox only: the sandbox's published values are expected here. */
  sandbox?: boolean;
}

/** The secret settings that must never hold a published value in production. */
const GUARDED_SECRETS = ['SIGNUP_SECRET', 'KONG_EVENT_HOOK_SECRET', 'READYZ_TOKEN', 'LOG_HASH_KEY'] as const;

/** Shorter prefixes than this cover several /8s (IPv4) or most of the IPv6 space: nobody's load balancers. */
const NARROWEST_TOO_BROAD_PREFIX = 8;
const LIVE_KEY = /^[a-z]{2}_live_/;
const PUBLISHED = new Set<string>(Object.values(PUBLISHED_SANDBOX_SECRETS));

function isSandboxRun(env: NodeJS.ProcessEnv, marker: SandboxMarker = {}): boolean {
  const key = env.STRIPE_SECRET_KEY?.trim() ?? '';
  if (LIVE_KEY.test(key)) return false;
  return marker.sandbox === true || key === PUBLISHED_SANDBOX_SECRETS.STRIPE_SECRET_KEY;
}

/** Entries of TRUSTED_PROXIES that trust (nearly) every address, e.g. 0.0.0.0/0 or ::/0. */
function tooBroadProxies(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => {
      const prefix = entry.split('/')[1];
      return prefix !== undefined && /^\d+$/.test(prefix) && Number(prefix) < NARROWEST_TOO_BROAD_PREFIX;
    });
}

/** One line per setting that production must not take: the setting, what is wrong, how to fix it. */
function productionProblems(env: NodeJS.ProcessEnv): Array<{ setting: string; problem: string }> {
  const problems: Array<{ setting: string; problem: string }> = [];
  for (const name of GUARDED_SECRETS) {
    const value = env[name]?.trim();
    if (value && PUBLISHED.has(value))
      problems.push({ setting: name, problem: 'is one of the sandbox\'s published values; set your own long random value (e.g. `openssl rand -hex 32`)' });
  }
  const broad = tooBroadProxies(env.TRUSTED_PROXIES);
  if (broad.length > 0)
    problems.push({
      setting: 'TRUSTED_PROXIES',
      problem: `${broad.map((entry) => `"${entry}"`).join(', ')} trusts (nearly) every address, so any client picks its own rate-limit key with X-Forwarded-For; list only your load balancers (e.g. 10.0.0.0/8) or give their number (e.g. 1)`,
    });
  return problems;
}

/** Throws one SettingError naming every bad setting, unless this is the sandbox. */
export function refuseSandboxSettingsInProduction(env: NodeJS.ProcessEnv, marker: SandboxMarker = {}): void {
  if (isSandboxRun(env, marker)) return;
  const problems = productionProblems(env);
  if (problems.length === 0) return;
  throw new SettingError(
    problems.map((p) => p.setting).join(', '),
    `not accepted outside the sandbox (npm start):\n${problems.map((p) => `  - ${p.setting} ${p.problem}`).join('\n')}`,
    'fix each setting above and start again; the sandbox\'s values are public and open nothing',
  );
}
