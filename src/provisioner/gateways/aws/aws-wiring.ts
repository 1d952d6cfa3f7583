/**
 * GATEWAY=aws wiring for the provisioner, reconcile and doctor: the gateway from settings, the
 * developers reconcile walks, the readiness check, and the start-up preflight that refuses bad
 * settings (unknown usage plan, unusable credentials, wrong region) before anything is written.
 */
import { GetUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import type { KongDeveloper } from '../../../kong/kong-types.ts';
import { SettingError } from '../../../shared/errors.ts';
import { consumerAsDeveloper } from '../../hosted-signup/consumer-directory.ts';
import { awsErrorName, createApiGatewayClient, describeAwsError } from './aws-client.ts';
import { AwsApiKeys } from './aws-api-keys.ts';
import { AwsSignupGateway, keyAsConsumer } from './aws-gateway.ts';
import type { AwsGatewaySettings } from './aws-settings.ts';

export function createAwsSignupGateway(settings: AwsGatewaySettings, options: { maxAttempts?: number } = {}): AwsSignupGateway {
  const client = createApiGatewayClient(settings, options);
  return new AwsSignupGateway(new AwsApiKeys({ client, region: settings.region, usagePlans: settings.usagePlans }));
}

/** Reconcile's walk: every API key of ours, as a developer. */
export async function* awsDevelopers(gateway: AwsSignupGateway): AsyncGenerator<KongDeveloper> {
  for (const key of await gateway.keys.listOurs()) yield consumerAsDeveloper(keyAsConsumer(key));
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
