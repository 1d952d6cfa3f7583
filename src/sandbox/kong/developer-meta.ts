/** A developer's `meta` as the portal API takes it: a JSON object string, checked against the workspace's meta fields. */
import type { MetaFieldDefinition } from './kong-records.ts';

export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The meta object, or an error message when `meta` is not a JSON object string. */
export function parseMeta(raw: unknown): Record<string, unknown> | string {
  if (raw === undefined || raw === '') return {};
  if (typeof raw !== 'string') return 'expected a string';
  try {
    const value: unknown = JSON.parse(raw);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : 'expected a JSON object';
  } catch {
    return 'invalid JSON';
  }
}

/** Field errors keyed by meta field title: required fields present, no unknown keys. */
export function validateMeta(meta: Record<string, unknown>, definitions: MetaFieldDefinition[]): Record<string, string> | undefined {
  const errors: Record<string, string> = {};
  const known = new Map(definitions.map((d) => [d.title, d]));
  for (const definition of definitions) {
    const value = meta[definition.title];
    const required = definition.validator?.required === true;
    if (required && (value === undefined || value === null || (typeof value === 'string' && value.trim() === ''))) errors[definition.title] = 'required field missing';
    else if (value !== undefined && definition.validator?.type === 'string' && typeof value !== 'string') errors[definition.title] = 'expected a string';
  }
  for (const key of Object.keys(meta)) if (!known.has(key)) errors[key] = 'unknown field';
  return Object.keys(errors).length > 0 ? errors : undefined;
}

