/**
 * The plans file (PLANS_FILE / --plans): the catalog `stripe:setup` creates in Stripe and the
 * list the provisioner subscribes developers to. Validated with zod; every error names the JSON
 * path of the bad field. The rules hold for every consumer: a file the provisioner accepts is one
 * stripe:setup can turn into a Stripe catalog (unique lookup keys and meters, Stripe's amount limits).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { MonetizationError } from './errors.ts';

const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lowercase letters, digits, "-" or "_" (at most 63)');
/** Stripe amounts are in the currency's minor unit (cents); decimals allow sub-cent unit prices. */
const amountDecimal = z.string().regex(/^\d+(\.\d{1,12})?$/, 'a non-negative decimal string in minor units, e.g. "0.5" for half a cent');
/** Stripe rejects unit_amount and flat_amount above this (in minor units). */
export const STRIPE_MAX_AMOUNT = 99_999_999;

const tier = z
  .object({
    /** Last unit of the tier, or "inf" for the last tier. */
    up_to: z.union([z.number().int().positive(), z.literal('inf')], { error: 'a positive whole number, or "inf" for the last tier' }),
    unit_amount_decimal: amountDecimal.optional(),
    flat_amount: z.number().int().nonnegative().max(STRIPE_MAX_AMOUNT, `at most ${STRIPE_MAX_AMOUNT} (Stripe's limit)`).optional(),
  })
  .strict()
  .refine((t) => t.unit_amount_decimal !== undefined || t.flat_amount !== undefined, 'a tier needs unit_amount_decimal, flat_amount or both');

const tiers = z
  .array(tier)
  .min(1)
  .superRefine((list, ctx) => {
    list.forEach((t, i) => {
      const last = i === list.length - 1;
      if (last && t.up_to !== 'inf') ctx.addIssue({ code: 'custom', path: [i, 'up_to'], message: 'the last tier must have up_to "inf"' });
      if (!last && t.up_to === 'inf') ctx.addIssue({ code: 'custom', path: [i, 'up_to'], message: 'only the last tier may have up_to "inf"' });
      const prev = list[i - 1];
      if (prev && typeof prev.up_to === 'number' && typeof t.up_to === 'number' && t.up_to <= prev.up_to)
        ctx.addIssue({ code: 'custom', path: [i, 'up_to'], message: `must be greater than the previous tier's up_to (${prev.up_to})` });
    });
  });

/** The four pricing models of the seeds. */
const pricingSchema = z.discriminatedUnion('model', [
  z.object({ model: z.literal('per_unit'), unit_amount_decimal: amountDecimal }).strict(),
  z
    .object({
      model: z.literal('package'),
      /** Price of one package, in minor units. */
      package_amount: z.number().int().positive().max(STRIPE_MAX_AMOUNT, `at most ${STRIPE_MAX_AMOUNT} (Stripe's limit for unit_amount)`),
      /** Units per package, e.g. 1000 calls. */
      package_size: z.number().int().min(2),
      /** Partial packages: "up" bills a started package in full (Stripe's transform_quantity.round). */
      round: z.enum(['up', 'down']).default('up'),
    })
    .strict(),
  z.object({ model: z.literal('graduated'), tiers }).strict(),
  z.object({ model: z.literal('volume'), tiers }).strict(),
]);

const lookupKey = z.string().min(1).max(200);
/** A price stripe:setup creates and keeps in line with `pricing`. */
const managedPriceSchema = z
  .object({
    lookup_key: lookupKey,
    currency: z.string().regex(/^[a-z]{3}$/, 'a three-letter ISO currency code in lowercase, e.g. "usd"').default('usd'),
    /** event_name of the meter in `meters` that this price bills. */
    meter: id,
    pricing: pricingSchema,
  })
  .strict();
const existingPriceByLookupKeySchema = z.object({ lookup_key: lookupKey }).strict();
const existingPriceByIdSchema = z.object({ id: z.string().regex(/^price_[A-Za-z0-9]+$/, 'a Stripe price id such as price_1Nxyz') }).strict();

/** Order of priceSchema's members; intendedPriceShape answers an index into it. */
const PRICE_SHAPES = [managedPriceSchema, existingPriceByLookupKeySchema, existingPriceByIdSchema] as const;

/**
 * A Stripe price the plan subscribes to: managed by `stripe:setup` (lookup_key + pricing), an
 * existing price by lookup_key, or an existing price id. parsePlans reports a bad price with the
 * issues of the shape the author meant (see intendedPriceShape), not zod's bare "Invalid input".
 */
const priceSchema = z.union(PRICE_SHAPES, {
  error: 'an object: {lookup_key, currency, meter, pricing} for a price stripe:setup manages, {lookup_key} or {id} for an existing price',
});

