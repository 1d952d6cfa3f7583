/**
 * EMULATION OF MOESIF'S BILLING METER, opt-in (off by default; the sandbox turns it on only with
 * `moesifBillingMeter`, together with USAGE_REPORTING=moesif). Real Moesif is documented to report
 * through Stripe usage records, which meter-based prices do not take: the product's own usage
 * reporter (src/provisioner/usage) is what bills by default.
 *
 * A billing meter that counts a company's billable API calls and reports them to Stripe as meter
 * events. Each
 * flush sends at most one meter event per company, covering the calls not yet reported, with an
 * `identifier` derived from the company and the calls it covers; a batch is fixed once formed and
 * re-sent with the same identifier until Stripe confirms it, so a repeated flush or a retry after a
 * lost answer never bills twice. A call's company is the event's company_id, else the company_id
 * its user was given through the Collector API (what the provisioner writes).
 */
import { createHash } from 'node:crypto';
import Stripe from 'stripe';
import type { MoesifEvent, MoesifStore } from './moesif-store.ts';

export interface UsageBillingSettings {
  /** Stripe API base, e.g. the sandbox's Stripe emulator http://127.0.0.1:12111. */
  stripeApiBase: string;
  stripeSecretKey: string;
  /** The Stripe meter's event_name this Moesif billing meter reports to. */
  eventName: string;
  /** What a Moesif company id is (the provisioner's MOESIF_COMPANY_ID_SOURCE). */
  companyIdSource: 'subscription' | 'customer';
  /** Calls answered with a status below this are billed (the meter's filter); default 400. */
  billableStatusBelow?: number;
  /** stripe-node's retries per request; default 2. */
  stripeMaxNetworkRetries?: number;
  /**
   * Seconds to add to a call's time when reporting it: the sandbox's Stripe emulator runs an
   * account clock that tests move ahead, and a call made "now" must land in Stripe's now. 0 on
   * a real Stripe (its clock is the wall's).
   */
  stripeTimeShiftSeconds?: () => number;
}

/** One meter event formed for a company; kept until Stripe has it. */
interface UsageBatch {
  companyId: string;
  identifier: string;
  /** Moesif event sequence numbers the batch covers. */
  eventSeqs: number[];
  value: number;
  /** Unix seconds: when the last covered call was received. */
  timestamp: number;
  customerId?: string;
  reportedAt?: number;
  error?: string;
}

export interface FlushResult {
  reported: UsageBatch[];
  failed: UsageBatch[];
  /** Billable calls whose user has no company yet (kept for a later flush). */
  unattributed: number;
}

export class UsageBilling {
  readonly settings: UsageBillingSettings;
  /** Every batch confirmed by Stripe, in order. */
  readonly reported: UsageBatch[] = [];
  private readonly pending = new Map<string, UsageBatch>();
  private readonly reportedSeqs = new Set<number>();
  private readonly customers = new Map<string, string>();
  private readonly stripe: Stripe;
  private running: Promise<FlushResult> | undefined;

  constructor(
    private readonly store: MoesifStore,
    settings: UsageBillingSettings,
  ) {
    this.settings = settings;
    const base = new URL(settings.stripeApiBase);
    this.stripe = new Stripe(settings.stripeSecretKey, {
      host: base.hostname,
      port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
      protocol: base.protocol === 'https:' ? 'https' : 'http',
      maxNetworkRetries: settings.stripeMaxNetworkRetries ?? 2,
    });
  }

  /** One flush at a time: a flush asked for while one runs waits for it and then runs. */
  async flush(): Promise<FlushResult> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.flushOnce();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /** Forgets everything reported (the emulator's reset). */
  clear(): void {
    this.reported.length = 0;
    this.pending.clear();
    this.reportedSeqs.clear();
    this.customers.clear();
  }

  private async flushOnce(): Promise<FlushResult> {
    const unattributed = this.formBatches();
    const reported: UsageBatch[] = [];
    const failed: UsageBatch[] = [];
    for (const batch of this.pending.values()) {
      try {
        await this.send(batch);
        batch.reportedAt = Math.floor(Date.now() / 1000);
        delete batch.error;
        this.pending.delete(batch.companyId);
        for (const seq of batch.eventSeqs) this.reportedSeqs.add(seq);
        this.reported.push(batch);
        reported.push(batch);
      } catch (error) {
        batch.error = error instanceof Error ? error.message : String(error);
        failed.push(batch);
      }
    }
    return { reported, failed, unattributed };
  }

  /** Groups unreported billable calls by company into new batches; companies with a batch in flight wait. */
  private formBatches(): number {
    const byCompany = new Map<string, MoesifEvent[]>();
    let unattributed = 0;
    const inFlight = new Set([...this.pending.values()].flatMap((b) => b.eventSeqs));
    for (const event of this.store.events) {
      if (this.reportedSeqs.has(event.seq) || inFlight.has(event.seq) || !this.billable(event)) continue;
      const companyId = this.companyOf(event);
      if (!companyId) {
        unattributed++;
        continue;
      }
      if (this.pending.has(companyId)) continue;
      byCompany.set(companyId, [...(byCompany.get(companyId) ?? []), event]);
    }
    for (const [companyId, events] of byCompany) {
      const eventSeqs = events.map((e) => e.seq);
      const digest = createHash('sha256').update(`${companyId}\n${eventSeqs.join(',')}`).digest('hex').slice(0, 32);
      const last = events[events.length - 1] as MoesifEvent;
      this.pending.set(companyId, { companyId, identifier: `moesif_${digest}`, eventSeqs, value: events.length, timestamp: Math.floor(Date.parse(last.received_at) / 1000) + (this.settings.stripeTimeShiftSeconds?.() ?? 0) });
    }
    return unattributed;
  }

  private billable(event: MoesifEvent): boolean {
    const status = event.response?.status;
    return typeof status === 'number' && status < (this.settings.billableStatusBelow ?? 400);
  }

  private companyOf(event: MoesifEvent): string | undefined {
    if (event.company_id) return event.company_id;
    const user = event.user_id ? this.store.users.get(event.user_id) : undefined;
    return typeof user?.company_id === 'string' && user.company_id !== '' ? user.company_id : undefined;
  }

  private async customerOf(companyId: string): Promise<string> {
    if (this.settings.companyIdSource === 'customer') return companyId;
    const known = this.customers.get(companyId);
    if (known) return known;
    const subscription = await this.stripe.subscriptions.retrieve(companyId);
    const customer = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
    this.customers.set(companyId, customer);
    return customer;
  }

  private async send(batch: UsageBatch): Promise<void> {
    batch.customerId = await this.customerOf(batch.companyId);
    try {
      await this.stripe.billing.meterEvents.create({
        event_name: this.settings.eventName,
        payload: { stripe_customer_id: batch.customerId, value: String(batch.value) },
        identifier: batch.identifier,
        timestamp: batch.timestamp,
      });
    } catch (error) {
      // Stripe already has this identifier: an earlier attempt landed and only its answer was lost.
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.param === 'identifier') return;
      throw error;
    }
  }
}
