/**
 * `/event-hooks` routes (Enterprise). Hooks are global: `/event-hooks` and `/{ws}/event-hooks`
 * reach the same set (the 3.4 spec lists only the first; the second exists as a route). Lists page
 * like core entities; every create, update and delete pings the hook's URL.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { WireEventHook } from './wire-types.ts';
import { pingHook } from './event-hooks.ts';
import { nowSeconds, type KongEmulatorState, type StoredEventHook } from './kong-state.ts';
import { badBody, notFound, paginateCore, readBody, readPageRequest, schemaViolation } from './kong-responses.ts';

const EVENT_HOOK_HANDLERS = new Set(['webhook', 'webhook-custom', 'log', 'lambda']);

function hookView(hook: StoredEventHook): WireEventHook {
  const { workspace: _workspace, seq: _seq, ...view } = hook;
  return view;
}

function hookErrors(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const fields: Record<string, unknown> = {};
  if (typeof body.source !== 'string' || body.source === '') fields.source = 'required field missing';
  if (typeof body.handler !== 'string' || !EVENT_HOOK_HANDLERS.has(body.handler))
    fields.handler = body.handler === undefined ? 'required field missing' : `expected one of: ${[...EVENT_HOOK_HANDLERS].join(', ')}`;
  const config = (body.config ?? {}) as Record<string, unknown>;
  if (body.handler === 'webhook') {
    if (typeof config.url !== 'string' || !/^https?:\/\/[^/]+/.test(config.url)) fields.config = { url: config.url === undefined ? 'required field missing' : 'missing host in url' };
    else if (config.secret !== undefined && config.secret !== null && typeof config.secret !== 'string') fields.config = { secret: 'expected a string' };
  }
  return Object.keys(fields).length > 0 ? fields : undefined;
}

async function createHook(c: Context, state: KongEmulatorState): Promise<Response> {
  const body = await readBody(c);
  if (!body) return badBody(c);
  const errors = hookErrors(body);
  if (errors) return schemaViolation(c, errors);
  const hook: StoredEventHook = {
    id: randomUUID(),
    source: body.source as string,
    event: typeof body.event === 'string' && body.event !== '' ? body.event : null,
    handler: body.handler as string,
    on_change: typeof body.on_change === 'boolean' ? body.on_change : null,
    snooze: typeof body.snooze === 'number' ? body.snooze : null,
    config: { ssl_verify: false, secret: null, headers: {}, ...(body.config as Record<string, unknown>) } as WireEventHook['config'],
    created_at: nowSeconds(),
    workspace: c.req.param('ws') ?? 'default',
    seq: state.nextSeq(),
  };
  state.eventHooks.set(hook.id, hook);
  pingHook(state, hookView(hook), 'create');
  return c.json(hookView(hook), 201);
}

async function patchHook(c: Context, state: KongEmulatorState, existing: StoredEventHook): Promise<Response> {
  const body = await readBody(c);
  if (!body) return badBody(c);
  const merged = { ...existing, ...body, config: { ...existing.config, ...((body.config as Record<string, unknown> | undefined) ?? {}) } } as StoredEventHook;
  const errors = hookErrors(merged as unknown as Record<string, unknown>);
  if (errors) return schemaViolation(c, errors);
  const hook: StoredEventHook = { ...merged, id: existing.id, seq: existing.seq, workspace: existing.workspace };
  state.eventHooks.set(hook.id, hook);
  pingHook(state, hookView(hook), 'update');
  return c.json(hookView(hook));
}

export function mountEventHookRoutes(app: Hono, state: KongEmulatorState): void {
  for (const prefix of ['', '/:ws']) {
    app.get(`${prefix}/event-hooks`, (c) => {
      const page = readPageRequest(c);
      if (page instanceof Response) return page;
      const result = paginateCore(c, { entity: 'event-hooks' }, state.eventHooks.values(), page, hookView);
      return result instanceof Response ? result : c.json(result);
    });
    app.post(`${prefix}/event-hooks`, (c) => createHook(c, state));
    app.get(`${prefix}/event-hooks/:id`, (c) => {
      const hook = state.eventHooks.get(c.req.param('id'));
      return hook ? c.json(hookView(hook)) : notFound(c);
    });
    app.patch(`${prefix}/event-hooks/:id`, (c) => {
      const hook = state.eventHooks.get(c.req.param('id'));
      return hook ? patchHook(c, state, hook) : notFound(c);
    });
    app.delete(`${prefix}/event-hooks/:id`, (c) => {
      const hook = state.eventHooks.get(c.req.param('id'));
      if (hook) {
        state.eventHooks.delete(hook.id);
        pingHook(state, hookView(hook), 'delete');
      }
      return c.body(null, 204);
    });
  }
}
