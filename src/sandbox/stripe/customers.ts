/** /v1/customers: create, retrieve, update, delete, list (with the read-after-write `email` filter). */
import type Stripe from 'stripe';
import { z } from 'zod';
import { pathParam, type Endpoint } from './endpoint.ts';
import { newId } from './ids.ts';
import { expand, inRange, listPage } from './list-and-expand.ts';
import { mergeMetadata, p, paginationShape, parseParams } from './params.ts';
import { attachPaymentMethod, setDefaultPaymentMethod } from './payment-methods.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';
import { viewSubscription } from './views.ts';

const addressSchema = p.hash({
  city: p.string(200).optional(),
  country: p.string(2).optional(),
  line1: p.string(200).optional(),
  line2: p.string(200).optional(),
  postal_code: p.string(20).optional(),
  state: p.string(200).optional(),
});

const writableFields = {
  email: p.emptyable(p.string(512)).optional(),
  name: p.emptyable(p.string(256)).optional(),
  description: p.emptyable(p.string(350)).optional(),
  phone: p.emptyable(p.string(20)).optional(),
  address: p.emptyable(addressSchema).optional(),
  metadata: p.metadata().optional(),
  preferred_locales: p.list(p.string(20), 10).optional(),
  tax_exempt: p.emptyable(p.oneOf(['none', 'exempt', 'reverse'])).optional(),
  invoice_prefix: p.string(12).optional(),
  expand: p.expand(),
  // Real parameters the emulator accepts without modelling.
  balance: p.accepted(),
  invoice_settings: p
    .hash({
      default_payment_method: p.emptyable(p.id()).optional(),
      custom_fields: p.accepted(),
      footer: p.accepted(),
      rendering_options: p.accepted(),
    })
    .optional(),
  next_invoice_sequence: p.accepted(),
  shipping: p.accepted(),
  tax: p.accepted(),
};

const createSchema = p.hash({
  ...writableFields,
  payment_method: p.id().optional(),
  source: p.accepted(),
  tax_id_data: p.accepted(),
  test_clock: p.id().optional(),
  cash_balance: p.accepted(),
});
const updateSchema = p.hash({ ...writableFields, default_source: p.accepted() });
const retrieveSchema = p.hash({ expand: p.expand() });
const listSchema = p.hash({ ...paginationShape, email: p.string(512).optional(), created: p.range().optional(), test_clock: p.id().optional() });

/** Stripe's limit on customers per test clock. */
const CUSTOMERS_PER_TEST_CLOCK = 3;

function fullAddress(address: z.output<typeof addressSchema>): Stripe.Address {
  return {
    city: address.city ?? null,
    country: address.country ?? null,
    line1: address.line1 ?? null,
    line2: address.line2 ?? null,
    postal_code: address.postal_code ?? null,
    state: address.state ?? null,
  };
}

function checkClockHasRoom(state: StripeState, clockId: string): void {
  if (!state.testClocks.has(clockId)) throw stripeErrors.missingReference('test_helpers.test_clock', clockId, 'test_clock');
  const members = state.customers.newestFirst().filter((customer) => customer.test_clock === clockId).length;
  if (members >= CUSTOMERS_PER_TEST_CLOCK)
    throw stripeErrors.invalid(`The test clock ${clockId} already has the maximum of ${CUSTOMERS_PER_TEST_CLOCK} customers.`, 'test_clock', 'test_clock_customer_limit_reached');
}

/** The old values of the top-level fields that changed, as Stripe sends them on *.updated. */
export function previousAttributes<T extends object>(before: T, after: T): Partial<T> | undefined {
  const previous: Partial<T> = {};
  for (const key of Object.keys(after) as (keyof T)[]) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) previous[key] = structuredClone(before[key]);
  }
  return Object.keys(previous).length > 0 ? previous : undefined;
}

function requireCustomer(state: StripeState, id: string): Stripe.Customer {
  const customer = state.customers.get(id);
  if (!customer) throw stripeErrors.notFound('customer', id);
  return customer;
}

