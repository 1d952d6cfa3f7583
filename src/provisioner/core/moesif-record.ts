/** The Moesif company and user for a provisioned developer: user_id = custom_id or email, company_id = subscription (or customer) id. */
import type { KongDeveloper } from '../../kong/kong-types.ts';
import type { MoesifRecord } from '../moesif/moesif-sync.ts';
import type { MoesifCompanyIdSource } from '../moesif/moesif-client.ts';
import { developerName } from './plan-choice.ts';

export function moesifRecord(
  developer: KongDeveloper,
  workspace: string,
  planId: string,
  ids: { customerId: string; subscriptionId: string },
  companyIdSource: MoesifCompanyIdSource,
): MoesifRecord {
  const companyId = companyIdSource === 'customer' ? ids.customerId : ids.subscriptionId;
  const name = developerName(developer);
  const stripeIds = { stripe_customer_id: ids.customerId, stripe_subscription_id: ids.subscriptionId };
  return {
    developerId: developer.id,
    company: { company_id: companyId, metadata: { ...stripeIds, plan: planId, kong_workspace: workspace } },
    user: {
      // The id the gateway logs calls under: Kong's plugin prefers custom_id over the username (email); AWS logs the API key id, carried as custom_id.
      user_id: developer.custom_id || developer.email,
      company_id: companyId,
      metadata: { email: developer.email, ...(name ? { name } : {}), ...stripeIds, kong_developer_id: developer.id, kong_workspace: workspace, plan: planId },
    },
  };
}
