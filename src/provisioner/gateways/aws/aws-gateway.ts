/**
 * AWS API Gateway behind the hosted signup's gateway seam (gateways/signup-gateway.ts). The API key
 * is the developer: its id is the developer id (so Stripe metadata, Moesif's user id and the key id
 * that Moesif's AWS integration logs as `$context.identity.apiKeyId` are one value), its name the
 * email, its tags the signup's name and plan. Access follows Stripe through the core's own
 * applyAccess: a refusal is the key disabled (UpdateApiKey /enabled=false), read back as one
 * "request-termination" block, so the decision code is the same for Kong and AWS.
 */
import type { KongConsumer, KongKeyCredential } from '../../../kong/kong-consumers.ts';
import { parseDeveloperMeta, type KongPlugin } from '../../../kong/kong-types.ts';
import { sha256Hex } from '../../../shared/sha256.ts';
import { ACCESS_STATUS_CODE, ACCESS_TAGS } from '../../core/kong-access.ts';
import { consumerAsDeveloper, consumerSignup, signupConsumerTags, type ConsumerDirectory } from '../../hosted-signup/consumer-directory.ts';
import { SignupError } from '../../hosted-signup/signup-error.ts';
import type { SignupGateway } from '../signup-gateway.ts';
import { AwsApiKeys, isOurs, NAME_TAG, PLAN_TAG, REFUSED_TAG, SHOWN_TAG, type AwsKey } from './aws-api-keys.ts';

/** The key seen as the Kong consumer the hosted signup's code works on (Kong-style tags). */
export function keyAsConsumer(key: AwsKey): KongConsumer {
  const plan = key.tags[PLAN_TAG];
  const encodedName = key.tags[NAME_TAG];
  const name = encodedName ? Buffer.from(encodedName, 'base64url').toString('utf8') : '';
  return {
    id: key.id,
    username: key.name,
    // The Moesif user id (moesif-record.ts prefers custom_id, as the Kong plugin does): the key id.
    custom_id: key.id,
    tags: isOurs(key) ? signupConsumerTags({ name, plan: plan ?? '' }).filter((tag) => tag !== 'kpm-plan-' || plan) : [],
    created_at: Math.floor(key.createdDate / 1000),
  };
}

const digest = (message: string) => sha256Hex(message).slice(0, 32);

export class AwsSignupGateway implements SignupGateway {
  readonly kind = 'aws' as const;
  readonly keyHeader = 'x-api-key';
  /**
   * No key replacement on AWS, on purpose (issue 22, option b). AWS cannot change a key's value, so
   * a replacement is a new key with a new id; but the key id is the developer id (Stripe customer
   * metadata, the Moesif user that the AWS integration logs as `$context.identity.apiKeyId`, reconcile's
   * walk). Rotating safely needs the developer id moved into a tag every key of the developer
   * carries, lookups by that tag, a Moesif user for the new id in the same company, and crash
   * convergence between the steps; until that exists, the account page does not offer the button
   * and tells the developer to ask the API provider, and createKey still refuses a shown key.
   */
  readonly replacesKeys = false;
  /** Refusal messages by digest (a tag value holds 256 characters at most; messages can be longer). */
  private readonly messages = new Map<string, string>();

  constructor(readonly keys: AwsApiKeys) {}

  private async keyOf(emailOrId: string, withValue = false): Promise<AwsKey | undefined> {
    if (emailOrId.includes('@')) {
      const [oldest] = await this.keys.byName(emailOrId);
      return oldest;
    }
    return this.keys.get(emailOrId, withValue);
  }

  private async ours(id: string, withValue = false): Promise<AwsKey> {
    const key = await this.keys.get(id, withValue);
    if (!key || !isOurs(key)) throw new Error(`no hosted-signup API key ${id}`);
    return key;
  }

  // ---- the signup's side (SignupConsumers) ----

  async get(emailOrId: string): Promise<KongConsumer | undefined> {
    const key = await this.keyOf(emailOrId);
    return key ? keyAsConsumer(key) : undefined;
  }

  async create(input: { username: string; tags: string[] }): Promise<KongConsumer> {
    const { name, plan } = consumerSignup({ tags: input.tags });
    const tags = { ...(plan ? { [PLAN_TAG]: plan } : {}), ...(name ? { [NAME_TAG]: Buffer.from(name, 'utf8').toString('base64url') } : {}) };
    // A key found while racing another tab can lose that race and be deleted under us (the oldest
    // wins): the plan step then answers NotFound, and the next look finds the winner.
    for (let attempt = 1; ; attempt++) {
      const key = await this.keys.ensure(input.username, tags);
      try {
        if (isOurs(key) && key.tags[PLAN_TAG]) await this.keys.ensurePlan(key.id, key.tags[PLAN_TAG]);
        return keyAsConsumer(key);
      } catch (error) {
        if (attempt >= 3 || (await this.keys.get(key.id)) !== undefined) throw error;
      }
    }
  }

