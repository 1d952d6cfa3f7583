/**
 * The customer's invoice balance, as Stripe applies it: at finalization the balance (positive =
 * the customer owes, negative = credit) is added to the invoice's total (`starting_balance`) and
 * the customer's balance becomes what is left over (`ending_balance`, a credit larger than the
 * invoice). An automatically collected invoice whose amount due is below the currency's minimum
 * charge is not charged: Stripe marks it paid and moves the amount to the balance as a debit, so
 * the next invoice bills it (Stripe docs: "Customer invoice balance"; only for customers without
 * a cash balance, which the emulator does not model).
 */
import type { StripeState } from './stripe-state.ts';
import type { WireInvoice } from './wire-types.ts';

/**
 * Minimum charge amounts in the currency's smallest unit (Stripe's "minimum and maximum charge
 * amounts" table, for the currencies a sandbox is likely to use); an unlisted currency uses 50,
 * which is what most two-decimal currencies have.
 */
const MINIMUM_CHARGE: Readonly<Record<string, number>> = { usd: 50, eur: 50, gbp: 30, cad: 50, aud: 50, chf: 50, nzd: 50, sgd: 50, jpy: 50, dkk: 250, sek: 300, nok: 300, mxn: 1000, hkd: 400, inr: 50, brl: 50 };

function minimumCharge(currency: string): number {
  return MINIMUM_CHARGE[currency.toLowerCase()] ?? 50;
}

/** Sets the customer's balance, with customer.updated when it changes. */
function setCustomerBalance(state: StripeState, customerId: string, balance: number): void {
  const customer = state.customers.get(customerId);
  if (!customer || customer.balance === balance) return;
  const updated = { ...customer, balance };
  state.customers.set(updated);
  state.events.emit('customer.updated', structuredClone(updated), { balance: customer.balance });
}

/** Adds `amount` (positive = a debit the customer owes, negative = a credit) to the balance. */
export function addToCustomerBalance(state: StripeState, customerId: string, amount: number): void {
  const customer = state.customers.get(customerId);
  if (customer && amount !== 0) setCustomerBalance(state, customerId, customer.balance + amount);
}

/** The invoice with the customer's balance applied (at finalization); the customer keeps the rest. */
export function applyCustomerBalance(state: StripeState, invoice: WireInvoice): WireInvoice {
  const customerId = invoice.customer as string;
  const starting = state.customers.get(customerId)?.balance ?? 0;
  const due = invoice.total + starting;
  const ending = due < 0 ? due : 0;
  setCustomerBalance(state, customerId, ending);
  const amountDue = Math.max(0, due);
  return { ...invoice, starting_balance: starting, ending_balance: ending, amount_due: amountDue, amount_remaining: Math.max(0, amountDue - invoice.amount_paid) };
}

/** A preview (create_preview, invoice.upcoming) shows the balance the next finalization would apply, without applying it. */
export function previewCustomerBalance(state: StripeState, invoice: WireInvoice): WireInvoice {
  const starting = state.customers.get(invoice.customer as string)?.balance ?? 0;
  const due = invoice.total + starting;
  return { ...invoice, starting_balance: starting, ending_balance: due < 0 ? due : 0, amount_due: Math.max(0, due), amount_remaining: Math.max(0, due) };
}

/** An automatically charged invoice too small to charge. */
export function belowMinimumCharge(invoice: WireInvoice): boolean {
  return invoice.collection_method === 'charge_automatically' && invoice.amount_due > 0 && invoice.amount_due < minimumCharge(invoice.currency);
}
