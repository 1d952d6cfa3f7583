/**
 * The developer's own monthly spend cap: set from the portal's billing panel or the hosted account
 * page (a proven request), stored on their Stripe customer (metadata SPEND_CAP_METADATA_KEY, minor
 * units of the subscription's currency), so there is no new database. Setting it re-decides access
 * at once: a raised cap lifts a spend-cap refusal; a cap already passed refuses.
 */
import type Stripe from 'stripe';
import type { KongDeveloper } from '../../kong/kong-types.ts';
import { sha256Hex } from '../../shared/sha256.ts';
import { STRIPE_MAX_AMOUNT } from '../../shared/plans.ts';
import { capTextToCents } from '../../shared/spend-cap-amount.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import type { AccessOutcome, AccessSync } from './access-sync.ts';
import { retryFor, type StripeAccess } from './stripe-lookups.ts';
import { SPEND_CAP_METADATA_KEY } from './usage-limits.ts';

/**
 * A cap from a request: a whole number of minor units (cents) from 1 to Stripe's amount limit, or
 * null to remove it. Anything else is refused naming the field, before any Stripe call.
 */
export function parseSpendCap(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > STRIPE_MAX_AMOUNT)
    throw new ProvisionError('invalid_spend_cap', 400, `spend_cap must be a whole number of cents from 1 to ${STRIPE_MAX_AMOUNT} (e.g. 5000 for 50.00), or null to remove the cap`);
  return value;
}

interface SpendCapDeps extends StripeAccess {
  access: Pick<AccessSync, 'syncDeveloper'>;
}

/**
 * A cap typed on a page in the currency's main unit ("50", "50.00"); empty removes it. Answers
 * cents for parseSpendCap's range check, or throws naming the field.
 */
export function parseCapAmount(text: string): number | null {
  const cents = capTextToCents(text);
  if (cents === undefined) throw new ProvisionError('invalid_spend_cap', 400, 'spend cap: enter an amount such as 50 or 49.99, or leave it empty to remove the cap');
  return parseSpendCap(cents);
}

/** Stores the cap on the developer's customer and answers the re-decided access. */
export async function setSpendCap(deps: SpendCapDeps, developer: KongDeveloper, cap: number | null): Promise<AccessOutcome> {
  const before = await deps.access.syncDeveloper(developer);
  const customer = before?.customer;
  if (!before || !customer)
    throw new ProvisionError('billing_not_set_up', 409, 'billing for this account is not set up yet, so there is no spend to cap; try again in a minute');
  const value = cap === null ? '' : String(cap); // Stripe removes a metadata key set to ""
  if ((customer.metadata?.[SPEND_CAP_METADATA_KEY] ?? '') === value) return before;
  const updated: Stripe.Customer = await withStripeRetry(
    () =>
      deps.stripe.customers.update(
        customer.id,
        { metadata: { [SPEND_CAP_METADATA_KEY]: value } },
        // The same cap asked twice (a double click) is one write; a different cap is another.
        { idempotencyKey: `kpm-spend-cap-${sha256Hex(`${customer.id}\u0000${value}\u0000${customer.metadata?.[SPEND_CAP_METADATA_KEY] ?? ''}`)}` },
      ),
    retryFor(deps, 'store the spend cap', true),
  );
  return (await deps.access.syncDeveloper(developer, { customer: updated })) ?? before;
}
