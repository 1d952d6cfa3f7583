/**
 * The emulator-hosted customer portal, on the emulator's origin:
 * - GET  /_hosted/portal/{session}: subscriptions and plans, the card on file, invoices, a link back to return_url;
 * - POST /_hosted/portal/{session}/payment-method, /subscriptions/{id}/price, /subscriptions/{id}/cancel
 *   (see portal-actions.ts), each back to the page with a notice or the error shown;
 * - GET/POST /_hosted/portal-login/{configuration}: the login page. Stripe emails a one-time code;
 *   the emulator shows it on the page instead (and says so), then opens a portal session.
 * Session lifetimes are not modelled: a session URL keeps working until reset.
 */
import { randomInt } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type Stripe from 'stripe';
import { openPortalSession } from './billing-portal.ts';
import { cardFields, errorLine, html, money, page, redirect, type SafeHtml } from './hosted-html.ts';
import { cancelSubscription, editableCustomerFields, PortalActionError, replaceCard, switchablePrices, switchPlan, updateCustomerDetails } from './portal-actions.ts';
import type { StoredSubscription, StripeState } from './stripe-state.ts';

const NOTICES: Record<string, string> = { details: 'Your details were updated.', card: 'Your payment method was updated.', plan: 'Your plan was changed.', cancel: 'Your subscription was canceled.' };

/** A minor-unit decimal ("0.5") as money, sub-cent digits kept: "0.005 USD". */
function decimalMoney(minor: unknown, currency: string): string {
  if (minor === null || minor === undefined) return '';
  const major = (Number(String(minor)) / 100).toFixed(12).replace(/(\.\d\d\d*?)0+$/, '$1');
  return `${major} ${currency.toUpperCase()}`;
}

/** What a usage price costs per unit: "0.005 USD per unit", "10.00 USD per 1000 units", tiers listed. */
function usageAmount(state: StripeState, price: NonNullable<ReturnType<StripeState['prices']['get']>>): string {
  if (price.billing_scheme === 'tiered') {
    let from = 1;
    const tiers = (state.priceTiers.get(price.id) ?? []).map((tier) => {
      const range = tier.up_to === null ? `${from}+` : `${from}-${tier.up_to}`;
      from = (tier.up_to ?? from) + 1;
      const flat = tier.flat_amount_decimal ?? tier.flat_amount;
      return `${range}: ${decimalMoney(tier.unit_amount_decimal ?? tier.unit_amount ?? 0, price.currency)} each${flat ? ` + ${decimalMoney(flat, price.currency)}` : ''}`;
    });
    return `${price.tiers_mode === 'volume' ? 'volume tiers' : 'graduated tiers'} (${tiers.join('; ')})`;
  }
  const per = price.transform_quantity?.divide_by ?? 1;
  return `${decimalMoney(price.unit_amount_decimal ?? price.unit_amount, price.currency)} per ${per > 1 ? `${per} units` : 'unit'}`;
}

function priceLabel(state: StripeState, priceId: string): string {
  const price = state.prices.get(priceId);
  if (!price) return priceId;
  const product = state.products.get(typeof price.product === 'string' ? price.product : price.product.id);
  const interval = price.recurring?.interval ?? 'period';
  // Metered: the unit price, billed on the period's usage (Stripe's portal shows the price, not just "by usage").
  const amount = price.recurring?.usage_type === 'metered' ? `${usageAmount(state, price)}, billed on usage each ${interval}` : `${money(price.unit_amount, price.currency)} per ${interval}`;
  return `${product?.name ?? 'Plan'}${price.nickname ? ` (${price.nickname})` : ''}: ${amount}`;
}

function subscriptionSection(state: StripeState, sessionId: string, config: Stripe.BillingPortal.Configuration, subscription: StoredSubscription): SafeHtml {
  const item = subscription.items[0];
  const current = item?.price ?? '';
  const choices = subscription.items.length === 1 ? switchablePrices(config).filter((price) => price !== current) : [];
  const base = `/_hosted/portal/${sessionId}/subscriptions/${subscription.id}`;
  const ends = subscription.cancel_at_period_end && subscription.cancel_at ? html`<p>Cancels on ${new Date(subscription.cancel_at * 1000).toISOString().slice(0, 10)}.</p>` : html``;
  return html`<section class="subscription" data-subscription="${subscription.id}">
<h2>Current plan</h2>
<p class="plan">${subscription.items.map((i) => priceLabel(state, i.price)).join(', ')}</p>
<p>Status: <span class="status">${subscription.status}</span></p>${ends}
${choices.length > 0
    ? html`<form method="post" action="${base}/price"><label for="price-${subscription.id}">Switch plan</label>
<select id="price-${subscription.id}" name="price">${choices.map((price) => html`<option value="${price}">${priceLabel(state, price)}</option>`)}</select>
<button type="submit">Update plan</button></form>`
    : html``}
${config.features.subscription_cancel.enabled && !subscription.cancel_at_period_end
    ? html`<form method="post" action="${base}/cancel"><button type="submit">Cancel subscription</button></form>`
    : html``}
</section>`;
}

