/**
 * What a developer sees of the current period: calls so far, the amount so far and when the next
 * invoice is made, from Stripe's upcoming-invoice preview (`invoices.createPreview` for the
 * subscription), so the figure is Stripe's own arithmetic for the plan's price and becomes the
 * invoice Stripe finalizes. Cached per subscription (default 60 s) and coalesced, so page views
 * cannot spend Stripe's rate limit; Stripe aggregates meter events asynchronously, so the figure
 * trails the reported calls by seconds (and the calls by the reporting window and lag).
 */
import type Stripe from 'stripe';
import { BoundedMap } from '../../shared/bounded-map.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import type { WriteLimiter } from '../stripe/write-limiter.ts';

interface UsageFigures {
  /** Metered quantity on the preview (billable calls reported so far this period). */
  calls: number;
  /** Amount due so far, in the currency's minor unit. */
  amount_due: number;
  currency: string;
  /** When Stripe makes the next invoice (the period's end), ISO. */
  next_invoice_at: string;
  /** One sentence for the page. */
  summary: string;
}

export interface UsageFiguresService {
  /** fresh: read Stripe now (the usage reporter after new calls) and keep that answer for page views. */
  figures(subscriptionId: string, options?: { fresh?: boolean }): Promise<UsageFigures | undefined>;
}

const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);

function formatAmount(minor: number, currency: string): string {
  const divisor = ZERO_DECIMAL.has(currency.toLowerCase()) ? 1 : 100;
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).format(minor / divisor);
}

/** Figures from a preview: metered lines' quantities, the amount due, the period end. */
function figuresOf(preview: Stripe.Invoice, periodEnd: number): UsageFigures {
  const calls = preview.lines.data.reduce((sum, line) => sum + (line.pricing?.price_details ? (line.quantity ?? 0) : 0), 0);
  const nextInvoiceAt = new Date(periodEnd * 1000).toISOString();
  const amount = formatAmount(preview.amount_due, preview.currency);
  return {
    calls,
    amount_due: preview.amount_due,
    currency: preview.currency,
    next_invoice_at: nextInvoiceAt,
    summary: `This period so far: ${calls.toLocaleString('en-US')} billable call${calls === 1 ? '' : 's'}, ${amount}. Next invoice on ${nextInvoiceAt.slice(0, 10)}.`,
  };
}

export function createUsageFigures(deps: { stripe: Stripe; limiter?: WriteLimiter; cacheSeconds: number; now?: () => number }): UsageFiguresService {
  const cache = new BoundedMap<string, Promise<UsageFigures | undefined>>({ ttlMs: deps.cacheSeconds * 1000, maxEntries: 10_000, ...(deps.now ? { now: deps.now } : {}) });
  async function read(subscriptionId: string): Promise<UsageFigures | undefined> {
    const preview = await withStripeRetry(() => deps.stripe.invoices.createPreview({ subscription: subscriptionId }), { limiter: deps.limiter, what: 'preview the upcoming invoice' });
    const periodEnd = preview.period_end > preview.period_start ? preview.period_end : preview.created;
    return figuresOf(preview, periodEnd);
  }
  return {
    figures(subscriptionId, options = {}) {
      const cached = options.fresh ? undefined : cache.get(subscriptionId);
      if (cached) return cached;
      // A failed read is not kept: the next view asks again.
      const pending = read(subscriptionId).catch(() => {
        cache.delete(subscriptionId);
        return undefined;
      });
      cache.set(subscriptionId, pending);
      return pending;
    },
  };
}