  /** The key counts as issued once it was shown (the link is then used up). */
  async listKeys(consumerId: string): Promise<KongKeyCredential[]> {
    const key = await this.keys.get(consumerId, true);
    if (!key || !key.tags[SHOWN_TAG] || !key.value) return [];
    return [{ id: key.id, key: key.value, consumer: { id: key.id }, created_at: Math.floor(key.createdDate / 1000) }];
  }

  /**
   * Shows the key: first into its usage plan (repairs a crash between CreateApiKey and
   * CreateUsagePlanKey), then marked shown. AWS cannot change a key's value, so replacing a
   * shown key is refused here rather than deleting the developer's identity.
   */
  async createKey(consumerId: string): Promise<KongKeyCredential> {
    const key = await this.ours(consumerId, true);
    if (key.tags[SHOWN_TAG])
      throw new SignupError('key_replacement_unsupported', 409, 'Replacing an API key is not available on this gateway yet: ask the API provider to rotate it. Your key and billing are unchanged.');
    const plan = key.tags[PLAN_TAG];
    if (plan) await this.keys.ensurePlan(key.id, plan);
    await this.keys.tag(key.id, { [SHOWN_TAG]: new Date().toISOString() });
    return { id: key.id, key: key.value ?? '', consumer: { id: key.id }, created_at: Math.floor(key.createdDate / 1000) };
  }

  /** Only reached by a key replacement, which createKey refuses on AWS. */
  async deleteKey(): Promise<void> {
    throw new Error('deleting an AWS API key through the signup is not supported');
  }

  async completeAccount(consumerId: string, customerId: string): Promise<void> {
    const key = await this.ours(consumerId);
    const plan = key.tags[PLAN_TAG];
    if (plan) await this.keys.ensurePlan(key.id, plan);
    if (key.customerId !== customerId) await this.keys.setCustomerId(key.id, customerId);
  }

  // ---- billing's side (ConsumerDirectory) ----

  directory(): ConsumerDirectory {
    return {
      getDeveloper: async (emailOrId) => {
        const key = await this.keyOf(emailOrId);
        return key && isOurs(key) ? consumerAsDeveloper(keyAsConsumer(key)) : undefined;
      },
      // A plan switch in Stripe: the key moves usage plans, then the tag follows (a crash between
      // leaves the tag on the old plan, so the next sync moves it again: idempotent).
      updateDeveloperMeta: async (id, meta) => {
        const plan = parseDeveloperMeta(meta).plan;
        const key = await this.ours(id);
        if (typeof plan !== 'string') return consumerAsDeveloper(keyAsConsumer(key));
        await this.keys.ensurePlan(key.id, plan);
        if (plan !== key.tags[PLAN_TAG]) await this.keys.tag(key.id, { [PLAN_TAG]: plan });
        return consumerAsDeveloper(keyAsConsumer({ ...key, tags: { ...key.tags, [PLAN_TAG]: plan } }));
      },
      listDeveloperPlugins: async (id) => {
        const key = await this.ours(id);
        return refusedByUs(key) ? [this.block(key.id, key.tags[REFUSED_TAG] as string)] : [];
      },
      // Tag first, then disable: a crash between leaves an open key (the next sync refuses again),
      // never a key disabled without our mark (which we would take for an admin's and never reopen).
      createDeveloperPlugin: async (id, plugin) => {
        const message = String(plugin.config.message ?? '');
        this.messages.set(digest(message), message);
        await this.keys.tag(id, { [REFUSED_TAG]: digest(message) });
        await this.keys.setEnabled(id, false);
        return this.block(id, digest(message));
      },
      updateDeveloperPlugin: async (id, _pluginId, patch) => {
        const message = String(patch.config.message ?? '');
        this.messages.set(digest(message), message);
        const key = await this.ours(id);
        if (key.tags[REFUSED_TAG] !== digest(message)) await this.keys.tag(id, { [REFUSED_TAG]: digest(message) });
        return this.block(id, digest(message));
      },
      // Reopen: into its usage plan, enabled, then the mark cleared.
      deleteDeveloperPlugin: async (id) => {
        const key = await this.ours(id);
        const plan = key.tags[PLAN_TAG];
        if (plan) await this.keys.ensurePlan(key.id, plan);
        await this.keys.setEnabled(id, true);
        await this.keys.tag(id, { [REFUSED_TAG]: '' });
      },
    };
  }

  private block(keyId: string, messageDigest: string): KongPlugin {
    return {
      id: `aws-disabled-${keyId}`,
      name: 'request-termination',
      enabled: true,
      config: { status_code: ACCESS_STATUS_CODE, message: this.messages.get(messageDigest) ?? messageDigest },
      tags: [...ACCESS_TAGS],
      consumer: { id: keyId },
    } as unknown as KongPlugin;
  }
}

/** Disabled by our access sync (marked), not by an admin: only those does the sync ever reopen. */
function refusedByUs(key: AwsKey): boolean {
  return !key.enabled && !!key.tags[REFUSED_TAG];
}
