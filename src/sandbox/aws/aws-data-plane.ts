/**
 * The AWS API Gateway emulator's invoke URL: `/{stage}/{path}` of its one REST API. A method with
 * apiKeyRequired takes the key from `x-api-key` (API key source HEADER) and answers as AWS's default
 * gateway responses do: 403 {"message":"Forbidden"} (INVALID_API_KEY) for a missing, unknown or
 * disabled key or one in no usage plan of this stage; 429 {"message":"Too Many Requests"}
 * (THROTTLED) past the usage plan's rate/burst; 429 {"message":"Limit Exceeded"} (QUOTA_EXCEEDED)
 * past its quota; 403 {"message":"Missing Authentication Token"} for a path with no method.
 * Every call is sent to the Moesif emulator as Moesif's AWS integration would from the access log
 * with `"user": "$context.identity.apiKeyId"`: the user is the API key id.
 */
import { postCollectorEvent } from '../moesif/collector-event.ts';
import type { ApiKeyRecord, AwsGatewayState, QuotaSettings, RestApiRecord, UsagePlanRecord } from './aws-state.ts';

export interface DataPlaneOptions {
  state: AwsGatewayState;
  /** The clock quotas count by (the sandbox passes Stripe's, so an advanced month renews the quota). */
  now: () => number;
  /** Real time for throttling: rate is per wall-clock second. */
  clock: () => number;
  moesif?: { url: string; applicationId: string } | undefined;
  deliveries: Array<{ userId: string | undefined; status: number | undefined; error?: string }>;
  track(work: Promise<void>): void;
}

type Refusal = { status: number; message: string; type: string };

const gatewayAnswer = (status: number, message: string, type: string) =>
  Response.json({ message }, { status, headers: { 'x-amzn-errortype': type, 'x-amzn-requestid': crypto.randomUUID() } });

/**
 * Start of the quota period holding `at`: UTC calendar periods (DAY from midnight, WEEK from Sunday,
 * MONTH from the 1st). The quota's offset does not move them: AWS's API reference (QuotaSettings)
 * describes `offset` as requests subtracted from the limit in the initial period (see overQuota).
 * Older SDK docs called it the day a period starts; AWS's current reference, CloudFormation and
 * the SDK typings we build on all say requests, so the emulator follows that.
 */
