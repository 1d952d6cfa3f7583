/**
 * /v1/invoices: list (customer, subscription, status...), retrieve, lines, pay (default or given
 * payment method, or paid_out_of_band), finalize, void, mark_uncollectible, and create_preview
 * (the subscription's next invoice with the usage so far). Invoices are made by the billing engine.
 */
import { pathParam, type ApiCall, type Endpoint } from './endpoint.ts';
import { upcomingInvoice } from './invoice-builder.ts';
import { previewCustomerBalance } from './customer-balance.ts';
import { attemptPayment, finalizeInvoice, markPaid, markUncollectible, voidInvoice } from './invoice-lifecycle.ts';
import { expand, inRange, listPage } from './list-and-expand.ts';
import { p, paginationShape, parseParams } from './params.ts';
import { requirePaymentMethod } from './payment-methods.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { StoredSubscription, StripeState } from './stripe-state.ts';
import type { WireInvoice } from './wire-types.ts';

const STATUSES = ['draft', 'open', 'paid', 'uncollectible', 'void'] as const;
const listSchema = p.hash({
  ...paginationShape,
  customer: p.id().optional(),
  subscription: p.id().optional(),
  status: p.oneOf(STATUSES).optional(),
  collection_method: p.oneOf(['charge_automatically', 'send_invoice']).optional(),
  created: p.range().optional(),
  due_date: p.range().optional(),
  customer_account: p.accepted(),
});
const expandOnly = p.hash({ expand: p.expand() });
const linesSchema = p.hash({ ...paginationShape });
const paySchema = p.hash({
  payment_method: p.id().optional(),
  paid_out_of_band: p.bool().optional(),
  off_session: p.bool().optional(),
  forgive: p.accepted(),
  mandate: p.accepted(),
  source: p.accepted(),
  expand: p.expand(),
});
const finalizeSchema = p.hash({ auto_advance: p.bool().optional(), expand: p.expand() });
const previewSchema = p.hash({
  customer: p.id().optional(),
  subscription: p.id().optional(),
  expand: p.expand(),
  automatic_tax: p.accepted(),
  currency: p.accepted(),
  customer_details: p.accepted(),
  discounts: p.accepted(),
  invoice_items: p.accepted(),
  issuer: p.accepted(),
  on_behalf_of: p.accepted(),
  preview_mode: p.accepted(),
  schedule: p.accepted(),
  schedule_details: p.accepted(),
  subscription_details: p.accepted(),
});

function requireInvoice(state: StripeState, id: string): WireInvoice {
  const invoice = state.invoices.get(id);
  if (!invoice) throw stripeErrors.notFound('invoice', id);
  return invoice;
}

/** The time an invoice lives in: its customer's clock. */
function timeOf(state: StripeState, invoice: WireInvoice): number {
  return state.customers.has(invoice.customer as string) ? state.nowFor(invoice.customer as string) : state.now();
}

function requireStatus(invoice: WireInvoice, allowed: readonly WireInvoice['status'][], action: string): void {
  if (!allowed.includes(invoice.status)) throw stripeErrors.invalid(`You can only ${action} an invoice whose status is ${allowed.join(' or ')}; this one is ${invoice.status}.`, undefined, 'invoice_unexpected_state');
}

function pay(call: ApiCall) {
  const { state } = call;
  const invoice = requireInvoice(state, pathParam(call, 'id'));
  const input = parseParams(paySchema, call.params);
  requireStatus(invoice, ['open'], 'pay');
  const at = timeOf(state, invoice);
  if (input.paid_out_of_band) return { body: expand(state, structuredClone(markPaid(state, invoice, at, false)), input.expand) };
  if (input.payment_method !== undefined) {
    const method = requirePaymentMethod(state, input.payment_method, 'payment_method');
    if (method.customer !== invoice.customer)
      throw stripeErrors.invalid(`The PaymentMethod ${method.id} does not belong to the invoice's customer. Attach it first.`, 'payment_method');
  }
  const attempt = attemptPayment(state, invoice, at, input.payment_method);
  // The failed attempt is recorded (attempt_count, invoice.payment_failed) before the error answer.
  if (attempt.error) throw attempt.error;
  return { body: expand(state, structuredClone(attempt.invoice), input.expand) };
}

