/**
 * The PaymentIntent behind an invoice's charges, and the invoice's `payments` (InvoicePayment
 * objects, returned when `payments` is expanded and by GET /v1/invoice_payments). An invoice has
 * one PaymentIntent for its automatic attempts: succeeded, requires_payment_method after a
 * decline, or requires_action when the bank asks the customer to authenticate (3-D Secure), which
 * the customer completes on the hosted invoice page. GET /v1/payment_intents/{id} reads it
 * (payment-intent-endpoints.ts).
 */
import type Stripe from 'stripe';
import { newId } from './ids.ts';
import type { StripeApiError } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';
import type { WireInvoice } from './wire-types.ts';

export type ChargeResult = { status: 'succeeded' } | { status: 'requires_payment_method'; error: StripeApiError & { declineCode?: string | undefined } } | { status: 'requires_action' };

function newIntent(invoice: WireInvoice, at: number): Stripe.PaymentIntent {
  const id = newId.paymentIntent();
  return {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: invoice.amount_due,
    amount_capturable: 0,
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: `${id}_secret_${id.slice(3, 13)}`,
    confirmation_method: 'automatic',
    created: at,
    currency: invoice.currency,
    customer: invoice.customer as string,
    customer_account: null,
    description: `Payment for Invoice`,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: {},
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: 'off_session',
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'requires_payment_method',
    transfer_group: null,
  };
}

/** Records an attempt on the invoice's PaymentIntent (made on the first attempt). */
export function recordCharge(state: StripeState, invoice: WireInvoice, paymentMethod: string | null, result: ChargeResult, at: number): Stripe.PaymentIntent {
  const existingId = state.invoiceIntents.get(invoice.id);
  const base = (existingId ? state.paymentIntents.get(existingId) : undefined) ?? newIntent(invoice, at);
  state.invoiceIntents.set(invoice.id, base.id);
  const intent: Stripe.PaymentIntent = {
    ...base,
    amount: invoice.amount_due,
    payment_method: paymentMethod,
    status: result.status,
    amount_received: result.status === 'succeeded' ? invoice.amount_due : 0,
    next_action: result.status === 'requires_action' ? { type: 'use_stripe_sdk', use_stripe_sdk: {} } : null,
    last_payment_error:
      result.status === 'requires_payment_method'
        ? { type: 'card_error', code: (result.error.code ?? 'card_declined') as Stripe.PaymentIntent.LastPaymentError.Code, message: result.error.message, ...(result.error.declineCode ? { decline_code: result.error.declineCode } : {}) }
        : result.status === 'requires_action'
          ? { type: 'card_error', code: 'authentication_required', decline_code: 'authentication_required', message: 'Your card was declined. This transaction requires authentication.' }
          : null,
  };
  state.paymentIntents.set(intent);
  const type = result.status === 'succeeded' ? 'payment_intent.succeeded' : result.status === 'requires_action' ? 'payment_intent.requires_action' : 'payment_intent.payment_failed';
  if (!existingId) state.events.emit('payment_intent.created', structuredClone(intent));
  state.events.emit(type, structuredClone(intent));
  return intent;
}

/** The invoice's PaymentIntent, if it was ever charged. */
export function intentOf(state: StripeState, invoiceId: string): Stripe.PaymentIntent | undefined {
  const id = state.invoiceIntents.get(invoiceId);
  return id ? state.paymentIntents.get(id) : undefined;
}

/** The invoice's payments as InvoicePayment objects (one per PaymentIntent). */
export function invoicePayments(state: StripeState, invoice: WireInvoice): Stripe.InvoicePayment[] {
  const intent = intentOf(state, invoice.id);
  if (!intent) return [];
  const paid = intent.status === 'succeeded';
  return [
    {
      id: `inpay_${intent.id.slice(3)}`,
      object: 'invoice_payment',
      amount_paid: paid ? intent.amount_received : null,
      amount_requested: intent.amount,
      created: intent.created,
      currency: intent.currency,
      invoice: invoice.id,
      is_default: true,
      livemode: false,
      payment: { type: 'payment_intent', payment_intent: intent.id },
      status: paid ? 'paid' : invoice.status === 'void' ? 'canceled' : 'open',
      status_transitions: { canceled_at: invoice.status_transitions.voided_at, paid_at: paid ? invoice.status_transitions.paid_at : null },
    },
  ];
}

/** `payments` on an invoice (an includable field: only when expanded). */
export function withPayments(state: StripeState, invoice: WireInvoice): { payments: Stripe.ApiList<Stripe.InvoicePayment> } {
  return { payments: { object: 'list', data: invoicePayments(state, invoice), has_more: false, url: `/v1/invoice_payments?invoice=${invoice.id}` } };
}
