/**
 * stripe:setup --webhook-url: exactly one Stripe webhook endpoint at that URL, enabled, listening
 * to every event the provisioner needs. Stripe shows the signing secret only in the create
 * answer, so it is returned once, on creation; a re-run finds the endpoint and changes nothing.
 */
import Stripe from 'stripe';
import { STRIPE_WEBHOOK_EVENTS } from '../../provisioner/core/stripe-events.ts';
import { idempotencyKey } from './catalog-setup.ts';

interface WebhookSetupResult {
  action: 'created' | 'updated' | 'unchanged' | 'would create' | 'would update';
  endpointId: string | undefined;
  /** Only on creation: the whsec_ secret for STRIPE_WEBHOOK_SECRET. */
  secret?: string;
  /** Events added, or why it was updated. */
  detail: string;
  /** Other endpoints at the same URL (they would deliver every event twice). */
  duplicateIds: string[];
}

async function endpointsAt(stripe: Stripe, url: string): Promise<Stripe.WebhookEndpoint[]> {
  const found: Stripe.WebhookEndpoint[] = [];
  for await (const endpoint of stripe.webhookEndpoints.list({ limit: 100 })) if (endpoint.url === url) found.push(endpoint);
  return found;
}

/** Events of STRIPE_WEBHOOK_EVENTS the endpoint does not listen to. */
export function missingEvents(endpoint: Pick<Stripe.WebhookEndpoint, 'enabled_events'>): string[] {
  if (endpoint.enabled_events.includes('*')) return [];
  return STRIPE_WEBHOOK_EVENTS.filter((type) => !endpoint.enabled_events.includes(type));
}

export async function setupWebhookEndpoint(stripe: Stripe, url: string, options: { dryRun: boolean }): Promise<WebhookSetupResult> {
  const [endpoint, ...duplicates] = await endpointsAt(stripe, url);
  const duplicateIds = duplicates.map((d) => d.id);
  if (!endpoint) {
    if (options.dryRun) return { action: 'would create', endpointId: undefined, detail: `${STRIPE_WEBHOOK_EVENTS.length} events`, duplicateIds };
    const params: Stripe.WebhookEndpointCreateParams = {
      url,
      enabled_events: [...STRIPE_WEBHOOK_EVENTS],
      api_version: Stripe.API_VERSION as Stripe.WebhookEndpointCreateParams.ApiVersion,
      description: 'kong-portal-monetization provisioner',
      metadata: { kong_portal_monetization: 'true' },
    };
    const created = await stripe.webhookEndpoints.create(params, { idempotencyKey: idempotencyKey('webhook', params) });
    return { action: 'created', endpointId: created.id, ...(created.secret ? { secret: created.secret } : {}), detail: `${STRIPE_WEBHOOK_EVENTS.length} events`, duplicateIds };
  }
  const missing = missingEvents(endpoint);
  const disabled = endpoint.status !== 'enabled';
  if (!missing.length && !disabled) return { action: 'unchanged', endpointId: endpoint.id, detail: 'enabled, every needed event', duplicateIds };
  const detail = [disabled ? 'enabled it' : '', missing.length ? `added ${missing.join(', ')}` : ''].filter(Boolean).join('; ');
  if (options.dryRun) return { action: 'would update', endpointId: endpoint.id, detail, duplicateIds };
  const events = endpoint.enabled_events.includes('*') ? ['*'] : [...new Set([...endpoint.enabled_events, ...missing])];
  await stripe.webhookEndpoints.update(endpoint.id, { enabled_events: events as Stripe.WebhookEndpointUpdateParams.EnabledEvent[], disabled: false });
  return { action: 'updated', endpointId: endpoint.id, detail, duplicateIds };
}
