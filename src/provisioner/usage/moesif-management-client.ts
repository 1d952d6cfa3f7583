/**
 * Moesif Management API client for the usage reporter: billable call counts per company.
 *
 * From Moesif's published OpenAPI ("Management Metrics API": operationIds searchEvents,
 * countEvents) and its API reference: base https://api.moesif.com/v1, `POST
 * /search/~/search/events` and `POST /search/~/count/events`, `Authorization: Bearer <management
 * token>` with scope `read:events`, required `from`/`to` query parameters (ISO times), a JSON body
 * in the Elasticsearch query DSL; search answers 201 `{took, timed_out, hits: {total, hits}}`.
 * Not documented by Moesif, taken from Elasticsearch (whose DSL Moesif says it supports): the
 * `aggregations` answer, composite aggregation paging (`after`/`after_key`) and the keyword field
 * `company_id.raw`. One query pages through every company of a window, never one per developer.
 */
import { MonetizationError } from '../../shared/errors.ts';
import { billableStatusClause, type StatusRange } from './billable-filter.ts';
import { isoTime, type UsageWindow } from './usage-windows.ts';

export const DEFAULT_MOESIF_MANAGEMENT_BASE = 'https://api.moesif.com';
const COMPANY_PAGE = 1000;

interface MoesifManagementOptions {
  /** e.g. https://api.moesif.com (the /v1 prefix is added). */
  apiBase: string;
  token: string;
  billable: readonly StatusRange[];
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

class MoesifManagementError extends MonetizationError {
  constructor(
    message: string,
    readonly status: number | undefined,
    cause?: unknown,
  ) {
    super(
      status === 401 || status === 403 ? 'moesif_management_unauthorized' : 'moesif_management_unavailable',
      message,
      status === 401 || status === 403 ? { hint: 'check MOESIF_MANAGEMENT_TOKEN (Moesif > API Keys > Management API key, scope read:events)', cause } : { cause },
    );
  }
}

interface CompositeAnswer {
  aggregations?: { companies?: { buckets?: { key: { company?: string }; doc_count: number }[]; after_key?: { company?: string } } };
}
interface HistogramAnswer {
  aggregations?: { windows?: { buckets?: { key: number; doc_count: number }[] } };
}

export interface MoesifManagementClient {
  /** Billable calls per company in [window.start, window.end): every page of one query. */
  countByCompany(window: UsageWindow): Promise<Map<string, number>>;
  /** One company's billable calls per window of `windowSeconds` in [range.start, range.end), keyed by window start. */
  countByWindow(companyId: string, range: UsageWindow, windowSeconds: number): Promise<Map<number, number>>;
  /** One company's billable calls in [range.start, range.end) (countEvents). */
  countCompany(companyId: string, range: UsageWindow): Promise<number>;
  /** Token check for doctor: resolves with the HTTP status of a count over the last minute. */
  check(): Promise<number>;
  /** Management API requests made (the bench reads it). */
  readonly requests: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Billable events per company over a window, one composite-aggregation page at a time. */
async function countByCompanyPaged(post: <T>(path: string, range: UsageWindow, body: object) => Promise<T>, query: object, window: UsageWindow): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let after: { company: string } | undefined;
  for (;;) {
    const composite = { size: COMPANY_PAGE, sources: [{ company: { terms: { field: 'company_id.raw' } } }], ...(after ? { after } : {}) };
    const answer = await post<CompositeAnswer>('search/events', window, { size: 0, query, aggs: { companies: { composite } } });
    const buckets = answer.aggregations?.companies?.buckets ?? [];
    for (const bucket of buckets) if (bucket.key.company) counts.set(bucket.key.company, (counts.get(bucket.key.company) ?? 0) + bucket.doc_count);
    const next = answer.aggregations?.companies?.after_key?.company;
    if (buckets.length < COMPANY_PAGE || next === undefined) return counts;
    after = { company: next };
  }
}

export function createMoesifManagementClient(options: MoesifManagementOptions): MoesifManagementClient {
  const doFetch = options.fetch ?? fetch;
  const attempts = options.attempts ?? 4;
  const base = options.apiBase.replace(/\/+$/, '');
  let requests = 0;

  async function attempt(path: string, range: UsageWindow, body: object): Promise<Response> {
    requests++;
    const url = `${base}/v1/search/~/${path}?from=${encodeURIComponent(isoTime(range.start))}&to=${encodeURIComponent(isoTime(range.end))}`;
    return doFetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
  }

  /** POST with retries on 429, 5xx and network errors; 401/403 and other 4xx fail at once. */
  async function post<T>(path: string, range: UsageWindow, body: object): Promise<T> {
    let last: unknown;
    for (let n = 0; n < attempts; n++) {
      if (n > 0) await sleep((options.baseDelayMs ?? 250) * 2 ** (n - 1));
      try {
        const response = await attempt(path, range, body);
        if (response.ok) return (await response.json()) as T;
        const text = (await response.text()).slice(0, 300);
        last = new MoesifManagementError(`Moesif Management API ${path} answered ${response.status}: ${text}`, response.status);
        if (response.status !== 429 && response.status < 500) throw last;
      } catch (error) {
        if (error instanceof MoesifManagementError && error.status !== undefined && error.status !== 429 && error.status < 500) throw error;
        last = error instanceof MoesifManagementError ? error : new MoesifManagementError(`Moesif Management API ${path} unreachable: ${(error as Error).message}`, undefined, error);
      }
    }
    throw last;
  }

  const billableQuery = (extra: object[] = []) => ({ bool: { filter: [billableStatusClause(options.billable), ...extra] } });

  return {
    get requests() {
      return requests;
    },
    countByCompany: (window) => countByCompanyPaged(post, billableQuery(), window),
    async countByWindow(companyId, range, windowSeconds) {
      const body = {
        size: 0,
        query: billableQuery([{ term: { 'company_id.raw': companyId } }]),
        aggs: { windows: { date_histogram: { field: 'request.time', fixed_interval: `${windowSeconds / 60}m` } } },
      };
      const answer = await post<HistogramAnswer>('search/events', range, body);
      const counts = new Map<number, number>();
      for (const bucket of answer.aggregations?.windows?.buckets ?? []) if (bucket.doc_count > 0) counts.set(Math.floor(bucket.key / 1000), bucket.doc_count);
      return counts;
    },
    async countCompany(companyId, range) {
      const answer = await post<{ count?: number }>('count/events', range, { query: billableQuery([{ term: { 'company_id.raw': companyId } }]) });
      return typeof answer.count === 'number' ? answer.count : 0;
    },
    async check() {
      const now = Math.floor(Date.now() / 1000);
      try {
        const response = await attempt('count/events', { start: now - 60, end: now }, { query: billableQuery() });
        await response.body?.cancel();
        return response.status;
      } catch {
        return 0;
      }
    },
  };
}
