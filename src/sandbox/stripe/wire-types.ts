/**
 * Stripe objects as they travel on the wire. stripe-node 23 turns decimal strings
 * (unit_amount_decimal...) into Decimal objects on the client; the API itself sends strings.
 */
import type Stripe from 'stripe';

type Wire<T> = T extends string | number | boolean | null | undefined
  ? T
  : T extends Stripe.Decimal
    ? string
    : T extends readonly (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type WirePrice = Wire<Stripe.Price>;
export type WireTier = Wire<Stripe.Price.Tier>;
export type WirePlan = Wire<Stripe.Plan>;
export type WireSubscriptionItem = Wire<Stripe.SubscriptionItem>;
export type WireSubscription = Wire<Stripe.Subscription>;
export type WireInvoice = Wire<Stripe.Invoice>;
export type WireInvoiceLineItem = Wire<Stripe.InvoiceLineItem>;
