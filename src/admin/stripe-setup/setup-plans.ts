/**
 * Loading the plans file for stripe:setup: the shared schema (src/shared/plans.ts) plus the rules
 * that only matter when the file becomes a Stripe catalog (unique lookup keys and meters, Stripe's
 * amount limits). Errors carry the JSON path, like the schema's own.
 *
 * The schema's `price` is a union of three shapes; zod reports a bad union member as
 * "plans.N.price: Invalid input". Here such an issue is replaced by the issues of the shape the
 * author evidently meant (a `pricing` key means a managed price), which name the exact field.
 */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { planSchema, plansFileSchema, PlansFileError, type PlansFile } from '../../shared/plans.ts';
import type { ManagedPrice } from './price-spec.ts';

/** Stripe rejects unit_amount and flat_amount above this (in minor units). */
export const STRIPE_MAX_AMOUNT = 99_999_999;

export function isManagedPrice(price: PlansFile['plans'][number]['price']): price is ManagedPrice {
  return 'pricing' in price;
}

/** Problems the schema cannot see because they span fields or are Stripe's limits. */
export function catalogProblems(plans: PlansFile): string[] {
  const problems: string[] = [];
  const meterNames = new Map<string, number>();
  plans.meters.forEach((meter, i) => {
    const first = meterNames.get(meter.event_name);
    if (first !== undefined) problems.push(`meters.${i}.event_name: duplicate event_name "${meter.event_name}" (also meters.${first})`);
    else meterNames.set(meter.event_name, i);
  });

  const lookupKeys = new Map<string, number>();
  plans.plans.forEach((plan, i) => {
    const price = plan.price;
    if ('lookup_key' in price) {
      const first = lookupKeys.get(price.lookup_key);
      if (first !== undefined) problems.push(`plans.${i}.price.lookup_key: "${price.lookup_key}" is already used by plans.${first}; each plan needs its own price`);
      else lookupKeys.set(price.lookup_key, i);
    }
    if (!isManagedPrice(price)) return;
    const pricing = price.pricing;
    const at = `plans.${i}.price.pricing`;
    if (pricing.model === 'package' && pricing.package_amount > STRIPE_MAX_AMOUNT)
      problems.push(`${at}.package_amount: at most ${STRIPE_MAX_AMOUNT} (Stripe's limit for unit_amount)`);
    if (pricing.model === 'graduated' || pricing.model === 'volume')
      pricing.tiers.forEach((tier, t) => {
        if ((tier.flat_amount ?? 0) > STRIPE_MAX_AMOUNT) problems.push(`${at}.tiers.${t}.flat_amount: at most ${STRIPE_MAX_AMOUNT} (Stripe's limit)`);
      });
  });
  return problems;
}

type Issue = z.core.$ZodIssue;

/** The price union's members: [managed (pricing), lookup_key only, id only]. */
const PRICE_SHAPES = planSchema.shape.price.options;

function intendedPriceShape(price: unknown): (typeof PRICE_SHAPES)[number] | undefined {
  if (!price || typeof price !== 'object' || Array.isArray(price)) return undefined;
  const keys = Object.keys(price);
  if (keys.some((key) => key === 'pricing' || key === 'meter' || key === 'currency')) return PRICE_SHAPES[0];
  if (keys.includes('id')) return PRICE_SHAPES[2];
  return PRICE_SHAPES[1];
}

function formatIssue(issue: Issue, prefix: PropertyKey[] = []): string {
  const path = [...prefix, ...issue.path];
  return `${path.length ? path.map(String).join('.') : '(top level)'}: ${issue.message}`;
}

/** Schema issues, with each plan's price issues taken from the price shape the author meant. */
function schemaProblems(input: unknown, issues: Issue[]): string[] {
  const plans = (input as { plans?: unknown })?.plans;
  const problems: string[] = [];
  const expanded = new Set<number>();
  for (const issue of issues) {
    const [top, index, field] = issue.path;
    const price = Array.isArray(plans) && typeof index === 'number' ? (plans[index] as { price?: unknown } | undefined)?.price : undefined;
    const shape = top === 'plans' && field === 'price' ? intendedPriceShape(price) : undefined;
    if (shape && typeof index === 'number') {
      if (expanded.has(index)) continue;
      const detailed = shape.safeParse(price);
      if (!detailed.success) {
        expanded.add(index);
        problems.push(...detailed.error.issues.map((inner) => formatIssue(inner, ['plans', index, 'price'])));
        continue;
      }
    }
    problems.push(formatIssue(issue));
  }
  return problems;
}

/** Validates parsed JSON for stripe:setup; throws PlansFileError naming every bad path. */
export function parsePlansForSetup(input: unknown, file = 'plans file'): PlansFile {
  const result = plansFileSchema.safeParse(input);
  if (!result.success) throw new PlansFileError(file, schemaProblems(input, result.error.issues));
  const problems = catalogProblems(result.data);
  if (problems.length) throw new PlansFileError(file, problems);
  return result.data;
}

/** Reads and validates a plans file (same messages as loadPlansFile, with precise price paths). */
export async function loadPlansForSetup(path: string): Promise<PlansFile> {
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
  return parsePlansForSetup(json, path);
}
