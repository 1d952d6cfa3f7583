/**
 * How Kong's rate-limiting plugin counts the plan's rate limits (RATE_LIMIT_POLICY): `local`
 * (Kong's default: per node, so N nodes allow up to N times the limit), `cluster` (Kong's
 * database; not on DB-less or Konnect data planes) or `redis` (RATE_LIMIT_REDIS_URL). The Redis
 * password goes to Kong's plugin config only: never printed or logged.
 */
import { SettingError } from '../../shared/errors.ts';

const RATE_LIMIT_POLICIES = ['local', 'cluster', 'redis'] as const;
type RateLimitPolicyName = (typeof RATE_LIMIT_POLICIES)[number];

interface RedisSettings {
  host: string;
  port: number;
  database: number;
  ssl: boolean;
  username?: string;
  password?: string;
}

export interface RateLimitSettings {
  policy: RateLimitPolicyName;
  redis?: RedisSettings;
}

export const DEFAULT_RATE_LIMIT_SETTINGS: RateLimitSettings = { policy: 'local' };

export const RATE_LIMIT_VARIABLES: ReadonlyArray<{ name: string; default: string; description: string }> = [
  { name: 'RATE_LIMIT_POLICY', default: 'local', description: "counter of the plans' rate limits in Kong's rate-limiting plugin: local (per Kong node), cluster (Kong's database) or redis; not used with GATEWAY=aws (the usage plan's throttle: npm run aws:setup)" },
  { name: 'RATE_LIMIT_REDIS_URL', default: '(required when redis)', description: 'redis://[user:password@]host[:port][/db], rediss:// for TLS; never printed' },
];

const REDIS_HINT = 'e.g. redis://:secret@redis.internal:6379/0 (rediss:// for TLS)';

function parseRedisUrl(value: string): RedisSettings {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // The value may hold a password: never echoed.
    throw new SettingError('RATE_LIMIT_REDIS_URL', 'is not a URL', REDIS_HINT);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new SettingError('RATE_LIMIT_REDIS_URL', `must start with redis:// or rediss://, not ${url.protocol}//`, REDIS_HINT);
  if (!url.hostname) throw new SettingError('RATE_LIMIT_REDIS_URL', 'names no host', REDIS_HINT);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,2}$/.test(path)) throw new SettingError('RATE_LIMIT_REDIS_URL', 'the path must be a database number such as /0', REDIS_HINT);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    database: path === '' ? 0 : Number(path),
    ssl: url.protocol === 'rediss:',
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
  };
}

export function parseRateLimitSettings(env: NodeJS.ProcessEnv): RateLimitSettings {
  const policy = (env.RATE_LIMIT_POLICY ?? '').trim() || 'local';
  if (!(RATE_LIMIT_POLICIES as readonly string[]).includes(policy))
    throw new SettingError('RATE_LIMIT_POLICY', `"${policy}" is not a policy; use local, cluster or redis`, 'local for one Kong node; redis (with RATE_LIMIT_REDIS_URL) for several');
  const redisUrl = (env.RATE_LIMIT_REDIS_URL ?? '').trim();
  if (policy === 'redis') {
    if (!redisUrl) throw new SettingError('RATE_LIMIT_REDIS_URL', 'is not set, and RATE_LIMIT_POLICY is redis', REDIS_HINT);
    return { policy, redis: parseRedisUrl(redisUrl) };
  }
  if (redisUrl) throw new SettingError('RATE_LIMIT_REDIS_URL', `is set but RATE_LIMIT_POLICY is ${policy}; Kong would not use it`, 'set RATE_LIMIT_POLICY=redis, or unset RATE_LIMIT_REDIS_URL');
  return { policy: policy as RateLimitPolicyName };
}