function subscriptionToPreview(state: StripeState, input: { customer?: string | undefined; subscription?: string | undefined }): StoredSubscription {
  if (input.subscription !== undefined) {
    const subscription = state.subscriptions.get(input.subscription);
    if (!subscription) throw stripeErrors.missingReference('subscription', input.subscription, 'subscription');
    if (input.customer !== undefined && subscription.customer !== input.customer) throw stripeErrors.invalid('The subscription does not belong to that customer.', 'subscription');
    if (subscription.status === 'canceled') throw stripeErrors.invalid(`No upcoming invoices for subscription: ${subscription.id}`, 'subscription', 'invoice_upcoming_none');
    return subscription;
  }
  if (input.customer === undefined) throw stripeErrors.invalid('You must pass at least one of customer or subscription.', 'customer');
  if (!state.customers.has(input.customer)) throw stripeErrors.missingReference('customer', input.customer, 'customer');
  const live = state.subscriptions.newestFirst().find((subscription) => subscription.customer === input.customer && subscription.status !== 'canceled');
  if (!live) throw stripeErrors.invalid(`No upcoming invoices for customer: ${input.customer}`, 'customer', 'invoice_upcoming_none');
  return live;
}

function preview(call: ApiCall) {
  const { state } = call;
  const input = parseParams(previewSchema, call.params);
  const subscription = subscriptionToPreview(state, input);
  return { body: expand(state, previewCustomerBalance(state, upcomingInvoice(state, subscription)), input.expand) };
}

export const invoiceEndpoints: Endpoint[] = [
  {
    method: 'GET',
    route: '/v1/invoices',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      if (input.customer !== undefined && !state.customers.has(input.customer)) throw stripeErrors.missingReference('customer', input.customer, 'customer');
      if (input.subscription !== undefined && !state.subscriptions.has(input.subscription)) throw stripeErrors.missingReference('subscription', input.subscription, 'subscription');
      const matching = state.invoices
        .newestFirst()
        .filter(
          (invoice) =>
            (input.customer === undefined || invoice.customer === input.customer) &&
            (input.subscription === undefined || invoice.parent?.subscription_details?.subscription === input.subscription) &&
            (input.status === undefined || invoice.status === input.status) &&
            (input.collection_method === undefined || invoice.collection_method === input.collection_method) &&
            inRange(invoice.created, input.created) &&
            (input.due_date === undefined || (invoice.due_date !== null && inRange(invoice.due_date, input.due_date))),
        );
      return { body: expand(state, listPage(structuredClone(matching), input, '/v1/invoices', 'invoice'), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/invoices/:id',
    handle(call) {
      const input = parseParams(expandOnly, call.params);
      return { body: expand(call.state, structuredClone(requireInvoice(call.state, pathParam(call, 'id'))), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/invoices/:id/lines',
    handle(call) {
      const input = parseParams(linesSchema, call.params);
      const invoice = requireInvoice(call.state, pathParam(call, 'id'));
      return { body: expand(call.state, listPage(structuredClone(invoice.lines.data), input, `/v1/invoices/${invoice.id}/lines`, 'invoice'), input.expand) };
    },
  },
  { method: 'POST', route: '/v1/invoices/:id/pay', handle: pay },
  {
    method: 'POST',
    route: '/v1/invoices/:id/finalize',
    handle(call) {
      const { state } = call;
      const invoice = requireInvoice(state, pathParam(call, 'id'));
      const input = parseParams(finalizeSchema, call.params);
      requireStatus(invoice, ['draft'], 'finalize');
      const finalized = finalizeInvoice(state, { ...invoice, auto_advance: input.auto_advance ?? invoice.auto_advance ?? true }, timeOf(state, invoice));
      return { body: expand(state, structuredClone(finalized), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/invoices/:id/void',
    handle(call) {
      const { state } = call;
      const invoice = requireInvoice(state, pathParam(call, 'id'));
      const input = parseParams(expandOnly, call.params);
      requireStatus(invoice, ['open', 'uncollectible'], 'void');
      return { body: expand(state, structuredClone(voidInvoice(state, invoice, timeOf(state, invoice))), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/invoices/:id/mark_uncollectible',
    handle(call) {
      const { state } = call;
      const invoice = requireInvoice(state, pathParam(call, 'id'));
      const input = parseParams(expandOnly, call.params);
      requireStatus(invoice, ['open'], 'mark uncollectible');
      return { body: expand(state, structuredClone(markUncollectible(state, invoice, timeOf(state, invoice))), input.expand) };
    },
  },
  { method: 'POST', route: '/v1/invoices/create_preview', handle: preview },
];
