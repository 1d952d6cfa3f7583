// The Moesif emulator's Management API: bearer token (401 without), required from/to, the
// Elasticsearch subset the usage reporter sends (refusing what it does not model), composite
// paging by company, and the ingestion lag (events are searchable only after it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoesifEmulator, type RunningMoesifEmulator } from './moesif-emulator.ts';

const TOKEN = 'mgmt-token';
let moesif: RunningMoesifEmulator;
let nowMs = Date.UTC(2026, 5, 1, 12);

beforeAll(async () => {
  moesif = await startMoesifEmulator({ now: () => nowMs, managementTokens: [TOKEN], ingestionLagMs: 60_000 });
});
afterAll(async () => {
  await moesif?.close();
});

function search(body: object, query = 'from=2026-06-01T00:00:00Z&to=2026-06-02T00:00:00Z', token: string | undefined = TOKEN): Promise<Response> {
  return fetch(`${moesif.url}/v1/search/~/search/events?${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
}

const byCompany = (after?: string) => ({
  size: 0,
  query: { bool: { filter: [{ bool: { should: [{ range: { 'response.status': { gte: 100, lte: 399 } } }] } }] } },
  aggs: { companies: { composite: { size: 2, sources: [{ company: { terms: { field: 'company_id.raw' } } }], ...(after ? { after: { company: after } } : {}) } } },
});

describe('Moesif emulator management API', () => {
  it('answers 401 without a known bearer token and 400 without from/to or for an unmodelled clause', async () => {
    expect((await search({}, undefined, '')).status).toBe(401);
    expect((await search({}, undefined, 'other')).status).toBe(401);
    expect((await search({}, 'to=now')).status).toBe(400);
    const unknown = await search({ query: { wildcard: { uri: '*' } } });
    expect([unknown.status, ((await unknown.json()) as { moesif_error: { msg: string } }).moesif_error.msg]).toEqual([400, 'query clause "wildcard" is not modelled by the Moesif emulator']);
  });

  it('counts billable calls per company, paged, only once the ingestion lag has passed', async () => {
    const time = new Date(Date.UTC(2026, 5, 1, 11)).toISOString();
    for (const [company, status] of [['c1', 200], ['c1', 200], ['c2', 201], ['c3', 402], ['c3', 304], ['c4', 500]] as const)
      moesif.store.addEvent({ request: { time, uri: '/x', verb: 'GET' }, response: { time, status }, company_id: company }, new Date(nowMs));
    const early = (await (await search(byCompany())).json()) as { hits: { total: number } };
    expect(early.hits.total).toBe(0);
    nowMs += 60_000;
    const first = await search(byCompany());
    expect(first.status).toBe(201);
    const page1 = (await first.json()) as { hits: { total: number }; aggregations: { companies: { buckets: unknown[]; after_key: { company: string } } } };
    expect(page1.hits.total).toBe(4);
    expect(page1.aggregations.companies.buckets).toEqual([
      { key: { company: 'c1' }, doc_count: 2 },
      { key: { company: 'c2' }, doc_count: 1 },
    ]);
    const page2 = (await (await search(byCompany(page1.aggregations.companies.after_key.company))).json()) as { aggregations: { companies: { buckets: unknown[] } } };
    expect(page2.aggregations.companies.buckets).toEqual([{ key: { company: 'c3' }, doc_count: 1 }]);
    const count = await fetch(`${moesif.url}/v1/search/~/count/events?from=-24h&to=now`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: { term: { 'company_id.raw': 'c3' } } }) });
    expect(await count.json()).toEqual({ count: 2 });
  });
});
