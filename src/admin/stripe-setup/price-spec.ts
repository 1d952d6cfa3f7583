/**
 * The billing-relevant shape of a metered monthly price, in one normal form for both sides: what
 * the plans file asks for and what Stripe holds. Comparing the two decides whether a plan is
 * unchanged (touch nothing) or changed (new price; Stripe prices are immutable in these fields).
 */
import Stripe from 'stripe';
import type { Pricing } from '../../shared/plans.ts';

interface TierSpec {
  up_to: number | 'inf';
  unit_amount_decimal: string;
  flat_amount: number;
}

interface PriceSpec {
  product: string;
  meter: string;
  currency: string;
  interval: 'month';
  usage_type: 'metered';
  billing_scheme: 'per_unit' | 'tiered';
  /** per_unit and package; null for tiered prices. */
  unit_amount_decimal: string | null;
  transform_quantity: { divide_by: number; round: 'up' | 'down' } | null;
  tiers_mode: 'graduated' | 'volume' | null;
  tiers: TierSpec[] | null;
}

/** A plan price that stripe:setup manages (the plans file gives its pricing). */
export interface ManagedPrice {
  lookup_key: string;
  currency: string;
  meter: string;
  pricing: Pricing;
}

/** "0.50" -> "0.5", "007" -> "7", "500.000" -> "500": decimals compare by value, not spelling. */
export function normalizeDecimal(value: string | number | { toString(): string } | null | undefined): string {
  if (value === null || value === undefined) return '0';
  const text = String(value).trim();
  const match = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match) return text;
  const whole = (match[1] ?? '').replace(/^0+(?=\d)/, '') || '0';
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

export function desiredPriceSpec(price: ManagedPrice, ids: { product: string; meter: string }): PriceSpec {
  const base = {
    product: ids.product,
    meter: ids.meter,
    currency: price.currency.toLowerCase(),
    interval: 'month' as const,
    usage_type: 'metered' as const,
  };
  const pricing = price.pricing;
  switch (pricing.model) {
    case 'per_unit':
      return { ...base, billing_scheme: 'per_unit', unit_amount_decimal: normalizeDecimal(pricing.unit_amount_decimal), transform_quantity: null, tiers_mode: null, tiers: null };
    case 'package':
      return {
        ...base,
        billing_scheme: 'per_unit',
        unit_amount_decimal: normalizeDecimal(pricing.package_amount),
        transform_quantity: { divide_by: pricing.package_size, round: pricing.round },
        tiers_mode: null,
        tiers: null,
      };
    case 'graduated':
    case 'volume':
      return {
        ...base,
        billing_scheme: 'tiered',
        unit_amount_decimal: null,
        transform_quantity: null,
        tiers_mode: pricing.model,
        tiers: pricing.tiers.map((tier) => ({ up_to: tier.up_to, unit_amount_decimal: normalizeDecimal(tier.unit_amount_decimal), flat_amount: tier.flat_amount ?? 0 })),
      };
  }
}

/** The same normal form read from a Stripe price (retrieved with `expand: ['data.tiers']`). */
export function stripePriceSpec(price: Stripe.Price): PriceSpec {
  const tiered = price.billing_scheme === 'tiered';
  const productId = typeof price.product === 'string' ? price.product : price.product.id;
  return {
    product: productId,
    meter: price.recurring?.meter ?? '',
    currency: price.currency.toLowerCase(),
    interval: price.recurring?.interval as 'month',
    usage_type: price.recurring?.usage_type as 'metered',
    billing_scheme: tiered ? 'tiered' : 'per_unit',
    unit_amount_decimal: tiered ? null : normalizeDecimal(price.unit_amount_decimal ?? price.unit_amount),
    transform_quantity: price.transform_quantity ? { divide_by: price.transform_quantity.divide_by, round: price.transform_quantity.round as 'up' | 'down' } : null,
    tiers_mode: tiered ? ((price.tiers_mode ?? null) as 'graduated' | 'volume' | null) : null,
    tiers: tiered
      ? (price.tiers ?? []).map((tier) => ({
          up_to: tier.up_to === null ? 'inf' : tier.up_to,
          unit_amount_decimal: normalizeDecimal(tier.unit_amount_decimal ?? tier.unit_amount),
          flat_amount: tier.flat_amount ?? 0,
        }))
      : null,
  };
}

/** Names of the fields that differ; empty when the Stripe price already is what the plan asks for. */
export function diffPriceSpec(desired: PriceSpec, actual: PriceSpec): string[] {
  const fields = Object.keys(desired) as (keyof PriceSpec)[];
  return fields.filter((field) => JSON.stringify(desired[field]) !== JSON.stringify(actual[field]));
}

/** prices.create params for a spec: a monthly metered price billed by the spec's meter. */
export function priceCreateParams(
  spec: PriceSpec,
  extra: { lookup_key: string; nickname: string; metadata: Record<string, string>; transfer_lookup_key: boolean },
): Stripe.PriceCreateParams {
  const params: Stripe.PriceCreateParams = {
    product: spec.product,
    currency: spec.currency,
    recurring: { interval: spec.interval, usage_type: spec.usage_type, meter: spec.meter },
    billing_scheme: spec.billing_scheme,
    lookup_key: extra.lookup_key,
    nickname: extra.nickname,
    metadata: extra.metadata,
  };
  if (extra.transfer_lookup_key) params.transfer_lookup_key = true;
  if (spec.transform_quantity) {
    // Package pricing: Stripe wants the package price as the integer unit_amount.
    params.unit_amount = Number(spec.unit_amount_decimal);
    params.transform_quantity = spec.transform_quantity;
  } else if (spec.unit_amount_decimal !== null) {
    params.unit_amount_decimal = Stripe.Decimal.from(spec.unit_amount_decimal);
  }
  if (spec.tiers && spec.tiers_mode) {
    params.tiers_mode = spec.tiers_mode;
    params.tiers = spec.tiers.map((tier) => ({
      up_to: tier.up_to,
      unit_amount_decimal: Stripe.Decimal.from(tier.unit_amount_decimal),
      ...(tier.flat_amount ? { flat_amount: tier.flat_amount } : {}),
    }));
  }
  return params;
}
