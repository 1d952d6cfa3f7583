/**
 * Invoice line amounts for a price and a quantity, as Stripe computes them: per unit (with
 * sub-cent `unit_amount_decimal`), package (`transform_quantity`), graduated and volume tiers
 * with unit and flat amounts. Pure: no state, exact decimal arithmetic (amounts carry up to 12
 * decimal places), one rounding at the end of the line.
 *
 * Rounding: Stripe rounds on the line-item level, after multiplying the quantity by the decimal
 * unit amount, to the nearest whole minor unit (its example: 0.05 × 30 = 1.5 → 2 cents), and
 * sums the rounded lines (https://stripe.com/docs/billing/subscriptions/decimal-amounts).
 */

/** The parts of a price (as stored on the wire) that decide the amount. */
export interface PriceTerms {
  billing_scheme: 'per_unit' | 'tiered' | string;
  unit_amount_decimal: string | null;
  transform_quantity: { divide_by: number; round: 'up' | 'down' | string } | null;
  tiers_mode: 'graduated' | 'volume' | string | null;
  tiers?: readonly TierTerms[] | undefined;
}

export interface TierTerms {
  up_to: number | null;
  unit_amount_decimal: string | null;
  flat_amount_decimal: string | null;
}

const SCALE_DIGITS = 12;
const SCALE = 10n ** BigInt(SCALE_DIGITS);

/** A decimal string of minor units ("0.25") as an integer scaled by 10^12. */
function toScaled(decimal: string | null): bigint {
  if (decimal === null || decimal === '') return 0n;
  const match = /^(\d+)(?:\.(\d{1,12}))?$/.exec(decimal);
  if (!match) throw new Error(`not a decimal amount: ${decimal}`);
  const [, whole = '0', fraction = ''] = match;
  return BigInt(whole) * SCALE + BigInt(fraction.padEnd(SCALE_DIGITS, '0'));
}

/** Scaled amount → whole minor units, half up (amounts are never negative here). */
function roundToMinorUnits(scaled: bigint): number {
  return Number((scaled + SCALE / 2n) / SCALE);
}

/** The quantity Stripe bills for a package price: quantity ÷ divide_by, rounded up or down. */
export function packagesFor(quantity: number, transform: { divide_by: number; round: string }): number {
  const whole = Math.floor(quantity / transform.divide_by);
  return transform.round === 'up' && quantity % transform.divide_by !== 0 ? whole + 1 : whole;
}

function tierCost(tier: TierTerms, units: number): bigint {
  return toScaled(tier.flat_amount_decimal) + toScaled(tier.unit_amount_decimal) * BigInt(units);
}

/** Graduated: each tier bills the units that fall inside it; a tier's flat fee applies once it is reached. */
function graduatedScaled(tiers: readonly TierTerms[], quantity: number): bigint {
  let total = 0n;
  let lower = 0;
  for (const [index, tier] of tiers.entries()) {
    const upper = tier.up_to ?? Number.POSITIVE_INFINITY;
    const units = Math.max(0, Math.min(quantity, upper) - lower);
    // Quantity 0 still bills the first tier's flat fee, as on Stripe.
    if (units > 0 || index === 0) total += tierCost(tier, units);
    if (quantity <= upper) break;
    lower = upper;
  }
  return total;
}

/** Volume: the tier the whole quantity falls in prices every unit. */
function volumeScaled(tiers: readonly TierTerms[], quantity: number): bigint {
  const tier = tiers.find((candidate) => candidate.up_to === null || quantity <= candidate.up_to) ?? tiers.at(-1);
  return tier ? tierCost(tier, quantity) : 0n;
}

/** The exact (unrounded) amount in minor units as a decimal string, e.g. "3086.25". */
export function exactAmount(price: PriceTerms, quantity: number): string {
  const scaled = scaledAmount(price, quantity);
  const whole = scaled / SCALE;
  const fraction = (scaled % SCALE).toString().padStart(SCALE_DIGITS, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

function scaledAmount(price: PriceTerms, quantity: number): bigint {
  if (!Number.isInteger(quantity) || quantity < 0) throw new Error(`quantity must be a non-negative integer, got ${quantity}`);
  if (price.billing_scheme === 'tiered') {
    const tiers = price.tiers ?? [];
    if (tiers.length === 0) throw new Error('a tiered price needs its tiers');
    return price.tiers_mode === 'volume' ? volumeScaled(tiers, quantity) : graduatedScaled(tiers, quantity);
  }
  const billed = price.transform_quantity ? packagesFor(quantity, price.transform_quantity) : quantity;
  return toScaled(price.unit_amount_decimal) * BigInt(billed);
}

/** The invoice line amount in whole minor units (cents), rounded like Stripe. */
export function lineAmount(price: PriceTerms, quantity: number): number {
  return roundToMinorUnits(scaledAmount(price, quantity));
}
