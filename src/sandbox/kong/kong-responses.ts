/**
 * Kong's answer shapes shared by the emulator's apps: error bodies (schema violation, unique
 * violation, not found), cursor pagination with `next`, and request-body parsing (Kong takes
 * JSON, form-encoded and multipart bodies alike).
 */
import type { Context } from 'hono';

/** Kong's error codes (kong/db/errors.lua, 3.4.2). */
const KONG_ERROR_CODES = { schemaViolation: 2, uniqueViolation: 5, invalidOffset: 7, invalidSize: 9, invalidOptions: 11 } as const;

/** The Enterprise portal routes' 404 (files, developers; portal off): "Not Found", as the brief records it. */
export function notFound(c: Context): Response {
  return c.json({ message: 'Not Found' }, 404);
}

/** The 404 of Kong's core-entity endpoints (endpoints.lua's not_found): "Not found", lower-case f. */
export function entityNotFound(c: Context): Response {
  return c.json({ message: 'Not found' }, 404);
}

const sortedKeys = (record: Record<string, unknown>) => Object.keys(record).sort();

/** Lua-table rendering as penlight's pretty.write(t, "") gives it in Kong's messages (keys sorted; unverified for mixed tables). */
function luaPretty(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `{${value.map(luaPretty).join(',')}}`;
  const record = value as Record<string, unknown>;
  return `{${sortedKeys(record)
    .map((key) => `${key}=${luaPretty(record[key])}`)
    .join(',')}}`;
}

/**
 * Kong's schema-violation body (errors.lua schema_violation): `@entity` messages first, then each
 * field in sorted order, one level of nesting spelled `parent.child: message`.
 */
export function schemaViolation(c: Context, fields: Record<string, unknown>): Response {
  const parts: string[] = [];
  const entity = fields['@entity'];
  if (Array.isArray(entity)) parts.push(...entity.map(String));
  for (const name of sortedKeys(fields)) {
    if (name === '@entity') continue;
    const value = fields[name];
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const nested = value as Record<string, unknown>;
      for (const sub of sortedKeys(nested)) parts.push(`${name}.${sub}: ${typeof nested[sub] === 'object' && nested[sub] !== null ? luaPretty(nested[sub]) : String(nested[sub])}`);
    } else parts.push(`${name}: ${String(value)}`);
  }
  const message = parts.length === 1 ? `schema violation (${parts[0]})` : `${parts.length} schema violations (${parts.join('; ')})`;
  return c.json({ message, name: 'schema violation', fields, code: KONG_ERROR_CODES.schemaViolation }, 400);
}

/** Kong's unique-violation body, e.g. UNIQUE violation detected on '{email="a@b.c"}'; `fields` are the unique key's values. */
export function uniqueViolation(c: Context, fields: Record<string, unknown>): Response {
  return c.json({ message: `UNIQUE violation detected on '${luaPretty(fields)}'`, name: 'unique constraint violation', fields, code: KONG_ERROR_CODES.uniqueViolation }, 409);
}

/** Kong's invalid-options body (errors.lua invalid_options): the errors go in `options`, not `fields`. */
export function invalidOptions(c: Context, options: Record<string, string>): Response {
  const parts = sortedKeys(options).map((key) => `${key}: ${options[key]}`);
  const message = parts.length === 1 ? `invalid option (${parts[0]})` : `${parts.length} option violations (${parts.join('; ')})`;
  return c.json({ message, name: 'invalid options', options, code: KONG_ERROR_CODES.invalidOptions }, 400);
}

interface PageRequest {
  size: number;
  /** Whether the client passed `size` (core entities echo it in `next` only then). */
  sizeGiven: boolean;
  /** The raw `offset` query value ('' = from the beginning); each pagination style reads it its own way. */
  offset: string;
}

/** Reads `size` (1..1000, default 100) and `offset`; answers Kong's 400 when `size` is bad. */
export function readPageRequest(c: Context): PageRequest | Response {
  const sizeText = c.req.query('size');
  let size = 100;
  if (sizeText !== undefined) {
    size = Number(sizeText);
    if (!Number.isInteger(size) || size < 1 || size > 1000)
      return c.json({ message: 'size must be an integer between 1 and 1000', name: 'invalid size', code: KONG_ERROR_CODES.invalidSize }, 400);
  }
  return { size, sizeGiven: sizeText !== undefined, offset: c.req.query('offset') ?? '' };
}

function invalidOffset(c: Context, offset: string): Response {
  return c.json({ message: `'${offset}' is not a valid offset: bad base64 encoding`, name: 'invalid offset', code: KONG_ERROR_CODES.invalidOffset }, 400);
}

