/**
 * GATEWAY=aws: the hosted signup, billing and access loop on AWS API Gateway (REST APIs, API keys,
 * usage plans). Settings name no secret: credentials come from the AWS SDK's default chain
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and shared config, SSO, an instance or task
 * role). A bad value throws a SettingError naming the variable, before anything is written.
 */
import { SettingError } from '../../shared/errors.ts';
import { isHttpUrl } from '../../shared/http-url-setting.ts';
import type { PlansFile } from '../../shared/plans.ts';

export const GATEWAYS = ['kong', 'aws'] as const;
export type GatewayKind = (typeof GATEWAYS)[number];

export interface AwsGatewaySettings {
  region: string;
  /** Plan id of the plans file → AWS usage plan id. */
  usagePlans: Record<string, string>;
  /** AWS_ENDPOINT_URL_API_GATEWAY (the SDK's own service-endpoint variable): a local emulator. */
  endpoint: string | undefined;
  /**
   * Static credentials only when the provisioner's environment holds AWS's own
   * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the first step of the default chain, read from the
   * environment the provisioner was given); otherwise undefined and the SDK's chain decides.
   */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
}

/** Kong settings under GATEWAY=aws without KONG_ADMIN_URL: a placeholder nothing calls (.invalid never resolves). */
export const AWS_WITHOUT_KONG = { adminUrl: 'http://kong-not-used.invalid', token: undefined, workspace: 'default' } as const;

export const AWS_VARIABLES: ReadonlyArray<{ name: string; default: string; description: string }> = [
  { name: 'GATEWAY', default: 'kong', description: 'the gateway the hosted signup provisions keys on: kong, or aws (AWS API Gateway REST APIs; needs SIGNUP_MODE=hosted)' },
  { name: 'AWS_REGION', default: '(required with GATEWAY=aws, or AWS_DEFAULT_REGION)', description: 'region of the REST API and its usage plans, e.g. us-east-1' },
  { name: 'AWS_API_GATEWAY_USAGE_PLANS', default: '(required with GATEWAY=aws)', description: 'usage plan id of each plan of the plans file: plan=usagePlanId pairs, comma separated, e.g. starter=a1b2c3,pro=d4e5f6' },
  { name: 'AWS_ENDPOINT_URL_API_GATEWAY', default: '(AWS)', description: "the AWS SDK's endpoint override for API Gateway; the sandbox points it at its emulator" },
  { name: 'AWS_DEFAULT_REGION', default: '(none)', description: 'read when AWS_REGION is not set, as the AWS CLI does' },
  { name: 'AWS_ACCESS_KEY_ID', default: "(the AWS SDK's default chain)", description: "AWS's own credential variables (with AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); unset: AWS_PROFILE, SSO or the instance/task role" },
  { name: 'AWS_SECRET_ACCESS_KEY', default: "(the AWS SDK's default chain)", description: 'secret of AWS_ACCESS_KEY_ID; never logged or printed' },
  { name: 'AWS_SESSION_TOKEN', default: '(none)', description: 'session token of temporary credentials' },
  {
    name: 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
    default: '(true: set by the product when unset)',
    description: "the AWS SDK's switch for its Node.js 20 notice (SDK releases after January 2027 need Node 22; the pinned SDK runs on Node 20); false shows it again",
  },
];

const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$/;
const USAGE_PLAN_ID = /^[a-z0-9]{1,32}$/;

export function parseGateway(env: NodeJS.ProcessEnv): GatewayKind {
  const value = env.GATEWAY?.trim() || 'kong';
  if (!(GATEWAYS as readonly string[]).includes(value)) throw new SettingError('GATEWAY', `"${value}" is not a gateway this product serves`, 'use kong (the default) or aws');
  return value as GatewayKind;
}

function parseUsagePlans(value: string | undefined): Record<string, string> {
  const setting = 'AWS_API_GATEWAY_USAGE_PLANS';
  const hint = 'give each plan of the plans file its usage plan id (API Gateway console > Usage plans), e.g. starter=a1b2c3,pro=d4e5f6';
  if (!value?.trim()) throw new SettingError(setting, 'is not set', hint);
  const map: Record<string, string> = {};
  for (const entry of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [plan, id, ...rest] = entry.split('=').map((part) => part.trim());
    if (!plan || !id || rest.length) throw new SettingError(setting, `"${entry}" is not plan=usagePlanId`, hint);
    if (!USAGE_PLAN_ID.test(id)) throw new SettingError(setting, `"${id}" (plan ${plan}) is not a usage plan id (lower-case letters and digits)`, hint);
    if (map[plan]) throw new SettingError(setting, `plan ${plan} is listed twice`, hint);
    map[plan] = id;
  }
  return map;
}

/** The AWS settings, or undefined for GATEWAY=kong. Checks the usage plan map against the plans file. */
export function parseAwsGatewayEnv(env: NodeJS.ProcessEnv, plans: PlansFile | undefined): AwsGatewaySettings | undefined {
  if (parseGateway(env) !== 'aws') return undefined;
  if (env.SIGNUP_MODE?.trim() !== 'hosted')
    throw new SettingError('GATEWAY', 'aws needs SIGNUP_MODE=hosted (AWS API Gateway has no developer portal to wrap)', 'set SIGNUP_MODE=hosted with SIGNUP_PUBLIC_URL, SIGNUP_SECRET and SMTP_URL');
  return parseAwsApiGatewayEnv(env, plans);
}

/** Region, usage plans, endpoint and credentials whatever GATEWAY says (aws-setup reads them alone). */
export function parseAwsApiGatewayEnv(env: NodeJS.ProcessEnv, plans: PlansFile | undefined): AwsGatewaySettings {
  const region = (env.AWS_REGION ?? env.AWS_DEFAULT_REGION)?.trim();
  if (!region) throw new SettingError('AWS_REGION', 'is not set', 'set it to the region of your REST API, e.g. us-east-1');
  if (!REGION.test(region)) throw new SettingError('AWS_REGION', `"${region}" is not an AWS region name`, 'e.g. us-east-1, eu-west-3, ap-southeast-2');
  const usagePlans = parseUsagePlans(env.AWS_API_GATEWAY_USAGE_PLANS);
  if (plans) {
    const known = new Set(plans.plans.map((plan) => plan.id));
    const unknown = Object.keys(usagePlans).filter((id) => !known.has(id));
    if (unknown.length) throw new SettingError('AWS_API_GATEWAY_USAGE_PLANS', `names plans the plans file does not have: ${unknown.join(', ')}`, `the plans file has ${[...known].join(', ')}`);
    const missing = [...known].filter((id) => !usagePlans[id]);
    if (missing.length) throw new SettingError('AWS_API_GATEWAY_USAGE_PLANS', `has no usage plan for plans ${missing.join(', ')}`, 'every plan of the plans file needs its usage plan, e.g. ' + missing.map((id) => `${id}=<usage plan id>`).join(','));
  }
  const endpoint = env.AWS_ENDPOINT_URL_API_GATEWAY?.trim() || undefined;
  if (endpoint && !isHttpUrl(endpoint)) throw new SettingError('AWS_ENDPOINT_URL_API_GATEWAY', 'must be an http(s) URL', 'unset it to use AWS, or point it at the sandbox emulator');
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  const sessionToken = env.AWS_SESSION_TOKEN?.trim();
  const credentials = accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : undefined;
  return { region, usagePlans, endpoint, credentials };
}
