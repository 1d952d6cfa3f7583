/** Billing periods: a price's interval added to a start time, in UTC calendar arithmetic like Stripe. */
import type { WirePrice } from './wire-types.ts';

export function addInterval(start: number, recurring: Pick<NonNullable<WirePrice['recurring']>, 'interval' | 'interval_count'> | null | undefined, times = 1): number {
  const count = (recurring?.interval_count ?? 1) * times;
  const date = new Date(start * 1000);
  switch (recurring?.interval ?? 'month') {
    case 'day':
      date.setUTCDate(date.getUTCDate() + count);
      break;
    case 'week':
      date.setUTCDate(date.getUTCDate() + 7 * count);
      break;
    case 'month':
      date.setUTCMonth(date.getUTCMonth() + count);
      break;
    case 'year':
      date.setUTCFullYear(date.getUTCFullYear() + count);
      break;
  }
  return Math.floor(date.getTime() / 1000);
}

export const DAY_SECONDS = 86_400;
