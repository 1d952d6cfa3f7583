/**
 * Emulator-only webhook routes (Stripe has none of them):
 * - GET  /_emulator/webhooks/deliveries?event=evt_…&endpoint=we_… : the delivery log, oldest first;
 * - POST /_emulator/webhooks/idle : answers once nothing is scheduled, held or in flight
 *   (`{"idle": true}`), or `{"idle": false}` with 504 after `?timeout_ms=` (default 30 s).
 */
import type { Hono } from 'hono';
import { emulatorError } from '../faults/emulator-control.ts';
import type { DeliveryRecord } from './webhook-delivery.ts';

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** The emulator's webhook side these routes read (the emulator's `webhooks`). */
export interface StripeWebhooks {
  /** Resolves when no delivery is scheduled, held or in flight (retries included). */
  idle(): Promise<void>;
  /** Delivery attempts, oldest first; filter by event or endpoint id. */
  deliveries(filter?: { eventId?: string; endpointId?: string }): DeliveryRecord[];
  /** An endpoint's signing secret (emulator-only: Stripe shows it once, at creation). */
  secret(endpointId: string): string | undefined;
}

export function mountWebhookRoutes(emulator: { app: Hono; webhooks: StripeWebhooks }): void {
  const { app, webhooks } = emulator;
  app.get('/_emulator/webhooks/deliveries', (c) => {
    const eventId = c.req.query('event');
    const endpointId = c.req.query('endpoint');
    return c.json(webhooks.deliveries({ ...(eventId ? { eventId } : {}), ...(endpointId ? { endpointId } : {}) }));
  });
  app.post('/_emulator/webhooks/idle', async (c) => {
    const raw = c.req.query('timeout_ms');
    const timeoutMs = raw === undefined ? DEFAULT_IDLE_TIMEOUT_MS : Number(raw);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 600_000) return c.json(emulatorError('timeout_ms must be an integer from 0 to 600000'), 400);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const idle = await Promise.race([webhooks.idle().then(() => true as const), timedOut]);
    clearTimeout(timer);
    return c.json({ idle }, idle ? 200 : 504);
  });
}
