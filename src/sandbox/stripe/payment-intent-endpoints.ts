/**
 * GET /v1/payment_intents/{id} and GET /v1/invoice_payments: the read side of payment-intents.ts
 * (a module of its own because expanding a list needs list-and-expand.ts, which itself expands an
 * invoice's payments from payment-intents.ts).
 */
import { pathParam, type Endpoint } from './endpoint.ts';
import { expand, listPage } from './list-and-expand.ts';
import { p, paginationShape, parseParams } from './params.ts';
import { invoicePayments } from './payment-intents.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { WireInvoice } from './wire-types.ts';

const listSchema = p.hash({ ...paginationShape, invoice: p.id().optional(), status: p.oneOf(['canceled', 'open', 'paid']).optional(), payment: p.accepted(), created: p.accepted() });
const retrieveSchema = p.hash({ expand: p.expand(), client_secret: p.accepted() });

export const paymentIntentEndpoints: Endpoint[] = [
  {
    method: 'GET',
    route: '/v1/payment_intents/:id',
    handle(call) {
      const input = parseParams(retrieveSchema, call.params);
      const intent = call.state.paymentIntents.get(pathParam(call, 'id'));
      if (!intent) throw stripeErrors.notFound('payment_intent', pathParam(call, 'id'));
      return { body: expand(call.state, structuredClone(intent), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/invoice_payments',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      const invoices = input.invoice === undefined ? state.invoices.newestFirst() : [state.invoices.get(input.invoice)].filter((i): i is WireInvoice => i !== undefined);
      if (input.invoice !== undefined && invoices.length === 0) throw stripeErrors.missingReference('invoice', input.invoice, 'invoice');
      const payments = invoices.flatMap((invoice) => invoicePayments(state, invoice)).filter((payment) => input.status === undefined || payment.status === input.status);
      return { body: expand(state, listPage(payments, input, '/v1/invoice_payments', 'invoice_payment'), input.expand) };
    },
  },
];
