/**
 * AWS API Gateway behind the hosted signup's gateway seam (hosted-signup/signup-gateway.ts). A developer
 * is the group of API keys named with their email and carrying their developer id
 * (aws-developer-keys.ts): the id of their first key, which Stripe customer metadata
 * (kong_developer_id) and reconcile know them by and which outlives that key. The Moesif user is
 * the key the developer holds (custom_id), because Moesif's AWS integration logs callers as
 * `$context.identity.apiKeyId`. A key replacement is a new key made in converging steps
 * (aws-key-rotation.ts). Access follows Stripe through the core's own applyAccess: a refusal is
 * every key of the developer disabled (UpdateApiKey /enabled=false), read back as one
 * "request-termination" block, so the decision code is the same for Kong and AWS.
 */
import type { KongConsumer, KongKeyCredential } from '../../../kong/kong-consumers.ts';
import { KongError } from '../../../kong/kong-errors.ts';
import { parseDeveloperMeta, type KongPlugin } from '../../../kong/kong-types.ts';
import { sha256Hex } from '../../../shared/sha256.ts';
import { ACCESS_STATUS_CODE, ACCESS_TAGS } from '../../core/kong-access.ts';
import { consumerAsDeveloper, consumerSignup, signupConsumerTags, type ConsumerDirectory } from '../../hosted-signup/consumer-directory.ts';
import { SignupError } from '../../hosted-signup/signup-error.ts';
import type { SignupGateway } from '../../hosted-signup/signup-gateway.ts';
import { AwsApiKeys, developerIdOf, isOurs, NAME_TAG, PLAN_TAG, REFUSED_TAG, SHOWN_TAG, type AwsKey } from './aws-api-keys.ts';
import { AwsDeveloperKeys, currentKey, issuedKeys, replacementsOf, type DeveloperKeys } from './aws-developer-keys.ts';
import { finishReplacement, stageReplacement } from './aws-key-rotation.ts';

/** The developer seen as the Kong consumer the hosted signup's code works on (Kong-style tags). */
export function developerAsConsumer(developer: DeveloperKeys, key: AwsKey = currentKey(developer)): KongConsumer {
  const plan = key.tags[PLAN_TAG];
  const encodedName = key.tags[NAME_TAG];
  const name = encodedName ? Buffer.from(encodedName, 'base64url').toString('utf8') : '';
  return {
    id: developer.id,
    username: developer.email,
    // The Moesif user id (moesif-record.ts prefers custom_id, as the Kong plugin does): the key id.
    custom_id: key.id,
    tags: signupConsumerTags({ name, plan: plan ?? '' }).filter((tag) => tag !== 'kpm-plan-' || plan),
    created_at: Math.floor(((developer.keys[0] ?? key).createdDate) / 1000),
  };
}

/** A key of that name that the signup did not make: seen, so the signup refuses the email, never written. */
function foreignConsumer(key: AwsKey): KongConsumer {
  return { id: key.id, username: key.name, custom_id: key.id, tags: [], created_at: Math.floor(key.createdDate / 1000) };
}

const digest = (message: string) => sha256Hex(message).slice(0, 32);
/** The block's message when only some keys are refused: equal to no decision's message, so a refusal applies again to all. */
const PARTLY_REFUSED = '\u0000some keys of this developer are not refused';

const BLOCK_PLUGIN = 'request-termination';
const BLOCK_ID = 'aws-disabled-';

/**
 * Only the access block has a meaning on AWS. A plan's rate limit is the usage plan's throttle
 * there (aws-setup writes it), and the directory says so (planRateLimits: 'gateway'), so the access
 * sync never asks for a `rate-limiting` plugin; any other plugin is refused as Kong refuses a bad
 * one, and no key is touched.
 */
function noSuchPlugin(name: string): KongError {
  return new KongError('kong_bad_request', `GATEWAY=aws has no ${name} plugin: a plan's rate limit is its usage plan's throttle (aws-setup), not a plugin`, {
    method: 'POST',
    path: `aws:${name}`,
    hint: 'a plan\'s limits.rate is the usage plan\'s throttle on AWS: run `npm run aws:setup` to apply it',
  });
}

/** Disabled by our access sync (marked), not by an admin: only those does the sync ever reopen. */
function refusedByUs(key: AwsKey): boolean {
  return !key.enabled && !!key.tags[REFUSED_TAG];
}

export class AwsSignupGateway implements SignupGateway {
  readonly kind = 'aws' as const;
  readonly keyHeader = 'x-api-key';
  readonly developers: AwsDeveloperKeys;
  /** Refusal messages by digest (a tag value holds 256 characters at most; messages can be longer). */
  private readonly messages = new Map<string, string>();

