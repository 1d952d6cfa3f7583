import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { formatMinorAmount, summarizePrice } from './plan-prices.ts';

const monthly = { interval: 'month', interval_count: 1, meter: 'mtr_1', usage_type: 'metered', trial_period_days: null } as Stripe.Price.Recurring;

function price(fields: Partial<Stripe.Price>): Stripe.Price {
  return {
    currency: 'usd',
    billing_scheme: 'per_unit',
    unit_amount: null,
    unit_amount_decimal: null,
    transform_quantity: null,
    tiers_mode: null,
    recurring: monthly,
    ...fields,
  } as Stripe.Price;
}

const tier = (up_to: number | null, unit: string, flat: number | null = null) =>
  ({ up_to, unit_amount: null, unit_amount_decimal: unit, flat_amount: flat, flat_amount_decimal: flat === null ? null : String(flat) }) as unknown as Stripe.Price.Tier;

describe('summarizePrice', () => {
  it('per unit, with sub-cent amounts kept', () => {
    expect(summarizePrice(price({ unit_amount_decimal: '0.5' as never }))).toBe('$0.005 per call, billed monthly');
  });

  it('package pricing from transform_quantity', () => {
    expect(summarizePrice(price({ unit_amount: 1000, unit_amount_decimal: '1000' as never, transform_quantity: { divide_by: 1000, round: 'up' } }))).toBe(
      '$10.00 per 1,000 calls, billed monthly',
    );
  });

  it('graduated tiers', () => {
    const summary = summarizePrice(price({ billing_scheme: 'tiered', tiers_mode: 'graduated', tiers: [tier(100, '500'), tier(1000, '300'), tier(null, '200')] }));
    expect(summary).toBe('1-100 calls: $5.00 each; 101-1,000 calls: $3.00 each; 1,001+ calls: $2.00 each (each tier at its own rate), billed monthly');
  });

  it('volume tiers with a flat fee', () => {
    const summary = summarizePrice(price({ billing_scheme: 'tiered', tiers_mode: 'volume', tiers: [tier(50, '1000', 500), tier(null, '500')], recurring: null }));
    expect(summary).toBe('1-50 calls: $10.00 each + $5.00 flat; 51+ calls: $5.00 each (every call at the rate of the tier reached)');
  });

  it('refuses a tiered price whose tiers were not expanded', () => {
    expect(() => summarizePrice(price({ billing_scheme: 'tiered', tiers_mode: 'volume' }))).toThrow(/expand/);
  });

  it('uses a custom unit name', () => {
    expect(summarizePrice(price({ unit_amount: 2, unit_amount_decimal: '2' as never, recurring: null }), { one: 'request', other: 'requests' })).toBe('$0.02 per request');
  });
});

describe('formatMinorAmount', () => {
  it('knows zero-decimal currencies', () => {
    expect(formatMinorAmount('500', 'jpy')).toBe('¥500');
    expect(formatMinorAmount(250, 'eur')).toBe('€2.50');
  });
});
