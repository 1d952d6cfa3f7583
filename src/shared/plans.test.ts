import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlan, isPublicPlan, limitsSummary, loadPlansFile, parsePlans, planPickerProblem, PlansFileError, pricingWithIncluded, selectablePlans, STRIPE_MAX_AMOUNT } from './plans.ts';

type Json = Record<string, unknown>;

function validFile(): Json & { meters: Json[]; plans: Array<Json & { price: Json }> } {
  return {
    product: { name: 'API' },
    meters: [{ event_name: 'api_calls', display_name: 'API calls' }],
    plans: [
      { id: 'starter', name: 'Starter', default: true, price: { lookup_key: 'k_starter', meter: 'api_calls', pricing: { model: 'per_unit', unit_amount_decimal: '0.5' } } },
      {
        id: 'tiered',
        name: 'Tiered',
        price: { lookup_key: 'k_tiered', meter: 'api_calls', pricing: { model: 'volume', tiers: [{ up_to: 10, flat_amount: 100 }, { up_to: 'inf', unit_amount_decimal: '2' }] } },
      },
      { id: 'legacy', name: 'Legacy', price: { id: 'price_1Legacy' } },
      { id: 'shared', name: 'Shared', price: { lookup_key: 'k_existing' } },
    ],
  };
}

/** The problems parsePlans rejects `input` with (fails the test when it is accepted). */
function problemsOf(input: unknown, file = 'plans.json'): string[] {
  try {
    parsePlans(input, file);
  } catch (error) {
    expect(error).toBeInstanceOf(PlansFileError);
    const plansError = error as PlansFileError;
    expect(plansError.code).toBe('invalid_plans_file');
    expect(plansError.file).toBe(file);
    expect(plansError.message.startsWith(`${file}: `)).toBe(true);
    expect(plansError.hint).toMatch(/plans\.example\.json/);
    return plansError.problems;
  }
  throw new Error('parsePlans accepted the input');
}

function withEdit(edit: (file: ReturnType<typeof validFile>) => void): unknown {
  const file = validFile();
  edit(file);
  return file;
}

describe('parsePlans', () => {
  it('accepts every price shape and fills the defaults', () => {
    const plans = parsePlans(validFile());
    expect(plans.plans.map((p) => p.id)).toEqual(['starter', 'tiered', 'legacy', 'shared']);
    expect(plans.meters[0]?.aggregation).toBe('sum');
    expect(plans.plans[0]?.price).toMatchObject({ currency: 'usd' });
    expect(plans.plans[1]?.description).toBe('');
    expect(defaultPlan(plans)?.id).toBe('starter');
  });

  it('accepts amounts at Stripe\'s maximum', () => {
    const input = withEdit((f) => {
      f.plans[0]!.price.pricing = { model: 'package', package_amount: STRIPE_MAX_AMOUNT, package_size: 1000 };
      (f.plans[1]!.price.pricing as { tiers: Json[] }).tiers[0]!.flat_amount = STRIPE_MAX_AMOUNT;
    });
    expect(parsePlans(input).plans[0]?.price).toMatchObject({ pricing: { package_amount: 99_999_999 } });
  });

  // Each case: one mistake, and the exact line naming its JSON path (no "Invalid input" from the price union).
  const cases: Array<[string, (f: ReturnType<typeof validFile>) => void, string]> = [
    [
      'a bad field inside a managed price',
      (f) => void ((f.plans[0]!.price.pricing as Json).unit_amount_decimal = '-1'),
      'plans.0.price.pricing.unit_amount_decimal: a non-negative decimal string in minor units, e.g. "0.5" for half a cent',
    ],
    ['a bad currency', (f) => void (f.plans[0]!.price.currency = 'USD'), 'plans.0.price.currency: a three-letter ISO currency code in lowercase, e.g. "usd"'],
    ['an unknown key in a managed price', (f) => void (f.plans[0]!.price.interval = 'month'), 'plans.0.price: Unrecognized key: "interval"'],
    ['a managed price without its meter', (f) => void delete f.plans[0]!.price.meter, 'plans.0.price.meter: Invalid input: expected string, received undefined'],
    ['a meter without pricing', (f) => void delete f.plans[0]!.price.pricing, 'plans.0.price.pricing: Invalid input: expected object, received undefined'],
    ['a malformed price id', (f) => void (f.plans[2]!.price.id = 'prod_123'), 'plans.2.price.id: a Stripe price id such as price_1Nxyz'],
    ['a price id with extra keys', (f) => void (f.plans[2]!.price.currency = 'usd'), 'plans.2.price.lookup_key: Invalid input: expected string, received undefined'],
    ['a lookup key that is not a string', (f) => void (f.plans[3]!.price.lookup_key = 7), 'plans.3.price.lookup_key: Invalid input: expected string, received number'],
    [
      'a price that is not an object',
      (f) => void (f.plans[3]!.price = 'k_existing' as never),
      'plans.3.price: an object: {lookup_key, currency, meter, pricing} for a price stripe:setup manages, {lookup_key} or {id} for an existing price',
    ],
    ['a tier bound that is not a number or "inf"', (f) => void ((f.plans[1]!.price.pricing as { tiers: Json[] }).tiers[0]!.up_to = 'ten'), 'plans.1.price.pricing.tiers.0.up_to: a positive whole number, or "inf" for the last tier'],
    [
      'a package amount over Stripe\'s maximum',
      (f) => void (f.plans[0]!.price.pricing = { model: 'package', package_amount: STRIPE_MAX_AMOUNT + 1, package_size: 1000 }),
      'plans.0.price.pricing.package_amount: at most 99999999 (Stripe\'s limit for unit_amount)',
    ],
    [
      'a tier flat amount over Stripe\'s maximum',
      (f) => void ((f.plans[1]!.price.pricing as { tiers: Json[] }).tiers[0]!.flat_amount = STRIPE_MAX_AMOUNT + 1),
      'plans.1.price.pricing.tiers.0.flat_amount: at most 99999999 (Stripe\'s limit)',
    ],
    ['two plans on one lookup key', (f) => void (f.plans[3]!.price.lookup_key = 'k_starter'), 'plans.3.price.lookup_key: "k_starter" is already used by plans.0; each plan needs its own price'],
    ['two meters with one event_name', (f) => void f.meters.push({ event_name: 'api_calls', display_name: 'Again' }), 'meters.1.event_name: duplicate event_name "api_calls" (also meters.0)'],
    ['a price billing an unknown meter', (f) => void (f.plans[1]!.price.meter = 'calls'), 'plans.1.price.meter: no meter with event_name "calls" in meters'],
    ['a duplicate plan id', (f) => void (f.plans[2]!.id = 'starter'), 'plans.2.id: duplicate plan id "starter"'],
    ['two default plans', (f) => void (f.plans[1]!.default = true), 'plans: only one plan may be the default; found starter, tiered'],
    ['a "public" that is no boolean', (f) => void (f.plans[1]!.public = 'yes'), 'plans.1.public: true or false'],
  ];

  it.each(cases)('rejects %s, naming the JSON path', (_name, edit, expected) => {
    expect(problemsOf(withEdit(edit))).toContain(expected);
  });

  it('lists every problem, one line each, in the message', () => {
    const problems = problemsOf(
      withEdit((f) => {
        f.plans[0]!.id = 'Bad Id';
        (f.plans[1]!.price.pricing as Json).model = 'flat';
      }),
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^plans\.0\.id: use lowercase letters/);
    expect(problems[1]).toMatch(/^plans\.1\.price\.pricing\.model: /);
    expect(problems.join(' ')).not.toContain('Invalid input"');
  });

  it('names the top level for a value that is not an object', () => {
    expect(problemsOf([])).toEqual(['(top level): Invalid input: expected object, received array']);
  });
});

