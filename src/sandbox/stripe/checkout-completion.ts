/**
 * What happens when a person submits a card on the hosted Checkout page, in Stripe's order.
 * Setup mode: setup_intent.created, payment_method.attached, setup_intent.succeeded,
 * checkout.session.completed. Like real Stripe, setup mode does NOT make the card the customer's
 * invoice_settings.default_payment_method: the integrator reads session.setup_intent ->
 * payment_method on checkout.session.completed and sets it ("Update payment details" guide).
 * Subscription mode: the customer (created from the typed email when the session has none), the
 * card attached, the subscription created with it as its default_payment_method.
 */
import type Stripe from 'stripe';
import { currentSession } from './checkout-sessions.ts';
import { customerEndpoints } from './customers.ts';
import type { Endpoint } from './endpoint.ts';
import type { FormObject } from './form-encoding.ts';
import { attachCardByNumber } from './payment-methods.ts';
import { createSetupIntent, failSetupIntent, succeedSetupIntent } from './setup-intents.ts';
import { StripeApiError } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';
import { subscriptionEndpoints } from './subscriptions.ts';
import { TEST_CARD_NUMBERS } from './test-cards.ts';

/** What the person typed. */
interface CardForm {
  number: string;
  /** "MM / YY" or "MM/YYYY". */
  expiry: string;
  cvc: string;
  /** Subscription mode without a customer: the email to create one with. */
  email?: string | undefined;
  /** The 3-D Secure test challenge's answer, for cards that need it ('complete' or 'fail'). */
  authentication?: string | undefined;
}

/** `challenge`: the card needs 3-D Secure; the page shows the test challenge and posts the form again with its answer. */
type CheckoutOutcome = { ok: true; session: Stripe.Checkout.Session; redirect: string | null } | { ok: false; message: string; challenge?: true };

export const AUTHENTICATION_FAILED = 'We are unable to authenticate your payment method. Please choose a different payment method and try again.';

/** A card that needs 3-D Secure is saved or charged only once the customer completes the challenge (on-session). */
export function authenticationProblem(form: CardForm): CheckoutOutcome | undefined {
  if (TEST_CARD_NUMBERS[form.number.replace(/[\s-]/g, '')]?.outcome !== 'requires_authentication') return undefined;
  if (form.authentication === undefined || form.authentication === '') return { ok: false, message: 'Your bank asks you to authenticate this card.', challenge: true };
  return form.authentication === 'complete' ? undefined : { ok: false, message: AUTHENTICATION_FAILED };
}

export function parseExpiry(text: string): { month: number; year: number } | undefined {
  const match = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(text);
  if (!match) return undefined;
  const month = Number(match[1]);
  const year = Number(match[2]) < 100 ? 2000 + Number(match[2]) : Number(match[2]);
  return { month, year };
}

