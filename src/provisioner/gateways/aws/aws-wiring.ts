/**
 * GATEWAY=aws wiring for the provisioner, reconcile and doctor: the gateway from settings, the
 * developers reconcile walks, the readiness check, and the start-up preflight that refuses bad
 * settings (unknown usage plan, unusable credentials, wrong region) before anything is written.
 */
import { GetUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import type { KongDeveloper } from '../../../kong/kong-types.ts';
import type { AccessSync, SyncOptions } from '../../core/access-sync.ts';
import { SettingError } from '../../../shared/errors.ts';
import { consumerAsDeveloper } from '../../hosted-signup/consumer-directory.ts';
import { awsErrorName, createApiGatewayClient, describeAwsError } from './aws-client.ts';
import { AwsApiKeys } from './aws-api-keys.ts';
import { AwsSignupGateway, developerAsConsumer } from './aws-gateway.ts';
import { settleReplacements } from './aws-key-rotation.ts';
import type { AwsGatewaySettings } from '../../settings/aws-settings.ts';

export function createAwsSignupGateway(settings: AwsGatewaySettings, options: { maxAttempts?: number } = {}): AwsSignupGateway {
  const client = createApiGatewayClient(settings, options);
  return new AwsSignupGateway(new AwsApiKeys({ client, region: settings.region, usagePlans: settings.usagePlans }));
}

/** Reconcile's walk: every developer of ours once (their keys grouped by developer id), as a developer. */
export async function* awsDevelopers(gateway: AwsSignupGateway): AsyncGenerator<KongDeveloper> {
  for (const developer of await gateway.developers.all()) yield consumerAsDeveloper(developerAsConsumer(developer));
}

/**
 * Reconcile's access sync on AWS (never run by a dry run): first a key replacement left half-way
 * longer than any link lives is settled (aws-key-rotation.ts), then the core's sync, then every key
 * follows the plan Stripe bills (usage plan and tag), which repairs a crash in the middle of a plan
 * move: reconcile never replays the Stripe event that started it.
 */
export function awsReconcileSync(gateway: AwsSignupGateway, access: AccessSync, now: () => number = Date.now) {
  return async (developer: KongDeveloper, options: SyncOptions) => {
    const keys = await gateway.developers.find(developer.id);
    if (keys) await settleReplacements(gateway.keys, keys, now());
    const outcome = await access.syncDeveloper(developer, options);
    const plan = outcome?.plan?.id;
    if (plan && gateway.keys.usagePlans[plan]) await gateway.directory().updateDeveloperMeta(developer.id, JSON.stringify({ plan }));
    return outcome;
  };
}

/** Each usage plan of AWS_API_GATEWAY_USAGE_PLANS exists in this region with these credentials. */
export async function checkUsagePlans(gateway: AwsSignupGateway, settings: Pick<AwsGatewaySettings, 'usagePlans' | 'region'>): Promise<void> {
  for (const [plan, usagePlanId] of Object.entries(settings.usagePlans)) {
    try {
      await gateway.keys.client.send(new GetUsagePlanCommand({ usagePlanId }));
    } catch (error) {
      if (awsErrorName(error) === 'NotFoundException')
        throw new SettingError('AWS_API_GATEWAY_USAGE_PLANS', `usage plan ${usagePlanId} (plan ${plan}) does not exist in ${settings.region}`, 'copy the id from API Gateway > Usage plans in that region, or fix AWS_REGION');
      throw describeAwsError(error, `read usage plan ${usagePlanId}`);
    }
  }
}

export function awsReadinessCheck(gateway: AwsSignupGateway) {
  return {
    name: 'aws',
    check: async () => {
      const first = Object.values(gateway.keys.usagePlans)[0];
      if (first) await gateway.keys.client.send(new GetUsagePlanCommand({ usagePlanId: first }));
    },
  };
}
