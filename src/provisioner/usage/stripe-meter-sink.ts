/**
 * Where reported usage goes: Stripe Billing Meters (`billing.meterEvents.create`), behind one small
 * interface so another usage backend (Stripe now recommends Metronome for new integrations) can
 * take its place. Every event carries an `identifier` the caller derives from customer, meter and
 * window: Stripe dedupes identifiers for at least 24 hours and answers a repeat with "An event
 * already exists with identifier …", which here means "delivered" (an earlier attempt landed).
 * Reads are Stripe's meter event summaries, which aggregate asynchronously and may lag.
 */
import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import { isStripeError } from '../../shared/stripe-errors.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import type { WriteLimiter } from '../stripe/write-limiter.ts';

export interface MeterReport {
  eventName: string;
  customerId: string;
  value: number;
  /** Unix seconds (Stripe's time). */
  timestamp: number;
  identifier: string;
}

export type SendOutcome = 'sent' | 'already_delivered';

export interface UsageSink {
  send(report: MeterReport): Promise<SendOutcome>;
  /** Aggregated value per hour bucket start in [start, end) (hour-aligned), as Stripe has it now. */
  hourlyUsage(meterId: string, customerId: string, start: number, end: number): Promise<Map<number, number>>;
  /** Aggregated value in [start, end) (minute-aligned), as Stripe has it now. */
  totalUsage(meterId: string, customerId: string, start: number, end: number): Promise<number>;
  /** Meter event create calls made (the bench reads it). */
  readonly sendCalls: number;
}

/** A stable identifier from its parts (no raw ids beyond Stripe's own; at most 100 characters). */
export function usageIdentifier(kind: 'window' | 'trueup', parts: (string | number)[]): string {
  return `kpm-${kind}-${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40)}`;
}

function isAlreadyExists(error: unknown): boolean {
  return isStripeError(error) && error.statusCode === 400 && (error.param === 'identifier' || /already exists/i.test(error.message));
}

export function createStripeMeterSink(stripe: Stripe, limiter?: WriteLimiter): UsageSink {
  let sendCalls = 0;
  return {
    get sendCalls() {
      return sendCalls;
    },
    async send(report) {
      try {
        await withStripeRetry(
          () => {
            sendCalls++;
            return stripe.billing.meterEvents.create({
              event_name: report.eventName,
              payload: { stripe_customer_id: report.customerId, value: String(report.value) },
              identifier: report.identifier,
              timestamp: report.timestamp,
            });
          },
          { limiter, what: 'send a meter event' },
        );
        return 'sent';
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause ?? error;
        if (isAlreadyExists(cause) || isAlreadyExists(error)) return 'already_delivered';
        throw error;
      }
    },
    async totalUsage(meterId, customerId, start, end) {
      let total = 0;
      for await (const summary of stripe.billing.meters.listEventSummaries(meterId, { customer: customerId, start_time: start, end_time: end, limit: 100 })) total += summary.aggregated_value;
      return total;
    },
    async hourlyUsage(meterId, customerId, start, end) {
      const usage = new Map<number, number>();
      const list = stripe.billing.meters.listEventSummaries(meterId, { customer: customerId, start_time: start, end_time: end, value_grouping_window: 'hour', limit: 100 });
      for await (const summary of list) if (summary.aggregated_value !== 0) usage.set(summary.start_time, (usage.get(summary.start_time) ?? 0) + summary.aggregated_value);
      return usage;
    },
  };
}