/** The Luhn check digit holds (every real card number, and Stripe's test numbers). */
function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * Every bad field of a typed card, in the order of the form, in Stripe's card-element wording
 * (the page names them all at once, as Stripe's form marks each field). `now`: epoch seconds of
 * the account clock, for an expiry in the past.
 */
function cardFormProblems(form: Pick<CardForm, 'number' | 'expiry' | 'cvc'>, now?: number): string[] {
  const problems: string[] = [];
  const number = form.number.replace(/[\s-]/g, '');
  if (!/^\d{13,19}$/.test(number)) problems.push('Your card number is incomplete.');
  else if (!luhnValid(number)) problems.push('Your card number is invalid.');
  const expiry = parseExpiry(form.expiry);
  const today = now === undefined ? undefined : new Date(now * 1000);
  if (!expiry) problems.push("Your card's expiration date is incomplete.");
  else if (expiry.month < 1 || expiry.month > 12) problems.push("Your card's expiration month is invalid.");
  else if (today && (expiry.year < today.getUTCFullYear() || (expiry.year === today.getUTCFullYear() && expiry.month < today.getUTCMonth() + 1)))
    problems.push("Your card's expiration date is in the past.");
  if (!/^\d{3,4}$/.test(form.cvc.trim())) problems.push("Your card's security code is incomplete.");
  return problems;
}

/** The form's problems as one message; undefined when the card can be tried. */
export function cardFormProblem(form: Pick<CardForm, 'number' | 'expiry' | 'cvc'>, now?: number): string | undefined {
  const problems = cardFormProblems(form, now);
  return problems.length > 0 ? problems.join(' ') : undefined;
}

/** Runs an emulated endpoint's handler from inside the emulator (same validation, same events). */
export function callEndpoint(endpoints: Endpoint[], method: Endpoint['method'], route: string, state: StripeState, params: FormObject, path: Record<string, string> = {}): object {
  const endpoint = endpoints.find((e) => e.method === method && e.route === route);
  if (!endpoint) throw new Error(`no emulated endpoint ${method} ${route}`);
  return endpoint.handle({ state, params, path }).body;
}

function successRedirect(session: Stripe.Checkout.Session): string | null {
  return session.success_url ? session.success_url.replaceAll('{CHECKOUT_SESSION_ID}', session.id) : null;
}

function completeSetup(state: StripeState, session: Stripe.Checkout.Session, form: CardForm): CheckoutOutcome {
  const customerId = session.customer as string;
  const existing = typeof session.setup_intent === 'string' ? state.setupIntents.get(session.setup_intent) : undefined;
  let intent = existing ?? createSetupIntent(state, customerId, {}, null);
  if (!existing) state.checkoutSessions.set({ ...session, setup_intent: intent.id });
  let method: Stripe.PaymentMethod;
  try {
    method = attachCardByNumber(state, customerId, form.number, parseExpiry(form.expiry));
  } catch (error) {
    if (!(error instanceof StripeApiError)) throw error;
    failSetupIntent(state, intent, error as StripeApiError & { declineCode?: string });
    return { ok: false, message: error.message };
  }
  intent = succeedSetupIntent(state, intent, method.id);
  const customer = state.customers.get(customerId);
  const completed: Stripe.Checkout.Session = {
    ...session,
    setup_intent: intent.id,
    status: 'complete',
    url: null,
    customer_details: { address: null, business_name: null, email: customer?.email ?? null, individual_name: null, name: customer?.name ?? null, phone: null, tax_exempt: 'none', tax_ids: [] },
  };
  state.checkoutSessions.set(completed);
  state.events.emit('checkout.session.completed', structuredClone(completed));
  return { ok: true, session: completed, redirect: successRedirect(completed) };
}

function completeSubscription(state: StripeState, session: Stripe.Checkout.Session, form: CardForm): CheckoutOutcome {
  let customerId = typeof session.customer === 'string' ? session.customer : undefined;
  const email = session.customer_email ?? form.email?.trim();
  if (!customerId && !email) return { ok: false, message: 'Enter your email address.' };
  // Checkout charges the first invoice while the person waits: a card whose charges fail is declined
  // here (with nothing created). With nothing due now (metered prices) it is saved and fails later.
  if ((session.amount_total ?? 0) > 0 && TEST_CARD_NUMBERS[form.number.replace(/[\s-]/g, '')]?.outcome === 'charge_fails')
    return { ok: false, message: 'Your card was declined.' };
  // The customer is created before the card is tried and kept on the session for the next attempt.
  if (!customerId) {
    const created = callEndpoint(customerEndpoints, 'POST', '/v1/customers', state, { email: email as string }) as Stripe.Customer;
    customerId = created.id;
  }
  let method: Stripe.PaymentMethod;
  try {
    method = attachCardByNumber(state, customerId, form.number, parseExpiry(form.expiry));
  } catch (error) {
    if (!(error instanceof StripeApiError)) throw error;
    if (!session.customer) state.checkoutSessions.set({ ...session, customer: customerId });
    return { ok: false, message: error.message };
  }
  const items = state.checkoutLineItems.get(session.id) ?? [];
  const params: FormObject = { customer: customerId, default_payment_method: method.id, items: {} };
  items.forEach((item, index) => {
    (params.items as FormObject)[String(index)] = { price: item.price, ...(item.quantity !== undefined ? { quantity: String(item.quantity) } : {}) };
  });
  const subscription = callEndpoint(subscriptionEndpoints, 'POST', '/v1/subscriptions', state, params) as Stripe.Subscription;
  const customer = state.customers.get(customerId);
  const completed: Stripe.Checkout.Session = {
    ...session,
    customer: customerId,
    subscription: subscription.id,
    status: 'complete',
    url: null,
    payment_status: session.amount_total ? 'paid' : 'no_payment_required',
    customer_details: { address: null, business_name: null, email: customer?.email ?? null, individual_name: null, name: customer?.name ?? null, phone: null, tax_exempt: 'none', tax_ids: [] },
  };
  state.checkoutSessions.set(completed);
  state.events.emit('checkout.session.completed', structuredClone(completed));
  return { ok: true, session: completed, redirect: successRedirect(completed) };
}

/** Completes an open session with a typed card, or says why it could not (the page shows it). */
export function completeCheckout(state: StripeState, sessionId: string, form: CardForm): CheckoutOutcome {
  const session = currentSession(state, sessionId);
  if (!session || session.status !== 'open') return { ok: false, message: 'This Checkout Session is no longer active.' };
  const problem = cardFormProblem(form, state.now());
  if (problem) return { ok: false, message: problem };
  const authentication = authenticationProblem(form);
  if (authentication) return authentication;
  try {
    return session.mode === 'setup' ? completeSetup(state, session, form) : completeSubscription(state, session, form);
  } catch (error) {
    if (error instanceof StripeApiError) return { ok: false, message: error.message };
    throw error;
  }
}
