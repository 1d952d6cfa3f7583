/**
 * What an admin reads to see that nothing is lost: per developer, the billable calls Moesif has
 * for a range of windows, what Stripe's meter holds for the same windows, and the difference
 * (Stripe's figure may trail by its aggregation lag for events sent in the last seconds).
 */
import type Stripe from 'stripe';
import type { UsageReporter } from './usage-reporter.ts';
import type { TrueUpDeps } from './true-up.ts';
import { windowTimestamp, type UsageWindow } from './usage-windows.ts';

export interface UsageViewRow {
  companyId: string;
  customerId: string | undefined;
  email: string | undefined;
  moesifCalls: number;
  stripeUsage: number | undefined;
  difference: number | undefined;
}

function stripeRange(reporter: UsageReporter, windows: UsageWindow[]): { start: number; end: number } {
  const bucket = (w: UsageWindow) => Math.floor(reporter.toStripeTime(windowTimestamp(w)) / 3600) * 3600;
  return { start: bucket(windows[0] as UsageWindow), end: bucket(windows[windows.length - 1] as UsageWindow) + 3600 };
}

export async function usageView(deps: TrueUpDeps, stripe: Stripe, windows: UsageWindow[]): Promise<UsageViewRow[]> {
  if (windows.length === 0) return [];
  const range = { start: (windows[0] as UsageWindow).start, end: (windows[windows.length - 1] as UsageWindow).end };
  const counts = await deps.moesif.countByCompany(range);
  const rows: UsageViewRow[] = [];
  for (const [companyId, moesifCalls] of [...counts.entries()].sort()) {
    const target = await deps.directory.resolve(companyId);
    if (!target) {
      rows.push({ companyId, customerId: undefined, email: undefined, moesifCalls, stripeUsage: undefined, difference: undefined });
      continue;
    }
    const { start, end } = stripeRange(deps.reporter, windows);
    const hourly = await deps.sink.hourlyUsage(target.meterId, target.customerId, start, end);
    const stripeUsage = [...hourly.values()].reduce((a, b) => a + b, 0);
    const customer = await stripe.customers.retrieve(target.customerId);
    const email = 'deleted' in customer && customer.deleted ? undefined : ((customer as Stripe.Customer).email ?? undefined);
    rows.push({ companyId, customerId: target.customerId, email, moesifCalls, stripeUsage, difference: moesifCalls - stripeUsage });
  }
  return rows;
}