export const customerEndpoints: Endpoint[] = [
  {
    method: 'POST',
    route: '/v1/customers',
    handle({ state, params }) {
      const input = parseParams(createSchema, params);
      if (input.test_clock !== undefined) checkClockHasRoom(state, input.test_clock);
      if (input.invoice_settings?.default_payment_method && input.invoice_settings.default_payment_method !== input.payment_method)
        throw stripeErrors.invalid(
          `The PaymentMethod ${input.invoice_settings.default_payment_method} does not belong to this Customer. Pass it as payment_method to attach it.`,
          'invoice_settings[default_payment_method]',
        );
      if (input.payment_method !== undefined && !input.payment_method.startsWith('pm_card_')) {
        const method = state.paymentMethods.get(input.payment_method);
        if (!method) throw stripeErrors.missingReference('PaymentMethod', input.payment_method, 'payment_method');
        if (method.customer !== null) throw stripeErrors.invalid('The payment method you provided has already been attached to a customer.', 'payment_method');
      }
      const clock = input.test_clock === undefined ? undefined : state.testClocks.get(input.test_clock);
      const customer: Stripe.Customer = {
        id: newId.customer(),
        object: 'customer',
        address: input.address ? fullAddress(input.address) : null,
        balance: 0,
        created: clock?.frozen_time ?? state.now(),
        currency: null,
        default_source: null,
        delinquent: false,
        description: input.description ?? null,
        discount: null,
        email: input.email ?? null,
        invoice_prefix: input.invoice_prefix ?? newId.invoicePrefix(),
        invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
        livemode: false,
        metadata: mergeMetadata({}, input.metadata),
        name: input.name ?? null,
        next_invoice_sequence: 1,
        phone: input.phone ?? null,
        preferred_locales: input.preferred_locales ?? [],
        shipping: null,
        tax_exempt: input.tax_exempt ?? 'none',
        test_clock: input.test_clock ?? null,
      };
      state.customers.set(customer);
      state.events.emit('customer.created', structuredClone(customer));
      let result = customer;
      if (input.payment_method !== undefined) {
        const method = attachPaymentMethod(state, input.payment_method, customer.id, 'payment_method');
        if (input.invoice_settings?.default_payment_method) result = setDefaultPaymentMethod(state, customer.id, method.id);
      }
      return { body: expand(state, structuredClone(result), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/customers/:id',
    handle(call) {
      const { state, params } = call;
      const input = parseParams(retrieveSchema, params);
      const id = pathParam(call, 'id');
      if (state.deletedCustomers.has(id)) return { body: { id, object: 'customer', deleted: true } };
      return { body: expand(state, structuredClone(requireCustomer(state, id)), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/customers/:id',
    handle(call) {
      const { state, params } = call;
      const customer = requireCustomer(state, pathParam(call, 'id'));
      const input = parseParams(updateSchema, params);
      const defaultMethod = input.invoice_settings?.default_payment_method;
      if (defaultMethod) {
        const method = state.paymentMethods.get(defaultMethod);
        if (!method) throw stripeErrors.missingReference('PaymentMethod', defaultMethod, 'invoice_settings[default_payment_method]');
        if (method.customer !== customer.id)
          throw stripeErrors.invalid(
            `The customer does not have a payment method with the ID ${defaultMethod}. The payment method must be attached to the customer.`,
            'invoice_settings[default_payment_method]',
          );
      }
      const updated: Stripe.Customer = {
        ...customer,
        ...(input.email !== undefined ? { email: input.email } : {}),
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.phone !== undefined ? { phone: input.phone } : {}),
        ...(input.address !== undefined ? { address: input.address && fullAddress(input.address) } : {}),
        ...(input.preferred_locales !== undefined ? { preferred_locales: input.preferred_locales } : {}),
        ...(input.tax_exempt !== undefined ? { tax_exempt: input.tax_exempt ?? 'none' } : {}),
        ...(defaultMethod !== undefined ? { invoice_settings: { ...customer.invoice_settings, default_payment_method: defaultMethod } } : {}),
        metadata: mergeMetadata(customer.metadata, input.metadata),
      };
      state.customers.set(updated);
      const previous = previousAttributes(customer, updated);
      if (previous) state.events.emit('customer.updated', structuredClone(updated), previous);
      return { body: expand(state, structuredClone(updated), input.expand) };
    },
  },
  {
    method: 'DELETE',
    route: '/v1/customers/:id',
    handle(call) {
      const { state } = call;
      const id = pathParam(call, 'id');
      const customer = requireCustomer(state, id);
      const now = state.nowFor(id);
      // Stripe cancels the customer's subscriptions immediately when the customer is deleted.
      for (const subscription of state.subscriptions.newestFirst()) {
        if (subscription.customer === id && subscription.status !== 'canceled') {
          const canceled = { ...subscription, status: 'canceled' as const, canceled_at: now, ended_at: now };
          state.subscriptions.set(canceled);
          state.events.emit('customer.subscription.deleted', viewSubscription(state, canceled), { status: subscription.status });
        }
      }
      state.customers.delete(id);
      state.deletedCustomers.add(id);
      state.events.emit('customer.deleted', structuredClone(customer));
      return { body: { id, object: 'customer', deleted: true } };
    },
  },
  {
    method: 'GET',
    route: '/v1/customers',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      // Exact, case-sensitive match, consistent immediately after a write (unlike search).
      const matching = state.customers
        .newestFirst()
        .filter(
          (customer) =>
            // Customers of a test clock are listed only when that clock is asked for, as on Stripe.
            (customer.test_clock ?? undefined) === input.test_clock &&
            (input.email === undefined || customer.email === input.email) &&
            inRange(customer.created, input.created),
        );
      // Only the page is copied out (a full copy per page made listing every customer quadratic).
      const page = listPage(matching, input, '/v1/customers', 'customer');
      return { body: expand(state, { ...page, data: structuredClone(page.data) }, input.expand) };
    },
  },
];
