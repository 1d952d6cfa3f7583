/** The provisioner's public shapes: what it needs, what it answers, what it can do. */
import type Stripe from 'stripe';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import type { KongDeveloper } from '../../kong/kong-types.ts';
import type { PaymentCollection, Plan, PlansFile } from '../../shared/plans.ts';
import type { ProvisionResult } from '../../shared/provisioner-api.ts';
import type { MoesifSync } from '../moesif/moesif-sync.ts';
import type { PriceResolver } from './plan-prices.ts';
import type { ProvisionLogger } from '../../shared/provision-log.ts';
import type { MoesifCompanyIdSource } from '../moesif/moesif-client.ts';
import type { StripeRetryOptions } from '../stripe/stripe-calls.ts';
import type { WriteLimiter } from '../stripe/write-limiter.ts';
import type { StripeSnapshot } from './stripe-snapshot.ts';

export interface ProvisionerDeps {
  stripe: Stripe;
  /** updateDeveloperMeta, when given, remembers the developer's Stripe customer id in their meta (found by it after an email change). */
  kong: Pick<KongAdminClient, 'getDeveloper'> & Partial<Pick<KongAdminClient, 'updateDeveloperMeta'>>;
  moesif: MoesifSync;
  prices: PriceResolver;
  plans: PlansFile;
  workspace: string;
  /** Developer status codes that get provisioned. */
  provisionStatuses: number[];
  companyIdSource: MoesifCompanyIdSource;
  /** How plans that do not say collect payment (PAYMENT_COLLECTION); default 'checkout'. */
  paymentCollection?: PaymentCollection;
  writeLimiter?: WriteLimiter;
  logger?: ProvisionLogger;
  stripeRetry?: StripeRetryOptions;
  /** Clock in ms (stable-key window, memory of whole developers); default Date.now. */
  now?: () => number;
  /**
   * Interactive calls skip the Stripe lookups only for developers Kong created at or after this
   * time (ms). Default: when this provisioner was created, so developers that an earlier version
   * (other keys) may have provisioned are still looked up after an upgrade.
   */
  skipLookupsForDevelopersSince?: number;
  /** How long a developer made whole is answered from memory; default 10 minutes. */
  rememberWholeMs?: number;
  /** Most developers remembered as whole; default 10,000. */
  rememberWholeMax?: number;
  /** Longest wait for Moesif on a call that looked Stripe up; default 2 s. */
  moesifWaitAfterLookupMs?: number;
}

/** ProvisionResult plus what this call wrote to Stripe. */
export interface ProvisionOutcome extends ProvisionResult {
  created: { customer: boolean; subscription: boolean };
  /** Set when every subscription of the developer ended: nothing was created, access stays refused. */
  ended?: { status: Stripe.Subscription.Status };
  /** The customer still had an earlier email and now has Kong's. */
  emailUpdated?: boolean;
  /**
   * Both objects when this call created them (fresh, so the access decision needs no re-read).
   * Never a replayed or looked-up object: those may be stale (a card added since).
   */
  createdObjects?: { customer: Stripe.Customer; subscription: Stripe.Subscription };
}

type MissingPart = 'customer' | 'subscription';

/** Read-only view of one developer's state in Stripe (reconcile counts "already whole" with it). */
export interface DeveloperInspection {
  developerId: string;
  status: string;
  provisionable: boolean;
  /** Plan the developer is on (Stripe's), or would get (meta.plan or the default); undefined with planError set when none. */
  plan: string | undefined;
  planError: string | undefined;
  priceId: string | undefined;
  customerId: string | undefined;
  subscriptionId: string | undefined;
  /** Status of the subscription when it ended or is unpaid (then nothing is missing: it is not re-created). */
  endedStatus: Stripe.Subscription.Status | undefined;
  /** Other customers carrying this developer id (should be none). */
  duplicateCustomerIds: string[];
  missing: MissingPart[];
  /** Customer and subscription exist. Moesif cannot be read back through the Collector API. */
  whole: boolean;
  /** This process still has a Moesif record queued for retry. */
  moesifPending: boolean;
}

/**
 * - 'interactive' (POST /provision, the event hook): a developer made whole here recently is
 *   answered from memory; a young developer's objects are created without a lookup first;
 * - 'reconcile': always read Stripe before writing, so a whole developer costs reads only.
 */
export type ProvisionMode = 'interactive' | 'reconcile';

export interface ProvisionOptions {
  /** Default: 'interactive' for an email or id, 'reconcile' for a developer object. */
  mode?: ProvisionMode;
  /** Earlier emails of the developer (the event hook's old_entity), to find the customer after a change. */
  previousEmails?: readonly string[];
  /** Give a developer whose subscriptions all ended a new one (reconcile --resubscribe only). */
  resubscribe?: boolean;
  /**
   * Reconcile's bulk read of Stripe (core/stripe-snapshot.ts), used instead of listing what it
   * holds; anything it lacks is still looked up live before a create. Moesif is not waited for
   * (reconcile flushes it once at the end).
   */
  snapshot?: StripeSnapshot;
}

export interface Provisioner {
  /** Email or Kong developer id (looked up in Kong), or a developer object already read from Kong. */
  provisionDeveloper(emailOrDeveloper: string | KongDeveloper, options?: ProvisionOptions): Promise<ProvisionOutcome>;
  inspectDeveloper(emailOrDeveloper: string | KongDeveloper, options?: { snapshot?: StripeSnapshot }): Promise<DeveloperInspection>;
  /** Whether a developer's status is in PROVISION_STATUSES. */
  isProvisionable(developer: Pick<KongDeveloper, 'status'>): boolean;
  /** The plan of the plans file whose price is this price id, if any (throws when Stripe cannot be read). */
  planForPrice(priceId: string): Promise<Plan | undefined>;
  /** A subscription's plan: its price, else its metadata (core/plan-choice.ts planOfSubscription). */
  planOfSubscription(subscription: Stripe.Subscription): Promise<Plan | undefined>;
}

