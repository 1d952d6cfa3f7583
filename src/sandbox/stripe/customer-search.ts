/**
 * GET /v1/customers/search with the part of Stripe's search query language the product uses:
 * `email:'…'` and `metadata['key']:'value'` clauses joined by AND. Stripe's search index lags
 * writes ("under a minute", up to an hour in incidents); the emulator always hides customers
 * younger than SEARCH_INDEX_LAG_SECONDS, so code that dedupes with search on a fresh signup fails
 * here as it would on Stripe.
 */
import type Stripe from 'stripe';
import type { Endpoint } from './endpoint.ts';
import { expand } from './list-and-expand.ts';
import { p, parseParams } from './params.ts';
import { stripeErrors } from './stripe-errors.ts';

const SEARCH_INDEX_LAG_SECONDS = 60;

const searchSchema = p.hash({
  query: p.string(5000).min(1),
  limit: p.int({ min: 1, max: 100 }).optional(),
  page: p.string(5000).optional(),
  expand: p.expand(),
});

type Clause = { field: 'email' } | { field: 'metadata'; key: string };
const CLAUSE = /^\s*(email|metadata\['([^']+)'\])\s*:\s*'((?:[^'\\]|\\.)*)'\s*$/;

function parseQuery(query: string): Array<{ clause: Clause; value: string }> {
  return query.split(/\s+AND\s+/).map((part) => {
    const match = CLAUSE.exec(part);
    if (!match) throw stripeErrors.invalid(`The emulator's search understands email:'…' and metadata['key']:'value' joined by AND; cannot parse: ${part.trim().slice(0, 80)}`, 'query');
    const clause: Clause = match[2] !== undefined ? { field: 'metadata', key: match[2] } : { field: 'email' };
    return { clause, value: (match[3] ?? '').replace(/\\(.)/g, '$1') };
  });
}

function matches(customer: Stripe.Customer, clauses: ReturnType<typeof parseQuery>): boolean {
  return clauses.every(({ clause, value }) => (clause.field === 'email' ? customer.email === value : customer.metadata?.[clause.key] === value));
}

export const customerSearchEndpoints: Endpoint[] = [
  {
    method: 'GET',
    route: '/v1/customers/search',
    handle({ state, params }) {
      const input = parseParams(searchSchema, params);
      const clauses = parseQuery(input.query);
      const indexedBefore = state.now() - SEARCH_INDEX_LAG_SECONDS;
      const offset = input.page ? Number(Buffer.from(input.page, 'base64url').toString('utf8')) || 0 : 0;
      const found = state.customers.newestFirst().filter((customer) => customer.created <= indexedBefore && matches(customer, clauses));
      const limit = input.limit ?? 10;
      const data = structuredClone(found.slice(offset, offset + limit));
      const hasMore = found.length > offset + limit;
      const body = {
        object: 'search_result',
        data,
        has_more: hasMore,
        next_page: hasMore ? Buffer.from(String(offset + limit)).toString('base64url') : null,
        url: '/v1/customers/search',
      };
      return { body: expand(state, body, input.expand) };
    },
  },
];
