/**
 * Plans to Stripe prices: resolves each plan's price (lookup_key via prices.list({lookup_keys}),
 * or a price id via retrieve), always with tiers expanded, caches the answers for a while, and
 * turns a price into the one-line human summary GET /plans shows.
 */
import type Stripe from 'stripe';
import { limitsSummary, type Plan, type PlansFile } from '../../shared/plans.ts';
import type { PublicPlan } from '../../shared/provisioner-api.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';

interface ResolvedPlan {
  plan: Plan;
  price: Stripe.Price;
}

export interface PriceResolver {
  /** The plan's active Stripe price (cached for ttlMs). */
  priceFor(plan: Plan): Promise<Stripe.Price>;
  /** Forget cached prices (e.g. after stripe:setup changed them). */
  clear(): void;
}

/** How a plan names its price, for messages. */
function describePlanPrice(plan: Plan): string {
  return 'id' in plan.price ? `price ${plan.price.id}` : `lookup_key "${plan.price.lookup_key}"`;
}

export function createPriceResolver(stripe: Stripe, options: { ttlMs?: number; now?: () => number } = {}): PriceResolver {
  const ttl = options.ttlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; price: Promise<Stripe.Price> }>();

  const fetchPrice = async (plan: Plan): Promise<Stripe.Price> => {
    const what = `resolve the price of plan "${plan.id}" (${describePlanPrice(plan)})`;
    let price: Stripe.Price | undefined;
    if ('id' in plan.price) {
      const id = plan.price.id;
      try {
        price = await withStripeRetry(() => stripe.prices.retrieve(id, { expand: ['tiers'] }), { what });
      } catch (error) {
        if ((error as { cause?: { statusCode?: number } }).cause?.statusCode !== 404) throw error;
      }
    } else {
      const lookupKey = plan.price.lookup_key;
      const list = await withStripeRetry(() => stripe.prices.list({ lookup_keys: [lookupKey], active: true, expand: ['data.tiers'], limit: 1 }), { what });
      price = list.data[0];
    }
    if (!price || !price.active)
      throw new ProvisionError('plan_price_not_found', 500, `plan "${plan.id}": Stripe has no active price for ${describePlanPrice(plan)}`, {
        hint: 'run `npm run stripe:setup` with the same plans file and Stripe key, or fix the price in PLANS_FILE',
      });
    return price;
  };

  return {
    priceFor(plan) {
      const key = canonicalPriceRef(plan);
      const hit = cache.get(key);
      if (hit && now() - hit.at < ttl) return hit.price;
      const price = fetchPrice(plan);
      cache.set(key, { at: now(), price });
      // A failure is not cached: the next call asks Stripe again.
      price.catch(() => {
        if (cache.get(key)?.price === price) cache.delete(key);
      });
      return price;
    },
    clear: () => cache.clear(),
  };
}

function canonicalPriceRef(plan: Plan): string {
  return 'id' in plan.price ? `id:${plan.price.id}` : `lookup:${plan.price.lookup_key}`;
}

/** Every plan with its Stripe price, in plans-file order. */
export async function resolvePlans(plans: PlansFile, resolver: PriceResolver): Promise<ResolvedPlan[]> {
  return Promise.all(plans.plans.map(async (plan) => ({ plan, price: await resolver.priceFor(plan) })));
}

export function toPublicPlans(resolved: ResolvedPlan[], defaultPlanId: string | undefined, unit?: UnitNames): PublicPlan[] {
  return resolved.map(({ plan, price }) => {
    const limits = limitsSummary(plan);
    return {
      id: plan.id,
      name: plan.name,
      description: plan.description,
      priceSummary: summarizePrice(price, unit),
      ...(limits ? { limitsSummary: limits } : {}),
      default: plan.id === defaultPlanId,
    };
  });
}

// ---- human price summaries ---------------------------------------------------------------------

interface UnitNames {
  one: string;
  other: string;
}

const CALLS: UnitNames = { one: 'call', other: 'calls' };

/** ISO 4217 currencies Stripe treats as zero-decimal (amounts are whole units, not cents). */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);

type PriceSubset = Pick<Stripe.Price, 'currency' | 'billing_scheme' | 'unit_amount' | 'unit_amount_decimal' | 'transform_quantity' | 'tiers_mode' | 'recurring'> & {
  tiers?: Stripe.Price.Tier[] | undefined;
};

/** An amount in the currency's minor unit (a decimal string or number) as money, e.g. "$0.005". */
export function formatMinorAmount(minor: string | number, currency: string): string {
  const exponent = ZERO_DECIMAL.has(currency.toLowerCase()) ? 0 : 2;
  const major = Number(minor) / 10 ** exponent;
  const format = (digits: number) =>
    new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase(), minimumFractionDigits: digits, maximumFractionDigits: Math.max(digits, 12) });
  // Whole-cent amounts show the currency's usual digits ($2.00); sub-cent ones keep theirs ($0.005).
  return format(exponent).format(major);
}

const count = (n: number) => new Intl.NumberFormat('en-US').format(n);

function decimalOf(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

function unitAmount(source: { unit_amount: number | null; unit_amount_decimal: unknown }): string | undefined {
  return decimalOf(source.unit_amount_decimal) ?? decimalOf(source.unit_amount);
}

function interval(price: PriceSubset): string {
  const recurring = price.recurring;
  if (!recurring) return '';
  const every = recurring.interval_count && recurring.interval_count > 1 ? `every ${recurring.interval_count} ${recurring.interval}s` : `${recurring.interval}ly`;
  return `, billed ${every.replace('dayly', 'daily')}`;
}

/**
 * "$0.005 per call", "$10.00 per 1,000 calls", "1-100 calls: $5.00 each; ... (each tier at its own rate)".
 * Tiered prices need `tiers` expanded (prices.list with expand data.tiers).
 */
export function summarizePrice(price: PriceSubset, unit: UnitNames = CALLS): string {
  const money = (minor: string | number) => formatMinorAmount(minor, price.currency);
  if (price.billing_scheme === 'tiered') {
    if (!price.tiers) throw new Error('summarizePrice: the price is tiered but its tiers were not expanded (expand: ["tiers"])');
    let from = 1;
    const parts = price.tiers.map((tier) => {
      const range = tier.up_to === null ? `${count(from)}+` : `${count(from)}-${count(tier.up_to)}`;
      from = (tier.up_to ?? from) + 1;
      const per = unitAmount(tier);
      const flat = decimalOf(tier.flat_amount_decimal) ?? decimalOf(tier.flat_amount);
      const costs = [per !== undefined && Number(per) > 0 ? `${money(per)} each` : '', flat !== undefined && Number(flat) > 0 ? `${money(flat)} flat` : '']
        .filter(Boolean)
        .join(' + ');
      return `${range} ${unit.other}: ${costs || 'free'}`;
    });
    // Said after the tiers, not as a "Volume"/"Graduated" label: plan names are often those words,
    // and pickers show "<name> (<summary>)".
    const how = price.tiers_mode === 'volume' ? `every ${unit.one} at the rate of the tier reached` : `each tier at its own rate`;
    return `${parts.join('; ')} (${how})${interval(price)}`;
  }
  const amount = unitAmount(price);
  if (amount === undefined) return `Custom price${interval(price)}`;
  const pack = price.transform_quantity;
  if (pack && pack.divide_by > 1) return `${money(amount)} per ${count(pack.divide_by)} ${unit.other}${interval(price)}`;
  return `${money(amount)} per ${unit.one}${interval(price)}`;
}