describe('loadPlansFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpm-shared-plans-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the provisioner the same path-naming messages, prefixed with the file', async () => {
    const path = join(dir, 'plans.json');
    await writeFile(path, JSON.stringify(withEdit((f) => void (f.plans[3]!.price.lookup_key = 'k_tiered'))));
    const error = await loadPlansFile(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlansFileError);
    expect((error as PlansFileError).message).toBe(`${path}: plans.3.price.lookup_key: "k_tiered" is already used by plans.1; each plan needs its own price`);
  });

  it('loads the checked-in example', async () => {
    const example = await loadPlansFile('plans.example.json');
    expect(defaultPlan(example)?.id).toBe('starter');
  });
});

describe('public and private plans (issue 17: invoice and free plans are no way around the card)', () => {
  const file = () =>
    parsePlans(
      withEdit((f) => {
        f.plans[1]!.payment_collection = 'invoice';
        f.plans[2]!.payment_collection = 'none';
        f.plans[3]!.payment_collection = 'none';
        f.plans[3]!.public = true;
      }),
    );

  it('a plan that sets its own invoice or free collection is private unless marked public', () => {
    expect(file().plans.map((plan) => [plan.id, isPublicPlan(plan)])).toEqual([
      ['starter', true],
      ['tiered', false],
      ['legacy', false],
      ['shared', true],
    ]);
    expect(selectablePlans(file()).map((plan) => plan.id)).toEqual(['starter', 'shared']);
  });

  it('the default plan is selectable even when private (it is what a developer gets without choosing)', () => {
    const plans = parsePlans(withEdit((f) => void Object.assign(f.plans[0]!, { payment_collection: 'invoice' })));
    expect(selectablePlans(plans).map((plan) => plan.id)).toContain('starter');
  });

  it('a picker of several plans with no default is a problem; one plan or a default is not', () => {
    expect(planPickerProblem(parsePlans(withEdit((f) => void (f.plans[0]!.default = false))))).toMatch(/none has "default": true/);
    expect(planPickerProblem(parsePlans(withEdit(() => undefined)))).toBeUndefined();
    expect(
      planPickerProblem(
        parsePlans(
          withEdit((f) => {
            f.plans.splice(1);
            f.plans[0]!.default = false;
          }),
        ),
      ),
    ).toBeUndefined();
  });
});

