/**
 * Admin API routes for plugins (consumers: admin-consumers.ts): `/{ws}/plugins` (tags filter, consumer scoping), the developer-scoped
 * `/{ws}/developers/{email|id}/plugins` and `/credentials/key-auth`, and the read-only services
 * and routes. Lists page like Kong's core entities (see paginateCore).
 */
import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { GatewayEntities } from './gateway-entities.ts';
import type { KongEmulatorState, StoredPlugin } from './kong-state.ts';
import { badBody, entityNotFound, invalidOptions, notFound, paginateCore, readBody, readPageRequest, schemaViolation, uniqueViolation, type CoreListRoute } from './kong-responses.ts';
import { checkPlugin, matchesTags, mergePluginPatch, parseTagQuery } from './plugin-rules.ts';

export function pluginView(plugin: StoredPlugin): Omit<StoredPlugin, 'seq'> {
  const { seq: _seq, ...view } = plugin;
  return view;
}

/** The path a nested list's `next` names: `/<parent>/<key as the client gave it>/<entity>` (no workspace). */
export function nestedRoute(c: Context, parent: string, param: string, entity: string): CoreListRoute {
  return { nested: `/${parent}/${c.req.param(param) ?? ''}/${entity}` };
}

/** Lists plugins (optionally of one consumer) with Kong's tags filter and core pagination. */
export function listPlugins(c: Context, state: KongEmulatorState, consumerId: string | undefined, route: CoreListRoute = { entity: 'plugins' }): Response {
  const page = readPageRequest(c);
  if (page instanceof Response) return page;
  const filter = parseTagQuery(c.req.query('tags'));
  if (filter && 'error' in filter) return invalidOptions(c, { tags: filter.error });
  const all = [...state.requireWs(c.req.param('ws') ?? '').plugins.values()];
  const selected = all.filter((p) => (consumerId === undefined || p.consumer?.id === consumerId) && matchesTags(p, filter));
  const result = paginateCore(c, route, selected, page, pluginView);
  return result instanceof Response ? result : c.json(result);
}

/** Creates a plugin; `consumerId` (from a developer route) overrides any consumer in the body. */
export async function createPlugin(c: Context, state: KongEmulatorState, consumerId: string | undefined): Promise<Response> {
  const ws = c.req.param('ws') ?? '';
  const body = await readBody(c);
  if (!body) return badBody(c);
  const consumer = consumerId ? { id: consumerId } : (body.consumer as { id?: unknown } | null | undefined);
  const checked = checkPlugin({ ...body, ...(consumerId ? { consumer } : {}) }, isForm(c));
  const errors = checked.errors ?? {};
  if (consumer && !errors.consumer && (typeof consumer.id !== 'string' || !state.requireWs(ws).consumers.has(consumer.id))) errors.consumer = 'the consumer does not exist';
  if (Object.keys(errors).length > 0) return schemaViolation(c, errors);
  const scope = { consumer: consumer ? { id: consumer.id as string } : null, route: (body.route as { id: string } | undefined) ?? null, service: (body.service as { id: string } | undefined) ?? null };
  const clash = [...state.requireWs(ws).plugins.values()].find(
    (p) => p.name === body.name && (p.consumer?.id ?? null) === (scope.consumer?.id ?? null) && (p.route?.id ?? null) === (scope.route?.id ?? null) && (p.service?.id ?? null) === (scope.service?.id ?? null),
  );
  // Kong's plugins are unique on their cache key (name, route, service, consumer); the 409 names all four.
  if (clash) return uniqueViolation(c, { consumer: scope.consumer, name: body.name, route: scope.route, service: scope.service });
  const plugin = state.putPlugin(ws, {
    id: randomUUID(),
    name: body.name as string,
    enabled: body.enabled === undefined ? true : (body.enabled as boolean),
    config: checked.config,
    tags: (body.tags as string[] | undefined) ?? null,
    ...scope,
  });
  return c.json(pluginView(plugin), 201);
}

function isForm(c: Context): boolean {
  const type = c.req.header('content-type') ?? '';
  return type.includes('application/x-www-form-urlencoded') || type.includes('multipart/form-data');
}