const meterSchema = z
  .object({
    event_name: id,
    display_name: z.string().min(1).max(250),
    aggregation: z.enum(['sum', 'count', 'last']).default('sum'),
  })
  .strict();

/** The windows a plan's rate limit may use (Kong's rate-limiting plugin has these and longer ones; longer is a quota). */
export const RATE_WINDOWS = ['second', 'minute', 'hour'] as const;
export type RateWindow = (typeof RATE_WINDOWS)[number];
const callCount = z.number({ error: 'a whole number of calls' }).int('a whole number of calls').positive('at least 1');

/** Calls per window, enforced by Kong's rate-limiting plugin on the developer's consumer. */
const rateSchema = z
  .object({ second: callCount.optional(), minute: callCount.optional(), hour: callCount.optional() })
  .strict()
  .superRefine((rate, ctx) => {
    const set = RATE_WINDOWS.filter((w) => rate[w] !== undefined);
    if (set.length === 0) ctx.addIssue({ code: 'custom', message: 'give at least one of second, minute, hour' });
    // Kong refuses a longer window with a smaller limit than a shorter one; say so here, not at signup.
    for (let i = 1; i < set.length; i++) {
      const shorter = set[i - 1] as RateWindow;
      const longer = set[i] as RateWindow;
      if ((rate[longer] as number) < (rate[shorter] as number))
        ctx.addIssue({ code: 'custom', path: [longer], message: `must be at least ${shorter} (${rate[shorter]}): a longer window cannot allow fewer calls` });
    }
  });

/** Calls per billing period. hard: refused (429) once reached until the period resets; soft: never refused, the overage is billed. */
const quotaSchema = z
  .object({ calls: callCount, enforcement: z.enum(['hard', 'soft'], { error: '"hard" (refuse at the quota) or "soft" (bill the overage)' }) })
  .strict();

const limitsSchema = z.object({ rate: rateSchema.optional(), quota: quotaSchema.optional() }).strict();

/** How a plan's developers pay (PAYMENT_COLLECTION is the default for plans that do not say). */
export const PAYMENT_COLLECTIONS = ['checkout', 'invoice', 'none'] as const;
export type PaymentCollection = (typeof PAYMENT_COLLECTIONS)[number];
/** Stripe's trial_settings.end_behavior.missing_payment_method. */
const TRIAL_END_BEHAVIORS = ['cancel', 'pause', 'create_invoice'] as const;

const planSchema = z
  .object({
    id,
    name: z.string().min(1).max(80),
    description: z.string().max(500).default(''),
    default: z.boolean().default(false),
    price: priceSchema,
    /** checkout: a card through Stripe Checkout before calls are allowed; invoice: Stripe emails invoices; none: nothing to collect. */
    payment_collection: z.enum(PAYMENT_COLLECTIONS).optional(),
    /** Days to pay an emailed invoice (payment_collection "invoice" only). */
    days_until_due: z.number().int().min(1).max(365).optional(),
    trial_days: z.number().int().min(1).max(730).optional(),
    /** What Stripe does when the trial ends without a payment method; Stripe's default is create_invoice. */
    trial_end_without_payment_method: z.enum(TRIAL_END_BEHAVIORS).optional(),
    /**
     * Whether developers may choose the plan themselves (picker, hosted form, Stripe portal switcher).
     * Default: true for plans that follow PAYMENT_COLLECTION, false for a plan that sets its own
     * payment_collection ("invoice" or "none": no card), which the admin assigns instead.
     */
    public: z.boolean({ error: 'true or false' }).optional(),
    /** Rate limit (Kong) and quota per billing period. */
    limits: limitsSchema.optional(),
    /** Calls free each period: stripe:setup prices them through a first tier at 0, so the invoice shows them. */
    included: callCount.optional(),
  })
  .strict()
  .superRefine((plan, ctx) => {
    const freeProblem = freePlanProblem(plan);
    if (freeProblem) ctx.addIssue({ code: 'custom', path: freeProblem.path, message: freeProblem.message });
    if (plan.included !== undefined) {
      const problem = includedProblem(plan.price);
      if (problem) ctx.addIssue({ code: 'custom', path: ['included'], message: problem });
    }
    if (plan.days_until_due !== undefined && plan.payment_collection !== 'invoice')
      ctx.addIssue({ code: 'custom', path: ['days_until_due'], message: 'only for payment_collection "invoice"' });
    if (plan.trial_end_without_payment_method !== undefined && plan.trial_days === undefined)
      ctx.addIssue({ code: 'custom', path: ['trial_end_without_payment_method'], message: 'needs trial_days' });
  });

