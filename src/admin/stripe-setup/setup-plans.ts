/**
 * stripe:setup's view of the plans file. Loading and every validation rule (including the ones
 * that make the file a valid Stripe catalog: unique lookup keys and meters, Stripe's amount limits)
 * live in src/shared/plans.ts, so the provisioner rejects the same files with the same messages.
 * What is left here is setup's own question: which plan prices it creates and maintains.
 */
import type { PlansFile } from '../../shared/plans.ts';
import type { ManagedPrice } from './price-spec.ts';

/** True for a price stripe:setup manages (the plans file gives its pricing), false for an existing Stripe price. */
export function isManagedPrice(price: PlansFile['plans'][number]['price']): price is ManagedPrice {
  return 'pricing' in price;
}
