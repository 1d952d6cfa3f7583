/**
 * Kong Enterprise event hooks, webhook handler only: on a developer create/update/delete the
 * emulator POSTs `{entity, old_entity, operation, event, source}` to every matching hook, signed
 * like Kong with `x-kong-signature` = HMAC-SHA1 hex of the raw body keyed by `config.secret`.
 */
import { createHmac } from 'node:crypto';
import type { KongDeveloper } from '../../kong/kong-types.ts';
import type { HookDelivery, KongEmulatorState } from './kong-state.ts';

export function kongSignature(body: string, secret: string): string {
  return createHmac('sha1', secret).update(body).digest('hex');
}

/** Wires the state's developer events to webhook deliveries. */
export function deliverDeveloperEvents(state: KongEmulatorState): void {
  state.onDeveloperEvent((_workspace, operation, entity, old) => {
    for (const hook of state.eventHooks.values()) {
      if (hook.source !== 'crud' || hook.handler !== 'webhook') continue;
      if (hook.event !== null && hook.event !== undefined && hook.event !== 'developers') continue;
      if (typeof hook.config.url !== 'string') continue;
      state.track(postWebhook(state, hook.id, hook.config.url, hook.config.secret ?? undefined, hook.config.headers, operation, entity, old));
    }
  });
}

async function postWebhook(
  state: KongEmulatorState,
  hookId: string,
  url: string,
  secret: string | undefined,
  extraHeaders: Record<string, string> | undefined,
  operation: string,
  entity: KongDeveloper,
  old: KongDeveloper | null,
): Promise<void> {
  const body = JSON.stringify({ entity, old_entity: old, operation, event: 'developers', source: 'crud' });
  const signature = secret ? kongSignature(body, secret) : undefined;
  const delivery: HookDelivery = { hookId, url, event: 'developers', operation, body, signature, status: undefined, error: undefined };
  state.hookDeliveries.push(delivery);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extraHeaders };
  if (signature) headers['x-kong-signature'] = signature;
  try {
    const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    delivery.status = response.status;
    await response.arrayBuffer();
  } catch (error) {
    delivery.error = (error as Error).cause ? String((error as { cause: unknown }).cause) : (error as Error).message;
  }
}