/** Core-entity offsets are opaque to clients (Kong's are base64 of a JSON array); ours carry a sequence number. */
function encodeOffset(seq: number): string {
  return Buffer.from(JSON.stringify([seq])).toString('base64');
}

function decodeOffset(offset: string): number | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(offset, 'base64').toString('utf8'));
    return Array.isArray(value) && Number.isInteger(value[0]) && value[0] >= 0 ? (value[0] as number) : undefined;
  } catch {
    return undefined;
  }
}

interface CorePage<V> {
  data: V[];
  next: string | null;
  offset?: string;
}

/**
 * Where a core-entity list's `next` points, as kong/api/endpoints.lua (3.4.2) builds it:
 * a top-level list (`/plugins`) answers `/<entity>?offset=…` plus `&tags=…` when the client
 * filtered and `&size=…` when it gave one: NO workspace prefix, no host. A nested list
 * (`/consumers/{c}/plugins`) answers `/<parent>/<key as given>/<entity>?offset=…` with neither
 * tags nor size.
 */
export type CoreListRoute = { entity: string } | { nested: string };

export function paginateCore<T extends { seq: number }, V>(c: Context, route: CoreListRoute, items: Iterable<T>, request: PageRequest, view: (item: T) => V): CorePage<V> | Response {
  let after = 0;
  if (request.offset !== '') {
    const decoded = decodeOffset(request.offset);
    if (decoded === undefined) return invalidOffset(c, request.offset);
    after = decoded;
  }
  const page: T[] = [];
  let more = false;
  for (const item of items) {
    if (item.seq <= after) continue;
    if (page.length === request.size) {
      more = true;
      break;
    }
    page.push(item);
  }
  const last = page[page.length - 1];
  if (!more || !last) return { data: page.map(view), next: null };
  const offset = encodeOffset(last.seq);
  const escaped = encodeURIComponent(offset);
  if ('nested' in route) return { data: page.map(view), next: `${route.nested}?offset=${escaped}`, offset };
  const tags = c.req.query('tags');
  const next = `/${route.entity}?offset=${escaped}${tags ? `&tags=${encodeURIComponent(tags)}` : ''}${request.sizeGiven ? `&size=${c.req.query('size')}` : ''}`;
  return { data: page.map(view), next, offset };
}

/**
 * A page of an Enterprise portal list (`/files`, `/developers`): `offset` is the id of the first
 * row of the next page, `next` is the request's own path (with `/{ws}`) and query with that
 * offset, and `total` counts this page only. An offset naming no row is refused (400); Kong's
 * behaviour there is not documented, so we model the stricter case.
 */
export function paginatePortal<T extends { id: string }, V>(
  c: Context,
  items: Iterable<T>,
  request: PageRequest,
  view: (item: T) => V,
): { data: V[]; total: number; next: string | null; offset: string | null } | Response {
  const all = [...items];
  let start = 0;
  if (request.offset !== '') {
    start = all.findIndex((item) => item.id === request.offset);
    if (start < 0) return c.json({ message: `'${request.offset}' is not a valid offset`, name: 'invalid offset', code: KONG_ERROR_CODES.invalidOffset }, 400);
  }
  const page = all.slice(start, start + request.size);
  const following = all[start + request.size];
  if (!following) return { data: page.map(view), total: page.length, next: null, offset: null };
  const url = new URL(c.req.url);
  url.searchParams.set('offset', following.id);
  return { data: page.map(view), total: page.length, next: `${url.pathname}?${url.searchParams.toString()}`, offset: following.id };
}

/** Keeps only the `fields` a client asked for (`?fields=path,checksum`), as Kong's admin API does. */
export function selectFields<T extends object>(c: Context, item: T): Partial<T> {
  const fields = c.req.query('fields');
  if (!fields) return item;
  const wanted = new Set(fields.split(',').map((f) => f.trim()));
  return Object.fromEntries(Object.entries(item).filter(([key]) => wanted.has(key))) as Partial<T>;
}

/** The request body as a flat object: JSON, form-encoded or multipart. Undefined when unreadable. */
export async function readBody(c: Context): Promise<Record<string, unknown> | undefined> {
  const type = c.req.header('content-type') ?? '';
  try {
    if (type.includes('application/json')) {
      const text = await c.req.text();
      if (text.trim() === '') return {};
      const value: unknown = JSON.parse(text);
      return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    }
    if (type.includes('application/x-www-form-urlencoded') || type.includes('multipart/form-data')) {
      const form = await c.req.parseBody({ dot: true });
      return form as Record<string, unknown>;
    }
    const text = await c.req.text();
    if (text.trim() === '') return {};
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function badBody(c: Context): Response {
  return c.json({ message: 'Cannot parse request body' }, 400);
}