const plansFileSchema = z
  .object({
    product: z.object({ name: z.string().min(1).max(250), description: z.string().max(500).optional() }).strict(),
    meters: z.array(meterSchema).default([]),
    plans: z.array(planSchema).min(1, 'list at least one plan'),
  })
  .strict()
  .superRefine((file, ctx) => {
    const defaults = file.plans.filter((p) => p.default);
    if (defaults.length > 1) ctx.addIssue({ code: 'custom', path: ['plans'], message: `only one plan may be the default; found ${defaults.map((p) => p.id).join(', ')}` });
    const meterNames = new Map<string, number>();
    file.meters.forEach((meter, i) => {
      const first = meterNames.get(meter.event_name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['meters', i, 'event_name'], message: `duplicate event_name "${meter.event_name}" (also meters.${first})` });
      else meterNames.set(meter.event_name, i);
    });
    const seen = new Set<string>();
    // One lookup_key is one Stripe price: two plans sharing it would bill alike and fight over it in stripe:setup.
    const lookupKeys = new Map<string, number>();
    file.plans.forEach((plan, i) => {
      if (seen.has(plan.id)) ctx.addIssue({ code: 'custom', path: ['plans', i, 'id'], message: `duplicate plan id "${plan.id}"` });
      seen.add(plan.id);
      const price = plan.price;
      if ('lookup_key' in price) {
        const first = lookupKeys.get(price.lookup_key);
        if (first !== undefined)
          ctx.addIssue({ code: 'custom', path: ['plans', i, 'price', 'lookup_key'], message: `"${price.lookup_key}" is already used by plans.${first}; each plan needs its own price` });
        else lookupKeys.set(price.lookup_key, i);
      }
      if ('meter' in price && !file.meters.some((m) => m.event_name === price.meter))
        ctx.addIssue({ code: 'custom', path: ['plans', i, 'price', 'meter'], message: `no meter with event_name "${price.meter}" in meters` });
    });
  });

/**
 * A free plan ("none": nothing to collect) with a hard quota must include every call the quota
 * allows: the calls between `included` and the quota would be invoiced to someone who was never
 * asked to pay. (A free plan without a quota stays unlimited, as plans files before limits had it.)
 */
function freePlanProblem(plan: { payment_collection?: PaymentCollection; limits?: z.infer<typeof limitsSchema>; included?: number }) {
  const quota = plan.limits?.quota;
  if (plan.payment_collection !== 'none' || quota?.enforcement !== 'hard') return undefined;
  if (plan.included !== undefined && plan.included >= quota.calls) return undefined;
  return { path: ['included'], message: `a plan with payment_collection "none" and a hard quota must include every call the quota allows (set "included" to at least ${quota.calls})` };
}

/** Why `included` cannot be priced for this price, or undefined. */
function includedProblem(price: z.infer<typeof priceSchema>): string | undefined {
  if (!('pricing' in price)) return 'needs a price stripe:setup manages ("pricing"): the free calls are its first tier';
  if (price.pricing.model === 'package') return 'not with "package" pricing (Stripe cannot tier a package price); use "graduated" tiers instead';
  if (price.pricing.model === 'volume') return 'not with "volume" pricing (one volume rate applies to every call, free ones too); use "graduated" tiers';
  return undefined;
}

export type PlansFile = z.infer<typeof plansFileSchema>;
export type Plan = z.infer<typeof planSchema>;
export type Pricing = z.infer<typeof pricingSchema>;
export type Meter = z.infer<typeof meterSchema>;

export class PlansFileError extends MonetizationError {
  readonly file: string;
  readonly problems: string[];

  constructor(file: string, problems: string[]) {
    super('invalid_plans_file', `${file}: ${problems.length === 1 ? problems[0] : `\n  - ${problems.join('\n  - ')}`}`, {
      hint: 'fix the plans file; see plans.example.json and docs/plans-file.md',
    });
    this.file = file;
    this.problems = problems;
  }
}

type Issue = z.core.$ZodIssue;

/** The member of PRICE_SHAPES the author meant: a `pricing` (or `meter`, `currency`) key means managed, an `id` key an existing price id. */
function intendedPriceShape(price: unknown): (typeof PRICE_SHAPES)[number] | undefined {
  if (!price || typeof price !== 'object' || Array.isArray(price)) return undefined;
  const keys = Object.keys(price);
  if (keys.some((key) => key === 'pricing' || key === 'meter' || key === 'currency')) return managedPriceSchema;
  if (keys.includes('id')) return existingPriceByIdSchema;
  return existingPriceByLookupKeySchema;
}

function describeIssue(path: readonly PropertyKey[], message: string): string {
  return `${path.length ? path.map(String).join('.') : '(top level)'}: ${message}`;
}

/**
 * One line per problem, "json.path: message". zod answers a bad price with a bare "Invalid input"
 * or with the issues of whichever union member it found closest (often the wrong one), so the issues
 * of a plan's price are replaced by those of the shape the author meant. Cross-field issues (code
 * "custom", e.g. a duplicate lookup_key) are kept.
 */
