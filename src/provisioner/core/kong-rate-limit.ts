/**
 * The plan's rate limit at Kong: one `rate-limiting` plugin on the developer's consumer
 * (`limit_by: consumer`), tagged RATE_LIMIT_TAGS, through the same DeveloperPlugins port as the
 * access block (portal: /{ws}/developers/{id}/plugins; hosted: /consumers/{id}/plugins). Applying
 * is idempotent and repairs drift: a plugin of ours edited or disabled by an admin is set back, a
 * deleted one created again. A plan change costs one write (PATCH), at most two (delete a spare or
 * a disabled copy, then create). Other plugins, and other consumers', are never touched.
 */
import { KongError } from '../../kong/kong-errors.ts';
import type { KongPlugin } from '../../kong/kong-types.ts';
import { RATE_WINDOWS, type Plan } from '../../shared/plans.ts';
import type { RateLimitSettings } from './rate-limit-settings.ts';
import type { DeveloperPlugins } from './kong-access.ts';
import { errorFields, type ProvisionLogger } from '../../shared/provision-log.ts';

export const RATE_LIMIT_TAGS = ['kong-portal-monetization', 'kpm-rate-limit'] as const;
const RATE_LIMIT_PLUGIN = 'rate-limiting';
/** Every window Kong's plugin has: the ones the plan does not set must be empty on ours. */
const KONG_WINDOWS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const;

export type RateLimitChange = 'created' | 'updated' | 'removed' | 'unchanged' | 'conflict' | 'failed';

type Rate = NonNullable<NonNullable<Plan['limits']>['rate']>;

/** The config we own on the plugin; a window the plan does not set is null (PATCH clears it). */
export function rateLimitConfig(rate: Rate, settings: RateLimitSettings): Record<string, unknown> {
  const config: Record<string, unknown> = { limit_by: 'consumer', policy: settings.policy, fault_tolerant: true, hide_client_headers: false };
  for (const window of KONG_WINDOWS) config[window] = (RATE_WINDOWS as readonly string[]).includes(window) ? (rate[window as keyof Rate] ?? null) : null;
  const redis = settings.redis;
  if (settings.policy === 'redis' && redis) {
    Object.assign(config, { redis_host: redis.host, redis_port: redis.port, redis_database: redis.database, redis_ssl: redis.ssl, redis_ssl_verify: redis.ssl });
    if (redis.username) config.redis_username = redis.username;
    if (redis.password) config.redis_password = redis.password;
  }
  return config;
}

const isOurs = (plugin: KongPlugin) => plugin.name === RATE_LIMIT_PLUGIN && RATE_LIMIT_TAGS.every((tag) => plugin.tags?.includes(tag));

/** Whether the plugin Kong holds says what we want (Kong fills every other field with its default). */
function matches(plugin: KongPlugin, wanted: Record<string, unknown>): boolean {
  if (plugin.enabled === false) return false;
  // The password is not compared: what Kong answers for it is not promised to be the value sent.
  return Object.entries(wanted).every(([key, value]) => key === 'redis_password' || (plugin.config[key] ?? null) === value);
}

/**
 * Converges the developer's rate-limit plugin to `rate` (undefined: none). `listed` is the
 * developer's plugins when the caller already read them.
 */
export async function applyRateLimit(
  kong: DeveloperPlugins,
  developerId: string,
  rate: Rate | undefined,
  settings: RateLimitSettings,
  listed?: KongPlugin[],
): Promise<RateLimitChange> {
  const ours = (listed ?? (await kong.listDeveloperPlugins(developerId, { tags: [...RATE_LIMIT_TAGS] }))).filter(isOurs);
  if (!rate) {
    for (const plugin of ours) await kong.deleteDeveloperPlugin(developerId, plugin.id);
    return ours.length ? 'removed' : 'unchanged';
  }
  const wanted = rateLimitConfig(rate, settings);
  // An enabled one is kept and patched; a disabled one (an admin's edit) is replaced: the port patches config only.
  const keep = ours.find((plugin) => plugin.enabled !== false);
  for (const plugin of ours) if (plugin !== keep) await kong.deleteDeveloperPlugin(developerId, plugin.id);
  if (keep) {
    if (matches(keep, wanted)) return ours.length > 1 ? 'updated' : 'unchanged';
    await kong.updateDeveloperPlugin(developerId, keep.id, { config: wanted });
    return 'updated';
  }
  return createRateLimit(kong, developerId, wanted);
}

/**
 * Kong allows one plugin of a name per consumer. A conflict with ours (another sync created it a
 * moment ago) adopts it; a conflict with someone else's leaves theirs alone and says so.
 */
async function createRateLimit(kong: DeveloperPlugins, developerId: string, wanted: Record<string, unknown>): Promise<RateLimitChange> {
  let created: KongPlugin | undefined;
  try {
    created = await kong.createDeveloperPlugin(developerId, { name: RATE_LIMIT_PLUGIN, config: wanted, tags: [...RATE_LIMIT_TAGS] });
  } catch (error) {
    if (!(error instanceof KongError && error.code === 'kong_conflict')) throw error;
  }
  // The hosted port answers a conflict with the plugin already there.
  if (created && isOurs(created)) return 'created';
  const [existing] = (await kong.listDeveloperPlugins(developerId, { tags: [...RATE_LIMIT_TAGS] })).filter(isOurs);
  if (!existing) return 'conflict';
  if (!matches(existing, wanted)) await kong.updateDeveloperPlugin(developerId, existing.id, { config: wanted });
  return 'created';
}

/**
 * applyRateLimit inside the access sync: a rate limit Kong refuses (e.g. RATE_LIMIT_POLICY=cluster
 * on a DB-less node) is logged as an error and left to the next sync, never failing the payment
 * decision or the signup around it. A write decided from a stale snapshot still propagates (the
 * sync re-reads and tries again).
 */
export async function applyRateLimitOrLog(
  kong: DeveloperPlugins,
  developerId: string,
  rate: Rate | undefined,
  settings: RateLimitSettings,
  listed: KongPlugin[] | undefined,
  logger: ProvisionLogger,
): Promise<RateLimitChange> {
  try {
    const change = await applyRateLimit(kong, developerId, rate, settings, listed);
    if (change === 'conflict') logger.warn({ event: 'rate_limit_conflict', developer_id: developerId, detail: "another rate-limiting plugin is on this consumer; the plan's rate limit is not applied" });
    return change;
  } catch (error) {
    if (!(error instanceof KongError)) throw error;
    logger.error({ event: 'rate_limit_failed', developer_id: developerId, ...errorFields(error) });
    return 'failed';
  }
}
