/**
 * The Moesif emulator's Management API, the two endpoints the usage reporter reads:
 * `POST /v1/search/~/search/events` and `POST /v1/search/~/count/events`.
 *
 * What is known (Moesif's published OpenAPI "Management Metrics API", operationIds searchEvents and
 * countEvents, and its API reference "Filtering" section): base https://api.moesif.com/v1,
 * `Authorization: Bearer <management token>` with scope read:events, required `from` and `to`
 * query parameters (absolute ISO times or relative like -24h / now), a body in the Elasticsearch
 * query DSL ("supports the majority of the Elasticsearch/OpenSearch search DSL"), a search answer of
 * 201 `{took, timed_out, hits: {total, hits: [{_id, _source}]}}`, and count pointing at
 * Elasticsearch's count API (`{count}`).
 *
 * What is not documented and is modelled as Elasticsearch does it (the stricter reading): the
 * `aggregations` answer (composite buckets `{key, doc_count}` with `after_key` for paging,
 * date_histogram buckets `{key, key_as_string, doc_count}`) and the field names (`company_id.raw`,
 * `user_id.raw` keyword sub-fields, `response.status`, `request.time`). Only the subset the reporter
 * uses is understood; anything else is refused with 400 naming it, never silently ignored.
 *
 * Ingestion lag: an event becomes searchable `ingestionLagMs` after Moesif received it.
 */
import type { MoesifEvent, MoesifStore } from './moesif-store.ts';

export class ManagementQueryError extends Error {
  constructor(message: string) {
    super(message);
  }
}

type Json = unknown;
type Filter = (event: IndexedEvent) => boolean;

interface IndexedEvent {
  event: MoesifEvent;
  time: number;
  companyId: string | undefined;
}

const RELATIVE = /^([+-]?)(\d+)([smhdwM])$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000 };