function describeIssues(input: unknown, issues: readonly Issue[]): string[] {
  const plans = (input as { plans?: unknown } | null | undefined)?.plans;
  const lines = new Set<string>();
  const explained = new Set<number>();
  for (const issue of issues) {
    const [top, index, field] = issue.path;
    if (top === 'plans' && typeof index === 'number' && field === 'price') {
      if (explained.has(index)) {
        if (issue.code !== 'custom') continue;
      } else {
        const price = Array.isArray(plans) ? (plans[index] as { price?: unknown } | undefined)?.price : undefined;
        const detailed = intendedPriceShape(price)?.safeParse(price);
        if (detailed && !detailed.success) {
          explained.add(index);
          for (const inner of detailed.error.issues) lines.add(describeIssue(['plans', index, 'price', ...inner.path], inner.message));
          continue;
        }
      }
    }
    lines.add(describeIssue(issue.path, issue.message));
  }
  return [...lines];
}

/** Validates parsed JSON; `file` names the source in errors. Throws PlansFileError listing every problem with its JSON path. */
export function parsePlans(input: unknown, file = 'plans file'): PlansFile {
  const result = plansFileSchema.safeParse(input);
  if (result.success) return result.data;
  throw new PlansFileError(file, describeIssues(input, result.error.issues));
}

export async function loadPlansFile(path: string): Promise<PlansFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PlansFileError(path, [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PlansFileError(path, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parsePlans(json, path);
}

/** The plan a developer gets when their meta names none (or an unknown one). */
export function defaultPlan(file: PlansFile): Plan | undefined {
  return file.plans.find((p) => p.default) ?? (file.plans.length === 1 ? file.plans[0] : undefined);
}

/**
 * Whether developers may pick this plan themselves. A plan that sets its own payment_collection
 * ("invoice", "none") lets a developer in without a card, so it is private unless marked public.
 */
export function isPublicPlan(plan: Plan): boolean {
  return plan.public ?? (plan.payment_collection === undefined || plan.payment_collection === 'checkout');
}

/** The plans a developer may choose: the public ones, and the default (what they get without choosing). */
export function selectablePlans(file: PlansFile): Plan[] {
  const fallback = defaultPlan(file);
  return file.plans.filter((plan) => isPublicPlan(plan) || plan === fallback);
}

/**
 * A problem with the plan picker, or undefined: with more than one plan the developer may pick, one
 * must be the default, or a developer who picks nothing (or an unknown plan) cannot be provisioned.
 */
export function planPickerProblem(file: PlansFile): string | undefined {
  if (defaultPlan(file)) return undefined;
  return `plans: ${file.plans.length} plans and none has "default": true; a developer who picks no plan (or one not offered) could not be provisioned. Mark one plan "default": true`;
}

/** Days to pay an emailed invoice when the plan does not say. */
export const DEFAULT_DAYS_UNTIL_DUE = 30;

/** The plan's way to pay, or the global default (PAYMENT_COLLECTION). */
export function paymentCollectionOf(plan: Plan, fallback: PaymentCollection): PaymentCollection {
  return plan.payment_collection ?? fallback;
}

/**
 * The pricing stripe:setup creates for a plan: with `included` calls, a first tier at 0 up to that
 * many, then the plan's pricing shifted past them (graduated tiers keep their widths).
 */
export function pricingWithIncluded(pricing: Pricing, included: number | undefined): Pricing {
  if (!included) return pricing;
  const free = { up_to: included, unit_amount_decimal: '0' };
  if (pricing.model === 'per_unit') return { model: 'graduated', tiers: [free, { up_to: 'inf', unit_amount_decimal: pricing.unit_amount_decimal }] };
  if (pricing.model === 'graduated')
    return { model: 'graduated', tiers: [free, ...pricing.tiers.map((t) => ({ ...t, up_to: t.up_to === 'inf' ? ('inf' as const) : t.up_to + included }))] };
  // parsePlans refuses included with package and volume pricing.
  throw new PlansFileError('plans file', [`included: not with "${pricing.model}" pricing`]);
}

const count = (n: number) => n.toLocaleString('en-US');

/** One line a developer and an admin read: "10 calls/second · 1,000 calls per month (hard) · first 100 calls free". Empty without limits. */
export function limitsSummary(plan: Pick<Plan, 'limits' | 'included'>): string {
  const parts: string[] = [];
  const rate = plan.limits?.rate;
  if (rate) parts.push(RATE_WINDOWS.filter((w) => rate[w] !== undefined).map((w) => `${count(rate[w] as number)} calls/${w}`).join(', '));
  const quota = plan.limits?.quota;
  if (quota) parts.push(`${count(quota.calls)} calls per billing period (${quota.enforcement === 'hard' ? 'then refused until it resets' : 'more are billed'})`);
  if (plan.included) parts.push(`first ${count(plan.included)} calls each period free`);
  return parts.join(' · ');
}
