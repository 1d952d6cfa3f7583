import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { formatMinorAmount, summarizePrice, toPublicPlans } from './plan-prices.ts';
import { parsePlans } from '../../shared/plans.ts';
import { signupFormPage } from '../hosted-signup/signup-pages.ts';

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

describe('plan limits on the picker and the hosted form', () => {
  const limited = parsePlans({
    product: { name: 'API' },
    meters: [{ event_name: 'api_calls', display_name: 'API calls' }],
    plans: [
      {
        id: 'free',
        name: 'Free',
        default: true,
        public: true,
        payment_collection: 'none',
        included: 1000,
        limits: { rate: { second: 2 }, quota: { calls: 1000, enforcement: 'hard' } },
        price: { lookup_key: 'k_free', meter: 'api_calls', pricing: { model: 'per_unit', unit_amount_decimal: '0.5' } },
      },
      { id: 'paid', name: 'Paid', price: { lookup_key: 'k_paid', meter: 'api_calls', pricing: { model: 'per_unit', unit_amount_decimal: '0.5' } } },
    ],
  });
  const resolved = limited.plans.map((plan) => ({ plan, price: price({ unit_amount_decimal: '0.5' as never }) }));

  it('GET /plans carries the limits of a limited plan, and nothing for an unlimited one', () => {
    const [free, paid] = toPublicPlans(resolved, 'free');
    expect(free?.limitsSummary).toBe('2 calls/second · 1,000 calls per billing period (then refused until it resets) · first 1,000 calls each period free');
    expect(paid && 'limitsSummary' in paid).toBe(false);
  });

  it('the hosted form shows them under the plan, escaped', () => {
    const brand = { productName: 'API', logoUrl: undefined, accentColor: '#1f5fbf', termsUrl: undefined };
    const html = signupFormPage(brand, 'n', { csrf: 'c', plans: toPublicPlans(resolved, 'free'), values: {}, errors: {} });
    expect(html).toContain('2 calls/second · 1,000 calls per billing period (then refused until it resets) · first 1,000 calls each period free');
  });
});
