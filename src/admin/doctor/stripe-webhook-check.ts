/**
 * doctor's Stripe webhook check: without the endpoint, Stripe never tells the provisioner that an
 * invoice failed or was paid, and Kong access stops following Stripe. The endpoint must exist at
 * this provisioner's /stripe/webhooks, be enabled, and listen to every event the provisioner needs.
 */
import type Stripe from 'stripe';
import { missingEvents } from '../stripe-setup/webhook-setup.ts';
import { describeStripeError } from '../shared/stripe-failure.ts';
import { fail, pass, type Check } from './check-runner.ts';

const STRIPE_WEBHOOK = 'Stripe webhook endpoint';

interface WebhookCheckState {
  provisionerUrl: string;
  stripe: { client: Stripe } | Error;
}

export function stripeWebhookCheck(needs: string[]): Check<WebhookCheckState> {
  return {
    name: STRIPE_WEBHOOK,
    needs,
    async run(state) {
      const stripe = (state.stripe as { client: Stripe }).client;
      const url = `${state.provisionerUrl.replace(/\/+$/, '')}/stripe/webhooks`;
      const setup = `npm run stripe:setup -- --webhook-url ${url}`;
      const endpoints: Stripe.WebhookEndpoint[] = [];
      try {
        for await (const endpoint of stripe.webhookEndpoints.list({ limit: 100 })) endpoints.push(endpoint);
      } catch (error) {
        return fail(`cannot list Stripe webhook endpoints: ${describeStripeError(error)}`, 'a restricted key needs read access to webhook endpoints');
      }
      const ours = endpoints.filter((endpoint) => endpoint.url === url);
      if (!ours.length) {
        const elsewhere = endpoints.filter((endpoint) => endpoint.metadata?.kong_portal_monetization === 'true').map((endpoint) => endpoint.url);
        return fail(
          `no webhook endpoint points at ${url}${elsewhere.length ? ` (ours point at ${elsewhere.join(', ')})` : ''}: Kong access will not follow payments`,
          `${setup}, then set STRIPE_WEBHOOK_SECRET to the secret it prints`,
        );
      }
      if (ours.length > 1) return fail(`${ours.length} endpoints point at ${url}: every event is delivered ${ours.length} times`, 'delete all but one in the Stripe Dashboard');
      const [endpoint] = ours as [Stripe.WebhookEndpoint];
      if (endpoint.status !== 'enabled') return fail(`${endpoint.id} at ${url} is disabled`, setup);
      const missing = missingEvents(endpoint);
      if (missing.length) return fail(`${endpoint.id} does not send ${missing.join(', ')}`, setup);
      return pass(`${endpoint.id} enabled, every needed event`);
    },
  };
}
