/**
 * /v1/prices: create (per_unit or tiered, metered prices need a billing meter, lookup keys are
 * unique unless transfer_lookup_key moves them), retrieve, update, list (lookup_keys, product,
 * active...). Tiers are stored aside and only returned when expanded (`tiers` / `data.tiers`).
 */
import type { WirePrice, WireTier } from './wire-types.ts';
import { z } from 'zod';
import { pathParam, type Endpoint } from './endpoint.ts';
import { previousAttributes } from './customers.ts';
import { newId } from './ids.ts';
import { expand, inRange, listPage } from './list-and-expand.ts';
import { mergeMetadata, p, paginationShape, parseParams } from './params.ts';
import { requireProduct } from './products.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';

const tierSchema = p.hash({
  up_to: z.union([z.literal('inf'), p.int({ min: 1 })], { error: 'Invalid {param}: must be a positive integer or "inf"' }),
  unit_amount: p.int({ min: 0 }).optional(),
  unit_amount_decimal: p.decimal().optional(),
  flat_amount: p.int({ min: 0 }).optional(),
  flat_amount_decimal: p.decimal().optional(),
});

const createSchema = p.hash({
  currency: p.string(3).regex(/^[A-Za-z]{3}$/, 'Invalid currency: {value}').transform((c) => c.toLowerCase()),
  product: p.id().optional(),
  product_data: p
    .hash({
      name: p.string(250).min(1),
      id: p.string(100).optional(),
      active: p.bool().optional(),
      metadata: p.metadata().optional(),
      unit_label: p.string(12).optional(),
      statement_descriptor: p.string(22).optional(),
      tax_code: p.string(100).optional(),
    })
    .optional(),
  unit_amount: p.int({ min: 0 }).optional(),
  unit_amount_decimal: p.decimal().optional(),
  recurring: p
    .hash({
      interval: p.oneOf(['day', 'week', 'month', 'year']),
      interval_count: p.int({ min: 1, max: 365 }).optional(),
      usage_type: p.oneOf(['licensed', 'metered']).optional(),
      meter: p.id().optional(),
      trial_period_days: p.int({ min: 0, max: 730 }).optional(),
    })
    .optional(),
  billing_scheme: p.oneOf(['per_unit', 'tiered']).optional(),
  tiers_mode: p.oneOf(['graduated', 'volume']).optional(),
  tiers: p.list(tierSchema, 250).optional(),
  transform_quantity: p.hash({ divide_by: p.int({ min: 1 }), round: p.oneOf(['up', 'down']) }).optional(),
  lookup_key: p.string(200).min(1).optional(),
  transfer_lookup_key: p.bool().optional(),
  nickname: p.string(250).optional(),
  metadata: p.metadata().optional(),
  active: p.bool().optional(),
  tax_behavior: p.oneOf(['inclusive', 'exclusive', 'unspecified']).optional(),
  expand: p.expand(),
  custom_unit_amount: p.accepted(),
  currency_options: p.accepted(),
});

const updateSchema = p.hash({
  active: p.bool().optional(),
  lookup_key: p.emptyable(p.string(200)).optional(),
  transfer_lookup_key: p.bool().optional(),
  metadata: p.metadata().optional(),
  nickname: p.emptyable(p.string(250)).optional(),
  tax_behavior: p.oneOf(['inclusive', 'exclusive', 'unspecified']).optional(),
  expand: p.expand(),
  currency_options: p.accepted(),
});

const retrieveSchema = p.hash({ expand: p.expand() });

const listSchema = p.hash({
  ...paginationShape,
  active: p.bool().optional(),
  currency: p.string(3).optional(),
  lookup_keys: p.list(p.string(200), 10).optional(),
  product: p.id().optional(),
  type: p.oneOf(['one_time', 'recurring']).optional(),
  recurring: p
    .hash({ interval: p.oneOf(['day', 'week', 'month', 'year']).optional(), usage_type: p.oneOf(['licensed', 'metered']).optional(), meter: p.id().optional() })
    .optional(),
  created: p.range().optional(),
});

type CreateInput = z.output<typeof createSchema>;

function requirePrice(state: StripeState, id: string): WirePrice {
  const price = state.prices.get(id);
  if (!price) throw stripeErrors.notFound('price', id);
  return price;
}

/** unit_amount is only set when the decimal amount is a whole number of minor units. */
function amounts(unitAmount: number | undefined, unitAmountDecimal: string | undefined): { unit_amount: number | null; unit_amount_decimal: string | null } {
  if (unitAmount !== undefined) return { unit_amount: unitAmount, unit_amount_decimal: String(unitAmount) };
  if (unitAmountDecimal !== undefined) {
    const whole = /^\d+(\.0+)?$/.test(unitAmountDecimal);
    return { unit_amount: whole ? Number.parseInt(unitAmountDecimal, 10) : null, unit_amount_decimal: unitAmountDecimal.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '') };
  }
  return { unit_amount: null, unit_amount_decimal: null };
}

