/**
 * Backfill for the hosted signup, the consumers' counterpart of `reconcile`: every consumer the
 * signup made (tagged) is made whole through the same provisioning core in 'reconcile' mode (reads
 * Stripe before writing) and its access at Kong converged. A failure is counted and the walk goes
 * on; a consumer whose subscription ended gets nothing new.
 */
import type { KongConsumers } from '../../kong/kong-consumers.ts';
import type { AccessSync } from '../core/access-sync.ts';
import type { Provisioner } from '../provisioner.ts';
import { consumerAsDeveloper, SIGNUP_CONSUMER_TAGS } from './consumer-directory.ts';

export interface ConsumerReconcileResult {
  consumers: number;
  created: { customers: number; subscriptions: number };
  ended: number;
  failed: Array<{ consumerId: string; message: string }>;
}

export async function reconcileSignupConsumers(deps: {
  consumers: Pick<KongConsumers, 'list'>;
  provisioner: Pick<Provisioner, 'provisionDeveloper'>;
  access: AccessSync;
}): Promise<ConsumerReconcileResult> {
  const result: ConsumerReconcileResult = { consumers: 0, created: { customers: 0, subscriptions: 0 }, ended: 0, failed: [] };
  for (const consumer of await deps.consumers.list([...SIGNUP_CONSUMER_TAGS])) {
    result.consumers += 1;
    const developer = consumerAsDeveloper(consumer);
    try {
      const outcome = await deps.provisioner.provisionDeveloper(developer, { mode: 'reconcile' });
      if (outcome.created.customer) result.created.customers += 1;
      if (outcome.created.subscription) result.created.subscriptions += 1;
      if (outcome.ended) result.ended += 1;
      await deps.access.syncDeveloper(developer);
    } catch (error) {
      result.failed.push({ consumerId: consumer.id, message: (error as Error).message });
    }
  }
  return result;
}
