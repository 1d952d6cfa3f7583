/**
 * Plans files for tests and benches that need plans the example lacks (quotas, rate limits, free
 * plans): the example's plans plus the given ones, written to a file in `dir`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packagePath } from '../shared/package-root.ts';

/** A public monthly plan on the example's `api_calls` meter. */
export function testPlan(id: string, extra: Record<string, unknown>, pricing: Record<string, unknown>) {
  return { id, name: id, public: true, ...extra, price: { lookup_key: `kpm_${id}_monthly`, currency: 'usd', meter: 'api_calls', pricing } };
}

/** Every call at 0: a free plan's price. */
export const FREE_PRICING = { model: 'per_unit', unit_amount_decimal: '0' };

/** A package of 1000 calls for $10: one call costs 1000 cents (above Stripe's minimum charge). */
export const TEN_DOLLARS_A_CALL = { model: 'package', package_amount: 1000, package_size: 1000, round: 'up' };

/** plans.example.json with `plans` added, as `<dir>/plans.json`; answers the file's path. */
export async function writePlansWith(dir: string, plans: unknown[]): Promise<string> {
  const example = JSON.parse(await readFile(packagePath('plans.example.json'), 'utf8')) as { plans: unknown[] };
  example.plans.push(...plans);
  const file = join(dir, 'plans.json');
  await writeFile(file, JSON.stringify(example));
  return file;
}