describe('plan limits, included calls and free plans', () => {
  const withPlan = (extra: Json, price?: Json) => {
    const file = validFile();
    Object.assign(file.plans[0] as Json, extra);
    if (price) (file.plans[0] as Json).price = price;
    return file;
  };

  it('accepts rate limits, a quota and included calls, and summarises them for the picker', () => {
    const file = parsePlans(withPlan({ limits: { rate: { second: 5, minute: 100 }, quota: { calls: 1000, enforcement: 'hard' } }, included: 1000 }));
    const plan = file.plans[0]!;
    expect(plan.limits).toEqual({ rate: { second: 5, minute: 100 }, quota: { calls: 1000, enforcement: 'hard' } });
    expect(limitsSummary(plan)).toBe('5 calls/second, 100 calls/minute · 1,000 calls per billing period (then refused until it resets) · first 1,000 calls each period free');
    expect(limitsSummary(file.plans[1]!)).toBe('');
  });

  it('names the JSON path of every bad limit', () => {
    expect(problemsOf(withPlan({ limits: { rate: {} } }))).toEqual(['plans.0.limits.rate: give at least one of second, minute, hour']);
    expect(problemsOf(withPlan({ limits: { rate: { minute: 0 } } }))).toEqual(['plans.0.limits.rate.minute: at least 1']);
    expect(problemsOf(withPlan({ limits: { rate: { second: 10, minute: 5 } } }))).toEqual([
      'plans.0.limits.rate.minute: must be at least second (10): a longer window cannot allow fewer calls',
    ]);
    expect(problemsOf(withPlan({ limits: { rate: { day: 5 } } }))[0]).toMatch(/^plans\.0\.limits\.rate: .*day/);
    expect(problemsOf(withPlan({ limits: { quota: { calls: 10, enforcement: 'maybe' } } }))).toEqual(['plans.0.limits.quota.enforcement: "hard" (refuse at the quota) or "soft" (bill the overage)']);
    expect(problemsOf(withPlan({ limits: { quota: { calls: 1.5, enforcement: 'hard' } } }))).toEqual(['plans.0.limits.quota.calls: a whole number of calls']);
  });

  it('refuses included calls on prices it cannot tier', () => {
    expect(problemsOf(withPlan({ included: 10 }, { id: 'price_1X' }))).toEqual(['plans.0.included: needs a price stripe:setup manages ("pricing"): the free calls are its first tier']);
    expect(problemsOf(withPlan({ included: 10 }, { lookup_key: 'k', meter: 'api_calls', pricing: { model: 'package', package_amount: 100, package_size: 10 } }))[0]).toMatch(/^plans\.0\.included: not with "package"/);
    expect(problemsOf(withPlan({ included: 10 }, { lookup_key: 'k', meter: 'api_calls', pricing: { model: 'volume', tiers: [{ up_to: 'inf', unit_amount_decimal: '1' }] } }))[0]).toMatch(
      /^plans\.0\.included: not with "volume"/,
    );
  });

  it('prices included calls through a first tier at 0', () => {
    expect(pricingWithIncluded({ model: 'per_unit', unit_amount_decimal: '0.5' }, 100)).toEqual({
      model: 'graduated',
      tiers: [
        { up_to: 100, unit_amount_decimal: '0' },
        { up_to: 'inf', unit_amount_decimal: '0.5' },
      ],
    });
    expect(
      pricingWithIncluded({ model: 'graduated', tiers: [{ up_to: 50, unit_amount_decimal: '2' }, { up_to: 'inf', unit_amount_decimal: '1' }] }, 100),
    ).toEqual({
      model: 'graduated',
      tiers: [
        { up_to: 100, unit_amount_decimal: '0' },
        { up_to: 150, unit_amount_decimal: '2' },
        { up_to: 'inf', unit_amount_decimal: '1' },
      ],
    });
    expect(pricingWithIncluded({ model: 'per_unit', unit_amount_decimal: '0.5' }, undefined)).toEqual({ model: 'per_unit', unit_amount_decimal: '0.5' });
  });

  it('a free plan is private by default, public with "public": true, and with a hard quota includes every call it allows', () => {
    const free = { payment_collection: 'none', included: 1000, limits: { quota: { calls: 1000, enforcement: 'hard' } } };
    expect(isPublicPlan(parsePlans(withPlan(free)).plans[0]!)).toBe(false);
    expect(isPublicPlan(parsePlans(withPlan({ ...free, public: true })).plans[0]!)).toBe(true);
    expect(problemsOf(withPlan({ ...free, included: 999 }))).toEqual([
      'plans.0.included: a plan with payment_collection "none" and a hard quota must include every call the quota allows (set "included" to at least 1000)',
    ]);
    expect(problemsOf(withPlan({ payment_collection: 'none', limits: { quota: { calls: 5, enforcement: 'hard' } } }))[0]).toMatch(/^plans\.0\.included: /);
    // An invoice plan collects: its calls past "included" are billed, so the rule is for free plans only.
    expect(() => parsePlans(withPlan({ payment_collection: 'invoice', limits: { quota: { calls: 5, enforcement: 'hard' } } }))).not.toThrow();
  });
});