function checkTiers(input: CreateInput): WireTier[] {
  const tiers = input.tiers ?? [];
  if (!input.tiers_mode) throw stripeErrors.parameterMissing('tiers_mode');
  if (tiers.length === 0) throw stripeErrors.parameterMissing('tiers');
  if (input.unit_amount !== undefined || input.unit_amount_decimal !== undefined)
    throw stripeErrors.invalid('Prices with `billing_scheme=tiered` cannot have `unit_amount` or `unit_amount_decimal`; set the amounts on the tiers.', 'unit_amount');
  if (input.transform_quantity) throw stripeErrors.invalid('You cannot use `transform_quantity` with `billing_scheme=tiered`.', 'transform_quantity');
  let previous = 0;
  return tiers.map((tier, index) => {
    const param = `tiers[${index}]`;
    const last = index === tiers.length - 1;
    if (last !== (tier.up_to === 'inf'))
      throw stripeErrors.invalid(last ? 'The last tier must have `up_to` set to `inf`.' : 'Only the last tier may have `up_to` set to `inf`.', `${param}[up_to]`);
    if (typeof tier.up_to === 'number') {
      if (tier.up_to <= previous) throw stripeErrors.invalid('Tiers must be in ascending order of `up_to`.', `${param}[up_to]`);
      previous = tier.up_to;
    }
    if (tier.unit_amount !== undefined && tier.unit_amount_decimal !== undefined)
      throw stripeErrors.invalid('You may only specify one of these parameters: unit_amount, unit_amount_decimal.', `${param}[unit_amount]`);
    if (tier.flat_amount !== undefined && tier.flat_amount_decimal !== undefined)
      throw stripeErrors.invalid('You may only specify one of these parameters: flat_amount, flat_amount_decimal.', `${param}[flat_amount]`);
    if ([tier.unit_amount, tier.unit_amount_decimal, tier.flat_amount, tier.flat_amount_decimal].every((v) => v === undefined))
      throw stripeErrors.invalid('Each tier needs a unit amount, a flat amount or both.', param);
    const unit = amounts(tier.unit_amount, tier.unit_amount_decimal);
    const flat = amounts(tier.flat_amount, tier.flat_amount_decimal);
    return {
      flat_amount: flat.unit_amount,
      flat_amount_decimal: flat.unit_amount_decimal,
      unit_amount: unit.unit_amount,
      unit_amount_decimal: unit.unit_amount_decimal,
      up_to: tier.up_to === 'inf' ? null : tier.up_to,
    };
  });
}

function checkRecurring(state: StripeState, recurring: CreateInput['recurring']): WirePrice["recurring"] | null {
  if (!recurring) return null;
  const usageType = recurring.usage_type ?? 'licensed';
  if (usageType === 'metered') {
    if (!recurring.meter)
      throw stripeErrors.invalid('Metered prices must be backed by a billing meter: pass `recurring[meter]` (the id of a meter).', 'recurring[meter]', 'parameter_missing');
    const meter = state.meters.get(recurring.meter);
    if (!meter) throw stripeErrors.missingReference('billing meter', recurring.meter, 'recurring[meter]');
    if (meter.status !== 'active') throw stripeErrors.invalid(`The meter '${meter.id}' is inactive; reactivate it or use another meter.`, 'recurring[meter]');
  } else if (recurring.meter) {
    throw stripeErrors.invalid('`recurring[meter]` can only be set when `recurring[usage_type]` is `metered`.', 'recurring[meter]');
  }
  return {
    interval: recurring.interval,
    interval_count: recurring.interval_count ?? 1,
    meter: recurring.meter ?? null,
    trial_period_days: recurring.trial_period_days ?? null,
    usage_type: usageType,
  };
}

/** Stripe keeps lookup keys unique: taking one that is in use needs transfer_lookup_key. */
function claimLookupKey(state: StripeState, lookupKey: string, transfer: boolean | undefined, forPriceId: string | undefined): void {
  const holder = state.priceByLookupKey(lookupKey);
  if (!holder || holder.id === forPriceId) return;
  if (!transfer)
    throw stripeErrors.invalid(
      `A price (\`${holder.id}\`) already uses that lookup key. Pass \`transfer_lookup_key=true\` to move the key to this price.`,
      'lookup_key',
    );
  const released = { ...holder, lookup_key: null };
  state.prices.set(released);
  state.events.emit('price.updated', structuredClone(released), { lookup_key: lookupKey });
}

function productFor(state: StripeState, input: CreateInput): string {
  if (input.product !== undefined && input.product_data !== undefined)
    throw stripeErrors.invalid('You may only specify one of these parameters: product, product_data.', 'product');
  if (input.product !== undefined) {
    if (!state.products.has(input.product)) throw stripeErrors.missingReference('product', input.product, 'product');
    return input.product;
  }
  if (input.product_data === undefined) throw stripeErrors.parameterMissing('product');
  const data = input.product_data;
  const id = data.id ?? newId.product();
  if (state.products.has(id)) throw stripeErrors.invalid('Product already exists.', 'product_data[id]', 'resource_already_exists');
  const now = state.now();
  state.products.set({
    id,
    object: 'product',
    active: data.active ?? true,
    created: now,
    default_price: null,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: mergeMetadata({}, data.metadata),
    name: data.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: data.statement_descriptor ?? null,
    tax_code: data.tax_code ?? null,
    tax_details: null,
    type: 'service',
    unit_label: data.unit_label ?? null,
    updated: now,
    url: null,
  });
  state.events.emit('product.created', structuredClone(state.products.get(id) as object));
  return id;
}

