/**
 * Admin API routes of proxy consumers, as Kong 3.x (OSS, Enterprise, Konnect core entities)
 * serves them: `/{ws}/consumers` (list with `tags` filter, create, get/patch/delete by id or
 * username), their key-auth credentials (`POST` without `key` = a Kong-generated 32-character
 * key; keys unique across the workspace) and their scoped plugins. Developer consumers (type 1)
 * stay hidden here, as in Kong Enterprise.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { createPlugin, listPlugins, nestedRoute, patchPlugin, pluginView } from './admin-plugins.ts';
import type { KeyAuthCredential, KongConsumer, KongEmulatorState } from './kong-state.ts';
import { badBody, entityNotFound, invalidOptions, paginateCore, readBody, readPageRequest, schemaViolation, uniqueViolation } from './kong-responses.ts';
import { matchesTags, parseTagQuery } from './plugin-rules.ts';

/**
 * A consumer as Kong 3.4's consumers entity answers it (id, created_at, updated_at, username,
 * custom_id, tags). Enterprise adds a `type` (0 proxy, 1 developer) that OSS and Konnect lack: kept
 * internal so no client comes to rely on it.
 */
function consumerView(consumer: KongConsumer): Omit<KongConsumer, 'seq' | 'type'> {
  const { seq: _seq, type: _type, ...view } = consumer;
  return view;
}

/** A proxy consumer by id or username; developer consumers (type 1) are not visible here. */
function proxyConsumer(state: KongEmulatorState, ws: string, idOrUsername: string): KongConsumer | undefined {
  const record = state.requireWs(ws);
  const consumer = record.consumers.get(idOrUsername) ?? [...record.consumers.values()].find((x) => x.username === idOrUsername);
  return consumer && consumer.type !== 1 ? consumer : undefined;
}

/** Kong's tag rule (typedefs.tag): a non-empty string without commas or slashes... and utf-8 printable. */
function tagsProblem(tags: unknown): string | undefined {
  if (tags === undefined || tags === null) return undefined;
  if (!Array.isArray(tags)) return 'expected a set';
  for (const tag of tags) if (typeof tag !== 'string' || tag === '' || /[,/\s]/.test(tag)) return 'invalid tag: tags cannot contain commas, slashes or spaces';
  return undefined;
}

function withConsumer(state: KongEmulatorState, handler: (c: Context, consumer: KongConsumer) => Response | Promise<Response>) {
  return (c: Context) => {
    const consumer = proxyConsumer(state, c.req.param('ws') ?? '', c.req.param('consumer') ?? '');
    return consumer ? handler(c, consumer) : entityNotFound(c);
  };
}

function keyView(credential: KeyAuthCredential): KeyAuthCredential {
  return { ...credential, consumer: { id: credential.consumer.id } };
}

/** The consumers themselves: list (tags filter), create, get, patch, delete. */
function mountConsumerEntityRoutes(app: Hono, state: KongEmulatorState): void {
  app.get('/:ws/consumers', (c) => {
    const page = readPageRequest(c);
    if (page instanceof Response) return page;
    const filter = parseTagQuery(c.req.query('tags'));
    if (filter && 'error' in filter) return invalidOptions(c, { tags: filter.error });
    const visible = [...state.requireWs(c.req.param('ws')).consumers.values()].filter((x) => x.type !== 1 && matchesTags(x, filter));
    const result = paginateCore(c, { entity: 'consumers' }, visible, page, consumerView);
    return result instanceof Response ? result : c.json(result);
  });

  app.post('/:ws/consumers', async (c) => {
    const body = await readBody(c);
    if (!body) return badBody(c);
    const { username, custom_id: customId, tags } = body;
    const errors: Record<string, string> = {};
    if (username !== undefined && username !== null && (typeof username !== 'string' || username === '')) errors.username = 'expected a non-empty string';
    if (customId !== undefined && customId !== null && (typeof customId !== 'string' || customId === '')) errors.custom_id = 'expected a non-empty string';
    const tagError = tagsProblem(tags);
    if (tagError) errors.tags = tagError;
    if (!username && !customId) errors['@entity'] = "at least one of these fields must be non-empty: 'custom_id', 'username'";
    if (Object.keys(errors).length > 0) return schemaViolation(c, errors);
    const record = state.requireWs(c.req.param('ws'));
    const all = [...record.consumers.values()];
    // Unique across every consumer of the workspace, developer consumers included.
    if (typeof username === 'string' && all.some((x) => x.username === username)) return uniqueViolation(c, { username });
    if (typeof customId === 'string' && all.some((x) => x.custom_id === customId)) return uniqueViolation(c, { custom_id: customId });
    const consumer: KongConsumer = {
      id: randomUUID(),
      username: (username as string | undefined) ?? (null as unknown as string),
      custom_id: (customId as string | undefined) ?? null,
      type: 0,
      created_at: Math.floor(Date.now() / 1000),
      updated_at: Math.floor(Date.now() / 1000),
      tags: (tags as string[] | undefined) ?? null,
      seq: state.nextSeq(),
    };
    record.consumers.set(consumer.id, consumer);
    return c.json(consumerView(consumer), 201);
  });

  app.get('/:ws/consumers/:consumer', withConsumer(state, (c, consumer) => c.json(consumerView(consumer))));

  app.patch(
    '/:ws/consumers/:consumer',
    withConsumer(state, async (c, consumer) => {
      const body = await readBody(c);
      if (!body) return badBody(c);
      const tagError = tagsProblem(body.tags);
      if (tagError) return schemaViolation(c, { tags: tagError });
      if (body.tags !== undefined) consumer.tags = (body.tags as string[] | null) ?? null;
      consumer.updated_at = Math.floor(Date.now() / 1000);
      return c.json(consumerView(consumer));
    }),
  );

  app.delete('/:ws/consumers/:consumer', (c) => {
    const ws = c.req.param('ws');
    const consumer = proxyConsumer(state, ws, c.req.param('consumer'));
    if (!consumer) return c.body(null, 204);
    // Kong deletes a consumer's credentials and plugins with it.
    state.deleteConsumer(ws, consumer.id);
    return c.body(null, 204);
  });
}

