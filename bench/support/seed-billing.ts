/**
 * Makes thousands of Kong developers whole in Stripe fast, for benches that need a large
 * already-billed population: the provisioner's own createProvisioner runs against the Stripe
 * emulator's fetch handler in process (stripe-node's fetch HTTP client, no sockets, no pacing),
 * so the seeded customers and subscriptions are exactly what the provisioner would have made.
 * Moesif is skipped here (reconcile re-sends it anyway).
 */
import Stripe from 'stripe';
import type { KongDeveloper } from '../../src/kong/kong-types.ts';
import { createMoesifSync } from '../../src/provisioner/moesif/moesif-sync.ts';
import { createPriceResolver } from '../../src/provisioner/core/plan-prices.ts';
import { createProvisioner } from '../../src/provisioner/core/provisioner.ts';
import type { ProvisionerSettings } from '../../src/provisioner/settings/settings.ts';
import type { RunningStripeEmulator } from '../../src/sandbox/stripe/stripe-emulator.ts';
import { mapPool } from './pool.ts';

export async function seedWholeDevelopers(stripeEmulator: RunningStripeEmulator, settings: ProvisionerSettings, developers: readonly KongDeveloper[]): Promise<void> {
  const inProcessFetch: typeof fetch = async (input, init) => stripeEmulator.fetch(new Request(input, init), undefined);
  const stripe = new Stripe(settings.stripe.secretKey, {
    ...stripeEmulator.clientOptions,
    httpClient: Stripe.createFetchHttpClient(inProcessFetch),
    maxNetworkRetries: 0,
    telemetry: false,
  });
  const provisioner = createProvisioner({
    stripe,
    kong: { getDeveloper: async () => undefined },
    moesif: createMoesifSync({ upsertCompany: async () => {}, upsertUser: async () => {}, check: async () => 201 }),
    prices: createPriceResolver(stripe),
    plans: settings.plans,
    workspace: settings.kong.workspace,
    provisionStatuses: settings.provisionStatuses,
    companyIdSource: settings.moesif.companyIdSource,
    // Fresh developers in an empty account: the interactive path's direct creates (stable keys, no
    // lookup first) make the same objects without listing Stripe per developer (tens of thousands).
    skipLookupsForDevelopersSince: 0,
  });
  await mapPool(developers, 16, (developer) => provisioner.provisionDeveloper(developer, { mode: 'interactive' }));
}
