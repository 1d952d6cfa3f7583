/**
 * Usage read back from stored meter events: the meter's aggregation (sum, count, last) of one
 * customer's events with a timestamp in [start, end), used for invoice quantities, and
 * GET /v1/billing/meters/{id}/event_summaries.
 */
import type Stripe from 'stripe';
import { pathParam, type Endpoint } from './endpoint.ts';
import { expand, listPage } from './list-and-expand.ts';
import { p, paginationShape, parseParams } from './params.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';

const summariesSchema = p.hash({
  ...paginationShape,
  customer: p.id(),
  start_time: p.int({ min: 0 }),
  end_time: p.int({ min: 0 }),
  value_grouping_window: p.oneOf(['day', 'hour']).optional(),
});

const WINDOW_SECONDS = { hour: 3600, day: 86_400 } as const;

/** Whether Stripe's asynchronous aggregation has taken the event in yet. */
function aggregated(state: StripeState, event: Stripe.Billing.MeterEvent): boolean {
  const received = state.meterEventReceivedMs.get(event);
  return received === undefined || received + state.meterAggregationLagMs <= state.wallMs();
}

/**
 * The meter's aggregate of a customer's events in [start, end). `settledOnly` (summaries,
 * previews) leaves out events still being aggregated; an invoice a clock advance builds sees all.
 * Events refused by the asynchronous validation never count.
 */
export function aggregateUsage(state: StripeState, meter: Stripe.Billing.Meter, customerId: string, start: number, end: number, settledOnly = false): number {
  const customerKey = meter.customer_mapping.event_payload_key;
  const valueKey = meter.value_settings.event_payload_key;
  const refused = new Set(state.meterEventErrors.map((error) => error.identifier));
  const events = state.meterEvents.filter(
    (event) =>
      event.event_name === meter.event_name &&
      event.payload[customerKey] === customerId &&
      event.timestamp >= start &&
      event.timestamp < end &&
      !refused.has(event.identifier) &&
      (!settledOnly || aggregated(state, event)),
  );
  switch (meter.default_aggregation.formula) {
    case 'count':
      return events.length;
    case 'last': {
      // The value of the event with the latest timestamp (the last one received on a tie).
      const last = events.reduce<Stripe.Billing.MeterEvent | undefined>((latest, event) => (!latest || event.timestamp >= latest.timestamp ? event : latest), undefined);
      return last ? Number(last.payload[valueKey] ?? 0) : 0;
    }
    default:
      return events.reduce((sum, event) => sum + Number(event.payload[valueKey] ?? 0), 0);
  }
}

/** The invoice quantity for an aggregate: whole units; a fractional aggregate is billed rounded up (the emulator's stricter guess). */
export function billableQuantity(aggregate: number): number {
  return Math.max(0, Math.ceil(aggregate - 1e-9));
}

function summaryId(meterId: string, start: number): string {
  return `mtrusg_${meterId.replace(/^mtr_/, '').slice(-16)}${start.toString(36)}`;
}

export const meterUsageEndpoints: Endpoint[] = [
  {
    method: 'GET',
    route: '/v1/billing/meters/:id/event_summaries',
    handle(call) {
      const { state } = call;
      const input = parseParams(summariesSchema, call.params);
      const meter = state.meters.get(pathParam(call, 'id'));
      if (!meter) throw stripeErrors.notFound('billing meter', pathParam(call, 'id'));
      if (!state.customers.has(input.customer)) throw stripeErrors.missingReference('customer', input.customer, 'customer');
      const align = input.value_grouping_window ? WINDOW_SECONDS[input.value_grouping_window] : 60;
      const unit = input.value_grouping_window ?? 'minute';
      if (input.start_time % align !== 0) throw stripeErrors.invalid(`start_time must be aligned with ${unit} boundaries.`, 'start_time');
      if (input.end_time % align !== 0) throw stripeErrors.invalid(`end_time must be aligned with ${unit} boundaries.`, 'end_time');
      if (input.end_time <= input.start_time) throw stripeErrors.invalid('end_time must be after start_time.', 'end_time');
      const step = input.value_grouping_window ? align : input.end_time - input.start_time;
      const summaries: Stripe.Billing.MeterEventSummary[] = [];
      for (let start = input.start_time; start < input.end_time; start += step) {
        const end = Math.min(start + step, input.end_time);
        summaries.push({
          id: summaryId(meter.id, start),
          object: 'billing.meter_event_summary',
          aggregated_value: aggregateUsage(state, meter, input.customer, start, end, true),
          end_time: end,
          livemode: false,
          meter: meter.id,
          start_time: start,
        });
      }
      const url = `/v1/billing/meters/${meter.id}/event_summaries`;
      return { body: expand(state, listPage(summaries, input, url, 'billing meter'), input.expand) };
    },
  },
];
