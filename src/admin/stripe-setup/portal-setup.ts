/**
 * stripe:setup's customer portal: one billing portal configuration, marked as ours, that lets a
 * developer update their card, see invoices, switch between the plans file's prices and cancel
 * at period end, with the public login page on (its URL is the portal bundle's "Manage billing"
 * link). Found again by its metadata mark; a re-run with the same plans changes nothing.
 */
import type Stripe from 'stripe';
import { selectablePlans, type PlansFile } from '../../shared/plans.ts';
import { PORTAL_MARK } from '../../provisioner/core/billing-status.ts';
import { idempotencyKey } from './catalog-setup.ts';

interface PortalSetupResult {
  action: 'created' | 'updated' | 'unchanged' | 'would create' | 'would update' | 'skipped';
  configurationId: string | undefined;
  loginUrl: string | undefined;
  detail: string;
}

/**
 * The active prices of the plans developers may choose, grouped by product, as
 * subscription_update.products wants them. Private plans (invoice, free, unless marked public) are
 * left out: a switch in the portal would otherwise be a way around the card.
 */
async function planProducts(stripe: Stripe, plans: PlansFile): Promise<Array<{ product: string; prices: string[] }>> {
  const byProduct = new Map<string, string[]>();
  for (const plan of selectablePlans(plans)) {
    const price =
      'id' in plan.price
        ? await stripe.prices.retrieve(plan.price.id)
        : (await stripe.prices.list({ lookup_keys: [plan.price.lookup_key], active: true, limit: 1 })).data[0];
    if (!price?.active) continue;
    const product = typeof price.product === 'string' ? price.product : price.product.id;
    byProduct.set(product, [...(byProduct.get(product) ?? []), price.id]);
  }
  return [...byProduct].map(([product, prices]) => ({ product, prices: prices.sort() }));
}

function portalFeatures(products: Array<{ product: string; prices: string[] }>): Stripe.BillingPortal.ConfigurationCreateParams.Features {
  return {
    payment_method_update: { enabled: true },
    invoice_history: { enabled: true },
    subscription_cancel: { enabled: true, mode: 'at_period_end' },
    subscription_update: { enabled: products.length > 0, default_allowed_updates: ['price'], products, proration_behavior: 'none' },
  };
}

function sameProducts(config: Stripe.BillingPortal.Configuration, products: Array<{ product: string; prices: string[] }>): boolean {
  const current = (config.features.subscription_update.products ?? []).map((p) => ({ product: p.product, prices: [...p.prices].sort() }));
  const key = (list: Array<{ product: string; prices: string[] }>) => JSON.stringify([...list].sort((a, b) => a.product.localeCompare(b.product)));
  return key(current) === key(products);
}

export async function setupCustomerPortal(stripe: Stripe, plans: PlansFile, options: { dryRun: boolean; returnUrl: string | undefined }): Promise<PortalSetupResult> {
  const products = await planProducts(stripe, plans);
  if (!products.length) return { action: 'skipped', configurationId: undefined, loginUrl: undefined, detail: 'no plan has an active price yet' };
  let ours: Stripe.BillingPortal.Configuration | undefined;
  for await (const config of stripe.billingPortal.configurations.list({ active: true, limit: 100 })) if (config.metadata?.[PORTAL_MARK] === 'true') ours ??= config;
  const features = portalFeatures(products);
  if (!ours) {
    if (options.dryRun) return { action: 'would create', configurationId: undefined, loginUrl: undefined, detail: 'card update, invoices, plan switch, cancel at period end, login page' };
    const params: Stripe.BillingPortal.ConfigurationCreateParams = {
      features,
      login_page: { enabled: true },
      metadata: { [PORTAL_MARK]: 'true' },
      ...(options.returnUrl ? { default_return_url: options.returnUrl } : {}),
    };
    const created = await stripe.billingPortal.configurations.create(params, { idempotencyKey: idempotencyKey('portal', params) });
    return { action: 'created', configurationId: created.id, loginUrl: created.login_page.url ?? undefined, detail: 'login page on' };
  }
  const changes: string[] = [];
  if (!sameProducts(ours, products) || !ours.features.subscription_update.enabled) changes.push('plan prices');
  if (!ours.login_page.enabled) changes.push('login page');
  if (options.returnUrl && ours.default_return_url !== options.returnUrl) changes.push('return URL');
  if (!changes.length) return { action: 'unchanged', configurationId: ours.id, loginUrl: ours.login_page.url ?? undefined, detail: 'matches the plans file' };
  if (options.dryRun) return { action: 'would update', configurationId: ours.id, loginUrl: ours.login_page.url ?? undefined, detail: changes.join(', ') };
  const updated = await stripe.billingPortal.configurations.update(ours.id, {
    features,
    login_page: { enabled: true },
    ...(options.returnUrl ? { default_return_url: options.returnUrl } : {}),
  });
  return { action: 'updated', configurationId: updated.id, loginUrl: updated.login_page.url ?? undefined, detail: changes.join(', ') };
}