  constructor(readonly keys: AwsApiKeys) {
    this.developers = new AwsDeveloperKeys(keys);
  }

  private async ours(id: string): Promise<DeveloperKeys> {
    const developer = await this.developers.find(id);
    if (!developer) throw new Error(`no hosted-signup API key for developer ${id}`);
    return developer;
  }

  // ---- the signup's side (SignupConsumers) ----

  async get(emailOrId: string): Promise<KongConsumer | undefined> {
    const developer = await this.developers.find(emailOrId);
    if (developer) return developerAsConsumer(developer);
    const [foreign] = emailOrId.includes('@') ? await this.keys.byName(emailOrId) : [await this.keys.get(emailOrId)];
    return foreign && !isOurs(foreign) ? foreignConsumer(foreign) : undefined;
  }

  async create(input: { username: string; tags: string[] }): Promise<KongConsumer> {
    const { name, plan } = consumerSignup({ tags: input.tags });
    const tags = { ...(plan ? { [PLAN_TAG]: plan } : {}), ...(name ? { [NAME_TAG]: Buffer.from(name, 'utf8').toString('base64url') } : {}) };
    // A key found while racing another tab can lose that race and be deleted under us (the oldest
    // wins): the plan step then answers NotFound, and the next look finds the winner.
    for (let attempt = 1; ; attempt++) {
      const key = await this.keys.ensure(input.username, tags);
      try {
        if (!isOurs(key)) return foreignConsumer(key);
        if (key.tags[PLAN_TAG]) await this.keys.ensurePlan(key.id, key.tags[PLAN_TAG]);
        return developerAsConsumer({ id: developerIdOf(key), email: key.name, keys: [key] }, key);
      } catch (error) {
        if (attempt >= 3 || (await this.keys.get(key.id)) !== undefined) throw error;
      }
    }
  }

  /**
   * The keys the developer was given (shown, and not an unfinished replacement). Values are not
   * read: they are read only to be shown (createKey).
   */
  async listKeys(consumerId: string): Promise<KongKeyCredential[]> {
    const developer = await this.developers.find(consumerId);
    if (!developer) return [];
    return issuedKeys(developer).map((key) => ({ id: key.id, key: '', consumer: { id: developer.id }, created_at: Math.floor(key.createdDate / 1000) }));
  }

  /**
   * Step 1 of a replacement (aws-key-rotation.ts): the new key, created once, in its usage plan, as
   * the consumer will be with it (custom_id = its id), so provisioning writes its Moesif user.
   */
  async stageKey(consumerId: string): Promise<KongConsumer> {
    const developer = await this.ours(consumerId);
    if (issuedKeys(developer).length === 0) throw new Error(`developer ${consumerId} has no key to replace`);
    return developerAsConsumer(developer, await stageReplacement(this.keys, developer));
  }

  /**
   * Shows a key. No key shown yet: the signup's key, first into its usage plan (repairs a crash
   * between CreateApiKey and CreateUsagePlanKey). Otherwise: the replacement stageKey made; none
   * (a second signup tab in another process, after the first showed the key) is a used link, never
   * a new key.
   */
  async createKey(consumerId: string): Promise<KongKeyCredential> {
    const developer = await this.ours(consumerId);
    const current = currentKey(developer);
    const key = issuedKeys(developer).length > 0 ? replacementsOf(developer, current)[0] : current;
    if (!key) throw new SignupError('link_used', 410, 'Your API key was already shown, in another tab or window.');
    if (key.tags[PLAN_TAG]) await this.keys.ensurePlan(key.id, key.tags[PLAN_TAG]);
    if (!key.tags[SHOWN_TAG]) await this.keys.tag(key.id, { [SHOWN_TAG]: new Date().toISOString() });
    const value = (await this.keys.get(key.id, true))?.value;
    if (!value) throw new Error(`API key ${key.id} disappeared before it was shown`);
    return { id: key.id, key: value, consumer: { id: developer.id }, created_at: Math.floor(key.createdDate / 1000) };
  }

  /** The last step of a replacement: the replaced key goes (never the developer's only shown key). */
  async deleteKey(consumerId: string, credentialId: string): Promise<void> {
    await finishReplacement(this.keys, await this.ours(consumerId), credentialId);
  }

  async completeAccount(consumerId: string, customerId: string): Promise<void> {
    for (const key of (await this.ours(consumerId)).keys) {
      const plan = key.tags[PLAN_TAG];
      if (plan) await this.keys.ensurePlan(key.id, plan);
      if (key.customerId !== customerId) await this.keys.setCustomerId(key.id, customerId);
    }
  }

