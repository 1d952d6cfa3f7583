/** /v1/products: create (optionally with a chosen id), retrieve, update, list. */
import type Stripe from 'stripe';
import { pathParam, type Endpoint } from './endpoint.ts';
import { previousAttributes } from './customers.ts';
import { newId } from './ids.ts';
import { expand, inRange, listPage } from './list-and-expand.ts';
import { mergeMetadata, p, paginationShape, parseParams } from './params.ts';
import { StripeApiError, stripeErrors } from './stripe-errors.ts';
import type { StripeState } from './stripe-state.ts';

const editable = {
  active: p.bool().optional(),
  description: p.emptyable(p.string(40000)).optional(),
  metadata: p.metadata().optional(),
  unit_label: p.emptyable(p.string(12)).optional(),
  url: p.emptyable(p.string(5000)).optional(),
  statement_descriptor: p.emptyable(p.string(22)).optional(),
  tax_code: p.emptyable(p.string(100)).optional(),
  images: p.list(p.string(2048), 8).optional(),
  shippable: p.bool().optional(),
  expand: p.expand(),
  marketing_features: p.accepted(),
  package_dimensions: p.accepted(),
};

const createSchema = p.hash({
  ...editable,
  name: p.string(250).min(1, 'Invalid {param}: must not be empty'),
  id: p.string(100).regex(/^[A-Za-z0-9_-]+$/, 'Invalid {param}: use letters, digits, "_" or "-"').optional(),
  type: p.oneOf(['good', 'service']).optional(),
  default_price_data: p.accepted(),
});
const updateSchema = p.hash({ ...editable, name: p.string(250).min(1).optional(), default_price: p.accepted() });
const retrieveSchema = p.hash({ expand: p.expand() });
const listSchema = p.hash({
  ...paginationShape,
  active: p.bool().optional(),
  ids: p.list(p.id(), 100).optional(),
  shippable: p.bool().optional(),
  url: p.string().optional(),
  created: p.range().optional(),
  type: p.oneOf(['good', 'service']).optional(),
});

export function requireProduct(state: StripeState, id: string): Stripe.Product {
  const product = state.products.get(id);
  if (!product) throw stripeErrors.notFound('product', id);
  return product;
}

export const productEndpoints: Endpoint[] = [
  {
    method: 'POST',
    route: '/v1/products',
    handle({ state, params }) {
      const input = parseParams(createSchema, params);
      const id = input.id ?? newId.product();
      if (state.products.has(id)) throw new StripeApiError(400, 'invalid_request_error', `Product already exists.`, 'resource_already_exists', 'id');
      const now = state.now();
      const product: Stripe.Product = {
        id,
        object: 'product',
        active: input.active ?? true,
        created: now,
        default_price: null,
        description: input.description ?? null,
        images: input.images ?? [],
        livemode: false,
        marketing_features: [],
        metadata: mergeMetadata({}, input.metadata),
        name: input.name,
        package_dimensions: null,
        shippable: input.shippable ?? null,
        statement_descriptor: input.statement_descriptor ?? null,
        tax_code: input.tax_code ?? null,
        tax_details: null,
        type: input.type ?? 'service',
        unit_label: input.unit_label ?? null,
        updated: now,
        url: input.url ?? null,
      };
      state.products.set(product);
      state.events.emit('product.created', structuredClone(product));
      return { body: expand(state, structuredClone(product), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/products/:id',
    handle(call) {
      const input = parseParams(retrieveSchema, call.params);
      return { body: expand(call.state, structuredClone(requireProduct(call.state, pathParam(call, 'id'))), input.expand) };
    },
  },
  {
    method: 'POST',
    route: '/v1/products/:id',
    handle(call) {
      const { state } = call;
      const product = requireProduct(state, pathParam(call, 'id'));
      const input = parseParams(updateSchema, call.params);
      const updated: Stripe.Product = {
        ...product,
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.active !== undefined ? { active: input.active } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.unit_label !== undefined ? { unit_label: input.unit_label } : {}),
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.statement_descriptor !== undefined ? { statement_descriptor: input.statement_descriptor } : {}),
        ...(input.tax_code !== undefined ? { tax_code: input.tax_code } : {}),
        ...(input.images !== undefined ? { images: input.images } : {}),
        ...(input.shippable !== undefined ? { shippable: input.shippable } : {}),
        metadata: mergeMetadata(product.metadata, input.metadata),
        updated: state.now(),
      };
      state.products.set(updated);
      const previous = previousAttributes(product, updated);
      if (previous) state.events.emit('product.updated', structuredClone(updated), previous);
      return { body: expand(state, structuredClone(updated), input.expand) };
    },
  },
  {
    method: 'GET',
    route: '/v1/products',
    handle({ state, params }) {
      const input = parseParams(listSchema, params);
      const matching = state.products
        .newestFirst()
        .filter(
          (product) =>
            (input.active === undefined || product.active === input.active) &&
            (input.ids === undefined || input.ids.includes(product.id)) &&
            (input.shippable === undefined || product.shippable === input.shippable) &&
            (input.url === undefined || product.url === input.url) &&
            (input.type === undefined || product.type === input.type) &&
            inRange(product.created, input.created),
        );
      return { body: expand(state, listPage(structuredClone(matching), input, '/v1/products', 'product'), input.expand) };
    },
  },
];