export const priceEndpoints: Endpoint[] = [
  {
    method: 'POST',
    route: '/v1/prices',
    handle({ state, params }) {
      const input = parseParams(createSchema, params);
      const billingScheme = input.billing_scheme ?? 'per_unit';
      let tiers: WireTier[] | undefined;
      if (billingScheme === 'tiered') {
        tiers = checkTiers(input);
      } else {
        if (input.tiers !== undefined || input.tiers_mode !== undefined)
          throw stripeErrors.invalid('`tiers` and `tiers_mode` can only be used with `billing_scheme=tiered`.', input.tiers !== undefined ? 'tiers' : 'tiers_mode');
        if (input.unit_amount !== undefined && input.unit_amount_decimal !== undefined)
          throw stripeErrors.invalid('You may only specify one of these parameters: unit_amount, unit_amount_decimal.', 'unit_amount');
        if (input.unit_amount === undefined && input.unit_amount_decimal === undefined && input.custom_unit_amount === undefined)
          throw stripeErrors.parameterMissing('unit_amount');
      }
      const recurring = checkRecurring(state, input.recurring);
      const product = productFor(state, input);
      const id = newId.price();
      if (input.lookup_key !== undefined) claimLookupKey(state, input.lookup_key, input.transfer_lookup_key, id);
      const price: WirePrice = {
        id,
        object: 'price',
        active: input.active ?? true,
        billing_scheme: billingScheme,
        created: state.now(),
        currency: input.currency,
        custom_unit_amount: null,
        livemode: false,
        lookup_key: input.lookup_key ?? null,
        metadata: mergeMetadata({}, input.metadata),
        nickname: input.nickname ?? null,
        product,
        recurring,
        tax_behavior: input.tax_behavior ?? 'unspecified',
        tiers_mode: billingScheme === 'tiered' ? (input.tiers_mode ?? null) : null,
        transform_quantity: input.transform_quantity ? { divide_by: input.transform_quantity.divide_by, round: input.transform_quantity.round } : null,
        type: recurring ? 'recurring' : 'one_time',
        ...amounts(input.unit_amount, input.unit_amount_decimal),
      };
      state.prices.set(price);
      state.events.emit('price.created', structuredClone(price));
      if (tiers) state.priceTiers.set(id, tiers);
      return { body: expand(state, structuredClone(price), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/prices/:id',
    handle(call) {
      const input = parseParams(retrieveSchema, call.params);
      return { body: expand(call.state, structuredClone(requirePrice(call.state, pathParam(call, 'id'))), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/prices/:id',
    handle(call) {
      const { state } = call;
      const price = requirePrice(state, pathParam(call, 'id'));
      const input = parseParams(updateSchema, call.params);
      if (input.lookup_key) claimLookupKey(state, input.lookup_key, input.transfer_lookup_key, price.id);
      const updated: WirePrice = {
        ...price,
        ...(input.active !== undefined ? { active: input.active } : {}),
        ...(input.lookup_key !== undefined ? { lookup_key: input.lookup_key } : {}),
        ...(input.nickname !== undefined ? { nickname: input.nickname } : {}),
        ...(input.tax_behavior !== undefined ? { tax_behavior: input.tax_behavior } : {}),
        metadata: mergeMetadata(price.metadata, input.metadata),
      };
      state.prices.set(updated);
      const previous = previousAttributes(price, updated);
      if (previous) state.events.emit('price.updated', structuredClone(updated), previous);
      return { body: expand(state, structuredClone(updated), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/prices',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      if (input.product !== undefined) requireProduct(state, input.product);
      // Stripe lists active prices unless asked for inactive ones (active=false).
      const active = input.active ?? true;
      const matching = state.prices.newestFirst().filter((price) => {
        const recurring = price.recurring;
        return (
          price.active === active &&
          (input.currency === undefined || price.currency === input.currency.toLowerCase()) &&
          (input.lookup_keys === undefined || (price.lookup_key !== null && input.lookup_keys.includes(price.lookup_key))) &&
          (input.product === undefined || price.product === input.product) &&
          (input.type === undefined || price.type === input.type) &&
          (input.recurring?.interval === undefined || recurring?.interval === input.recurring.interval) &&
          (input.recurring?.usage_type === undefined || recurring?.usage_type === input.recurring.usage_type) &&
          (input.recurring?.meter === undefined || recurring?.meter === input.recurring.meter) &&
          inRange(price.created, input.created)
        );
      });
      return { body: expand(state, listPage(structuredClone(matching), input, '/v1/prices', 'price'), input.expand) };
    },
  },
];