  // ---- billing's side (ConsumerDirectory) ----

  directory(): ConsumerDirectory {
    return {
      planRateLimits: 'gateway',
      getDeveloper: async (emailOrId) => {
        const developer = await this.developers.find(emailOrId);
        return developer ? consumerAsDeveloper(developerAsConsumer(developer)) : undefined;
      },
      updateDeveloperMeta: async (id, meta) => {
        const plan = parseDeveloperMeta(meta).plan;
        const developer = await this.ours(id);
        if (typeof plan === 'string') await this.movePlan(developer, plan);
        return consumerAsDeveloper(developerAsConsumer(developer));
      },
      listDeveloperPlugins: async (id) => this.blocks(await this.ours(id)),
      createDeveloperPlugin: async (id, plugin) => {
        if (plugin.name !== BLOCK_PLUGIN) throw noSuchPlugin(plugin.name);
        return this.refuse(await this.ours(id), String(plugin.config.message ?? ''));
      },
      updateDeveloperPlugin: async (id, pluginId, patch) => {
        if (!pluginId.startsWith(BLOCK_ID)) throw noSuchPlugin(pluginId);
        return this.refuse(await this.ours(id), String(patch.config.message ?? ''));
      },
      deleteDeveloperPlugin: async (id, pluginId) => {
        if (pluginId.startsWith(BLOCK_ID)) await this.reopen(await this.ours(id));
      },
    };
  }

  /**
   * A plan switch in Stripe: every key of the developer moves usage plans, then its tag follows (a
   * crash between leaves the tag on the old plan, so the next sync moves it again: idempotent).
   * The keys in hand get the new tag too, so the caller's view says the new plan.
   */
  private async movePlan(developer: DeveloperKeys, plan: string): Promise<void> {
    for (const key of developer.keys) {
      await this.keys.ensurePlan(key.id, plan);
      if (plan !== key.tags[PLAN_TAG]) await this.keys.tag(key.id, { [PLAN_TAG]: plan });
      key.tags = { ...key.tags, [PLAN_TAG]: plan };
    }
  }

  /**
   * Our refusal as one block: none when no key carries our mark; the message's when every key is
   * closed and marked alike; otherwise a block no decision matches, so a refusal is applied again
   * to every key (a key made while the developer was being refused) and an allowance reopens ours.
   */
  private blocks(developer: DeveloperKeys): KongPlugin[] {
    const marked = developer.keys.filter(refusedByUs);
    if (marked.length === 0) return [];
    const digests = new Set(marked.map((key) => key.tags[REFUSED_TAG] as string));
    const whole = digests.size === 1 && !developer.keys.some((key) => key.enabled);
    return [this.block(developer.id, whole ? (this.messages.get([...digests][0] as string) ?? ([...digests][0] as string)) : PARTLY_REFUSED)];
  }

  /**
   * Tag first, then disable, key by key: a crash between leaves an open key (the next sync refuses
   * again), never a key disabled without our mark (which we would take for an admin's and never
   * reopen). A key an admin disabled (closed, no mark) is left as it is.
   */
  private async refuse(developer: DeveloperKeys, message: string): Promise<KongPlugin> {
    const mark = digest(message);
    this.messages.set(mark, message);
    for (const key of developer.keys.filter((k) => k.enabled || refusedByUs(k))) {
      if (key.tags[REFUSED_TAG] !== mark) await this.keys.tag(key.id, { [REFUSED_TAG]: mark });
      if (key.enabled) await this.keys.setEnabled(key.id, false);
    }
    return this.block(developer.id, message);
  }

  /** Reopen the keys we closed: into its usage plan, enabled, then the mark cleared. */
  private async reopen(developer: DeveloperKeys): Promise<void> {
    for (const key of developer.keys.filter(refusedByUs)) {
      const plan = key.tags[PLAN_TAG];
      if (plan) await this.keys.ensurePlan(key.id, plan);
      await this.keys.setEnabled(key.id, true);
      await this.keys.tag(key.id, { [REFUSED_TAG]: '' });
    }
  }

  private block(developerId: string, message: string): KongPlugin {
    return {
      id: `${BLOCK_ID}${developerId}`,
      name: BLOCK_PLUGIN,
      enabled: true,
      config: { status_code: ACCESS_STATUS_CODE, message },
      tags: [...ACCESS_TAGS],
      consumer: { id: developerId },
    } as unknown as KongPlugin;
  }
}
