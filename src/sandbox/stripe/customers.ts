/** /v1/customers: create, retrieve, update, delete, list (with the read-after-write `email` filter). */
import type Stripe from 'stripe';
import { z } from 'zod';
import { pathParam, type Endpoint } from './endpoint.ts';
import { newId } from './ids.ts';
import { expand, inRange, listPage } from './list-and-expand.ts';
import { mergeMetadata, p, paginationShape, parseParams } from './params.ts';
import { stripeErrors } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';

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
  invoice_settings: p.accepted(),
  next_invoice_sequence: p.accepted(),
  shipping: p.accepted(),
  tax: p.accepted(),
};

const createSchema = p.hash({
  ...writableFields,
  payment_method: p.accepted(),
  source: p.accepted(),
  tax_id_data: p.accepted(),
  test_clock: p.accepted(),
  cash_balance: p.accepted(),
});
const updateSchema = p.hash({ ...writableFields, default_source: p.accepted() });
const retrieveSchema = p.hash({ expand: p.expand() });
const listSchema = p.hash({ ...paginationShape, email: p.string(512).optional(), created: p.range().optional(), test_clock: p.accepted() });

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
      const customer: Stripe.Customer = {
        id: newId.customer(),
        object: 'customer',
        address: input.address ? fullAddress(input.address) : null,
        balance: 0,
        created: state.now(),
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
        test_clock: null,
      };
      state.customers.set(customer);
      return { body: expand(state, structuredClone(customer), input.expand) };
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
      const updated: Stripe.Customer = {
        ...customer,
        ...(input.email !== undefined ? { email: input.email } : {}),
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.phone !== undefined ? { phone: input.phone } : {}),
        ...(input.address !== undefined ? { address: input.address && fullAddress(input.address) } : {}),
        ...(input.preferred_locales !== undefined ? { preferred_locales: input.preferred_locales } : {}),
        ...(input.tax_exempt !== undefined ? { tax_exempt: input.tax_exempt ?? 'none' } : {}),
        metadata: mergeMetadata(customer.metadata, input.metadata),
      };
      state.customers.set(updated);
      return { body: expand(state, structuredClone(updated), input.expand) };
    },
  },
  {
    method: 'DELETE',
    route: '/v1/customers/:id',
    handle(call) {
      const { state } = call;
      const id = pathParam(call, 'id');
      requireCustomer(state, id);
      state.customers.delete(id);
      state.deletedCustomers.add(id);
      // Stripe cancels the customer's subscriptions immediately when the customer is deleted.
      for (const subscription of state.subscriptions.newestFirst()) {
        if (subscription.customer === id && subscription.status !== 'canceled')
          state.subscriptions.set({ ...subscription, status: 'canceled', canceled_at: state.now(), ended_at: state.now() });
      }
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
        .filter((customer) => (input.email === undefined || customer.email === input.email) && inRange(customer.created, input.created));
      const page = listPage(structuredClone(matching), input, '/v1/customers', 'customer');
      return { body: expand(state, page, input.expand) };
    },
  },
];
