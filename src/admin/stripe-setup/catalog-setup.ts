/**
 * stripe:setup's engine: makes Stripe hold the catalog a plans file describes (one product, one
 * billing meter per metric, one monthly metered price per plan) and reports what it did per row.
 *
 * Idempotent by reading first: prices are found by lookup_key, meters by event_name (meters have no
 * lookup key and cannot be deleted), the product through the existing prices or its metadata mark.
 * An unchanged catalog costs reads only. Every create carries an idempotency key derived from a
 * hash of what it creates, so a crashed and re-run setup cannot make duplicates.
 */
import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import { limitsSummary, pricingWithIncluded, type Meter, type PlansFile } from '../../shared/plans.ts';
import { describeStripeError, fatalStripeError, isStripeNotFound } from '../shared/stripe-failure.ts';
import { desiredPriceSpec, diffPriceSpec, priceCreateParams, stripePriceSpec, type ManagedPrice } from './price-spec.ts';
import { isManagedPrice } from './setup-plans.ts';

/** Metadata that marks the product and prices this tool manages. */
const CATALOG_MARK = 'kong_portal_monetization';
const PLAN_METADATA_KEY = 'kpm_plan';

type SetupAction = 'created' | 'updated' | 'reactivated' | 'replaced' | 'unchanged' | 'exists' | 'conflict' | 'failed' | 'skipped';

export interface CatalogRow {
  kind: 'product' | 'meter' | 'price';
  /** Plan id for price rows; empty for the product and meter rows. */
  plan: string;
  product: string;
  meter: string;
  price: string;
  action: SetupAction;
  /** The action as printed: past tense, or "would ..." in a dry run. */
  label: string;
  /** Why, or what changed. */
  detail: string;
}

export interface CatalogSetupResult {
  rows: CatalogRow[];
  /** Stripe write requests sent (0 in a dry run and when nothing changed). */
  writes: number;
  /** False when any row failed, conflicted or was skipped. */
  ok: boolean;
  dryRun: boolean;
}

interface SetupOptions {
  dryRun?: boolean;
  /** Only used in error messages (which Stripe could not be reached). */
  apiBase?: string;
}

const NEW = '(new)';
const VERB: Partial<Record<SetupAction, string>> = { created: 'create', updated: 'update', reactivated: 'reactivate', replaced: 'replace' };

/** Idempotency key: stable for the same content, never containing the content itself. */
export function idempotencyKey(kind: string, content: unknown): string {
  const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 40);
  return `kpm-setup-${kind}-${hash}`;
}

class SetupRun {
  readonly rows: CatalogRow[] = [];
  writes = 0;

  constructor(
    readonly stripe: Stripe,
    readonly dryRun: boolean,
    readonly apiBase: string | undefined,
  ) {}

  /** Runs a write unless this is a dry run (then answers undefined). */
  async write<T>(send: () => Promise<T>): Promise<T | undefined> {
    if (this.dryRun) return undefined;
    this.writes++;
    return send();
  }

  add(row: Omit<CatalogRow, 'label'>): CatalogRow {
    const verb = VERB[row.action];
    const full = { ...row, label: verb ? (this.dryRun ? `would ${verb}` : row.action) : row.action };
    this.rows.push(full);
    return full;
  }

  /** Auth and connection failures end the whole run; anything else is this row's failure. */
  rethrowIfFatal(error: unknown): void {
    const fatal = fatalStripeError(error, this.apiBase);
    if (fatal) throw fatal;
  }
}

export async function setupStripeCatalog(stripe: Stripe, plans: PlansFile, options: SetupOptions = {}): Promise<CatalogSetupResult> {
  const run = new SetupRun(stripe, options.dryRun ?? false, options.apiBase);
  const managed = plans.plans.flatMap((plan) => (isManagedPrice(plan.price) ? [{ plan, price: plan.price }] : []));

  let existingPrices: Map<string, Stripe.Price>;
  try {
    existingPrices = await findPricesByLookupKey(stripe, managed.map((m) => m.price.lookup_key));
  } catch (error) {
    run.rethrowIfFatal(error);
    throw error;
  }

  const productId = await ensureProduct(run, plans.product, [...existingPrices.values()]);
  const meterIds = await ensureMeters(run, plans.meters);

  for (const plan of plans.plans) {
    const first = run.rows.length;
    if (isManagedPrice(plan.price)) await ensurePrice(run, plan, plan.price, productId, meterIds.get(plan.price.meter), existingPrices.get(plan.price.lookup_key));
    else await checkExternalPrice(run, plan.id, plan.price);
    // The admin reads the plan's limits next to its price (Kong enforces them; Stripe never sees them).
    const limits = limitsSummary(plan);
    if (limits) for (const row of run.rows.slice(first)) row.detail = `${row.detail}; limits: ${limits}`;
  }
  const ok = run.rows.every((row) => !['failed', 'conflict', 'skipped'].includes(row.action));
  return { rows: run.rows, writes: run.writes, ok, dryRun: run.dryRun };
}

