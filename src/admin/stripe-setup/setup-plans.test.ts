import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlansFile, PlansFileError } from '../../shared/plans.ts';

function validFile() {
  return {
    product: { name: 'API' },
    meters: [{ event_name: 'api_calls', display_name: 'API calls', aggregation: 'sum' }],
    plans: [
      { id: 'starter', name: 'Starter', default: true, price: { lookup_key: 'k_starter', meter: 'api_calls', pricing: { model: 'per_unit', unit_amount_decimal: '0.5' } } },
      {
        id: 'growth',
        name: 'Growth',
        price: {
          lookup_key: 'k_growth',
          meter: 'api_calls',
          pricing: { model: 'graduated', tiers: [{ up_to: 100, unit_amount_decimal: '500' }, { up_to: 'inf', unit_amount_decimal: '200' }] },
        },
      },
      { id: 'bundle', name: 'Bundle', price: { lookup_key: 'k_bundle', meter: 'api_calls', pricing: { model: 'package', package_amount: 1000, package_size: 1000 } } },
    ],
  };
}
type PlansJson = ReturnType<typeof validFile> & Record<string, unknown>;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpm-plans-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
async function fileWith(text: string): Promise<string> {
  const path = join(dir, `plans-${++counter}.json`);
  await writeFile(path, text);
  return path;
}

/** Loads a modified copy of the valid file and answers the problems it was rejected with. */
async function problemsOf(edit: (file: PlansJson) => void): Promise<string[]> {
  const file = validFile() as PlansJson;
  edit(file);
  const path = await fileWith(JSON.stringify(file));
  const error = await loadPlansFile(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PlansFileError);
  const plansError = error as PlansFileError;
  expect(plansError.code).toBe('invalid_plans_file');
  expect(plansError.message).toContain(path);
  return plansError.problems;
}

describe('plans file validation for stripe:setup', () => {
  it('accepts a valid file and the checked-in example', async () => {
    const plans = await loadPlansFile(await fileWith(JSON.stringify(validFile())));
    expect(plans.plans.map((p) => p.id)).toEqual(['starter', 'growth', 'bundle']);
    const example = await loadPlansFile('plans.example.json');
    expect(example.plans.map((p) => (('pricing' in p.price) ? p.price.pricing.model : 'external'))).toEqual(['per_unit', 'package', 'graduated', 'volume']);
  });

  it('names an unreadable file and invalid JSON', async () => {
    const missing = join(dir, 'nope.json');
    await expect(loadPlansFile(missing)).rejects.toThrow(/nope\.json: cannot read the file \(ENOENT\)/);
    await expect(loadPlansFile(await fileWith('{"product": '))).rejects.toThrow(/not valid JSON/);
  });

  const cases: Array<[string, (f: PlansJson) => void, RegExp]> = [
    ['missing product name', (f) => void (f.product = {} as never), /^product\.name: /],
    ['bad plan id', (f) => void (f.plans[0]!.id = 'Bad Id'), /^plans\.0\.id: use lowercase/],
    ['duplicate plan id', (f) => void (f.plans[1]!.id = 'starter'), /^plans\.1\.id: duplicate plan id "starter"/],
    ['two defaults', (f) => void ((f.plans[1] as { default?: boolean }).default = true), /^plans: only one plan may be the default/],
    ['no plans', (f) => void (f.plans = []), /^plans: list at least one plan/],
    ['unknown top-level key', (f) => void (f.extra = 1), /^\(top level\): .*extra/i],
    ['unknown meter', (f) => void ((f.plans[0]!.price as { meter: string }).meter = 'calls'), /^plans\.0\.price\.meter: no meter with event_name "calls"/],
    ['bad currency', (f) => void ((f.plans[0]!.price as { currency?: string }).currency = 'USD'), /^plans\.0\.price\.currency: a three-letter ISO currency code/],
    ['bad decimal', (f) => void ((f.plans[0]!.price.pricing as { unit_amount_decimal: string }).unit_amount_decimal = '-1'), /^plans\.0\.price\.pricing\.unit_amount_decimal: a non-negative decimal/],
    ['unknown pricing model', (f) => void ((f.plans[0]!.price.pricing as { model: string }).model = 'flat'), /^plans\.0\.price\.pricing\.model: /],
    ['last tier not inf', (f) => void ((f.plans[1]!.price.pricing as { tiers: { up_to: unknown }[] }).tiers[1]!.up_to = 5000), /^plans\.1\.price\.pricing\.tiers\.1\.up_to: the last tier must have up_to "inf"/],
    ['tiers not increasing', (f) => void ((f.plans[1]!.price.pricing as { tiers: unknown[] }).tiers = [{ up_to: 100, unit_amount_decimal: '1' }, { up_to: 50, unit_amount_decimal: '1' }, { up_to: 'inf', unit_amount_decimal: '1' }]), /^plans\.1\.price\.pricing\.tiers\.1\.up_to: must be greater than the previous tier's up_to \(100\)/],
    ['tier without amount', (f) => void ((f.plans[1]!.price.pricing as { tiers: unknown[] }).tiers[0] = { up_to: 100 }), /^plans\.1\.price\.pricing\.tiers\.0: a tier needs unit_amount_decimal/],
    ['package of one', (f) => void ((f.plans[2]!.price.pricing as { package_size: number }).package_size = 1), /^plans\.2\.price\.pricing\.package_size: /],
    ['duplicate lookup key', (f) => void (f.plans[2]!.price.lookup_key = 'k_starter'), /^plans\.2\.price\.lookup_key: "k_starter" is already used by plans\.0/],
    ['duplicate meter', (f) => void f.meters.push({ event_name: 'api_calls', display_name: 'Again', aggregation: 'sum' }), /^meters\.1\.event_name: duplicate event_name "api_calls" \(also meters\.0\)/],
    ['package amount over Stripe limit', (f) => void ((f.plans[2]!.price.pricing as { package_amount: number }).package_amount = 100_000_000), /^plans\.2\.price\.pricing\.package_amount: at most 99999999/],
    ['tier flat amount over Stripe limit', (f) => void ((f.plans[1]!.price.pricing as { tiers: { flat_amount?: number }[] }).tiers[0]!.flat_amount = 100_000_000), /^plans\.1\.price\.pricing\.tiers\.0\.flat_amount: at most 99999999/],
  ];

  it.each(cases)('rejects %s and names the path', async (_name, edit, expected) => {
    const problems = await problemsOf(edit);
    expect(problems.some((p) => expected.test(p)), `problems: ${problems.join(' | ')}`).toBe(true);
  });
});
