/**
 * Validation of plugin writes as Kong's schemas answer them: known plugin names, tags, and the
 * `request-termination` config. Where Kong's schema gives a default we are stricter on purpose:
 * `status_code` must be given (the product must say which status it blocks with).
 */
import type { StoredPlugin } from './kong-state.ts';

/** Plugins this emulator knows; any other name is refused as "not enabled", as Kong does. */
export const KNOWN_PLUGINS = new Set(['key-auth', 'moesif', 'request-termination', 'rate-limiting', 'acl']);
export const MAX_TAG_QUERY = 5;

export type FieldErrors = Record<string, unknown>;

export function tagsError(tags: unknown): string | undefined {
  if (tags === undefined || tags === null) return undefined;
  if (!Array.isArray(tags)) return 'expected a set';
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag === '') return 'expected a non-empty string';
    if (/[,/\s]/.test(tag)) return 'invalid tag: it must not contain commas, slashes or spaces';
  }
  return undefined;
}

function requestTerminationErrors(config: Record<string, unknown>): FieldErrors | undefined {
  const errors: FieldErrors = {};
  const status = config.status_code;
  if (status === undefined || status === null) errors.status_code = 'required field missing';
  else if (!Number.isInteger(status) || (status as number) < 100 || (status as number) > 599) errors.status_code = 'value should be between 100 and 599';
  for (const key of ['message', 'body', 'content_type'] as const)
    if (config[key] !== undefined && config[key] !== null && typeof config[key] !== 'string') errors[key] = 'expected a string';
  if (typeof config.message === 'string' && typeof config.body === 'string') errors.message = 'only one of these fields can be set: message, body';
  return Object.keys(errors).length > 0 ? errors : undefined;
}

/** Field errors of a whole plugin (after a PATCH has been merged), or undefined when valid. */
export function pluginErrors(plugin: { name?: unknown; config?: unknown; tags?: unknown; enabled?: unknown }): FieldErrors | undefined {
  const errors: FieldErrors = {};
  if (typeof plugin.name !== 'string' || plugin.name === '') errors.name = 'required field missing';
  else if (!KNOWN_PLUGINS.has(plugin.name)) errors.name = `plugin '${plugin.name}' not enabled; add it to the 'plugins' configuration property`;
  const tags = tagsError(plugin.tags);
  if (tags) errors.tags = tags;
  if (plugin.enabled !== undefined && typeof plugin.enabled !== 'boolean') errors.enabled = 'expected a boolean';
  const config = plugin.config ?? {};
  if (typeof config !== 'object' || Array.isArray(config)) errors.config = 'expected a record';
  else if (plugin.name === 'request-termination') {
    const configErrors = requestTerminationErrors(config as Record<string, unknown>);
    if (configErrors) errors.config = configErrors;
  }
  return Object.keys(errors).length > 0 ? errors : undefined;
}

/** `?tags=a,b` (all of) or `?tags=a/b` (any of); at most 5; never both separators. */
export function parseTagQuery(query: string | undefined): { mode: 'and' | 'or'; tags: string[] } | { error: string } | undefined {
  if (query === undefined || query === '') return undefined;
  if (query.includes(',') && query.includes('/')) return { error: 'invalid option (tags: invalid filter syntax)' };
  const mode = query.includes('/') ? 'or' : 'and';
  const tags = query.split(mode === 'or' ? '/' : ',');
  if (tags.length > MAX_TAG_QUERY) return { error: `invalid option (tags: cannot query more than ${MAX_TAG_QUERY} tags)` };
  if (tags.some((tag) => tag === '')) return { error: 'invalid option (tags: invalid filter syntax)' };
  return { mode, tags };
}

export function matchesTags(plugin: { tags?: string[] | null }, filter: { mode: 'and' | 'or'; tags: string[] } | undefined): boolean {
  if (!filter) return true;
  const own = new Set(plugin.tags ?? []);
  return filter.mode === 'and' ? filter.tags.every((t) => own.has(t)) : filter.tags.some((t) => own.has(t));
}

/** Kong merges a PATCH's nested records (config) into the stored ones; other fields replace. */
export function mergePluginPatch(existing: StoredPlugin, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...existing, ...patch };
  if (patch.config && typeof patch.config === 'object' && !Array.isArray(patch.config)) merged.config = { ...existing.config, ...(patch.config as Record<string, unknown>) };
  return merged;
}
