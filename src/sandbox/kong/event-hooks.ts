/**
 * Kong Enterprise event hooks, webhook handler: hooks are global, so a developer create, update or
 * delete in ANY workspace POSTs `{operation, entity, old_entity (update only), schema, event,
 * source}` (null fields stripped) to every matching hook, signed like Kong with
 * `X-Kong-Signature: sha1=<hex HMAC-SHA1(secret, raw body)>`. Creating, updating or deleting a
 * hook POSTs a ping `{source:"kong:event_hooks", event:"ping", operation, event_hooks}` that
 * carries the hook entity, secret included (as Kong does).
 */
import { createHmac } from 'node:crypto';
import type { WireEventHook } from './wire-types.ts';
import type { HookDelivery, KongEmulatorState } from './kong-state.ts';

/** Hex HMAC-SHA1 of the raw body keyed by the hook secret (the header carries it as `sha1=<hex>`). */
export function kongSignature(body: string, secret: string): string {
  return createHmac('sha1', secret).update(body).digest('hex');
}

/** Drops null (and undefined) fields, recursively, as Kong's payload encoding does. */
function stripNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, stripNulls(v)]),
  );
}

/** Whether a hook listens to developer CRUD for this operation (`developers` or `developers:<op>`). */
function listensTo(hook: WireEventHook, operation: string): boolean {
  if (hook.source !== 'crud' || hook.handler !== 'webhook' || typeof hook.config.url !== 'string') return false;
  return hook.event === null || hook.event === undefined || hook.event === 'developers' || hook.event === `developers:${operation}`;
}

/** Wires the state's developer events (every workspace) to webhook deliveries. */
export function deliverDeveloperEvents(state: KongEmulatorState): void {
  state.onDeveloperEvent((_workspace, operation, entity, old) => {
    const payload = stripNulls({ operation, entity, ...(operation === 'update' ? { old_entity: old } : {}), schema: 'developers', event: 'developers', source: 'crud' });
    const body = JSON.stringify(payload);
    for (const hook of state.eventHooks.values()) {
      if (!listensTo(hook, operation)) continue;
      state.track(postWebhook(state, hook, { event: 'developers', operation, body }));
    }
  });
}

/** The ping Kong sends when a hook is created, updated or deleted. */
export function pingHook(state: KongEmulatorState, hook: WireEventHook, operation: 'create' | 'update' | 'delete'): void {
  if (hook.handler !== 'webhook' || typeof hook.config.url !== 'string') return;
  const body = JSON.stringify(stripNulls({ source: 'kong:event_hooks', event: 'ping', operation, event_hooks: hook }));
  state.track(postWebhook(state, hook, { event: 'ping', operation, body }));
}

async function postWebhook(state: KongEmulatorState, hook: WireEventHook, message: { event: string; operation: string; body: string }): Promise<void> {
  const url = hook.config.url as string;
  const secret = typeof hook.config.secret === 'string' && hook.config.secret !== '' ? hook.config.secret : undefined;
  const signature = secret ? `sha1=${kongSignature(message.body, secret)}` : undefined;
  const delivery: HookDelivery = { hookId: hook.id, url, ...message, signature, status: undefined, error: undefined };
  state.hookDeliveries.push(delivery);
  const headers: Record<string, string> = { ...hook.config.headers, 'content-type': 'application/json' };
  if (signature) headers['x-kong-signature'] = signature;
  try {
    const response = await fetch(url, { method: 'POST', headers, body: message.body, signal: AbortSignal.timeout(10_000) });
    delivery.status = response.status;
    await response.arrayBuffer();
  } catch (error) {
    delivery.error = (error as Error).cause ? String((error as { cause: unknown }).cause) : (error as Error).message;
  }
}
