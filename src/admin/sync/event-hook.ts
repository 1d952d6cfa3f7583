/**
 * `--event-hook`: exactly one Kong event hook (source crud, event developers, handler webhook)
 * posting to {provisioner}/kong/events with KONG_EVENT_HOOK_SECRET, so developers created without
 * the portal page (Kong Manager, the API) are provisioned too. A hook counts as ours when it has
 * that source/event/handler and its URL path ends in /kong/events.
 */
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import type { KongEventHook } from '../../kong/kong-types.ts';

const EVENT_HOOK_PATH = '/kong/events';

export type EventHookAction = 'created' | 'replaced' | 'unchanged' | 'removed';

export function eventHookUrl(provisionerUrl: string): string {
  return `${provisionerUrl.replace(/\/+$/, '')}${EVENT_HOOK_PATH}`;
}

export function isOurHook(hook: KongEventHook): boolean {
  if (hook.source !== 'crud' || hook.event !== 'developers' || hook.handler !== 'webhook' || typeof hook.config.url !== 'string') return false;
  try {
    return new URL(hook.config.url).pathname.replace(/\/+$/, '').endsWith(EVENT_HOOK_PATH);
  } catch {
    return false;
  }
}

interface EventHookResult {
  action: EventHookAction;
  /** Hooks deleted (wrong url/secret or duplicates). */
  deleted: number;
  writes: number;
}

/** Creates the right hook before deleting wrong ones, so developer events are never unwatched. */
export async function ensureEventHook(client: KongAdminClient, target: { url: string; secret: string }, dryRun: boolean): Promise<EventHookResult> {
  const ours = (await client.listEventHooks()).filter(isOurHook);
  const keep = ours.find((hook) => hook.config.url === target.url && hook.config.secret === target.secret);
  const stale = ours.filter((hook) => hook !== keep);
  if (keep && stale.length === 0) return { action: 'unchanged', deleted: 0, writes: 0 };
  let writes = 0;
  if (!dryRun) {
    if (!keep) {
      await client.createEventHook({ source: 'crud', event: 'developers', handler: 'webhook', config: { url: target.url, secret: target.secret } });
      writes++;
    }
    for (const hook of stale) {
      await client.deleteEventHook(hook.id);
      writes++;
    }
  }
  return { action: !keep && stale.length === 0 ? 'created' : 'replaced', deleted: stale.length, writes };
}

export async function removeEventHooks(client: KongAdminClient, dryRun: boolean): Promise<EventHookResult> {
  const ours = (await client.listEventHooks()).filter(isOurHook);
  if (!dryRun) for (const hook of ours) await client.deleteEventHook(hook.id);
  return { action: ours.length ? 'removed' : 'unchanged', deleted: ours.length, writes: dryRun ? 0 : ours.length };
}
