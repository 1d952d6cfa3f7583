/**
 * The emulator-hosted Checkout page, GET/POST /_hosted/checkout/{session id} on the emulator's
 * origin: a plain card form. 4242 4242 4242 4242 completes the session and redirects to
 * success_url; 4000 0000 0000 0002 shows the decline on the page and stays; 4000 0000 0000 0341
 * attaches (charges fail later). The cancel link goes to cancel_url.
 */
import type { Hono } from 'hono';
import type Stripe from 'stripe';
import { currentSession } from './checkout-sessions.ts';
import { completeCheckout } from './checkout-completion.ts';
import { cardFields, challengePage, errorLine, html, money, page, redirect, type SafeHtml } from './hosted-html.ts';
import type { StripeState } from './stripe-state.ts';

function summary(state: StripeState, session: Stripe.Checkout.Session): SafeHtml {
  if (session.mode === 'setup') {
    const customer = typeof session.customer === 'string' ? state.customers.get(session.customer) : undefined;
    return html`<p>Save a card for future payments${customer?.email ? html` by <strong>${customer.email}</strong>` : html``}. You will not be charged now.</p>`;
  }
  const rows = (state.checkoutLineItems.get(session.id) ?? []).map((item) => {
    const price = state.prices.get(item.price);
    const product = price ? state.products.get(typeof price.product === 'string' ? price.product : price.product.id) : undefined;
    const amount = price?.recurring?.usage_type === 'metered' ? 'billed by usage' : money((price?.unit_amount ?? 0) * (item.quantity ?? 1), price?.currency);
    return html`<tr><td>${product?.name ?? item.price}</td><td>${price?.nickname ?? ''}</td><td>${amount}</td><td>per ${price?.recurring?.interval ?? ''}</td></tr>`;
  });
  return html`<p>Subscribe:</p><table>${rows}</table>`;
}

function checkoutForm(state: StripeState, session: Stripe.Checkout.Session, error?: string): Response {
  const needsEmail = session.mode === 'subscription' && !session.customer && !session.customer_email;
  const body = html`${summary(state, session)}
${errorLine(error)}
<form method="post">
${needsEmail ? html`<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" required>` : html``}
${cardFields()}
<button type="submit">${session.mode === 'setup' ? 'Save card' : 'Subscribe'}</button>
</form>
${session.cancel_url ? html`<p><a href="${session.cancel_url}">Cancel and go back</a></p>` : html``}
<p class="note">Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, 4000 0000 0000 0341 is saved but its charges fail, 4000 0027 6000 3184 asks for 3-D Secure (here and on every later charge).</p>`;
  return page(session.mode === 'setup' ? 'Save your card' : 'Subscribe', body, error ? 402 : 200);
}

function inactive(): Response {
  return page('Checkout', html`<p class="error" role="alert">This Checkout Session is no longer active.</p>`, 410);
}

export function mountHostedCheckout(app: Hono, state: StripeState): void {
  app.get('/_hosted/checkout/:id', (c) => {
    const session = currentSession(state, c.req.param('id'));
    if (!session) return page('Checkout', html`<p class="error" role="alert">No such Checkout Session.</p>`, 404);
    return session.status === 'open' ? checkoutForm(state, session) : inactive();
  });
  app.post('/_hosted/checkout/:id', async (c) => {
    const id = c.req.param('id');
    if (!currentSession(state, id)) return page('Checkout', html`<p class="error" role="alert">No such Checkout Session.</p>`, 404);
    const form = await c.req.parseBody();
    const text = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
    const card = { cardnumber: text('cardnumber'), exp: text('exp'), cvc: text('cvc'), email: text('email') };
    const outcome = completeCheckout(state, id, { number: card.cardnumber, expiry: card.exp, cvc: card.cvc, email: card.email || undefined, authentication: text('authentication') || undefined });
    const session = currentSession(state, id);
    if (!outcome.ok && outcome.challenge) return challengePage(`/_hosted/checkout/${id}`, card);
    if (!outcome.ok) return session?.status === 'open' ? checkoutForm(state, session, outcome.message) : inactive();
    if (outcome.redirect) return redirect(outcome.redirect);
    return page('Done', html`<p>Thanks! Your ${outcome.session.mode === 'setup' ? 'card was saved' : 'subscription is active'}.</p>`);
  });
}