export async function patchPlugin(c: Context, state: KongEmulatorState, existing: StoredPlugin): Promise<Response> {
  const body = await readBody(c);
  if (!body) return badBody(c);
  // The scope and name of a plugin are kept: moving it is not something the product does.
  const { id: _id, consumer: _consumer, route: _route, service: _service, name: _name, ...patch } = body;
  const { seq: _seq, created_at: _created, updated_at: _updated, ...merged } = mergePluginPatch(existing, patch);
  const checked = checkPlugin(merged, isForm(c));
  if (checked.errors) return schemaViolation(c, checked.errors);
  const plugin = state.putPlugin(c.req.param('ws') ?? '', { ...(merged as unknown as StoredPlugin), config: checked.config, id: existing.id });
  return c.json(pluginView(plugin));
}

/** The developer's consumer id for a developer route, or a 404 answer. */
function developerConsumer(c: Context, state: KongEmulatorState): string | Response {
  const developer = state.getDeveloper(c.req.param('ws') ?? '', c.req.param('idOrEmail') ?? '');
  return developer?.consumer?.id ?? notFound(c);
}

export function mountPluginRoutes(app: Hono, state: KongEmulatorState, gateway: GatewayEntities): void {
  app.get('/:ws/plugins', (c) => listPlugins(c, state, undefined));
  app.post('/:ws/plugins', (c) => createPlugin(c, state, undefined));
  app.get('/:ws/plugins/:id', (c) => {
    const plugin = state.requireWs(c.req.param('ws')).plugins.get(c.req.param('id'));
    return plugin ? c.json(pluginView(plugin)) : entityNotFound(c);
  });
  app.patch('/:ws/plugins/:id', (c) => {
    const plugin = state.requireWs(c.req.param('ws')).plugins.get(c.req.param('id'));
    return plugin ? patchPlugin(c, state, plugin) : entityNotFound(c);
  });
  app.delete('/:ws/plugins/:id', (c) => {
    state.deletePlugin(c.req.param('ws'), c.req.param('id'));
    return c.body(null, 204);
  });

  // Developer consumers are reached through their developer (Enterprise).
  app.get('/:ws/developers/:idOrEmail/plugins', (c) => {
    const consumerId = developerConsumer(c, state);
    // Enterprise route (its source is not public): its `next` is modelled like the core nested lists.
    return typeof consumerId === 'string' ? listPlugins(c, state, consumerId, nestedRoute(c, 'developers', 'idOrEmail', 'plugins')) : consumerId;
  });
  app.post('/:ws/developers/:idOrEmail/plugins', (c) => {
    const consumerId = developerConsumer(c, state);
    return typeof consumerId === 'string' ? createPlugin(c, state, consumerId) : consumerId;
  });
  const developerPlugin = (c: Context): StoredPlugin | Response => {
    const consumerId = developerConsumer(c, state);
    if (typeof consumerId !== 'string') return consumerId;
    const plugin = state.requireWs(c.req.param('ws') ?? '').plugins.get(c.req.param('pluginId') ?? '');
    return plugin && plugin.consumer?.id === consumerId ? plugin : notFound(c);
  };
  app.get('/:ws/developers/:idOrEmail/plugins/:pluginId', (c) => {
    const plugin = developerPlugin(c);
    return plugin instanceof Response ? plugin : c.json(pluginView(plugin));
  });
  app.patch('/:ws/developers/:idOrEmail/plugins/:pluginId', (c) => {
    const plugin = developerPlugin(c);
    return plugin instanceof Response ? plugin : patchPlugin(c, state, plugin);
  });
  app.delete('/:ws/developers/:idOrEmail/plugins/:pluginId', (c) => {
    const plugin = developerPlugin(c);
    if (plugin instanceof Response) return plugin;
    state.deletePlugin(c.req.param('ws'), plugin.id);
    return c.body(null, 204);
  });
  app.get('/:ws/developers/:idOrEmail/credentials/key-auth', (c) => {
    const consumerId = developerConsumer(c, state);
    return typeof consumerId === 'string' ? c.json({ data: state.keysOf(c.req.param('ws'), consumerId), next: null }) : consumerId;
  });

  const withSeq = <T>(items: T[]) => items.map((item, index) => ({ item, seq: index + 1 }));
  for (const [entity, items] of [
    ['services', gateway.services],
    ['routes', gateway.routes],
  ] as const) {
    app.get(`/:ws/${entity}`, (c) => {
      const page = readPageRequest(c);
      if (page instanceof Response) return page;
      // The sandbox's service and route live in the default workspace only.
      const result = paginateCore(c, { entity }, c.req.param('ws') === 'default' ? withSeq(items) : [], page, (x) => x.item);
      return result instanceof Response ? result : c.json(result);
    });
  }
}
