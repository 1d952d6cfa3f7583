/**
 * A hosted signup's Kong consumer seen as the developer the provisioning core works on:
 * id = consumer id, email = username, status approved (the email was verified), meta from the
 * consumer's tags (the name and plan picked at signup travel there, so every retry and every
 * process rebuilds the same developer and the same Stripe params). Also the DeveloperPlugins port
 * of core/kong-access.ts over `/consumers/{id}/plugins`, so access is enforced the same way.
 */
import type { KongConsumer, KongConsumers } from '../../kong/kong-consumers.ts';
import { KongError } from '../../kong/kong-errors.ts';
import { DEVELOPER_STATUS, parseDeveloperMeta, type KongDeveloper, type KongPlugin } from '../../kong/kong-types.ts';
import type { DeveloperPlugins } from '../core/kong-access.ts';

/** Every consumer the hosted signup creates carries both; we never act on another consumer. */
export const SIGNUP_CONSUMER_TAGS = ['kong-portal-monetization', 'kpm-signup'] as const;
const PLAN_TAG = 'kpm-plan-';
const NAME_TAG = 'kpm-name-';

export function isSignupConsumer(consumer: Pick<KongConsumer, 'tags'>): boolean {
  return SIGNUP_CONSUMER_TAGS.every((tag) => consumer.tags?.includes(tag));
}

/** Tags of a new consumer: ours, the plan, the name (base64url: tags take no spaces or commas). */
export function signupConsumerTags(signup: { name: string; plan: string }): string[] {
  return [...SIGNUP_CONSUMER_TAGS, `${PLAN_TAG}${signup.plan}`, `${NAME_TAG}${Buffer.from(signup.name, 'utf8').toString('base64url')}`];
}

export function consumerSignup(consumer: Pick<KongConsumer, 'tags'>): { name: string | undefined; plan: string | undefined } {
  const tags = consumer.tags ?? [];
  const plan = tags.find((tag) => tag.startsWith(PLAN_TAG))?.slice(PLAN_TAG.length);
  const encoded = tags.find((tag) => tag.startsWith(NAME_TAG))?.slice(NAME_TAG.length);
  return { plan, name: encoded ? Buffer.from(encoded, 'base64url').toString('utf8') : undefined };
}

export function consumerAsDeveloper(consumer: KongConsumer): KongDeveloper {
  const { name, plan } = consumerSignup(consumer);
  return {
    id: consumer.id,
    email: consumer.username ?? '',
    status: DEVELOPER_STATUS.approved,
    meta: JSON.stringify({ ...(name ? { full_name: name } : {}), ...(plan ? { plan } : {}) }),
    consumer: { id: consumer.id },
    created_at: consumer.created_at,
    // Null for Kong consumers the signup makes; an AWS API key's id (gateways/aws/aws-gateway.ts).
    custom_id: consumer.custom_id ?? null,
  };
}

/** What the billing core needs from Kong, over hosted-signup consumers instead of portal developers. */
export interface ConsumerDirectory extends DeveloperPlugins {
  getDeveloper(emailOrId: string): Promise<KongDeveloper | undefined>;
  updateDeveloperMeta(id: string, meta: string): Promise<KongDeveloper>;
}

export function createConsumerDirectory(consumers: KongConsumers): ConsumerDirectory {
  async function ours(idOrUsername: string): Promise<KongConsumer | undefined> {
    const consumer = await consumers.get(idOrUsername);
    return consumer && isSignupConsumer(consumer) ? consumer : undefined;
  }
  return {
    async getDeveloper(emailOrId) {
      const consumer = await ours(emailOrId);
      return consumer ? consumerAsDeveloper(consumer) : undefined;
    },
    /** Only meta.plan has a home on a consumer (its plan tag): a plan switch in Stripe follows there. */
    async updateDeveloperMeta(id, meta) {
      const consumer = await ours(id);
      const plan = parseDeveloperMeta(meta).plan;
      if (!consumer) throw new Error(`no hosted-signup consumer ${id}`);
      if (typeof plan !== 'string') return consumerAsDeveloper(consumer);
      const tags = [...(consumer.tags ?? []).filter((tag) => !tag.startsWith(PLAN_TAG)), `${PLAN_TAG}${plan}`];
      return consumerAsDeveloper(await consumers.setTags(consumer.id, tags));
    },
    // Filtered here, not with ?tags=: whether Kong filters tags on a nested list is not documented, and a
    // consumer has a handful of plugins at most.
    async listDeveloperPlugins(id, options): Promise<KongPlugin[]> {
      return (await consumers.listPlugins(id)).filter((plugin) => options.tags.every((tag) => plugin.tags?.includes(tag)));
    },
    // Two syncs blocking at once meet Kong's one-plugin-per-name-and-consumer rule: the loser adopts the winner's.
    async createDeveloperPlugin(id, plugin) {
      try {
        return await consumers.createPlugin(id, plugin);
      } catch (error) {
        if (!(error instanceof KongError && error.code === 'kong_conflict')) throw error;
        const existing = (await consumers.listPlugins(id)).find((p) => p.name === plugin.name);
        if (!existing) throw error;
        return existing;
      }
    },
    updateDeveloperPlugin: (id, pluginId, patch) => consumers.updatePlugin(id, pluginId, patch),
    deleteDeveloperPlugin: (id, pluginId) => consumers.deletePlugin(id, pluginId),
  };
}