export function quotaPeriodStart(quota: QuotaSettings, at: number): number {
  const date = new Date(at);
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  if (quota.period === 'DAY') return day;
  if (quota.period === 'WEEK') return day - date.getUTCDay() * 86_400_000;
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/**
 * The calls the quota allows in the period starting at `periodStart`: the limit, less `offset` in
 * the initial period. Which period is "initial" is not documented; the stricter case is modelled:
 * the first period each key counts against this usage plan (a key added later gets a reduced
 * first period too), never below 0.
 */
export function quotaLimitFor(quota: QuotaSettings, periodStart: number, firstPeriodStart: number): number {
  return periodStart === firstPeriodStart ? Math.max(0, quota.limit - quota.offset) : quota.limit;
}

function throttled(options: DataPlaneOptions, key: ApiKeyRecord, plan: UsagePlanRecord): boolean {
  if (!plan.throttle) return false;
  const { rateLimit, burstLimit } = plan.throttle;
  const at = options.clock();
  const id = `${plan.id}/${key.id}`;
  const bucket = options.state.buckets.get(id) ?? { tokens: burstLimit, at };
  bucket.tokens = Math.min(burstLimit, bucket.tokens + ((at - bucket.at) / 1000) * rateLimit);
  bucket.at = at;
  options.state.buckets.set(id, bucket);
  if (bucket.tokens < 1) return true;
  bucket.tokens -= 1;
  return false;
}

function overQuota(options: DataPlaneOptions, key: ApiKeyRecord, plan: UsagePlanRecord): boolean {
  if (!plan.quota) return false;
  const id = `${plan.id}/${key.id}`;
  const periodStart = quotaPeriodStart(plan.quota, options.now());
  const counter = options.state.quotaUsed.get(id);
  const firstPeriodStart = counter?.firstPeriodStart ?? periodStart;
  const used = counter && counter.periodStart === periodStart ? counter.used : 0;
  if (used >= quotaLimitFor(plan.quota, periodStart, firstPeriodStart)) return true;
  options.state.quotaUsed.set(id, { periodStart, used: used + 1, firstPeriodStart });
  return false;
}

/** An admitted call, by UTC day of the quota clock, for GetUsage. */
function recordUsage(options: DataPlaneOptions, key: ApiKeyRecord, plan: UsagePlanRecord): void {
  const id = `${plan.id}/${key.id}`;
  const days = options.state.usageByDay.get(id) ?? new Map<string, number>();
  const day = new Date(options.now()).toISOString().slice(0, 10);
  days.set(day, (days.get(day) ?? 0) + 1);
  options.state.usageByDay.set(id, days);
}

function admit(options: DataPlaneOptions, api: RestApiRecord, stage: string, key: ApiKeyRecord | undefined): Refusal | undefined {
  const forbidden = { status: 403, message: 'Forbidden', type: 'ForbiddenException' };
  if (!key || !key.enabled) return forbidden;
  const plan = options.state.plansOfKey(key.id).find((p) => p.apiStages.some((s) => s.apiId === api.id && s.stage === stage));
  if (!plan) return forbidden;
  // Throttle first, then quota: a throttled call does not use up the quota.
  if (throttled(options, key, plan)) return { status: 429, message: 'Too Many Requests', type: 'TooManyRequestsException' };
  if (overQuota(options, key, plan)) return { status: 429, message: 'Limit Exceeded', type: 'LimitExceededException' };
  recordUsage(options, key, plan);
  return undefined;
}

async function reportToMoesif(options: DataPlaneOptions, request: Request, started: Date, userId: string | undefined, status: number, body: unknown): Promise<void> {
  if (!options.moesif) return;
  const delivery: DataPlaneOptions['deliveries'][number] = { userId, status: undefined };
  options.deliveries.push(delivery);
  const headers = Object.fromEntries([...request.headers].filter(([name]) => name !== 'x-api-key'));
  const event = {
    request: { time: started.toISOString(), uri: request.url, verb: request.method, headers, ip_address: '127.0.0.1' },
    response: { time: new Date().toISOString(), status, headers: { 'content-type': 'application/json' }, body },
    ...(userId ? { user_id: userId } : {}),
    direction: 'Incoming',
    metadata: { source: 'aws-api-gateway-access-log' },
  };
  await postCollectorEvent(options.moesif.url, options.moesif.applicationId, event, delivery);
}

export function createDataPlane(options: DataPlaneOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    const started = new Date();
    const url = new URL(request.url);
    const [, stage = '', ...rest] = url.pathname.split('/');
    const path = `/${rest.join('/')}`;
    const api = [...options.state.restApis.values()].find((candidate) => candidate.stages.some((s) => s.stageName === stage));
    const method = api?.resources.find((r) => r.path === path)?.resourceMethods[request.method.toUpperCase()] ?? undefined;
    if (!api || !method) return gatewayAnswer(403, 'Missing Authentication Token', 'MissingAuthenticationTokenException');
    const keyValue = request.headers.get('x-api-key');
    const key = method.apiKeyRequired && keyValue ? options.state.keyByValue(keyValue) : undefined;
    const refusal = method.apiKeyRequired ? admit(options, api, stage, key) : undefined;
    const status = refusal?.status ?? 200;
    const body = refusal ? { message: refusal.message } : { ok: true, path, stage, apiKeyId: key?.id ?? null };
    options.track(reportToMoesif(options, request, started, key?.id, status, body));
    return refusal ? gatewayAnswer(refusal.status, refusal.message, refusal.type) : Response.json(body);
  };
}
