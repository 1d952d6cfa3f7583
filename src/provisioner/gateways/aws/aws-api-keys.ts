/**
 * The hosted signup's API keys at AWS API Gateway. A developer's keys are all named with the email,
 * tagged as ours (so reconcile finds exactly ours and a key an admin made is never touched), with
 * the plan and name of the signup in tags. The first key is created at signup; a key replacement
 * adds one more, tagged with the developer id (the first key's id) and the key it replaces
 * (aws-key-rotation.ts). AWS has no idempotency keys and key names are not unique, so creation is
 * find-before-create and converges: after a create every creator lists the keys of that name again
 * and the oldest wins (created date, then id); a loser deletes its own. Usage-plan membership is
 * ensured separately (a crash between CreateApiKey and CreateUsagePlanKey is repaired by the next
 * call), and is exclusive among our usage plans.
 */
import {
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeyCommand,
  GetApiKeysCommand,
  GetUsageCommand,
  GetUsagePlansCommand,
  TagResourceCommand,
  UpdateApiKeyCommand,
  type ApiKey,
  type APIGatewayClient,
} from '@aws-sdk/client-api-gateway';
import { awsCall, awsErrorName, describeAwsError } from './aws-client.ts';

/** Tags every key we create carries (AWS tags are a map). */
export const OWNER_TAG = 'kong-portal-monetization';
export const SIGNUP_TAG = 'kpm-signup';
export const PLAN_TAG = 'kpm-plan';
export const NAME_TAG = 'kpm-name';
/** ISO time the key was first shown: the signup link is used up. */
export const SHOWN_TAG = 'kpm-shown';
/** '' or a digest of the refusal message: the key was disabled by our access sync (not by an admin). */
export const REFUSED_TAG = 'kpm-refused';
/**
 * The developer id on keys made by a replacement: the id of the developer's first key, which Stripe
 * (customer metadata kong_developer_id) and reconcile know the developer by. A key without it is a
 * first key: its own id is the developer id (keys made before replacements existed stay valid).
 */
export const DEVELOPER_TAG = 'kpm-developer';
/** On a replacement key: the id of the key it replaces (the find-before-create mark of a replacement). */
export const REPLACES_TAG = 'kpm-replaces';
/**
 * On a key being replaced, set before its replacement is created: a first key without it (and
 * without DEVELOPER_TAG) is its developer's only key, so a lookup by developer id stops at GetApiKey.
 */
export const REPLACING_TAG = 'kpm-replacing';

export interface AwsKey {
  id: string;
  name: string;
  value: string | undefined;
  enabled: boolean;
  customerId: string | undefined;
  createdDate: number;
  tags: Record<string, string>;
}

export const isOurs = (key: Pick<AwsKey, 'tags'>) => key.tags[OWNER_TAG] === 'true' && key.tags[SIGNUP_TAG] === 'true';
export const developerIdOf = (key: Pick<AwsKey, 'id' | 'tags'>) => key.tags[DEVELOPER_TAG] || key.id;

function toKey(key: ApiKey): AwsKey {
  return {
    id: key.id ?? '',
    name: key.name ?? '',
    value: key.value,
    enabled: key.enabled === true,
    customerId: key.customerId,
    createdDate: key.createdDate ? key.createdDate.getTime() : 0,
    tags: key.tags ?? {},
  };
}

export const olderKeyFirst = (a: AwsKey, b: AwsKey) => a.createdDate - b.createdDate || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export interface AwsApiKeysOptions {
  client: APIGatewayClient;
  region: string;
  /** Plan id → usage plan id (AWS_API_GATEWAY_USAGE_PLANS). */
  usagePlans: Record<string, string>;
}

export class AwsApiKeys {
  constructor(private readonly options: AwsApiKeysOptions) {}

  get client(): APIGatewayClient {
    return this.options.client;
  }

  get usagePlans(): Readonly<Record<string, string>> {
    return this.options.usagePlans;
  }

  arnOf(keyId: string): string {
    return `arn:aws:apigateway:${this.options.region}::/apikeys/${keyId}`;
  }

  /** Every key named exactly `name` (AWS's name filter is not an exact match), oldest first; no values (they are read only to be shown). */
  async byName(name: string): Promise<AwsKey[]> {
    const found: AwsKey[] = [];
    let position: string | undefined;
    do {
      const page = await awsCall('list API keys', () => this.client.send(new GetApiKeysCommand({ nameQuery: name, includeValues: false, limit: 500, ...(position ? { position } : {}) })));
      found.push(...(page.items ?? []).map(toKey).filter((key) => key.name === name));
      position = page.position;
    } while (position);
    return found.sort(olderKeyFirst);
  }

  /** Every key of ours (reconcile's walk). */
  async listOurs(): Promise<AwsKey[]> {
    const found: AwsKey[] = [];
    let position: string | undefined;
    do {
      const page = await awsCall('list API keys', () => this.client.send(new GetApiKeysCommand({ includeValues: false, limit: 500, ...(position ? { position } : {}) })));
      found.push(...(page.items ?? []).map(toKey).filter(isOurs));
      position = page.position;
    } while (position);
    return found.sort(olderKeyFirst);
  }

  async get(id: string, withValue = false): Promise<AwsKey | undefined> {
    try {
      return toKey(await this.client.send(new GetApiKeyCommand({ apiKey: id, includeValue: withValue })));
    } catch (error) {
      if (awsErrorName(error) === 'NotFoundException') return undefined;
      throw describeAwsError(error, 'read the API key');
    }
  }