function invoicesSection(state: StripeState, customerId: string): SafeHtml {
  const invoices = state.invoices.newestFirst().filter((invoice) => invoice.customer === customerId && invoice.status !== 'draft');
  const rows = invoices.map(
    (invoice) => html`<tr><td>${invoice.number ?? invoice.id}</td><td>${new Date(invoice.created * 1000).toISOString().slice(0, 10)}</td><td>${money(invoice.amount_due, invoice.currency)}</td><td>${invoice.status ?? ''}</td></tr>`,
  );
  return html`<section><h2>Invoice history</h2>${rows.length > 0 ? html`<table>${rows}</table>` : html`<p>No invoices yet.</p>`}</section>`;
}

const FIELD_LABELS = { email: 'Email', name: 'Name', phone: 'Phone' } as const;

function detailsSection(sessionId: string, config: Stripe.BillingPortal.Configuration, customer: Stripe.Customer): SafeHtml {
  const fields = editableCustomerFields(config);
  if (fields.length === 0) return html``;
  const inputs = fields.map((field) => html`<label for="customer-${field}">${FIELD_LABELS[field]}</label><input id="customer-${field}" name="${field}" value="${customer[field] ?? ''}">`);
  return html`<section><h2>Your details</h2><form method="post" action="/_hosted/portal/${sessionId}/customer">${inputs}<button type="submit">Save details</button></form></section>`;
}

function portalPage(state: StripeState, session: Stripe.BillingPortal.Session, notice?: string, error?: string): Response {
  const config = state.portalConfigurations.get(session.configuration as string);
  const customer = state.customers.get(session.customer);
  if (!config || !customer) return page('Billing', html`<p class="error" role="alert">This portal session is no longer valid.</p>`, 404);
  const defaultMethod = customer.invoice_settings.default_payment_method;
  const card = typeof defaultMethod === 'string' ? state.paymentMethods.get(defaultMethod)?.card : undefined;
  const subscriptions = state.subscriptions.newestFirst().filter((s) => s.customer === customer.id && s.status !== 'canceled');
  const body = html`<p>Signed in as <strong>${customer.email ?? customer.id}</strong></p>
${notice ? html`<p class="notice" role="status">${notice}</p>` : html``}${errorLine(error)}
${subscriptions.length > 0 ? subscriptions.map((s) => subscriptionSection(state, session.id, config, s)) : [html`<section><p>No active subscription.</p></section>`]}
<section><h2>Payment method</h2><p class="card">${card ? `${card.brand} ending in ${card.last4}, expires ${card.exp_month}/${card.exp_year}` : 'No payment method on file.'}</p>
${config.features.payment_method_update.enabled
    ? html`<form method="post" action="/_hosted/portal/${session.id}/payment-method">${cardFields()}<button type="submit">Save new card</button></form>`
    : html``}</section>
${detailsSection(session.id, config, customer)}
${config.features.invoice_history.enabled ? invoicesSection(state, customer.id) : html``}
${session.return_url ? html`<p><a href="${session.return_url}">Return to the site</a></p>` : html``}`;
  return page('Billing', body, error ? 400 : 200);
}

async function formText(c: Context): Promise<(name: string) => string> {
  const form = await c.req.parseBody();
  return (name) => (typeof form[name] === 'string' ? (form[name] as string) : '');
}

interface HostedPortalOptions {
  /** Resolves once the webhooks already emitted are delivered (the emulator's delivery idle). */
  settle?: () => Promise<void>;
  /** Longest wait for settle before the page is shown anyway; default 3 s. */
  settleMs?: number;
}

/**
 * Waits (bounded) for the webhooks an action caused to be delivered, so the page the customer
 * returns to shows what the app did with them (after "Save new card" the provisioner retries the
 * open invoice: status and invoice are current, not a reload behind). Real Stripe renders its
 * page at once and the app's reaction arrives a moment later; the wait only spares the sandbox
 * user that reload, it changes no Stripe state.
 */
