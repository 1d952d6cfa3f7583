/**
 * Builds subscription invoices: one line per subscription item, metered items priced on the
 * meter's aggregate of the closed period's usage (in arrears), licensed items on their quantity
 * for the coming period (in advance). Totals follow the lines (no tax, discounts or balance).
 */
import { addInterval, DAY_SECONDS } from './billing-periods.ts';
import { newId } from './ids.ts';
import { aggregateUsage, billableQuantity } from './meter-usage.ts';
import { lineAmount } from './pricing.ts';
import type { StoredSubscription, StripeState } from './stripe-state.ts';
import type { WireInvoice, WireInvoiceLineItem, WirePrice } from './wire-types.ts';

interface Period {
  start: number;
  end: number;
}

export interface InvoicePlan {
  /** The closed period whose metered usage is billed (null: no usage lines, e.g. at creation). */
  usage: Period | null;
  /** The period licensed items are billed for in advance (null: none). */
  advance: Period | null;
  billingReason: 'subscription_create' | 'subscription_cycle' | 'subscription_update' | 'upcoming';
  /** Which lines a trial makes free: the usage lines (trial just ended) or the advance lines (trial starting). */
  free?: 'usage' | 'advance' | 'all';
}

function productName(state: StripeState, price: WirePrice): string {
  const productId = typeof price.product === 'string' ? price.product : price.product.id;
  return state.products.get(productId)?.name ?? productId;
}

function meteredQuantity(state: StripeState, price: WirePrice, customerId: string, period: Period, settledOnly = false): number {
  const meterId = price.recurring?.meter;
  const meter = meterId ? state.meters.get(meterId) : undefined;
  return meter ? billableQuantity(aggregateUsage(state, meter, customerId, period.start, period.end, settledOnly)) : 0;
}

/** A line's amount for a price and quantity, with the price's tiers. */
function priceAmount(state: StripeState, price: WirePrice, quantity: number): number {
  return lineAmount({ ...price, tiers: state.priceTiers.get(price.id) }, quantity);
}

function line(state: StripeState, invoiceId: string | null, subscription: StoredSubscription, itemId: string, price: WirePrice, quantity: number, period: Period, free: boolean): WireInvoiceLineItem {
  const amount = free ? 0 : priceAmount(state, price, quantity);
  const name = productName(state, price);
  return {
    id: newId.invoiceLineItem(),
    object: 'line_item',
    amount,
    currency: price.currency,
    description: free ? `Trial period for ${name}` : `${quantity} × ${name}`,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: {},
    parent: {
      invoice_item_details: null,
      subscription_item_details: { invoice_item: null, proration: false, proration_details: { credited_items: null }, subscription: subscription.id, subscription_item: itemId },
      type: 'subscription_item_details',
    },
    period: { start: period.start, end: period.end },
    pretax_credit_amounts: [],
    pricing: { price_details: { price: price.id, product: typeof price.product === 'string' ? price.product : price.product.id }, type: 'price_details', unit_amount_decimal: price.unit_amount_decimal },
    quantity,
    quantity_decimal: String(quantity),
    subscription: subscription.id,
    subtotal: amount,
    taxes: [],
  };
}

/** The lines of a subscription invoice (metered usage in arrears, licensed in advance). */
function subscriptionLines(state: StripeState, subscription: StoredSubscription, plan: InvoicePlan, invoiceId: string | null): WireInvoiceLineItem[] {
  const lines: WireInvoiceLineItem[] = [];
  for (const item of subscription.items) {
    const price = state.prices.get(item.price);
    if (!price) continue;
    const metered = price.recurring?.usage_type === 'metered';
    const freeUsage = plan.free === 'usage' || plan.free === 'all';
    const freeAdvance = plan.free === 'advance' || plan.free === 'all';
    // A preview lags like Stripe's asynchronous aggregation; a built invoice sees every event.
    const quantity = metered && plan.usage ? meteredQuantity(state, price, subscription.customer as string, plan.usage, plan.billingReason === 'upcoming') : 0;
    if (metered && plan.usage) lines.push(line(state, invoiceId, subscription, item.id, price, quantity, plan.usage, freeUsage));
    if (!metered && plan.advance) lines.push(line(state, invoiceId, subscription, item.id, price, item.quantity ?? 1, plan.advance, freeAdvance));
  }
  return lines;
}

/**
 * `prorate` on cancel: a credit line per licensed item for the unused rest of the period, like
 * Stripe's proration invoice item (metered items bill in arrears: nothing to credit).
 */
export function unusedTimeCredits(state: StripeState, subscription: StoredSubscription, at: number, invoiceId: string | null): WireInvoiceLineItem[] {
  const credits: WireInvoiceLineItem[] = [];
  for (const item of subscription.items) {
    const price = state.prices.get(item.price);
    if (!price || price.recurring?.usage_type === 'metered' || at >= item.current_period_end) continue;
    const full = priceAmount(state, price, item.quantity ?? 1);
    const share = (item.current_period_end - at) / Math.max(1, item.current_period_end - item.current_period_start);
    const amount = -Math.round(full * share);
    if (amount === 0) continue;
    const credit = line(state, invoiceId, subscription, item.id, price, item.quantity ?? 1, { start: at, end: item.current_period_end }, false);
    const details = credit.parent?.subscription_item_details;
    credits.push({
      ...credit,
      amount,
      subtotal: amount,
      description: `Unused time on ${productName(state, price)}`,
      parent: credit.parent && details ? { ...credit.parent, subscription_item_details: { ...details, proration: true } } : credit.parent,
    });
  }
  return credits;
}

