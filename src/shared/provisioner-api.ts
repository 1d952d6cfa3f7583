/**
 * Wire types of the provisioner's public HTTP API, shared by the server, the browser bundle,
 * the CLIs and the tests. Changing one is a breaking change for installed portals.
 */

/** POST /provision request body. Only the email: the provisioner reads everything else from Kong. */
export interface ProvisionRequest {
  email: string;
}

/** POST /provision 200 answer. Repeating the call answers the same ids. */
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
  default: boolean;
}

/** GET /plans answer. */
export interface PlansResponse {
  plans: PublicPlan[];
}

/** Every error answer: a stable code and a message a person can act on. No stack traces. */
export interface ErrorResponse {
  error: { code: string; message: string };
}

/**
 * POST /billing/status answer (and the billing part of a proven signup answer): what the portal
 * page shows about the developer's billing. No Stripe ids.
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
}
