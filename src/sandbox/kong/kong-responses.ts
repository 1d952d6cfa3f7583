/**
 * Kong's answer shapes shared by the emulator's apps: error bodies (schema violation, unique
 * violation, not found), cursor pagination with `next`, and request-body parsing (Kong takes
 * JSON, form-encoded and multipart bodies alike).
 */
import type { Context } from 'hono';

/** Kong's error codes (kong/db/errors.lua). */
export const KONG_ERROR_CODES = { schemaViolation: 2, uniqueViolation: 5, invalidOffset: 7, invalidSize: 11 } as const;

export function notFound(c: Context): Response {
  return c.json({ message: 'Not Found' }, 404);
}

/** Kong's schema-violation body: one message summing up every field error. */
export function schemaViolation(c: Context, fields: Record<string, unknown>): Response {
  const parts = flattenFieldErrors(fields);
  const count = parts.length;
  const message = `${count === 1 ? 'schema violation' : `${count} schema violations`} (${parts.join('; ')})`;
  return c.json({ message, name: 'schema violation', fields, code: KONG_ERROR_CODES.schemaViolation }, 400);
}

function flattenFieldErrors(fields: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value && typeof value === 'object') out.push(...flattenFieldErrors(value as Record<string, unknown>, `${prefix}${key}.`));
    else out.push(`${prefix}${key}: ${String(value)}`);
  }
  return out;
}

/** Kong's unique-violation body, e.g. UNIQUE violation detected on '{email="a@b.c"}'. */
export function uniqueViolation(c: Context, fields: Record<string, string>): Response {
  const described = Object.entries(fields)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(',');
  return c.json({ message: `UNIQUE violation detected on '{${described}}'`, name: 'unique constraint violation', fields, code: KONG_ERROR_CODES.uniqueViolation }, 409);
}

export interface PageRequest {
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

export interface CorePage<V> {
  data: V[];
  next: string | null;
  offset?: string;
}

/**
 * A page of a core entity (consumers, plugins, routes, services, event hooks) as Kong 3.4's
 * kong/api/endpoints.lua builds it: `offset` opaque, and `next` = `/<entity>?offset=…` plus
 * `&size=…` when the client gave one and `&tags=…` when it filtered: NO workspace prefix, no
 * host and no other query, even on nested routes (`/developers/x/plugins` pages to `/plugins?…`).
 */
export function paginateCore<T extends { seq: number }, V>(c: Context, entity: string, items: Iterable<T>, request: PageRequest, view: (item: T) => V): CorePage<V> | Response {
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
  const tags = c.req.query('tags');
  const next = `/${entity}?offset=${encodeURIComponent(offset)}${request.sizeGiven ? `&size=${request.size}` : ''}${tags ? `&tags=${encodeURIComponent(tags)}` : ''}`;
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