/** Re-reads metered quantities of a draft's lines: usage arriving while the invoice is a draft still counts. */
export function refreshDraft(state: StripeState, invoice: WireInvoice): WireInvoice {
  const lines = invoice.lines.data.map((current) => {
    const priceId = current.pricing?.price_details?.price;
    const price = typeof priceId === 'string' ? state.prices.get(priceId) : undefined;
    if (!price || price.recurring?.usage_type !== 'metered' || current.description?.startsWith('Trial period')) return current;
    const quantity = meteredQuantity(state, price, invoice.customer as string, current.period);
    const amount = priceAmount(state, price, quantity);
    return { ...current, quantity, quantity_decimal: String(quantity), amount, subtotal: amount, description: current.description?.replace(/^\d+ ×/, `${quantity} ×`) ?? null };
  });
  return withTotals({ ...invoice, lines: { ...invoice.lines, data: lines } });
}

/** Totals from the lines, and what is left to pay. */
export function withTotals(invoice: WireInvoice): WireInvoice {
  const subtotal = invoice.lines.data.reduce((sum, current) => sum + current.amount, 0);
  return {
    ...invoice,
    subtotal,
    subtotal_excluding_tax: subtotal,
    total: subtotal,
    total_excluding_tax: subtotal,
    // A credit (negative total) is owed nothing; finalization moves it to the customer's balance.
    amount_due: Math.max(0, subtotal),
    amount_remaining: Math.max(0, subtotal - invoice.amount_paid),
  };
}

/** What an invoice copies from its customer when it is made (in Stripe's field order). */
function customerDetails(customer: ReturnType<StripeState['customers']['get']>): Pick<WireInvoice, 'customer_address' | 'customer_email' | 'customer_name' | 'customer_phone' | 'customer_shipping' | 'customer_tax_exempt' | 'customer_tax_ids'> {
  return {
    customer_address: customer?.address ?? null,
    customer_email: customer?.email ?? null,
    customer_name: customer?.name ?? null,
    customer_phone: customer?.phone ?? null,
    customer_shipping: null,
    customer_tax_exempt: customer?.tax_exempt ?? 'none',
    customer_tax_ids: [],
  };
}

/** A draft invoice for a subscription (not stored). */
export function draftInvoice(state: StripeState, subscription: StoredSubscription, plan: InvoicePlan, at: number, id: string = newId.invoice()): WireInvoice {
  const customer = state.customers.get(subscription.customer as string);
  const lines = subscriptionLines(state, subscription, plan, plan.billingReason === 'upcoming' ? null : id);
  const period = plan.usage ?? plan.advance ?? { start: at, end: at };
  const invoice: WireInvoice = {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Emulated Stripe account',
    account_tax_ids: null,
    amount_due: 0,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: 0,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: plan.billingReason !== 'upcoming',
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    // Stripe leaves subscription invoices in draft for about an hour, so late usage still counts.
    automatically_finalizes_at: plan.billingReason === 'subscription_cycle' ? at + 3600 : null,
    billing_reason: plan.billingReason,
    collection_method: subscription.collection_method,
    created: at,
    currency: subscription.currency,
    custom_fields: null,
    customer: subscription.customer,
    customer_account: null,
    ...customerDetails(customer),
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: lines, has_more: false, url: `/v1/invoices/${id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: { quote_details: null, subscription_details: { metadata: { ...subscription.metadata }, subscription: subscription.id }, type: 'subscription_details' },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: period.end,
    period_start: period.start,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: 0,
    subtotal_excluding_tax: 0,
    test_clock: customer?.test_clock ?? null,
    total: 0,
    total_discount_amounts: [],
    total_excluding_tax: 0,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  };
  return withTotals(invoice);
}

/** The due date of a send_invoice invoice finalized at `at`. */
export function dueDate(subscription: StoredSubscription | undefined, at: number): number {
  return at + (subscription?.days_until_due ?? 30) * DAY_SECONDS;
}

/** The subscription's next invoice as it stands now (create_preview, invoice.upcoming): the current period's usage so far. */
export function upcomingInvoice(state: StripeState, subscription: StoredSubscription): WireInvoice {
  const item = subscription.items[0];
  const start = item?.current_period_start ?? subscription.start_date;
  const end = item?.current_period_end ?? start;
  const recurring = item ? state.prices.get(item.price)?.recurring : undefined;
  const plan: InvoicePlan = { usage: { start, end }, advance: { start: end, end: addInterval(end, recurring) }, billingReason: 'upcoming', ...(subscription.status === 'trialing' ? { free: 'usage' as const } : {}) };
  const upcoming = draftInvoice(state, subscription, plan, state.nowFor(subscription.customer as string), `upcoming_${newId.invoice()}`);
  return { ...upcoming, created: end, auto_advance: false, automatically_finalizes_at: null };
}
