/**
 * Stripe's request encoding: application/x-www-form-urlencoded (or a query string) with
 * bracketed keys, as stripe-node writes them: `items[0][price]=price_1`, `expand[]=data.tiers`,
 * `metadata[plan]=pro`. Decodes into nested objects; indexed keys stay objects keyed "0", "1"...
 * and the parameter schemas turn them into arrays, so `metadata[0]` stays a metadata key.
 */
export type FormValue = string | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

/** The body could not be decoded; `param` is the offending key. */
export class FormEncodingError extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
    this.name = 'FormEncodingError';
  }
}

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** Splits `a[b][0][]` into ['a', 'b', '0', '']. */
function keySegments(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const segments = [key.slice(0, open)];
  const rest = key.slice(open);
  const pattern = /\[([^[\]]*)\]/g;
  let consumed = 0;
  for (let match = pattern.exec(rest); match; match = pattern.exec(rest)) {
    if (match.index !== consumed) throw new FormEncodingError(`Invalid parameter name: ${key}`, key);
    segments.push(match[1] ?? '');
    consumed = pattern.lastIndex;
  }
  if (consumed !== rest.length) throw new FormEncodingError(`Invalid parameter name: ${key}`, key);
  return segments;
}

export function decodeForm(encoded: string | URLSearchParams): FormObject {
  const pairs = typeof encoded === 'string' ? new URLSearchParams(encoded) : encoded;
  const root: FormObject = {};
  for (const [key, value] of pairs) {
    const segments = keySegments(key);
    let node: FormObject = root;
    segments.forEach((segment, index) => {
      if (FORBIDDEN_SEGMENTS.has(segment)) throw new FormEncodingError(`Invalid parameter name: ${key}`, key);
      // `a[]` appends: the next free index.
      const name = segment === '' && index > 0 ? String(Object.keys(node).length) : segment;
      const last = index === segments.length - 1;
      const existing = node[name];
      if (last) {
        if (typeof existing === 'object') throw new FormEncodingError(`Invalid hash: ${key} is given both as a value and as a hash`, key);
        node[name] = value;
        return;
      }
      if (typeof existing === 'string') throw new FormEncodingError(`Invalid hash: ${key} is given both as a value and as a hash`, key);
      const child: FormObject = existing ?? {};
      node[name] = child;
      node = child;
    });
  }
  return root;
}

/** Encodes nested values the way stripe-node does (used by tests and the sandbox's own calls). */
export function encodeForm(data: Record<string, unknown>): string {
  const pairs: string[] = [];
  const add = (key: string, value: unknown): void => {
    if (value === undefined) return;
    if (value === null || typeof value !== 'object') {
      pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(value === null ? '' : String(value))}`);
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => add(`${key}[${i}]`, item));
    } else {
      for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v);
    }
  };
  for (const [key, value] of Object.entries(data)) add(key, value);
  return pairs.join('&');
}

/** Stripe's way of writing a parameter path: items[0][price]. */
export function paramName(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  return (head ?? '') + rest.map((segment) => `[${segment}]`).join('');
}
