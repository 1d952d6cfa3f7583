/**
 * The plans file (PLANS_FILE / --plans): the catalog `stripe:setup` creates in Stripe and the
 * list the provisioner subscribes developers to. Validated with zod; every error names the JSON
 * path of the bad field.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { MonetizationError } from './errors.ts';

const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lowercase letters, digits, "-" or "_" (at most 63)');
/** Stripe amounts are in the currency's minor unit (cents); decimals allow sub-cent unit prices. */
const amountDecimal = z.string().regex(/^\d+(\.\d{1,12})?$/, 'a non-negative decimal string in minor units, e.g. "0.5" for half a cent');

const tier = z
  .object({
    /** Last unit of the tier, or "inf" for the last tier. */
    up_to: z.union([z.number().int().positive(), z.literal('inf')]),
    unit_amount_decimal: amountDecimal.optional(),
    flat_amount: z.number().int().nonnegative().optional(),
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
export const pricingSchema = z.discriminatedUnion('model', [
  z.object({ model: z.literal('per_unit'), unit_amount_decimal: amountDecimal }).strict(),
  z
    .object({
      model: z.literal('package'),
      /** Price of one package, in minor units. */
      package_amount: z.number().int().positive(),
      /** Units per package, e.g. 1000 calls. */
      package_size: z.number().int().min(2),
      /** Partial packages: "up" bills a started package in full (Stripe's transform_quantity.round). */
      round: z.enum(['up', 'down']).default('up'),
    })
    .strict(),
  z.object({ model: z.literal('graduated'), tiers }).strict(),
  z.object({ model: z.literal('volume'), tiers }).strict(),
]);

/** A Stripe price the plan subscribes to: managed by `stripe:setup` (lookup_key + pricing) or an existing price id. */
const priceSchema = z.union([
  z
    .object({
      lookup_key: z.string().min(1).max(200),
      currency: z.string().regex(/^[a-z]{3}$/, 'a three-letter ISO currency code in lowercase, e.g. "usd"').default('usd'),
      /** event_name of the meter in `meters` that this price bills. */
      meter: id,
      pricing: pricingSchema,
    })
    .strict(),
  z.object({ lookup_key: z.string().min(1).max(200) }).strict(),
  z.object({ id: z.string().regex(/^price_[A-Za-z0-9]+$/, 'a Stripe price id such as price_1Nxyz') }).strict(),
]);

export const meterSchema = z
  .object({
    event_name: id,
    display_name: z.string().min(1).max(250),
    aggregation: z.enum(['sum', 'count', 'last']).default('sum'),
  })
  .strict();

export const planSchema = z
  .object({
    id,
    name: z.string().min(1).max(80),
    description: z.string().max(500).default(''),
    default: z.boolean().default(false),
    price: priceSchema,
  })
  .strict();

export const plansFileSchema = z
  .object({
    product: z.object({ name: z.string().min(1).max(250), description: z.string().max(500).optional() }).strict(),
    meters: z.array(meterSchema).default([]),
    plans: z.array(planSchema).min(1, 'list at least one plan'),
  })
  .strict()
  .superRefine((file, ctx) => {
    const defaults = file.plans.filter((p) => p.default);
    if (defaults.length > 1) ctx.addIssue({ code: 'custom', path: ['plans'], message: `only one plan may be the default; found ${defaults.map((p) => p.id).join(', ')}` });
    const seen = new Set<string>();
    file.plans.forEach((plan, i) => {
      if (seen.has(plan.id)) ctx.addIssue({ code: 'custom', path: ['plans', i, 'id'], message: `duplicate plan id "${plan.id}"` });
      seen.add(plan.id);
      if ('meter' in plan.price && !file.meters.some((m) => m.event_name === (plan.price as { meter: string }).meter))
        ctx.addIssue({ code: 'custom', path: ['plans', i, 'price', 'meter'], message: `no meter with event_name "${plan.price.meter}" in meters` });
    });
  });

export type PlansFile = z.infer<typeof plansFileSchema>;
export type Plan = z.infer<typeof planSchema>;
export type Pricing = z.infer<typeof pricingSchema>;
export type Meter = z.infer<typeof meterSchema>;

export class PlansFileError extends MonetizationError {
  readonly file: string;
  readonly problems: string[];

  constructor(file: string, problems: string[]) {
    super('invalid_plans_file', `${file}: ${problems.length === 1 ? problems[0] : `\n  - ${problems.join('\n  - ')}`}`, {
      hint: 'fix the plans file; see plans.example.json and the README section "Plans file"',
    });
    this.file = file;
    this.problems = problems;
  }
}

/** Validates parsed JSON; `file` names the source in errors. */
export function parsePlans(input: unknown, file = 'plans file'): PlansFile {
  const result = plansFileSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(top level)'}: ${issue.message}`);
  throw new PlansFileError(file, problems);
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
