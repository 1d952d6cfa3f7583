/**
 * The emulator's in-memory Stripe account: one collection per resource, in creation order.
 * Stored records are what the API returns, except that prices keep their tiers aside (Stripe
 * only returns them when expanded) and subscription items are re-rendered with the current price.
 */
import type Stripe from 'stripe';
import { EventLog } from './events.ts';
import type { WireInvoice, WirePrice, WireSubscription, WireSubscriptionItem, WireTier } from './wire-types.ts';

class Collection<T extends { id: string }> {
  readonly #items = new Map<string, T>();
  #sequence = 0;
  readonly #order = new Map<string, number>();

  get(id: string): T | undefined {
    return this.#items.get(id);
  }

  has(id: string): boolean {
    return this.#items.has(id);
  }

  /** Inserts a new record or replaces an existing one (keeping its position). */
  set(record: T): T {
    if (!this.#order.has(record.id)) this.#order.set(record.id, this.#sequence++);
    this.#items.set(record.id, record);
    return record;
  }

  delete(id: string): boolean {
    this.#order.delete(id);
    return this.#items.delete(id);
  }

  /** Newest first, the order Stripe lists in. */
  newestFirst(): T[] {
    return [...this.#items.values()].reverse();
  }

  get size(): number {
    return this.#items.size;
  }

  clear(): void {
    this.#items.clear();
    this.#order.clear();
  }
}

export interface StoredSubscriptionItem extends Omit<WireSubscriptionItem, 'price' | 'plan'> {
  /** Price id; the price object is rendered from the current price at read time. */
  price: string;
}

export interface StoredSubscription extends Omit<WireSubscription, 'items'> {
  items: StoredSubscriptionItem[];
}

/**
 * The account's dunning settings (Stripe Dashboard > Billing > Revenue recovery), set by the
 * emulator knobs `dunningRetryDays` and `dunningFinalStatus`.
 */
interface DunningSettings {
  /** Days after the previous attempt for each retry; the last one ends dunning. */
  retryDays: number[];
  /** What the subscription becomes when dunning ends unpaid. */
  finalStatus: 'unpaid' | 'canceled';
  /** Days before a renewal that invoice.upcoming is sent. */
  upcomingRenewalDays: number;
}

/** Billing bookkeeping Stripe keeps out of the API objects. */
interface InvoiceBilling {
  /** When dunning gives up on this invoice (subscription becomes unpaid or canceled). */
  dunningEndsAt: number | null;
  /** A send_invoice invoice whose due date has passed has made its subscription past_due. */
  overdueHandled: boolean;
}

/** One asynchronous meter event validation failure (Stripe's meter error report: code and the event). */
export interface MeterEventError {
  code: 'no_meter' | 'archived_meter' | 'meter_event_customer_not_found' | 'meter_event_no_customer_defined' | 'meter_event_invalid_value';
  message: string;
  identifier: string;
  event_name: string;
  /** Account time the error was found. */
  created: number;
}

export class StripeState {
  readonly customers = new Collection<Stripe.Customer>();
  readonly products = new Collection<Stripe.Product>();
  readonly prices = new Collection<WirePrice>();
  /** Price id -> tiers (returned only with expand[]=tiers / data.tiers). */
  readonly priceTiers = new Map<string, WireTier[]>();
  readonly meters = new Collection<Stripe.Billing.Meter>();
  readonly meterEvents: Stripe.Billing.MeterEvent[] = [];
  /** Wall milliseconds each accepted meter event arrived at: it aggregates `meterAggregationLagMs` later. */
  readonly meterEventReceivedMs = new WeakMap<Stripe.Billing.MeterEvent, number>();
  /** Stripe aggregates meter events asynchronously: summaries and previews see an event this long after it arrived. */
  meterAggregationLagMs = 0;
  /** Meter events accepted and then refused by Stripe's asynchronous validation (its error reports). */
  readonly meterEventErrors: MeterEventError[] = [];
  readonly subscriptions = new Collection<StoredSubscription>();
  readonly paymentMethods = new Collection<Stripe.PaymentMethod>();
  /**
   * Payment methods whose every charge is declined (pm_card_chargeCustomerFail, card
   * 4000000000000341: `generic_decline`), with the decline code. Tests may set a hard decline code
   * (a card reported lost after it was saved), which no Stripe test card produces on its own.
   */
  readonly failingPaymentMethods = new Map<string, string>();
  /** Payment methods whose every payment needs 3-D Secure (4000 0027 6000 3184): off-session charges require action. */
  readonly authenticationPaymentMethods = new Set<string>();
  readonly paymentIntents = new Collection<Stripe.PaymentIntent>();
  /** Invoice id -> the PaymentIntent of its charges. */
  readonly invoiceIntents = new Map<string, string>();
  /** Payment methods once detached (or never attached): Stripe refuses to attach them again. */
  readonly spentPaymentMethods = new Set<string>();
  readonly invoices = new Collection<WireInvoice>();
  readonly testClocks = new Collection<Stripe.TestHelpers.TestClock>();
  /**
   * Seconds the emulator-only account clock has been moved ahead of wall time (POST
   * /_emulator/time/advance): stands for real time passing for customers without a test clock.
   */
  skippedSeconds = 0;
  /**
   * The emulator's origin as API callers reach it (updated on each API call): hosted pages
   * (invoices' hosted_invoice_url) live there, like Checkout's and the portal's.
   */
  hostedOrigin = 'http://127.0.0.1';
  dunning: DunningSettings = { retryDays: [1, 1, 2, 2, 2, 3, 3], finalStatus: 'canceled', upcomingRenewalDays: 7 };
  readonly invoiceBilling = new Map<string, InvoiceBilling>();
  /** Subscriptions that got customer.subscription.trial_will_end for their current trial. */
  readonly trialWillEndSent = new Set<string>();
  /** `${subscription}:${period end}` of the renewals that got invoice.upcoming. */
  readonly upcomingSent = new Set<string>();
  /** Deleted customers answer retrieve with {id, object, deleted: true}, like Stripe. */
  readonly deletedCustomers = new Set<string>();
  readonly checkoutSessions = new Collection<Stripe.Checkout.Session>();
  /** Checkout session id -> the line items it was created with (subscription mode). */
  readonly checkoutLineItems = new Map<string, { price: string; quantity: number | undefined }[]>();
  readonly setupIntents = new Collection<Stripe.SetupIntent>();
  readonly portalConfigurations = new Collection<Stripe.BillingPortal.Configuration>();
  readonly portalSessions = new Collection<Stripe.BillingPortal.Session>();
  readonly webhookEndpoints = new Collection<Stripe.WebhookEndpoint>();
  /** Endpoint id -> signing secret (`whsec_…`); Stripe shows it only in the create answer. */
  readonly webhookSecrets = new Map<string, string>();
  /** Every state change as a Stripe Event (GET /v1/events, webhook delivery). */
  readonly events: EventLog;

  constructor(
    readonly wallNow: () => number = () => Math.floor(Date.now() / 1000),
    readonly wallMs: () => number = () => Date.now(),
  ) {
    this.events = new EventLog(() => this.now());
  }

  /** Account time: wall time plus the seconds skipped with the emulator's account clock. */
  now(): number {
    return this.wallNow() + this.skippedSeconds;
  }

  /** The time a customer's objects live in: its test clock's frozen time, else account time. */
  nowFor(customerId: string): number {
    const clockId = this.customers.get(customerId)?.test_clock;
    const clock = typeof clockId === 'string' ? this.testClocks.get(clockId) : undefined;
    return clock ? clock.frozen_time : this.now();
  }

  clear(): void {
    this.customers.clear();
    this.products.clear();
    this.prices.clear();
    this.priceTiers.clear();
    this.meters.clear();
    this.meterEvents.length = 0;
    this.meterEventErrors.length = 0;
    this.subscriptions.clear();
    this.paymentMethods.clear();
    this.failingPaymentMethods.clear();
    this.authenticationPaymentMethods.clear();
    this.paymentIntents.clear();
    this.invoiceIntents.clear();
    this.spentPaymentMethods.clear();
    this.invoices.clear();
    this.testClocks.clear();
    this.skippedSeconds = 0;
    this.invoiceBilling.clear();
    this.trialWillEndSent.clear();
    this.upcomingSent.clear();
    this.deletedCustomers.clear();
    this.checkoutSessions.clear();
    this.checkoutLineItems.clear();
    this.setupIntents.clear();
    this.portalConfigurations.clear();
    this.portalSessions.clear();
    this.webhookEndpoints.clear();
    this.webhookSecrets.clear();
    this.events.clear();
  }

  /** The price currently holding a lookup key, if any. */
  priceByLookupKey(lookupKey: string): WirePrice | undefined {
    return this.prices.newestFirst().find((price) => price.lookup_key === lookupKey);
  }

  meterByEventName(eventName: string): Stripe.Billing.Meter | undefined {
    return this.meters.newestFirst().find((meter) => meter.event_name === eventName && meter.status === 'active');
  }
}
