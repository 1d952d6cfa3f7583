/**
 * aws-setup's work: every usage plan of AWS_API_GATEWAY_USAGE_PLANS made to hold its plan's limits
 * (usage-plan-limits.ts). Everything is read and checked before the first write: a plan AWS cannot
 * express, a usage plan that does not exist, or two plans sharing a usage plan with different
 * limits stop the run with nothing written. Idempotent: a usage plan that already matches gets no
 * UpdateUsagePlan, so a second run writes nothing.
 */
import { GetUsagePlanCommand, UpdateUsagePlanCommand, type APIGatewayClient, type PatchOperation, type UsagePlan } from '@aws-sdk/client-api-gateway';
import { SettingError } from '../../shared/errors.ts';
import type { PlansFile } from '../../shared/plans.ts';
import { awsErrorName, describeAwsError } from '../../provisioner/gateways/aws/aws-client.ts';
import { usagePlanLimitsOf, usagePlanPatch, type UsagePlanLimits } from './usage-plan-limits.ts';

type UsagePlanAction = 'unchanged' | 'would update' | 'updated' | 'failed';

interface UsagePlanRow {
  plan: string;
  usagePlanId: string;
  current: Pick<UsagePlan, 'throttle' | 'quota'>;
  wanted: UsagePlanLimits;
  operations: PatchOperation[];
  action: UsagePlanAction;
  detail: string;
}

export interface AwsSetupResult {
  rows: UsagePlanRow[];
  writes: number;
  dryRun: boolean;
  ok: boolean;
}

/** Each plan's wanted limits, before any AWS call; two plans on one usage plan must agree. */
function wantedLimits(plans: PlansFile, usagePlans: Record<string, string>): Array<{ plan: string; usagePlanId: string; wanted: UsagePlanLimits }> {
  const wanted = plans.plans.flatMap((plan, index) => {
    const usagePlanId = usagePlans[plan.id];
    return usagePlanId ? [{ plan: plan.id, usagePlanId, wanted: usagePlanLimitsOf(plan, index) }] : [];
  });
  for (const [i, row] of wanted.entries()) {
    const other = wanted.slice(0, i).find((earlier) => earlier.usagePlanId === row.usagePlanId);
    if (other && usagePlanPatch({ throttle: other.wanted.throttle, quota: other.wanted.quota }, row.wanted).length > 0)
      throw new SettingError('AWS_API_GATEWAY_USAGE_PLANS', `plans ${other.plan} and ${row.plan} share usage plan ${row.usagePlanId} but their limits differ`, 'give each plan with its own limits its own usage plan');
  }
  return wanted;
}

async function readUsagePlan(client: APIGatewayClient, plan: string, usagePlanId: string): Promise<UsagePlan> {
  try {
    return await client.send(new GetUsagePlanCommand({ usagePlanId }));
  } catch (error) {
    if (awsErrorName(error) === 'NotFoundException')
      throw new SettingError('AWS_API_GATEWAY_USAGE_PLANS', `usage plan ${usagePlanId} (plan ${plan}) does not exist in this region`, 'copy the id from API Gateway > Usage plans in that region, or fix AWS_REGION');
    throw describeAwsError(error, `read usage plan ${usagePlanId} (plan ${plan})`);
  }
}

/** The rows as they stand: current limits, wanted limits and the operations between them. Reads only. */
async function planUsagePlanLimits(client: APIGatewayClient, plans: PlansFile, usagePlans: Record<string, string>): Promise<UsagePlanRow[]> {
  const rows: UsagePlanRow[] = [];
  for (const { plan, usagePlanId, wanted } of wantedLimits(plans, usagePlans)) {
    const shared = rows.find((row) => row.usagePlanId === usagePlanId);
    const usagePlan = await readUsagePlan(client, plan, usagePlanId);
    const current = { throttle: usagePlan.throttle, quota: usagePlan.quota };
    // A usage plan shared with an earlier plan (same limits, checked above) is written once.
    const operations = shared ? [] : usagePlanPatch(current, wanted);
    const detail = shared ? `same usage plan as plan ${shared.plan}` : operations.length ? `${operations.length} patch operation(s)` : 'matches the plans file';
    rows.push({ plan, usagePlanId, current, wanted, operations, action: operations.length ? 'would update' : 'unchanged', detail });
  }
  return rows;
}

/** Plans, then (unless dryRun) one UpdateUsagePlan per usage plan that differs; a failed write is reported on its row. */
export async function setupUsagePlanLimits(client: APIGatewayClient, plans: PlansFile, usagePlans: Record<string, string>, options: { dryRun: boolean }): Promise<AwsSetupResult> {
  const rows = await planUsagePlanLimits(client, plans, usagePlans);
  let writes = 0;
  if (!options.dryRun) {
    for (const row of rows.filter((r) => r.operations.length > 0)) {
      try {
        await client.send(new UpdateUsagePlanCommand({ usagePlanId: row.usagePlanId, patchOperations: row.operations }));
        writes += 1;
        row.action = 'updated';
      } catch (error) {
        row.action = 'failed';
        row.detail = describeAwsError(error, `update usage plan ${row.usagePlanId} (plan ${row.plan})`).message;
      }
    }
  }
  return { rows, writes, dryRun: options.dryRun, ok: rows.every((row) => row.action !== 'failed') };
}