  /**
   * The developer's key, created once. Created disabled and marked refused-by-us: nobody has seen
   * it yet, and the access sync enables it once Stripe says the developer may call.
   */
  async ensure(name: string, tags: Record<string, string>): Promise<AwsKey> {
    const existing = (await this.byName(name))[0];
    if (existing) return existing;
    const created = await this.create({ name, enabled: false, tags: { ...tags, [REFUSED_TAG]: 'new' } });
    const winner = (await this.byName(name))[0] ?? created;
    if (winner.id !== created.id) {
      // Another tab or process created one at the same moment: the oldest stays, ours goes.
      await this.remove(created.id);
      return winner;
    }
    return created;
  }

  /** One CreateApiKey of ours (tagged as ours); callers converge on duplicates themselves. */
  async create(input: { name: string; enabled: boolean; customerId?: string | undefined; tags: Record<string, string> }): Promise<AwsKey> {
    const { name, enabled, customerId, tags } = input;
    return toKey(
      await awsCall('create the API key', () =>
        this.client.send(new CreateApiKeyCommand({ name, enabled, ...(customerId ? { customerId } : {}), tags: { ...tags, [OWNER_TAG]: 'true', [SIGNUP_TAG]: 'true' } })),
      ),
    );
  }

  /** Deleting a key also takes it out of its usage plans (AWS deletes the usage plan keys with it); gone already is done. */
  async remove(id: string): Promise<void> {
    try {
      await this.client.send(new DeleteApiKeyCommand({ apiKey: id }));
    } catch (error) {
      if (awsErrorName(error) !== 'NotFoundException') throw describeAwsError(error, 'delete the API key');
    }
  }

  async tag(id: string, tags: Record<string, string>): Promise<void> {
    await awsCall('tag the API key', () => this.client.send(new TagResourceCommand({ resourceArn: this.arnOf(id), tags })));
  }

  async setEnabled(id: string, enabled: boolean): Promise<void> {
    await awsCall(enabled ? 'enable the API key' : 'disable the API key', () =>
      this.client.send(new UpdateApiKeyCommand({ apiKey: id, patchOperations: [{ op: 'replace', path: '/enabled', value: String(enabled) }] })),
    );
  }

  async setCustomerId(id: string, customerId: string): Promise<void> {
    await awsCall('set the API key customerId', () => this.client.send(new UpdateApiKeyCommand({ apiKey: id, patchOperations: [{ op: 'replace', path: '/customerId', value: customerId }] })));
  }

  /**
   * The calls AWS counted for the key (GetUsage) in each usage plan of ours it is in, from the day
   * of `since` to the day of `until` (UTC). AWS's usage figures lag behind the calls: a count is
   * evidence that the key was used, never proof that it was not.
   */
  async callsBetween(id: string, since: number, until: number): Promise<number> {
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const ours = new Set(Object.values(this.options.usagePlans));
    const plans = await awsCall('list the usage plans of the API key', () => this.client.send(new GetUsagePlansCommand({ keyId: id, limit: 500 })));
    let calls = 0;
    for (const usagePlanId of (plans.items ?? []).map((plan) => plan.id ?? '').filter((plan) => ours.has(plan))) {
      const usage = await awsCall('read the API key usage', () =>
        this.client.send(new GetUsageCommand({ usagePlanId, keyId: id, startDate: day(since), endDate: day(Math.max(since, until)) })),
      );
      for (const [used] of usage.items?.[id] ?? []) calls += used ?? 0;
    }
    return calls;
  }

  /**
   * The key sits in the plan's usage plan and in no other usage plan of ours. Removal comes first:
   * AWS refuses a key in two usage plans on the same stage. Each step is idempotent, so a crash
   * anywhere is repaired by the next call.
   */
  async ensurePlan(id: string, planId: string): Promise<'unchanged' | 'moved'> {
    const target = this.options.usagePlans[planId];
    if (!target) throw new Error(`plan ${planId} has no usage plan in AWS_API_GATEWAY_USAGE_PLANS`);
    const ours = new Set(Object.values(this.options.usagePlans));
    const current = await awsCall('list the usage plans of the API key', () => this.client.send(new GetUsagePlansCommand({ keyId: id, limit: 500 })));
    const memberOf = (current.items ?? []).map((plan) => plan.id ?? '');
    let changed = false;
    for (const planIdAtAws of memberOf.filter((p) => p !== target && ours.has(p))) {
      await this.leave(planIdAtAws, id);
      changed = true;
    }
    if (!memberOf.includes(target)) {
      try {
        await this.client.send(new CreateUsagePlanKeyCommand({ usagePlanId: target, keyId: id, keyType: 'API_KEY' }));
      } catch (error) {
        // Already there (another process got there first): that is the goal.
        if (awsErrorName(error) !== 'ConflictException') throw describeAwsError(error, 'add the API key to its usage plan');
      }
      changed = true;
    }
    return changed ? 'moved' : 'unchanged';
  }

  private async leave(usagePlanId: string, keyId: string): Promise<void> {
    try {
      await this.client.send(new DeleteUsagePlanKeyCommand({ usagePlanId, keyId }));
    } catch (error) {
      if (awsErrorName(error) !== 'NotFoundException') throw describeAwsError(error, 'remove the API key from a usage plan');
    }
  }
}
