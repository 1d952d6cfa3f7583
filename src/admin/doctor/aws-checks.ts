/**
 * doctor under GATEWAY=aws: no Kong to check. Instead: the AWS credentials sign requests that
 * API Gateway accepts in AWS_REGION; each usage plan of AWS_API_GATEWAY_USAGE_PLANS exists and is
 * attached to a stage; each of those REST APIs takes keys from the x-api-key HEADER and requires
 * a key on every method; each stage's access log maps "user" to $context.identity.apiKeyId (what
 * Moesif's AWS integration reads as the user id); each usage plan's throttle and quota are what
 * aws-setup makes of the plans file. The Stripe, Moesif, plans and provisioner checks are the
 * hosted mode's own.
 */
import { GetResourcesCommand, GetRestApiCommand, GetStagesCommand, GetUsagePlanCommand, GetUsagePlansCommand, type UsagePlan } from '@aws-sdk/client-api-gateway';
import { describeAwsError } from '../../provisioner/gateways/aws/aws-client.ts';
import { usagePlanLimitsOf, usagePlanPatch, formatOperation } from '../aws-setup/usage-plan-limits.ts';
import { fail, pass, type Check, type CheckOutcome } from './check-runner.ts';
import { ADMIN_API, KEY_AUTH, MOESIF_PLUGIN, PLANS_FILE, type AwsDoctorInputs, type DoctorState } from './doctor-checks.ts';
import { MOESIF_IDENTITY } from './moesif-identity-check.ts';
import { HOSTED_DOCTOR_CHECKS } from './hosted-checks.ts';

export const AWS_CREDENTIALS = 'AWS credentials and region';
export const AWS_USAGE_PLANS = 'AWS usage plans';
const AWS_API_KEYS_REQUIRED = 'AWS API key source and required keys';
const AWS_ACCESS_LOG = 'AWS access log for Moesif';
export const AWS_USAGE_PLAN_LIMITS = 'AWS usage plan limits';

type AwsState = DoctorState & { aws?: AwsDoctorInputs | Error; awsPlans?: UsagePlan[] };

function awsOf(state: AwsState): AwsDoctorInputs | CheckOutcome {
  if (!state.aws) return fail('GATEWAY is not aws', 'set GATEWAY=aws');
  if (state.aws instanceof Error) return fail(state.aws.message, 'hint' in state.aws && typeof state.aws.hint === 'string' ? state.aws.hint : 'fix the setting named above');
  return state.aws;
}
const isOutcome = (value: AwsDoctorInputs | CheckOutcome): value is CheckOutcome => 'ok' in value;

function failure(error: unknown, operation: string): CheckOutcome {
  const described = describeAwsError(error, operation);
  return fail(described.message, described.hint ?? 'run the call with the AWS CLI to see more');
}

const credentials: Check<AwsState> = {
  name: AWS_CREDENTIALS,
  async run(state) {
    const aws = awsOf(state);
    if (isOutcome(aws)) return aws;
    try {
      await aws.gateway.keys.client.send(new GetUsagePlansCommand({ limit: 1 }));
    } catch (error) {
      return failure(error, `list usage plans in ${aws.settings.region}`);
    }
    return pass(`signed requests accepted by API Gateway in ${aws.settings.region}${aws.settings.endpoint ? ` (endpoint ${aws.settings.endpoint})` : ''}`);
  },
};

const usagePlans: Check<AwsState> = {
  name: AWS_USAGE_PLANS,
  async run(state) {
    const aws = awsOf(state);
    if (isOutcome(aws)) return aws;
    const found: UsagePlan[] = [];
    const problems: string[] = [];
    for (const [plan, id] of Object.entries(aws.settings.usagePlans)) {
      try {
        const usagePlan = await aws.gateway.keys.client.send(new GetUsagePlanCommand({ usagePlanId: id }));
        if (!usagePlan.apiStages?.length) problems.push(`${id} (plan ${plan}) is attached to no API stage`);
        found.push(usagePlan);
      } catch (error) {
        problems.push(describeAwsError(error, `usage plan ${id} (plan ${plan})`).message);
      }
    }
    state.awsPlans = found;
    if (problems.length) return fail(problems.join('; '), 'create the usage plans in API Gateway > Usage plans, add the API stage to each, and list them in AWS_API_GATEWAY_USAGE_PLANS');
    const limits = found.map((p) => `${p.id}${p.throttle ? ` ${p.throttle.rateLimit}/s burst ${p.throttle.burstLimit}` : ''}${p.quota ? ` quota ${p.quota.limit}/${p.quota.period}` : ''}`);
    return pass(`${found.length} usage plan(s), each on a stage: ${limits.join(', ')}`);
  },
};

/** The REST APIs and stages the usage plans are attached to. */
const stagesOf = (state: AwsState) => [...new Map((state.awsPlans ?? []).flatMap((plan) => plan.apiStages ?? []).map((s) => [`${s.apiId}/${s.stage}`, { apiId: s.apiId ?? '', stage: s.stage ?? '' }])).values()];

