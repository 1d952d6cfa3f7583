/**
 * Wire types of the provisioner's public HTTP API, shared by the server, the browser bundle,
 * the CLIs and the tests. Changing one is a breaking change for installed portals. Public answers
 * use snake_case field names.
 */

/**
 * POST /provision request body. `developer_id` is the proof that the caller made this signup: the
 * `developer.id` (a UUID) that Kong's own register answer just gave the page. Without a proof that
 * matches Kong, the answer is always ProvisionAccepted, whether the email exists or not.
 */
export interface ProvisionRequest {
  email: string;
  developer_id?: string;
}

/** POST /provision 202: no proof, or one that does not match Kong. Says nothing about the email. */
export interface ProvisionAccepted {
  status: 'accepted';
}

/**
 * POST /provision 200 to a proven request. Never carries a Stripe id. `status` is `active` once
 * billing is set up, `awaiting_approval` when the developer's Kong status is not provisioned yet
 * (the Kong event hook provisions on approval).
 */
export interface ProvisionProvenAnswer {
  status: 'active' | 'awaiting_approval';
  /** Kong's status name for this developer: approved, pending, unverified, ... */
  developer_status: string;
  /** Plan id from the plans file (present when active). */
  plan?: string;
  /** "pending" when Moesif could not be reached yet; it is retried in the background. */
  moesif?: 'synced' | 'pending';
  /** Where the developer adds a way to pay (Stripe Checkout), when a card is what is missing. */
  checkout_url?: string;
  /** Plan, access and links for the page's billing panel (when billing is set up). */
  billing?: BillingStatusResponse;
}

export type ProvisionAnswer = ProvisionAccepted | ProvisionProvenAnswer;

/**
 * What the provisioning core returns (server side only: reconcile, logs, tests). It holds Stripe
 * ids and is never sent to a browser.
 */
export interface ProvisionResult {
  developerId: string;
  customerId: string;
  subscriptionId: string;
  /** Plan id from the plans file. */
  plan: string;
  /** "pending" when Moesif could not be reached yet; it is retried in the background. */
  moesif: 'synced' | 'pending';
}

/** One entry of GET /plans. */
export interface PublicPlan {
  id: string;
  name: string;
  description: string;
  /** Human summary derived from the Stripe price, e.g. "$10.00 per 1,000 calls". */
  priceSummary: string;
  /** The plan's limits in words, e.g. "10 calls/second · 1,000 calls per billing period (...)"; absent or empty: none. */
  limitsSummary?: string;
  default: boolean;
}

/** GET /plans answer. */
export interface PlansResponse {
  plans: PublicPlan[];
}

/** GET /readyz without the READYZ_TOKEN bearer: the status only. */
export interface ReadyzPublicAnswer {
  status: 'ready' | 'not_ready';
}

/** Every error answer: a stable code and a message a person can act on. No stack traces. */
export interface ErrorResponse {
  error: { code: string; message: string };
}

/**
 * The billing part of a proven POST /provision answer (the dashboard's billing panel sends the
 * same proven call): what the portal page shows about the developer's billing. No Stripe ids.
 */
export interface BillingStatusResponse {
  plan: string | null;
  /** The plan's display name from the plans file. */
  plan_name: string | null;
  access: 'allowed' | 'grace' | 'refused';
  /** Stable code, e.g. payment_method_required, past_due_grace, subscription_ended. */
  reason: string;
  /** One sentence for the developer: why, and where to fix it. */
  message: string;
  /** ISO date when a grace ends (access "grace"). */
  grace_ends_at?: string;
  /** Stripe Checkout (setup mode) to add a card, when a card is what is missing. */
  checkout_url?: string;
  /** Stripe's customer portal login page ("Manage billing"). */
  manage_url?: string;
  /** Stripe's hosted invoice page where a payment the bank held for authentication (3-D Secure) is confirmed. */
  confirm_url?: string;
  /** The developer's monthly spend cap in cents of the subscription's currency; null: none set. */
  spend_cap?: number | null;
  /** An 80 % / 100 % quota or spend-cap alert was sent this period: the line the page shows, e.g. "80 % of your monthly spend cap used". */
  usage_alert?: string;
  /** The current period so far, from Stripe's upcoming-invoice preview (cached about a minute). */
  usage?: BillingUsage;
}

export interface BillingUsage {
  /** Billable calls reported to Stripe so far this period. */
  calls: number;
  /** Amount so far, in the currency's minor unit (cents). */
  amount_due: number;
  currency: string;
  /** When the next invoice is made (ISO). */
  next_invoice_at: string;
  /** The same in one sentence, for the page. */
  summary: string;
}
