/**
 * The emulator's hosted invoice page (a finalized invoice's `hosted_invoice_url`), GET/POST
 * /_hosted/invoice/{id} on the emulator's origin: the invoice's amount, lines and status; an open
 * invoice can be paid with a card (on-session, so a 3-D Secure card completes its test challenge
 * first), and a payment the bank held for authentication (PaymentIntent requires_action) can be
 * confirmed. Like Stripe's page, paying here does not make the card the customer's default.
 */
import type { Hono } from 'hono';
import { AUTHENTICATION_FAILED, authenticationProblem, cardFormProblem, parseExpiry } from './checkout-completion.ts';
import { cardFields, challengePage, errorLine, html, money, page, type SafeHtml } from './hosted-html.ts';
import { attemptPayment } from './invoice-lifecycle.ts';
import { intentOf } from './payment-intents.ts';
import { attachCardByNumber } from './payment-methods.ts';
import { StripeApiError } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';
import type { WireInvoice } from './wire-types.ts';

function timeOf(state: StripeState, invoice: WireInvoice): number {
  return state.customers.has(invoice.customer as string) ? state.nowFor(invoice.customer as string) : state.now();
}

function statusLine(state: StripeState, invoice: WireInvoice): SafeHtml {
  if (invoice.status === 'paid') return html`<p><strong>Paid</strong>${invoice.status_transitions.paid_at ? html` on ${new Date(invoice.status_transitions.paid_at * 1000).toISOString().slice(0, 10)}` : html``}.</p>`;
  if (invoice.status === 'void') return html`<p><strong>This invoice was voided.</strong> Nothing is owed.</p>`;
  if (invoice.status === 'uncollectible') return html`<p><strong>Marked uncollectible.</strong></p>`;
  const intent = intentOf(state, invoice.id);
  const held = intent?.status === 'requires_action';
  return html`<p><strong>Amount due: ${money(invoice.amount_remaining, invoice.currency)}</strong>${invoice.due_date ? html`, due ${new Date(invoice.due_date * 1000).toISOString().slice(0, 10)}` : html``}.</p>
${held ? html`<section id="confirm"><h2>Confirm your payment</h2><p>Your bank asks you to authenticate this payment before it goes through.</p>
<form method="post" action="/_hosted/invoice/${invoice.id}/confirm"><button type="submit">Confirm payment</button></form></section>` : html``}`;
}

function invoicePage(state: StripeState, invoice: WireInvoice, error?: string): Response {
  const rows = invoice.lines.data.map((line) => html`<tr><td>${line.description ?? ''}</td><td>${money(line.amount, line.currency)}</td></tr>`);
  const payable = invoice.status === 'open';
  const body = html`<p>Invoice <strong>${invoice.number ?? invoice.id}</strong>${invoice.customer_email ? html` for ${invoice.customer_email}` : html``}.</p>
${errorLine(error)}
${statusLine(state, invoice)}
<table>${rows}</table>
<p>Total: ${money(invoice.total, invoice.currency)}${invoice.starting_balance ? html` (balance applied: ${money(invoice.starting_balance, invoice.currency)})` : html``}</p>
${payable ? html`<section><h2>Pay with a card</h2><form method="post" action="/_hosted/invoice/${invoice.id}/pay">${cardFields()}<button type="submit">Pay ${money(invoice.amount_remaining, invoice.currency)}</button></form></section>` : html``}`;
  return page('Invoice', body, error ? 402 : 200);
}

/** Pays with a typed card, on-session: a 3-D Secure card answers the test challenge first. */
function payWithCard(state: StripeState, invoice: WireInvoice, form: Record<string, string>): Response {
  const card = { number: form.cardnumber ?? '', expiry: form.exp ?? '', cvc: form.cvc ?? '', authentication: form.authentication || undefined };
  const problem = cardFormProblem(card);
  if (problem) return invoicePage(state, invoice, problem);
  const authentication = authenticationProblem(card);
  if (authentication && !authentication.ok && authentication.challenge)
    return challengePage(`/_hosted/invoice/${invoice.id}/pay`, { cardnumber: card.number, exp: card.expiry, cvc: card.cvc });
  if (authentication && !authentication.ok) return invoicePage(state, invoice, authentication.message);
  try {
    const method = attachCardByNumber(state, invoice.customer as string, card.number, parseExpiry(card.expiry));
    const attempt = attemptPayment(state, invoice, timeOf(state, invoice), method.id, true);
    return invoicePage(state, attempt.invoice, attempt.error?.message);
  } catch (error) {
    if (error instanceof StripeApiError) return invoicePage(state, invoice, error.message);
    throw error;
  }
}

/** Completes (or fails) the authentication of a payment the bank held: the held PaymentIntent is confirmed on-session. */
function confirmHeld(state: StripeState, invoice: WireInvoice, answer: string | undefined): Response {
  const intent = intentOf(state, invoice.id);
  const method = typeof intent?.payment_method === 'string' ? intent.payment_method : undefined;
  if (intent?.status !== 'requires_action' || !method) return invoicePage(state, invoice, 'This payment does not need confirming.');
  if (answer === undefined) return challengePage(`/_hosted/invoice/${invoice.id}/confirm`, {});
  if (answer !== 'complete') return invoicePage(state, invoice, AUTHENTICATION_FAILED);
  const attempt = attemptPayment(state, invoice, timeOf(state, invoice), method, true);
  return invoicePage(state, attempt.invoice, attempt.error?.message);
}

export function mountHostedInvoice(app: Hono, state: StripeState): void {
  const missing = () => page('Invoice', html`<p class="error" role="alert">No such invoice.</p>`, 404);
  const finalized = (id: string) => {
    const invoice = state.invoices.get(id);
    // Drafts have no hosted page on Stripe either.
    return invoice && invoice.status !== 'draft' ? invoice : undefined;
  };
  const formOf = async (request: Request): Promise<Record<string, string>> => {
    const form = await request.formData();
    return Object.fromEntries([...form.entries()].filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  };
  app.get('/_hosted/invoice/:id', (c) => {
    const invoice = finalized(c.req.param('id'));
    return invoice ? invoicePage(state, invoice) : missing();
  });
  app.post('/_hosted/invoice/:id/pay', async (c) => {
    const invoice = finalized(c.req.param('id'));
    if (!invoice) return missing();
    const form = await formOf(c.req.raw);
    return invoice.status === 'open' ? payWithCard(state, invoice, form) : invoicePage(state, invoice, 'This invoice is not open for payment.');
  });
  app.post('/_hosted/invoice/:id/confirm', async (c) => {
    const invoice = finalized(c.req.param('id'));
    if (!invoice) return missing();
    const form = await formOf(c.req.raw);
    return invoice.status === 'open' ? confirmHeld(state, invoice, form.authentication || undefined) : invoicePage(state, invoice, 'This invoice is not open for payment.');
  });
}