const keysRequired: Check<AwsState> = {
  name: AWS_API_KEYS_REQUIRED,
  async run(state) {
    const aws = awsOf(state);
    if (isOutcome(aws)) return aws;
    const problems: string[] = [];
    const apiIds = [...new Set(stagesOf(state).map((s) => s.apiId))];
    if (!apiIds.length) return fail('no REST API to check (no usage plan is attached to a stage)', 'fix the usage plans first');
    for (const apiId of apiIds) {
      try {
        const api = await aws.gateway.keys.client.send(new GetRestApiCommand({ restApiId: apiId }));
        if (api.apiKeySource !== 'HEADER') problems.push(`API ${apiId} takes keys from ${api.apiKeySource ?? '?'}, not HEADER`);
        const resources = await aws.gateway.keys.client.send(new GetResourcesCommand({ restApiId: apiId, embed: ['methods'], limit: 500 }));
        for (const resource of resources.items ?? [])
          for (const [verb, method] of Object.entries(resource.resourceMethods ?? {}))
            if (verb !== 'OPTIONS' && !method.apiKeyRequired) problems.push(`${verb} ${resource.path} of API ${apiId} does not require an API key`);
      } catch (error) {
        problems.push(describeAwsError(error, `read REST API ${apiId}`).message);
      }
    }
    if (problems.length) return fail(problems.join('; '), 'set API key source to HEADER and "API key required" on each method, then deploy the stage again');
    return pass(`${apiIds.length} REST API(s): keys from the x-api-key header, required on every method`);
  },
};

const accessLog: Check<AwsState> = {
  name: AWS_ACCESS_LOG,
  async run(state) {
    const aws = awsOf(state);
    if (isOutcome(aws)) return aws;
    const problems: string[] = [];
    const stages = stagesOf(state);
    for (const apiId of [...new Set(stages.map((s) => s.apiId))]) {
      try {
        const all = (await aws.gateway.keys.client.send(new GetStagesCommand({ restApiId: apiId }))).item ?? [];
        for (const stage of all.filter((s) => stages.some((wanted) => wanted.apiId === apiId && wanted.stage === s.stageName))) {
          const format = stage.accessLogSettings?.format ?? '';
          if (!/"user"\s*:\s*"\$context\.identity\.apiKeyId"/.test(format)) problems.push(`stage ${apiId}/${stage.stageName} has ${format ? 'an access log without' : 'no access log with'} "user": "$context.identity.apiKeyId"`);
        }
      } catch (error) {
        problems.push(describeAwsError(error, `read the stages of ${apiId}`).message);
      }
    }
    if (problems.length) return fail(problems.join('; '), 'in the stage\'s Logs/tracing settings, send access logs to the Moesif integration with a JSON format that includes "user": "$context.identity.apiKeyId"');
    return pass(`${stages.length} stage(s) log "user": "$context.identity.apiKeyId" for Moesif`);
  },
};

/** Each usage plan's throttle and quota against what aws-setup makes of the plans file. */
const usagePlanLimits: Check<AwsState> = {
  name: AWS_USAGE_PLAN_LIMITS,
  needs: [AWS_USAGE_PLANS, PLANS_FILE],
  async run(state) {
    const aws = awsOf(state);
    if (isOutcome(aws)) return aws;
    if (state.plans instanceof Error) return fail(state.plans.message, 'fix the plans file first');
    const problems: string[] = [];
    for (const [index, plan] of state.plans.plans.entries()) {
      const usagePlan = (state.awsPlans ?? []).find((found) => found.id === aws.settings.usagePlans[plan.id]);
      if (!usagePlan) continue;
      const operations = usagePlanPatch(usagePlan, usagePlanLimitsOf(plan, index));
      if (operations.length) problems.push(`usage plan ${usagePlan.id} (plan ${plan.id}) differs from the plans file (${operations.map(formatOperation).join(', ')})`);
    }
    if (problems.length) return fail(problems.join('; '), 'run `npm run aws:setup -- --dry-run` to see the change, then `npm run aws:setup`');
    return pass(`${state.plans.plans.length} usage plan(s) hold the plans file's rate limits and hard quotas (AWS applies them best-effort; the product's own quota decides)`);
  },
};

/** The hosted checks that are not Kong's, with the usage plan limits check right after the plans file's. */
function afterPlansFile(checks: Check<AwsState>[]): Check<AwsState>[] {
  const at = checks.findIndex((check) => check.name === PLANS_FILE) + 1;
  return at > 0 ? [...checks.slice(0, at), usagePlanLimits, ...checks.slice(at)] : [...checks, usagePlanLimits];
}

// The Moesif identity check reads Kong's plugins: on AWS the access log's "user" (accessLog) stands for it.
const KONG_ONLY = new Set([ADMIN_API, KEY_AUTH, MOESIF_PLUGIN, MOESIF_IDENTITY]);

/** GATEWAY=aws checks, in print order: AWS first, then the hosted mode's checks that are not Kong's. */
export const AWS_DOCTOR_CHECKS = [credentials, usagePlans, keysRequired, accessLog, ...afterPlansFile(HOSTED_DOCTOR_CHECKS.filter((check) => !KONG_ONLY.has(check.name)) as Check<AwsState>[])];
