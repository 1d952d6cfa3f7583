/**
 * What the AWS API Gateway emulator holds: API keys, usage plans and their keys, one REST API with
 * its stage and resources, tags, and the data plane's throttle buckets and quota counters. Shapes
 * follow the SDK's output types (dates as epoch seconds on the wire).
 */
import { randomBytes } from 'node:crypto';

export interface ApiKeyRecord {
  id: string;
  value: string;
  name: string | undefined;
  customerId: string | undefined;
  description: string | undefined;
  enabled: boolean;
  createdDate: number;
  lastUpdatedDate: number;
  stageKeys: string[];
  tags: Record<string, string>;
}

export interface ThrottleSettings {
  rateLimit: number;
  burstLimit: number;
}

export interface QuotaSettings {
  limit: number;
  offset: number;
  period: 'DAY' | 'WEEK' | 'MONTH';
}

export interface UsagePlanRecord {
  id: string;
  name: string;
  description?: string;
  apiStages: Array<{ apiId: string; stage: string }>;
  throttle?: ThrottleSettings;
  quota?: QuotaSettings;
  tags: Record<string, string>;
}

export interface MethodRecord {
  httpMethod: string;
  authorizationType: string;
  apiKeyRequired: boolean;
}

export interface ResourceRecord {
  id: string;
  parentId?: string;
  path: string;
  pathPart?: string;
  resourceMethods: Record<string, MethodRecord>;
}

export interface StageRecord {
  stageName: string;
  deploymentId: string;
  createdDate: number;
  lastUpdatedDate: number;
  accessLogSettings?: { format: string; destinationArn: string };
  tags: Record<string, string>;
}

export interface RestApiRecord {
  id: string;
  name: string;
  createdDate: number;
  apiKeySource: 'HEADER' | 'AUTHORIZER';
  tags: Record<string, string>;
  stages: StageRecord[];
  resources: ResourceRecord[];
}

/** AWS ids are 10 lower-case alphanumerics; key values 40 alphanumerics. */
export function awsId(length = 10): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

export function keyValue(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(40)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

export class AwsGatewayState {
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  readonly usagePlans = new Map<string, UsagePlanRecord>();
  /** usage plan id → key ids in it. */
  readonly planKeys = new Map<string, Set<string>>();
  readonly restApis = new Map<string, RestApiRecord>();
  /**
   * Data plane: per key and usage plan, the token bucket and the quota counter. `firstPeriodStart`
   * is the pair's initial quota period, the one the quota's offset is taken from.
   */
  readonly buckets = new Map<string, { tokens: number; at: number }>();
  readonly quotaUsed = new Map<string, { periodStart: number; used: number; firstPeriodStart: number }>();
  /** Per key and usage plan (`plan/key`), admitted calls per UTC day (yyyy-mm-dd): what GetUsage answers. */
  readonly usageByDay = new Map<string, Map<string, number>>();

  keyByValue(value: string): ApiKeyRecord | undefined {
    for (const key of this.apiKeys.values()) if (key.value === value) return key;
    return undefined;
  }

  plansOfKey(keyId: string): UsagePlanRecord[] {
    return [...this.usagePlans.values()].filter((plan) => this.planKeys.get(plan.id)?.has(keyId));
  }

  addUsagePlan(plan: Omit<UsagePlanRecord, 'id' | 'tags'> & { id?: string; tags?: Record<string, string> }): UsagePlanRecord {
    const record: UsagePlanRecord = { ...plan, id: plan.id ?? awsId(6), tags: plan.tags ?? {} };
    this.usagePlans.set(record.id, record);
    this.planKeys.set(record.id, new Set());
    return record;
  }

  clear(): void {
    for (const map of [this.apiKeys, this.usagePlans, this.planKeys, this.restApis, this.buckets, this.quotaUsed, this.usageByDay]) map.clear();
  }
}
