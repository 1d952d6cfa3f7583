/**
 * Access at Kong follows the decision: a refused developer's consumer gets one consumer-scoped
 * `request-termination` plugin answering 402 (429 for a quota reached) with a JSON message; an
 * allowed one gets none.
 * Developer consumers are hidden from /consumers in Kong Enterprise, so the plugin is reached
 * through /{ws}/developers/{id}/plugins. Our plugins carry ACCESS_TAGS, so we find and remove
 * exactly our own and never touch another plugin or consumer. Applying is idempotent: it
 * compares what is there with what should be and changes only the difference.
 */
import { KongError } from '../../kong/kong-errors.ts';
import type { KongPlugin } from '../../kong/kong-types.ts';
import { refusalStatus, type AccessDecision } from './access-decision.ts';

/** Every access block we create carries both tags; we list by them and delete only those. */
export const ACCESS_TAGS = ['kong-portal-monetization', 'kpm-access'] as const;
export const ACCESS_STATUS_CODE = 402;

export interface DeveloperPlugins {
  listDeveloperPlugins(developerId: string, options: { tags: string[] }): Promise<KongPlugin[]>;
  createDeveloperPlugin(developerId: string, plugin: { name: string; config: Record<string, unknown>; tags: string[] }): Promise<KongPlugin>;
  updateDeveloperPlugin(developerId: string, pluginId: string, patch: { config: Record<string, unknown> }): Promise<KongPlugin>;
  deleteDeveloperPlugin(developerId: string, pluginId: string): Promise<void>;
  /** Who applies a plan's `limits.rate`: Kong's rate-limiting plugin on the developer (absent, 'plugin'), or the gateway's own plans ('gateway': AWS usage plans). */
  readonly planRateLimits?: 'plugin' | 'gateway';
}

export type AccessChange = 'blocked' | 'unblocked' | 'updated' | 'unchanged';

function blockConfig(message: string, status: number = ACCESS_STATUS_CODE): Record<string, unknown> {
  return { status_code: status, message };
}

const isOurs = (plugin: KongPlugin) => plugin.name === 'request-termination' && ACCESS_TAGS.every((tag) => (plugin as { tags?: string[] | null }).tags?.includes(tag));

/**
 * Creates the block. Kong allows one plugin of a name per consumer: a 409 means another sync (a
 * webhook for the same developer at the same moment) blocked first, so theirs is adopted, made to
 * say this message, as the hosted mode's consumer directory does.
 */
async function createBlock(kong: DeveloperPlugins, developerId: string, wanted: Record<string, unknown>): Promise<AccessChange> {
  try {
    await kong.createDeveloperPlugin(developerId, { name: 'request-termination', config: wanted, tags: [...ACCESS_TAGS] });
    return 'blocked';
  } catch (error) {
    if (!(error instanceof KongError && error.code === 'kong_conflict')) throw error;
    const [existing] = (await kong.listDeveloperPlugins(developerId, { tags: [...ACCESS_TAGS] })).filter(isOurs);
    // Someone else's request-termination (not ours to change): the conflict stands.
    if (!existing) throw error;
    if (existing.config.message !== wanted.message || existing.config.status_code !== wanted.status_code)
      await kong.updateDeveloperPlugin(developerId, existing.id, { config: wanted });
    return 'blocked';
  }
}

/** `listed`: the developer's plugins when the caller already read them (one listing serves every plugin of ours). */
export async function applyAccess(kong: DeveloperPlugins, developerId: string, decision: AccessDecision, message: string, listed?: KongPlugin[]): Promise<AccessChange> {
  const ours = (listed ?? (await kong.listDeveloperPlugins(developerId, { tags: [...ACCESS_TAGS] }))).filter(isOurs);
  if (decision.access !== 'refused') {
    for (const plugin of ours) await kong.deleteDeveloperPlugin(developerId, plugin.id);
    return ours.length ? 'unblocked' : 'unchanged';
  }
  const wanted = blockConfig(message, refusalStatus(decision));
  const [keep, ...extra] = ours;
  // Two processes blocking at once can leave two plugins; both refuse, and this removes the spare.
  for (const plugin of extra) await kong.deleteDeveloperPlugin(developerId, plugin.id);
  if (!keep) return createBlock(kong, developerId, wanted);
  const same = keep.config.status_code === wanted.status_code && keep.config.message === wanted.message;
  if (same) return extra.length ? 'updated' : 'unchanged';
  await kong.updateDeveloperPlugin(developerId, keep.id, { config: wanted });
  return 'updated';
}
