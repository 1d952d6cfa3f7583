/**
 * The exactly-once audit the reliability suite and the benchmarks share: for each developer,
 * count the Stripe customers and live subscriptions the Stripe emulator holds for them and check
 * the Moesif emulator's user (user_id = email, company_id = the subscription id) and company.
 * Read from the emulators' own state, so the audit itself makes no API call and moves no counter.
 */
import type { RunningMoesifEmulator } from '../sandbox/moesif/moesif-emulator.ts';
import type { RunningStripeEmulator } from '../sandbox/stripe/stripe-emulator.ts';

interface DeveloperAudit {
  email: string;
  customers: number;
  subscriptions: number;
  subscriptionId: string | undefined;
  /** Moesif holds user_id = email with company_id = the (single) subscription id. */
  moesifUserLinked: boolean;
  moesifCompany: boolean;
  /** Exactly one customer, one subscription, the Moesif user linked and the company present. */
  whole: boolean;
}

interface BillingAudit {
  developers: DeveloperAudit[];
  /** Developers with more than one customer or subscription. */
  duplicated: string[];
  /** Developers with no customer or no subscription. */
  missing: string[];
  /** Stripe whole but the Moesif user or company missing or not linked. */
  moesifMissing: string[];
  whole: number;
}

interface CustomerView {
  id: string;
  email: string | null;
}
interface SubscriptionView {
  id: string;
  customer: string;
  status: string;
}

const DEAD = new Set(['canceled', 'incomplete_expired']);

export function auditBilling(stripe: Pick<RunningStripeEmulator, 'snapshot'>, moesif: Pick<RunningMoesifEmulator, 'store'> | undefined, emails: readonly string[]): BillingAudit {
  const snapshot = stripe.snapshot();
  const customersByEmail = new Map<string, CustomerView[]>();
  for (const customer of snapshot.customers as CustomerView[]) {
    const key = (customer.email ?? '').toLowerCase();
    customersByEmail.set(key, [...(customersByEmail.get(key) ?? []), customer]);
  }
  const subscriptionsByCustomer = new Map<string, SubscriptionView[]>();
  for (const subscription of snapshot.subscriptions as SubscriptionView[]) {
    if (DEAD.has(subscription.status)) continue;
    subscriptionsByCustomer.set(subscription.customer, [...(subscriptionsByCustomer.get(subscription.customer) ?? []), subscription]);
  }

  const developers = emails.map((email): DeveloperAudit => {
    const customers = customersByEmail.get(email.toLowerCase()) ?? [];
    const subscriptions = customers.flatMap((customer) => subscriptionsByCustomer.get(customer.id) ?? []);
    const subscriptionId = subscriptions.length === 1 ? subscriptions[0]?.id : undefined;
    const user = moesif?.store.users.get(email) as { company_id?: string } | undefined;
    const moesifUserLinked = subscriptionId !== undefined && user?.company_id === subscriptionId;
    const moesifCompany = subscriptionId !== undefined && moesif?.store.companies.has(subscriptionId) === true;
    return {
      email,
      customers: customers.length,
      subscriptions: subscriptions.length,
      subscriptionId,
      moesifUserLinked,
      moesifCompany,
      whole: customers.length === 1 && subscriptions.length === 1 && (moesif === undefined || (moesifUserLinked && moesifCompany)),
    };
  });
  const stripeWhole = (d: DeveloperAudit) => d.customers === 1 && d.subscriptions === 1;
  return {
    developers,
    duplicated: developers.filter((d) => d.customers > 1 || d.subscriptions > 1).map((d) => d.email),
    missing: developers.filter((d) => d.customers === 0 || d.subscriptions === 0).map((d) => d.email),
    moesifMissing: moesif ? developers.filter((d) => stripeWhole(d) && !(d.moesifUserLinked && d.moesifCompany)).map((d) => d.email) : [],
    whole: developers.filter((d) => d.whole).length,
  };
}
