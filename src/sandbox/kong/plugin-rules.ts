/**
 * Validation of plugin writes as Kong's plugins entity answers them: known plugin names, unknown
 * top-level fields, tags, scoping, and each plugin's config schema (plugin-schemas.ts), with the
 * config Kong stores (defaults filled in).
 */
import type { StoredPlugin } from './kong-state.ts';
import { checkConfig, PLUGIN_ENTITY_FIELDS, PLUGIN_SCHEMAS } from './plugin-schemas.ts';

const MAX_TAG_QUERY = 5;

type FieldErrors = Record<string, unknown>;

function tagsError(tags: unknown): string | undefined {
  if (tags === undefined || tags === null) return undefined;
  if (!Array.isArray(tags)) return 'expected a set';
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag === '') return 'expected a non-empty string';
    if (/[,/\s]/.test(tag)) return 'invalid tag: it must not contain commas, slashes or spaces';
  }
  return undefined;
}

interface PluginCheck {
  errors?: FieldErrors;
  /** The config as Kong stores it: the given one with the schema's defaults. */
  config: Record<string, unknown>;
}

/**
 * Field errors of a whole plugin (after a PATCH has been merged) and its stored config.
 * `form`: the body was form-encoded (Kong then infers numbers and booleans from the schema).
 */
export function checkPlugin(plugin: Record<string, unknown>, form = false): PluginCheck {
  const given = plugin.config ?? {};
  const name = plugin.name;
  // Kong picks the plugin's schema by name first; without one it answers only that.
  if (typeof name !== 'string' || name === '') return { errors: { name: 'required field missing' }, config: {} };
  const schema = PLUGIN_SCHEMAS[name];
  if (!schema) return { errors: { name: `plugin '${name}' not enabled; add it to the 'plugins' configuration property` }, config: {} };
  const errors: FieldErrors = {};
  for (const key of Object.keys(plugin)) if (!PLUGIN_ENTITY_FIELDS.has(key)) errors[key] = 'unknown field';
  const tags = tagsError(plugin.tags);
  if (tags) errors.tags = tags;
  if (plugin.enabled !== undefined && typeof plugin.enabled !== 'boolean') errors.enabled = 'expected a boolean';
  if (typeof given !== 'object' || Array.isArray(given) || given === null) return { errors: { ...errors, config: 'expected a record' }, config: {} };
  if (schema === 'unchecked') return { ...(Object.keys(errors).length > 0 ? { errors } : {}), config: { ...(given as Record<string, unknown>) } };
  const consumer = plugin.consumer as { id?: unknown } | null | undefined;
  if (schema.noConsumer && consumer && consumer.id !== undefined && consumer.id !== null) errors.consumer = 'value must be null';
  const checked = checkConfig(schema, given as Record<string, unknown>, form);
  if (checked.configError) errors.config = checked.configError;
  if (checked.entityErrors.length > 0) errors['@entity'] = checked.entityErrors;
  return { ...(Object.keys(errors).length > 0 ? { errors } : {}), config: checked.config };
}

/** `?tags=a,b` (all of) or `?tags=a/b` (any of); at most 5; never both separators. */
export function parseTagQuery(query: string | undefined): { mode: 'and' | 'or'; tags: string[] } | { error: string } | undefined {
  if (query === undefined || query === '') return undefined;
  if (query.includes(',') && query.includes('/')) return { error: 'invalid filter syntax' };
  const mode = query.includes('/') ? 'or' : 'and';
  const tags = query.split(mode === 'or' ? '/' : ',');
  if (tags.length > MAX_TAG_QUERY) return { error: `cannot query more than ${MAX_TAG_QUERY} tags` };
  if (tags.some((tag) => tag === '')) return { error: 'invalid filter syntax' };
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
