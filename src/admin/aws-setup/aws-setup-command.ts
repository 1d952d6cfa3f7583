/**
 * `portal-monetization aws-setup [--plans FILE] [--dry-run]`: makes each AWS usage plan of
 * AWS_API_GATEWAY_USAGE_PLANS hold its plan's rate limit and hard quota (usage-plan-limits.ts),
 * printing the UpdateUsagePlan patch operations it sends or, with --dry-run, would send.
 */
import { Command, parseArgs } from '../../shared/command-line.ts';
import { loadPlansFile } from '../../shared/plans.ts';
import { plural } from '../../shared/plural.ts';
import { createApiGatewayClient } from '../../provisioner/gateways/aws/aws-client.ts';
import { parseAwsApiGatewayEnv } from '../../provisioner/settings/aws-settings.ts';
import { formatTable } from '../shared/text-table.ts';
import { setupUsagePlanLimits, type AwsSetupResult } from './aws-setup.ts';
import { formatOperation, formatQuota, formatThrottle } from './usage-plan-limits.ts';

interface AwsSetupFlags {
  plans?: string;
  dryRun?: boolean;
}

function awsSetupProgram(): Command {
  return new Command('portal-monetization aws-setup')
    .description(
      "Make each AWS API Gateway usage plan of AWS_API_GATEWAY_USAGE_PLANS hold its plan's limits from the plans file: the rate limit as the usage plan's throttle, a hard quota as a monthly quota backstop.\nIdempotent: a usage plan that already matches gets no write. AWS applies throttles and quotas on a best-effort basis; the product's own quota stays the authority.",
    )
    .option('--plans <file>', 'plans file (JSON); default: $PLANS_FILE, else plans.example.json')
    .option('--dry-run', 'read AWS and print the patch operations it would send; write nothing')
    .addHelpText(
      'after',
      `
How the plans file maps onto a usage plan:
  limits.rate (calls per second/minute/hour)  throttle: rateLimit = the lowest calls/second of its windows,
                                              burstLimit = the calls of its shortest window
  limits.quota, enforcement "hard"            quota: MONTH, offset 0, limit 2 x calls (a calendar month, UTC,
                                              can hold the end of one billing period and the start of the next)
  limits.quota "soft", or no quota            no quota (a soft quota never refuses: the overage is billed)
  no limits.rate                              no throttle

Environment:
  AWS_REGION (or AWS_DEFAULT_REGION)  (required) region of the usage plans
  AWS_API_GATEWAY_USAGE_PLANS         (required) plan=usagePlanId pairs, one per plan of the plans file
  AWS_ENDPOINT_URL_API_GATEWAY        an API Gateway endpoint instead of AWS's (the sandbox emulator)
  PLANS_FILE                          default for --plans
  Credentials: the AWS SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO,
  an instance or task role), with apigateway:GET and apigateway:PATCH on /usageplans/*.

Examples:
  npm run aws:setup -- --dry-run
  npm run aws:setup -- --plans ./plans.json`,
    );
}

function formatAwsSetupResult(result: AwsSetupResult): string {
  const rows = result.rows.map((row) => [
    row.plan,
    row.usagePlanId,
    `${formatThrottle(row.current.throttle)} -> ${formatThrottle(row.wanted.throttle)}`,
    `${formatQuota(row.current.quota)} -> ${formatQuota(row.wanted.quota)}`,
    row.action,
    row.detail,
  ]);
  const table = formatTable(['plan', 'usage plan', 'throttle (AWS -> plans file)', 'quota (AWS -> plans file)', 'action', 'detail'], rows);
  const operations = result.rows
    .filter((row) => row.operations.length > 0)
    .map((row) => [`UpdateUsagePlan ${row.usagePlanId} (plan ${row.plan}):`, ...row.operations.map((op) => `  ${formatOperation(op)}`)].join('\n'));
  const notes = result.rows.map((row) => `${row.plan}: ${row.wanted.notes.join('; ')}`);
  const summary = result.dryRun
    ? 'dry run: nothing was written'
    : result.writes === 0 && result.ok
      ? 'AWS already matches the plans file: 0 writes'
      : `${plural(result.writes, 'usage plan')} updated`;
  return [table, '', ...notes, ...(operations.length ? ['', ...operations] : []), '', `${summary}${result.ok ? '' : '\nsome usage plans failed: see "detail"; fix them and run again (usage plans that match are not written again)'}`].join('\n');
}

export async function runAwsSetupCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseArgs<AwsSetupFlags>(awsSetupProgram(), argv);
  if (!parsed.ok) return parsed.exitCode;
  const file = parsed.options.plans ?? (env.PLANS_FILE?.trim() || 'plans.example.json');
  const dryRun = parsed.options.dryRun ?? false;
  // Everything local is checked before the first AWS call.
  const plans = await loadPlansFile(file);
  const settings = parseAwsApiGatewayEnv(env, plans);
  const client = createApiGatewayClient(settings, { maxAttempts: 3 });
  console.log(`plans file ${file}: ${plural(plans.plans.length, 'plan')}; AWS API Gateway in ${settings.region}${settings.endpoint ? ` at ${settings.endpoint}` : ''}${dryRun ? ' (dry run)' : ''}\n`);
  const result = await setupUsagePlanLimits(client, plans, settings.usagePlans, { dryRun });
  console.log(formatAwsSetupResult(result));
  return result.ok ? 0 : 1;
}