async function settled(options: HostedPortalOptions): Promise<void> {
  if (!options.settle) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([options.settle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, options.settleMs ?? 3000)))]);
  clearTimeout(timer);
}

function mountPortalActions(app: Hono, state: StripeState, options: HostedPortalOptions): void {
  const act = (path: string, run: (session: Stripe.BillingPortal.Session, config: Stripe.BillingPortal.Configuration, field: (name: string) => string, subscription: string) => void, notice: string) =>
    app.post(path, async (c) => {
      const session = state.portalSessions.get(c.req.param('session') ?? '');
      const config = session && state.portalConfigurations.get(session.configuration as string);
      if (!session || !config) return page('Billing', html`<p class="error" role="alert">No such portal session.</p>`, 404);
      try {
        run(session, config, await formText(c), c.req.param('subscription') ?? '');
      } catch (error) {
        if (error instanceof PortalActionError) return portalPage(state, session, undefined, error.message);
        throw error;
      }
      await settled(options);
      return redirect(`/_hosted/portal/${session.id}?done=${notice}`);
    });
  act('/_hosted/portal/:session/customer', (s, config, field) => updateCustomerDetails(state, config, s.customer, { email: field('email'), name: field('name'), phone: field('phone') }), 'details');
  act('/_hosted/portal/:session/payment-method', (s, config, field) => replaceCard(state, config, s.customer, { number: field('cardnumber'), expiry: field('exp'), cvc: field('cvc') }), 'card');
  act('/_hosted/portal/:session/subscriptions/:subscription/price', (s, config, field, sub) => switchPlan(state, config, s.customer, sub, field('price')), 'plan');
  act('/_hosted/portal/:session/subscriptions/:subscription/cancel', (s, config, _field, sub) => cancelSubscription(state, config, s.customer, sub), 'cancel');
}

function mountLoginPage(app: Hono, state: StripeState): void {
  const codes = new Map<string, string>();
  const loginPage = (step: SafeHtml, error?: string) =>
    page('Sign in to manage your billing', html`${errorLine(error)}${step}`, error ? 400 : 200);
  const emailStep = () => html`<form method="post"><label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" required><button type="submit">Continue</button></form>`;
  app.get('/_hosted/portal-login/:config', (c) => {
    const config = state.portalConfigurations.get(c.req.param('config'));
    if (!config?.login_page.enabled || !config.active) return page('Billing', html`<p class="error" role="alert">This link is not active.</p>`, 404);
    return loginPage(emailStep());
  });
  app.post('/_hosted/portal-login/:config', async (c) => {
    const config = state.portalConfigurations.get(c.req.param('config'));
    if (!config?.login_page.enabled || !config.active) return page('Billing', html`<p class="error" role="alert">This link is not active.</p>`, 404);
    const field = await formText(c);
    const email = field('email').trim();
    // Exact email match, like customers.list({email}); the newest customer with it signs in.
    const customer = state.customers.newestFirst().find((candidate) => candidate.email === email);
    const key = `${config.id}\u0000${email}`;
    const code = field('code').trim();
    if (code) {
      if (!customer || codes.get(key) !== code) return loginPage(emailStep(), 'That code is not valid. Ask for a new one.');
      codes.delete(key);
      const origin = new URL(c.req.url).origin;
      return redirect(openPortalSession(state, customer.id, config.id, origin).url);
    }
    if (!customer) return loginPage(html`<p>If an account exists for ${email}, a code was sent.</p>${emailStep()}`);
    const fresh = String(randomInt(0, 1_000_000)).padStart(6, '0');
    codes.set(key, fresh);
    return loginPage(
      html`<p>Stripe would email a one-time code to ${email}. <strong>Emulator: the code is shown here instead of being emailed.</strong></p>
<p>Your code: <strong class="login-code">${fresh}</strong></p>
<form method="post"><input type="hidden" name="email" value="${email}"><label for="code">Code</label><input id="code" name="code" inputmode="numeric" required><button type="submit">Sign in</button></form>`,
    );
  });
}

export function mountHostedPortal(app: Hono, state: StripeState, options: HostedPortalOptions = {}): void {
  app.get('/_hosted/portal/:session', (c) => {
    const session = state.portalSessions.get(c.req.param('session'));
    if (!session) return page('Billing', html`<p class="error" role="alert">No such portal session.</p>`, 404);
    return portalPage(state, session, NOTICES[c.req.query('done') ?? '']);
  });
  mountPortalActions(app, state, options);
  mountLoginPage(app, state);
}