/** A `from`/`to` value: absolute ISO time, `now`, or relative like -24h (Moesif's documented forms). */
export function parseMoesifTime(value: string | undefined, name: string, now: number): number {
  if (value === undefined || value === '') throw new ManagementQueryError(`the ${name} query parameter is required`);
  if (value === 'now') return now;
  const relative = RELATIVE.exec(value);
  if (relative) return now + (relative[1] === '-' ? -1 : 1) * Number(relative[2]) * (UNIT_MS[relative[3] as string] as number);
  const absolute = Date.parse(value);
  if (Number.isNaN(absolute)) throw new ManagementQueryError(`${name} is not a date: use an ISO time (2019-07-01T00:00:00Z), now, or a relative date like -24h`);
  return absolute;
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fieldValue(entry: IndexedEvent, field: string): string | number | undefined {
  switch (field) {
    case 'company_id.raw':
    case 'company_id':
      return entry.companyId;
    case 'user_id.raw':
    case 'user_id':
      return entry.event.user_id ?? undefined;
    case 'response.status': {
      const status = entry.event.response?.status;
      return typeof status === 'number' ? status : undefined;
    }
    case 'request.time':
      return entry.time;
    default:
      throw new ManagementQueryError(`field "${field}" is not modelled by the Moesif emulator`);
  }
}

function rangeFilter(body: Json): Filter {
  if (!isObject(body)) throw new ManagementQueryError('range: expected {field: {gte, lte, gt, lt}}');
  const [field, bounds] = Object.entries(body)[0] ?? [];
  if (!field || !isObject(bounds)) throw new ManagementQueryError('range: expected {field: {gte, lte, gt, lt}}');
  const bound = (name: string) => (bounds[name] === undefined ? undefined : Number(bounds[name]));
  const [gte, lte, gt, lt] = [bound('gte'), bound('lte'), bound('gt'), bound('lt')];
  return (entry) => {
    const value = fieldValue(entry, field);
    if (typeof value !== 'number') return false;
    return (gte === undefined || value >= gte) && (lte === undefined || value <= lte) && (gt === undefined || value > gt) && (lt === undefined || value < lt);
  };
}

function termsFilter(body: Json, single: boolean): Filter {
  if (!isObject(body)) throw new ManagementQueryError('terms: expected {field: [values]}');
  const [field, raw] = Object.entries(body)[0] ?? [];
  if (!field) throw new ManagementQueryError('terms: expected {field: [values]}');
  const values = single ? [isObject(raw) ? raw.value : raw] : raw;
  if (!Array.isArray(values)) throw new ManagementQueryError(`terms on ${field}: expected an array of values`);
  const allowed = new Set(values.map(String));
  return (entry) => {
    const value = fieldValue(entry, field);
    return value !== undefined && allowed.has(String(value));
  };
}

function clause(body: Json): Filter {
  if (!isObject(body)) throw new ManagementQueryError('a query clause must be an object');
  const [kind, inner] = Object.entries(body)[0] ?? [];
  switch (kind) {
    case 'range':
      return rangeFilter(inner);
    case 'terms':
      return termsFilter(inner, false);
    case 'term':
      return termsFilter(inner, true);
    case 'exists': {
      const field = isObject(inner) ? String(inner.field) : '';
      return (entry) => fieldValue(entry, field) !== undefined;
    }
    case 'bool':
      return boolFilter(inner);
    case 'match_all':
      return () => true;
    default:
      throw new ManagementQueryError(`query clause "${kind}" is not modelled by the Moesif emulator`);
  }
}

function clauses(value: Json): Filter[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(clause);
}

function boolFilter(body: Json): Filter {
  if (!isObject(body)) throw new ManagementQueryError('bool: expected an object');
  for (const key of Object.keys(body))
    if (!['filter', 'must', 'must_not', 'should'].includes(key)) throw new ManagementQueryError(`bool.${key} is not modelled by the Moesif emulator`);
  const all = [...clauses(body.filter), ...clauses(body.must)];
  const none = clauses(body.must_not);
  const any = clauses(body.should);
  return (entry) => all.every((f) => f(entry)) && !none.some((f) => f(entry)) && (any.length === 0 || any.some((f) => f(entry)));
}

/** The events a query sees: searchable (past the ingestion lag), inside [from, to), matching `query`. */
function matchingEvents(store: MoesifStore, companyOf: (event: MoesifEvent) => string | undefined, options: { from: number; to: number; now: number; ingestionLagMs: number; query: Json }): IndexedEvent[] {
  const filter = options.query === undefined ? () => true : clause(options.query);
  const matches: IndexedEvent[] = [];
  for (const event of store.events) {
    if (Date.parse(event.received_at) + options.ingestionLagMs > options.now) continue;
    const time = Date.parse(String(event.request.time));
    if (!(time >= options.from && time < options.to)) continue;
    const entry: IndexedEvent = { event, time, companyId: companyOf(event) };
    if (filter(entry)) matches.push(entry);
  }
  return matches;
}

function compositeAggregation(entries: IndexedEvent[], body: Record<string, Json>): Json {
  const sources = body.sources;
  if (!Array.isArray(sources) || sources.length !== 1 || !isObject(sources[0])) throw new ManagementQueryError('composite: exactly one terms source is modelled');
  const [name, source] = Object.entries(sources[0])[0] ?? [];
  if (!name || !isObject(source) || !isObject(source.terms)) throw new ManagementQueryError('composite: the source must be {name: {terms: {field}}}');
  const field = String(source.terms.field);
  const size = Math.min(Number(body.size ?? 10), 10_000);
  if (!Number.isInteger(size) || size < 1) throw new ManagementQueryError('composite.size must be a positive integer');
  const after = isObject(body.after) ? String(body.after[name]) : undefined;
  const counts = new Map<string, number>();
  for (const entry of entries) {
    const value = fieldValue(entry, field);
    if (value !== undefined) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
  }
  const keys = [...counts.keys()].sort().filter((key) => after === undefined || key > after);
  const page = keys.slice(0, size);
  const buckets = page.map((key) => ({ key: { [name]: key }, doc_count: counts.get(key) ?? 0 }));
  const last = page[page.length - 1];
  return last === undefined ? { buckets } : { after_key: { [name]: last }, buckets };
}

function dateHistogram(entries: IndexedEvent[], body: Record<string, Json>): Json {
  if (body.field !== 'request.time') throw new ManagementQueryError('date_histogram: only field request.time is modelled');
  const interval = /^(\d+)([mhd])$/.exec(String(body.fixed_interval ?? ''));
  if (!interval) throw new ManagementQueryError('date_histogram: fixed_interval like 1h, 30m or 1d is required');
  const step = Number(interval[1]) * (UNIT_MS[interval[2] as string] as number);
  const counts = new Map<number, number>();
  for (const entry of entries) {
    const key = Math.floor(entry.time / step) * step;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const buckets = [...counts.entries()].sort(([a], [b]) => a - b).map(([key, count]) => ({ key, key_as_string: new Date(key).toISOString(), doc_count: count }));
  return { buckets };
}

function aggregations(entries: IndexedEvent[], aggs: Json): Record<string, Json> {
  if (!isObject(aggs)) throw new ManagementQueryError('aggs must be an object');
  const result: Record<string, Json> = {};
  for (const [name, definition] of Object.entries(aggs)) {
    if (!isObject(definition)) throw new ManagementQueryError(`aggs.${name} must be an object`);
    if (isObject(definition.composite)) result[name] = compositeAggregation(entries, definition.composite);
    else if (isObject(definition.date_histogram)) result[name] = dateHistogram(entries, definition.date_histogram);
    else throw new ManagementQueryError(`aggs.${name}: only composite and date_histogram are modelled by the Moesif emulator`);
  }
  return result;
}

interface ManagementSearch {
  from: number;
  to: number;
  now: number;
  ingestionLagMs: number;
  body: Json;
}

/** searchEvents: hits (at most `size`, default 10) and the aggregations asked for. */
export function searchEvents(store: MoesifStore, companyOf: (event: MoesifEvent) => string | undefined, search: ManagementSearch): Json {
  const body = isObject(search.body) ? search.body : {};
  const entries = matchingEvents(store, companyOf, { ...search, query: body.query });
  const size = Number(body.size ?? 10);
  if (!Number.isInteger(size) || size < 0 || size > 10_000) throw new ManagementQueryError('size must be an integer from 0 to 10000');
  const hits = entries.slice(0, size).map((entry) => ({ _id: `evt_${entry.event.seq}`, _source: { ...entry.event.raw, company_id: entry.companyId ?? '' } }));
  const answer: Record<string, Json> = { took: 1, timed_out: false, hits: { total: entries.length, hits } };
  if (body.aggs !== undefined || body.aggregations !== undefined) answer.aggregations = aggregations(entries, body.aggs ?? body.aggregations);
  return answer;
}

/** countEvents: Elasticsearch's count answer. */
export function countEvents(store: MoesifStore, companyOf: (event: MoesifEvent) => string | undefined, search: ManagementSearch): Json {
  const body = isObject(search.body) ? search.body : {};
  return { count: matchingEvents(store, companyOf, { ...search, query: body.query }).length };
}