/**
 * The price holding each lookup key, archived ones included (an archived price keeps its key, and
 * a new price could not take it without transfer_lookup_key). prices.list may leave inactive
 * prices out unless asked for them, so keys not found among active prices are asked again with
 * active=false. At most 10 lookup_keys per call.
 */
export async function findPricesByLookupKey(stripe: Stripe, keys: string[]): Promise<Map<string, Stripe.Price>> {
  const found = new Map<string, Stripe.Price>();
  const lookUp = async (wanted: string[], active: boolean | undefined) => {
    for (let i = 0; i < wanted.length; i += 10) {
      const chunk = wanted.slice(i, i + 10);
      const page = await stripe.prices.list({ lookup_keys: chunk, expand: ['data.tiers'], limit: 100, ...(active === undefined ? {} : { active }) });
      for (const price of page.data) if (price.lookup_key && !found.has(price.lookup_key)) found.set(price.lookup_key, price);
    }
  };
  await lookUp(keys, undefined);
  const missing = keys.filter((key) => !found.has(key));
  if (missing.length) await lookUp(missing, false);
  return found;
}

// ---- product ---------------------------------------------------------------------------------

/** The product id, NEW in a dry run that would create it, or undefined when it failed. */
async function ensureProduct(run: SetupRun, wanted: PlansFile['product'], prices: Stripe.Price[]): Promise<string | undefined> {
  const row = { kind: 'product' as const, plan: '', meter: '', price: '' };
  try {
    const product = await findProduct(run.stripe, wanted.name, prices);
    if (!product) {
      const params: Stripe.ProductCreateParams = { name: wanted.name, metadata: { [CATALOG_MARK]: 'catalog' } };
      if (wanted.description) params.description = wanted.description;
      const created = await run.write(() => run.stripe.products.create(params, { idempotencyKey: idempotencyKey('product', params) }));
      const id = created?.id ?? NEW;
      run.add({ ...row, product: id, action: 'created', detail: wanted.name });
      return id;
    }
    const changes: Stripe.ProductUpdateParams = {};
    if (product.name !== wanted.name) changes.name = wanted.name;
    if (wanted.description !== undefined && (product.description ?? '') !== wanted.description) changes.description = wanted.description;
    if (!product.active) changes.active = true;
    if (Object.keys(changes).length === 0) {
      run.add({ ...row, product: product.id, action: 'unchanged', detail: product.name });
      return product.id;
    }
    await run.write(() => run.stripe.products.update(product.id, changes, { idempotencyKey: idempotencyKey('product-update', { id: product.id, changes }) }));
    run.add({ ...row, product: product.id, action: changes.active ? 'reactivated' : 'updated', detail: `changed: ${Object.keys(changes).join(', ')}` });
    return product.id;
  } catch (error) {
    run.rethrowIfFatal(error);
    run.add({ ...row, product: '', action: 'failed', detail: describeStripeError(error) });
    return undefined;
  }
}

/** The product our existing prices belong to, else a product carrying our mark and the same name. */
async function findProduct(stripe: Stripe, name: string, prices: Stripe.Price[]): Promise<Stripe.Product | undefined> {
  for (const price of prices) {
    const id = typeof price.product === 'string' ? price.product : price.product.id;
    try {
      const product = await stripe.products.retrieve(id);
      if (!(product as { deleted?: boolean }).deleted) return product;
    } catch (error) {
      if (!isStripeNotFound(error)) throw error;
    }
  }
  let archived: Stripe.Product | undefined;
  for await (const product of stripe.products.list({ limit: 100 })) {
    if (product.metadata?.[CATALOG_MARK] !== 'catalog' || product.name !== name) continue;
    if (product.active) return product;
    archived ??= product;
  }
  return archived;
}

