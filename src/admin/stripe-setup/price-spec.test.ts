import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { desiredPriceSpec, diffPriceSpec, normalizeDecimal, priceCreateParams, stripePriceSpec, type ManagedPrice } from './price-spec.ts';

const ids = { product: 'prod_1', meter: 'mtr_1' };
const managed = (pricing: ManagedPrice['pricing']): ManagedPrice => ({ lookup_key: 'k', currency: 'usd', meter: 'api_calls', pricing });

/** A Stripe price object as the API returns it (fields per Stripe's example price). */
function stripePrice(fields: Partial<Stripe.Price>): Stripe.Price {
  return {
    id: 'price_1',
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    currency: 'usd',
    lookup_key: 'k',
    metadata: {},
    nickname: null,
    product: 'prod_1',
    recurring: { interval: 'month', interval_count: 1, meter: 'mtr_1', usage_type: 'metered', trial_period_days: null },
    tiers_mode: null,
    transform_quantity: null,
    type: 'recurring',
    unit_amount: null,
    unit_amount_decimal: null,
    ...fields,
  } as unknown as Stripe.Price;
}

describe('normalizeDecimal', () => {
  it('compares decimals by value', () => {
    expect(normalizeDecimal('0.50')).toBe('0.5');
    expect(normalizeDecimal('500.000')).toBe('500');
    expect(normalizeDecimal('007')).toBe('7');
    expect(normalizeDecimal(1000)).toBe('1000');
    expect(normalizeDecimal(null)).toBe('0');
  });
});

describe('price spec: plans file -> Stripe fields', () => {
  it('per_unit uses unit_amount_decimal on a monthly metered price', () => {
    const spec = desiredPriceSpec(managed({ model: 'per_unit', unit_amount_decimal: '0.5' }), ids);
    const params = priceCreateParams(spec, { lookup_key: 'k', nickname: 'Starter', metadata: { kpm_plan: 'starter' }, transfer_lookup_key: false });
    expect(params.recurring).toEqual({ interval: 'month', usage_type: 'metered', meter: 'mtr_1' });
    expect(params.billing_scheme).toBe('per_unit');
    expect(String(params.unit_amount_decimal)).toBe('0.5');
    expect(params.unit_amount).toBeUndefined();
    expect(params.transfer_lookup_key).toBeUndefined();
  });

  it('package uses unit_amount and transform_quantity', () => {
    const spec = desiredPriceSpec(managed({ model: 'package', package_amount: 1000, package_size: 1000, round: 'up' }), ids);
    const params = priceCreateParams(spec, { lookup_key: 'k', nickname: 'Bundle', metadata: {}, transfer_lookup_key: true });
    expect(params.unit_amount).toBe(1000);
    expect(params.transform_quantity).toEqual({ divide_by: 1000, round: 'up' });
    expect(params.tiers).toBeUndefined();
    expect(params.transfer_lookup_key).toBe(true);
  });

  it.each(['graduated', 'volume'] as const)('%s tiers use billing_scheme tiered with up_to inf', (model) => {
    const spec = desiredPriceSpec(
      managed({ model, tiers: [{ up_to: 100, unit_amount_decimal: '500' }, { up_to: 'inf', unit_amount_decimal: '200', flat_amount: 100 }] }),
      ids,
    );
    const params = priceCreateParams(spec, { lookup_key: 'k', nickname: 'G', metadata: {}, transfer_lookup_key: false });
    expect(params.billing_scheme).toBe('tiered');
    expect(params.tiers_mode).toBe(model);
    expect(JSON.parse(JSON.stringify(params.tiers))).toEqual([
      { up_to: 100, unit_amount_decimal: '500' },
      { up_to: 'inf', unit_amount_decimal: '200', flat_amount: 100 },
    ]);
    expect(params.unit_amount_decimal).toBeUndefined();
  });
});

describe('price spec: comparing with what Stripe holds', () => {
  it('an identical per_unit price has no difference, whatever the decimal spelling', () => {
    const desired = desiredPriceSpec(managed({ model: 'per_unit', unit_amount_decimal: '0.50' }), ids);
    expect(diffPriceSpec(desired, stripePriceSpec(stripePrice({ unit_amount_decimal: '0.5' as never })))).toEqual([]);
  });

  it('reads package prices through unit_amount and transform_quantity', () => {
    const desired = desiredPriceSpec(managed({ model: 'package', package_amount: 1000, package_size: 1000, round: 'up' }), ids);
    const same = stripePrice({ unit_amount: 1000, unit_amount_decimal: '1000' as never, transform_quantity: { divide_by: 1000, round: 'up' } });
    expect(diffPriceSpec(desired, stripePriceSpec(same))).toEqual([]);
    const rounded = stripePrice({ unit_amount: 1000, unit_amount_decimal: '1000' as never, transform_quantity: { divide_by: 1000, round: 'down' } });
    expect(diffPriceSpec(desired, stripePriceSpec(rounded))).toEqual(['transform_quantity']);
  });

  it('reads tiers (up_to null = inf, missing flat amount = 0) and names changed fields', () => {
    const desired = desiredPriceSpec(managed({ model: 'graduated', tiers: [{ up_to: 100, unit_amount_decimal: '500' }, { up_to: 'inf', unit_amount_decimal: '200' }] }), ids);
    const tiers = [
      { up_to: 100, unit_amount: 500, unit_amount_decimal: '500', flat_amount: null, flat_amount_decimal: null },
      { up_to: null, unit_amount: 200, unit_amount_decimal: '200', flat_amount: null, flat_amount_decimal: null },
    ];
    const same = stripePrice({ billing_scheme: 'tiered', tiers_mode: 'graduated', tiers: tiers as never });
    expect(diffPriceSpec(desired, stripePriceSpec(same))).toEqual([]);
    const volume = stripePrice({ billing_scheme: 'tiered', tiers_mode: 'volume', tiers: tiers as never, currency: 'eur' });
    expect(diffPriceSpec(desired, stripePriceSpec(volume))).toEqual(['currency', 'tiers_mode']);
  });

  it('a licensed price or another meter is a difference', () => {
    const desired = desiredPriceSpec(managed({ model: 'per_unit', unit_amount_decimal: '1' }), ids);
    const licensed = stripePrice({ unit_amount_decimal: '1' as never, recurring: { interval: 'month', interval_count: 1, meter: null, usage_type: 'licensed', trial_period_days: null } as never });
    expect(diffPriceSpec(desired, stripePriceSpec(licensed))).toEqual(['meter', 'usage_type']);
  });
});