/** A consumer's key-auth credentials (a Kong-generated key when none is given; keys unique in the workspace). */
function mountKeyAuthRoutes(app: Hono, state: KongEmulatorState): void {
  app.get(
    '/:ws/consumers/:consumer/key-auth',
    withConsumer(state, (c, consumer) => {
      const page = readPageRequest(c);
      if (page instanceof Response) return page;
      const keys = state.keysOf(c.req.param('ws') ?? '', consumer.id).map((credential, index) => ({ ...credential, seq: index + 1 }));
      const result = paginateCore(c, nestedRoute(c, 'consumers', 'consumer', 'key-auth'), keys, page, ({ seq: _seq, ...credential }) => keyView(credential));
      return result instanceof Response ? result : c.json(result);
    }),
  );

  app.post(
    '/:ws/consumers/:consumer/key-auth',
    withConsumer(state, async (c, consumer) => {
      const body = (await readBody(c)) ?? {};
      const { key, ttl, tags } = body;
      const errors: Record<string, string> = {};
      if (key !== undefined && (typeof key !== 'string' || key === '')) errors.key = 'expected a non-empty string';
      if (ttl !== undefined && ttl !== null && (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 100_000_000)) errors.ttl = 'value should be between 0 and 100000000';
      const tagError = tagsProblem(tags);
      if (tagError) errors.tags = tagError;
      if (Object.keys(errors).length > 0) return schemaViolation(c, errors);
      const ws = c.req.param('ws') ?? '';
      if (typeof key === 'string' && state.requireWs(ws).keyAuth.has(key)) return uniqueViolation(c, { key });
      // Kong generates a uuid without dashes: 32 hex characters.
      const credential = state.addKey(ws, consumer.id, typeof key === 'string' ? key : randomUUID().replace(/-/g, ''));
      credential.tags = (tags as string[] | undefined) ?? null;
      credential.ttl = (ttl as number | undefined) ?? null;
      return c.json(keyView(credential), 201);
    }),
  );

  const credentialOf = (c: Context, consumer: KongConsumer) =>
    state.keysOf(c.req.param('ws') ?? '', consumer.id).find((credential) => credential.id === c.req.param('credential') || credential.key === c.req.param('credential'));

  app.get(
    '/:ws/consumers/:consumer/key-auth/:credential',
    withConsumer(state, (c, consumer) => {
      const credential = credentialOf(c, consumer);
      return credential ? c.json(keyView(credential)) : entityNotFound(c);
    }),
  );

  app.delete(
    '/:ws/consumers/:consumer/key-auth/:credential',
    withConsumer(state, (c, consumer) => {
      const credential = credentialOf(c, consumer);
      if (!credential) return entityNotFound(c);
      state.deleteKey(c.req.param('ws') ?? '', credential.key);
      return c.body(null, 204);
    }),
  );
}

/** Plugins scoped to one consumer. */
function mountConsumerPluginRoutes(app: Hono, state: KongEmulatorState): void {
  app.get('/:ws/consumers/:consumer/plugins', withConsumer(state, (c, consumer) => listPlugins(c, state, consumer.id, nestedRoute(c, 'consumers', 'consumer', 'plugins'))));
  app.post('/:ws/consumers/:consumer/plugins', withConsumer(state, (c, consumer) => createPlugin(c, state, consumer.id)));
  const pluginOf = (c: Context, consumer: KongConsumer) => {
    const plugin = state.requireWs(c.req.param('ws') ?? '').plugins.get(c.req.param('plugin') ?? '');
    return plugin && plugin.consumer?.id === consumer.id ? plugin : undefined;
  };
  app.get(
    '/:ws/consumers/:consumer/plugins/:plugin',
    withConsumer(state, (c, consumer) => {
      const plugin = pluginOf(c, consumer);
      return plugin ? c.json(pluginView(plugin)) : entityNotFound(c);
    }),
  );
  app.patch(
    '/:ws/consumers/:consumer/plugins/:plugin',
    withConsumer(state, (c, consumer) => {
      const plugin = pluginOf(c, consumer);
      return plugin ? patchPlugin(c, state, plugin) : entityNotFound(c);
    }),
  );
  app.delete(
    '/:ws/consumers/:consumer/plugins/:plugin',
    withConsumer(state, (c, consumer) => {
      const plugin = pluginOf(c, consumer);
      if (!plugin) return entityNotFound(c);
      state.deletePlugin(c.req.param('ws') ?? '', plugin.id);
      return c.body(null, 204);
    }),
  );
}

export function mountConsumerRoutes(app: Hono, state: KongEmulatorState): void {
  mountConsumerEntityRoutes(app, state);
  mountKeyAuthRoutes(app, state);
  mountConsumerPluginRoutes(app, state);
}