// ---- meters ----------------------------------------------------------------------------------

/** event_name -> meter id (NEW in a dry run); meters that failed or conflict are absent. */
async function ensureMeters(run: SetupRun, wanted: Meter[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (wanted.length === 0) return ids;
  let existing: Stripe.Billing.Meter[];
  try {
    existing = [];
    for await (const meter of run.stripe.billing.meters.list({ limit: 100 })) existing.push(meter);
  } catch (error) {
    run.rethrowIfFatal(error);
    for (const meter of wanted) run.add({ kind: 'meter', plan: '', product: '', meter: meter.event_name, price: '', action: 'failed', detail: `listing meters: ${describeStripeError(error)}` });
    return ids;
  }

  for (const meter of wanted) {
    const row = { kind: 'meter' as const, plan: '', product: '', price: '' };
    // Event names are unique among active meters; an inactive one can be brought back.
    const matches = existing.filter((m) => m.event_name === meter.event_name);
    const found = matches.find((m) => m.status === 'active') ?? matches.sort((a, b) => b.created - a.created)[0];
    try {
      if (!found) {
        const params: Stripe.Billing.MeterCreateParams = {
          display_name: meter.display_name,
          event_name: meter.event_name,
          default_aggregation: { formula: meter.aggregation },
        };
        const created = await run.write(() => run.stripe.billing.meters.create(params, { idempotencyKey: idempotencyKey('meter', params) }));
        ids.set(meter.event_name, created?.id ?? NEW);
        run.add({ ...row, meter: created?.id ?? `${NEW} ${meter.event_name}`, action: 'created', detail: `event_name ${meter.event_name}, ${meter.aggregation}` });
        continue;
      }
      if (found.default_aggregation.formula !== meter.aggregation) {
        run.add({
          ...row,
          meter: found.id,
          action: 'conflict',
          detail: `meter "${meter.event_name}" aggregates with "${found.default_aggregation.formula}" but the plans file says "${meter.aggregation}"; a meter's aggregation cannot change: use a new event_name or set aggregation to "${found.default_aggregation.formula}"`,
        });
        continue;
      }
      const changed: string[] = [];
      if (found.status !== 'active') {
        await run.write(() => run.stripe.billing.meters.reactivate(found.id, {}, { idempotencyKey: idempotencyKey('meter-reactivate', { id: found.id, at: found.updated }) }));
        changed.push('reactivated');
      }
      if (found.display_name !== meter.display_name) {
        await run.write(() => run.stripe.billing.meters.update(found.id, { display_name: meter.display_name }, { idempotencyKey: idempotencyKey('meter-update', { id: found.id, name: meter.display_name }) }));
        changed.push('display_name');
      }
      ids.set(meter.event_name, found.id);
      const action: SetupAction = changed.includes('reactivated') ? 'reactivated' : changed.length ? 'updated' : 'unchanged';
      run.add({ ...row, meter: found.id, action, detail: changed.length ? `event_name ${meter.event_name}; changed: ${changed.join(', ')}` : `event_name ${meter.event_name}` });
    } catch (error) {
      run.rethrowIfFatal(error);
      run.add({ ...row, meter: found?.id ?? meter.event_name, action: 'failed', detail: describeStripeError(error) });
    }
  }
  return ids;
}

// ---- prices ----------------------------------------------------------------------------------

async function ensurePrice(
  run: SetupRun,
  plan: PlansFile['plans'][number],
  price: ManagedPrice,
  productId: string | undefined,
  meterId: string | undefined,
  existing: Stripe.Price | undefined,
): Promise<void> {
  const row = { kind: 'price' as const, plan: plan.id, product: productId ?? '', meter: meterId ?? price.meter };
  if (!productId) return void run.add({ ...row, price: existing?.id ?? '', action: 'skipped', detail: 'skipped because the product step failed' });
  if (!meterId) return void run.add({ ...row, price: existing?.id ?? '', action: 'skipped', detail: `skipped because meter "${price.meter}" failed or conflicts` });

  // Included calls are a first tier at 0, so the invoice shows them as free calls.
  const desired = desiredPriceSpec({ ...price, pricing: pricingWithIncluded(price.pricing, plan.included) }, { product: productId, meter: meterId });
  const metadata = { [PLAN_METADATA_KEY]: plan.id, [CATALOG_MARK]: 'price' };
  try {
    if (!existing) {
      const params = priceCreateParams(desired, { lookup_key: price.lookup_key, nickname: plan.name, metadata, transfer_lookup_key: false });
      const created = await run.write(() => run.stripe.prices.create(params, { idempotencyKey: idempotencyKey('price', { params, replaces: null }) }));
      return void run.add({ ...row, price: created?.id ?? NEW, action: 'created', detail: `${price.pricing.model}${plan.included ? ` after a first tier of ${plan.included} calls at 0` : ''}, lookup_key ${price.lookup_key}` });
    }

    const changed = diffPriceSpec(desired, stripePriceSpec(existing));
    if (changed.length === 0) {
      const update: Stripe.PriceUpdateParams = {};
      if (!existing.active) update.active = true;
      if (existing.nickname !== plan.name) update.nickname = plan.name;
      if (existing.metadata?.[PLAN_METADATA_KEY] !== plan.id) update.metadata = metadata;
      if (Object.keys(update).length === 0) return void run.add({ ...row, price: existing.id, action: 'unchanged', detail: `lookup_key ${price.lookup_key}` });
      await run.write(() => run.stripe.prices.update(existing.id, update, { idempotencyKey: idempotencyKey('price-update', { id: existing.id, update }) }));
      return void run.add({ ...row, price: existing.id, action: update.active ? 'reactivated' : 'updated', detail: `changed: ${Object.keys(update).join(', ')}` });
    }

    // Billing fields of a price are immutable: a new price takes over the lookup key and the
    // old one is archived (existing subscriptions keep it until they are moved).
    const params = priceCreateParams(desired, { lookup_key: price.lookup_key, nickname: plan.name, metadata, transfer_lookup_key: true });
    const created = await run.write(() => run.stripe.prices.create(params, { idempotencyKey: idempotencyKey('price', { params, replaces: existing.id }) }));
    if (existing.active) await run.write(() => run.stripe.prices.update(existing.id, { active: false }, { idempotencyKey: idempotencyKey('price-archive', { id: existing.id }) }));
    run.add({ ...row, price: created?.id ?? NEW, action: 'replaced', detail: `changed: ${changed.join(', ')}; old ${existing.id} ${run.dryRun ? 'would be archived' : 'archived'}, lookup_key moved` });
  } catch (error) {
    run.rethrowIfFatal(error);
    run.add({ ...row, price: existing?.id ?? '', action: 'failed', detail: describeStripeError(error) });
  }
}

/** Plans that name a price stripe:setup does not manage: only check it exists. */
async function checkExternalPrice(run: SetupRun, planId: string, price: { lookup_key: string } | { id: string }): Promise<void> {
  const row = { kind: 'price' as const, plan: planId, product: '', meter: '' };
  try {
    const found =
      'id' in price
        ? await run.stripe.prices.retrieve(price.id).catch((error: unknown) => {
            if (isStripeNotFound(error)) return undefined;
            throw error;
          })
        : (await findPricesByLookupKey(run.stripe, [price.lookup_key])).get(price.lookup_key);
    const what = 'id' in price ? price.id : `lookup_key ${price.lookup_key}`;
    if (!found) return void run.add({ ...row, price: '', action: 'failed', detail: `no Stripe price ${what}; create it in Stripe or give the plan a "pricing" so stripe:setup manages it` });
    const product = typeof found.product === 'string' ? found.product : found.product.id;
    if (!found.active)
      return void run.add({ ...row, product, meter: found.recurring?.meter ?? '', price: found.id, action: 'failed', detail: `${what} is archived; reactivate it in Stripe or point the plan at an active price` });
    run.add({ ...row, product, meter: found.recurring?.meter ?? '', price: found.id, action: 'exists', detail: `not managed by stripe:setup (${what})` });
  } catch (error) {
    run.rethrowIfFatal(error);
    run.add({ ...row, price: '', action: 'failed', detail: describeStripeError(error) });
  }
}
