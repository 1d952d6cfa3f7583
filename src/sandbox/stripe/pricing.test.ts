/** Line amounts per pricing model, with figures worked out by hand (BRIEF's examples and the seed's graduated table). */
import { describe, expect, it } from 'vitest';
import { exactAmount, lineAmount, packagesFor, type PriceTerms, type TierTerms } from './pricing.ts';

const perUnit = (unit: string, transform: PriceTerms['transform_quantity'] = null): PriceTerms => ({
  billing_scheme: 'per_unit',
  unit_amount_decimal: unit,
  transform_quantity: transform,
  tiers_mode: null,
});
const tiered = (mode: 'graduated' | 'volume', tiers: TierTerms[]): PriceTerms => ({ billing_scheme: 'tiered', unit_amount_decimal: null, transform_quantity: null, tiers_mode: mode, tiers });
const tier = (upTo: number | null, unit: string | null, flat: string | null = null): TierTerms => ({ up_to: upTo, unit_amount_decimal: unit, flat_amount_decimal: flat });

describe('per unit', () => {
  const quarterCent = perUnit('0.25');
  it('multiplies then rounds the line to the nearest cent', () => {
    // 12,345 × 0.25¢ = 3,086.25¢ → 3,086¢
    expect(exactAmount(quarterCent, 12_345)).toBe('3086.25');
    expect(lineAmount(quarterCent, 12_345)).toBe(3086);
    // 2 × 0.25¢ = 0.5¢ → rounds half up to 1¢ (Stripe: 0.05 × 30 = 1.5 → 2)
    expect(lineAmount(quarterCent, 2)).toBe(1);
    expect(lineAmount(perUnit('0.05'), 30)).toBe(2);
    // 7 × 0.25¢ = 1.75¢ → 2¢; 0 → 0
    expect(lineAmount(quarterCent, 7)).toBe(2);
    expect(lineAmount(quarterCent, 0)).toBe(0);
    // whole-cent price: 3 × 150¢ = 450¢
    expect(lineAmount(perUnit('150'), 3)).toBe(450);
  });
});

describe('package (transform_quantity)', () => {
  it('rounds up: unit_amount 1000, divide_by 5', () => {
    const price = perUnit('1000', { divide_by: 5, round: 'up' });
    // 6 → 2 packages = $20; 5 → exactly 1 = $10; 11 → 3 = $30; 0 → $0
    expect(lineAmount(price, 6)).toBe(2000);
    expect(lineAmount(price, 5)).toBe(1000);
    expect(lineAmount(price, 11)).toBe(3000);
    expect(lineAmount(price, 0)).toBe(0);
  });
  it('rounds down: unit_amount 10, divide_by 1000', () => {
    const price = perUnit('10', { divide_by: 1000, round: 'down' });
    // 12,345 → 12 packages = $1.20; 999 → 0; 1000 → 1 = $0.10
    expect(packagesFor(12_345, { divide_by: 1000, round: 'down' })).toBe(12);
    expect(lineAmount(price, 12_345)).toBe(120);
    expect(lineAmount(price, 999)).toBe(0);
    expect(lineAmount(price, 1000)).toBe(10);
  });
});

describe('tiers without flat amounts (≤5 @ $7, ≤10 @ $6.50, inf @ $6)', () => {
  const tiers = [tier(5, '700'), tier(10, '650'), tier(null, '600')];
  it('graduated', () => {
    // 6: 5×700 + 1×650 = 4,150 ($41.50)
    expect(lineAmount(tiered('graduated', tiers), 6)).toBe(4150);
    // 5 (boundary): 3,500; 10: 3,500 + 3,250 = 6,750; 11: 6,750 + 600 = 7,350
    expect(lineAmount(tiered('graduated', tiers), 5)).toBe(3500);
    expect(lineAmount(tiered('graduated', tiers), 10)).toBe(6750);
    expect(lineAmount(tiered('graduated', tiers), 11)).toBe(7350);
  });
  it('volume', () => {
    // 6 → 6×650 = 3,900 ($39); 5 → 5×700 = 3,500; 11 → 11×600 = 6,600
    expect(lineAmount(tiered('volume', tiers), 6)).toBe(3900);
    expect(lineAmount(tiered('volume', tiers), 5)).toBe(3500);
    expect(lineAmount(tiered('volume', tiers), 11)).toBe(6600);
  });
});

describe('tiers with flat amounts (≤5: $5+$10, ≤10: $4+$20, ≤15: $3+$30, ≤20: $2+$40, inf: $1+$50)', () => {
  const tiers = [tier(5, '500', '1000'), tier(10, '400', '2000'), tier(15, '300', '3000'), tier(20, '200', '4000'), tier(null, '100', '5000')];
  it('volume', () => {
    // 12 → 12×300 + 3,000 = 6,600 ($66); 0 → first tier's flat fee 1,000; 21 → 21×100 + 5,000 = 7,100
    expect(lineAmount(tiered('volume', tiers), 12)).toBe(6600);
    expect(lineAmount(tiered('volume', tiers), 0)).toBe(1000);
    expect(lineAmount(tiered('volume', tiers), 21)).toBe(7100);
  });
  it('graduated', () => {
    // 12 → (5×500+1,000) + (5×400+2,000) + (2×300+3,000) = 3,500 + 4,000 + 3,600 = 11,100 ($111)
    expect(lineAmount(tiered('graduated', tiers), 12)).toBe(11_100);
    // 0 → 1,000 (first flat fee); 5 → 3,500; 6 → 3,500 + 400 + 2,000 = 5,900
    expect(lineAmount(tiered('graduated', tiers), 0)).toBe(1000);
    expect(lineAmount(tiered('graduated', tiers), 5)).toBe(3500);
    expect(lineAmount(tiered('graduated', tiers), 6)).toBe(5900);
  });
});

describe("the seed article's graduated table (1-100 @ $5, 101-1000 @ $3, 1001+ @ $2)", () => {
  const price = tiered('graduated', [tier(100, '500'), tier(1000, '300'), tier(null, '200')]);
  it('bills each query in its band', () => {
    // 100 → $500; 101 → $503; 1,000 → 500 + 900×3 = $3,200; 1,500 → 3,200 + 500×2 = $4,200
    expect(lineAmount(price, 100)).toBe(50_000);
    expect(lineAmount(price, 101)).toBe(50_300);
    expect(lineAmount(price, 1000)).toBe(320_000);
    expect(lineAmount(price, 1500)).toBe(420_000);
  });
  it('handles sub-cent tier prices exactly', () => {
    // 3 × 0.3333¢ = 0.9999¢ → 1¢ (floating point would drift; the module works in integers)
    expect(exactAmount(tiered('graduated', [tier(null, '0.3333')]), 3)).toBe('0.9999');
    expect(lineAmount(tiered('graduated', [tier(null, '0.3333')]), 3)).toBe(1);
  });
});
