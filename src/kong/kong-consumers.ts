/**
 * Consumers, their key-auth credentials and consumer-scoped plugins through the core-entities
 * routes every Kong 3.x serves (OSS, Enterprise without the portal) and a Konnect control plane's
 * `/v2/control-planes/{id}/core-entities` base. Konnect has no workspaces, and the `default`
 * workspace needs no prefix anywhere, so those are addressed unprefixed.
 */
import type { KongAdminClient } from './kong-admin-client.ts';
import { KongError } from './kong-errors.ts';
import type { KongPage, KongPlugin, KongPluginInput } from './kong-types.ts';

export interface KongConsumer {
  id: string;
  username: string | null;
  custom_id: string | null;
  tags: string[] | null;
  created_at: number;
  updated_at?: number;
}

export interface KongKeyCredential {
  id: string;
  /** Kong stores and returns key-auth keys in plain text (only Enterprise key-auth-enc encrypts). */
  key: string;
  consumer: { id: string };
  created_at: number;
  ttl?: number | null;
  tags?: string[] | null;
}

export class KongConsumers {
  constructor(private readonly client: KongAdminClient) {}

  private get base(): string {
    return this.client.isKonnect || this.client.workspace === 'default' ? '' : this.client.ws;
  }

  private path(...parts: string[]): string {
    return `${this.base}/consumers${parts.map((part) => `/${encodeURIComponent(part)}`).join('')}`;
  }

  /** By id or username; undefined when there is none. */
  async get(idOrUsername: string): Promise<KongConsumer | undefined> {
    try {
      return (await this.client.request<KongConsumer>('GET', this.path(idOrUsername))).body;
    } catch (error) {
      if (error instanceof KongError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Creates a consumer; Kong's unique username makes a second create a 409 (kong_conflict). */
  async create(input: { username: string; tags: string[] }): Promise<KongConsumer> {
    return (await this.client.request<KongConsumer>('POST', this.path(), { body: input })).body;
  }

  /** Replaces the consumer's tags (PATCH). */
  async setTags(id: string, tags: string[]): Promise<KongConsumer> {
    return (await this.client.request<KongConsumer>('PATCH', this.path(id), { body: { tags } })).body;
  }

  async listKeys(consumerId: string): Promise<KongKeyCredential[]> {
    return this.walk<KongKeyCredential>(this.path(consumerId, 'key-auth'), {});
  }

  /** A key-auth credential with a key Kong generates (no `key` sent). */
  async createKey(consumerId: string, tags: string[]): Promise<KongKeyCredential> {
    return (await this.client.request<KongKeyCredential>('POST', this.path(consumerId, 'key-auth'), { body: { tags } })).body;
  }

  async deleteKey(consumerId: string, credentialId: string): Promise<void> {
    await this.ignoreMissing(() => this.client.request('DELETE', this.path(consumerId, 'key-auth', credentialId)));
  }

  listPlugins(consumerId: string, options: { tags?: string[] } = {}): Promise<KongPlugin[]> {
    return this.walk<KongPlugin>(this.path(consumerId, 'plugins'), options.tags?.length ? { tags: options.tags.join(',') } : {});
  }

  async createPlugin(consumerId: string, plugin: KongPluginInput): Promise<KongPlugin> {
    return (await this.client.request<KongPlugin>('POST', this.path(consumerId, 'plugins'), { body: plugin })).body;
  }

  async updatePlugin(consumerId: string, pluginId: string, patch: Partial<KongPluginInput>): Promise<KongPlugin> {
    return (await this.client.request<KongPlugin>('PATCH', this.path(consumerId, 'plugins', pluginId), { body: patch })).body;
  }

  async deletePlugin(consumerId: string, pluginId: string): Promise<void> {
    await this.ignoreMissing(() => this.client.request('DELETE', this.path(consumerId, 'plugins', pluginId)));
  }

  /** Every consumer carrying all `tags` (at most 5, AND), all pages. */
  list(tags: string[]): Promise<KongConsumer[]> {
    return this.walk<KongConsumer>(this.path(), tags.length ? { tags: tags.join(',') } : {});
  }

  /** One page, for a readiness probe. */
  async listPage(size: number): Promise<KongPage<KongConsumer>> {
    return (await this.client.request<KongPage<KongConsumer>>('GET', this.path(), { query: { size } })).body;
  }

  private async ignoreMissing(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (error) {
      if (!(error instanceof KongError && error.status === 404)) throw error;
    }
  }

  /** All pages, by `offset` on our own path (core entities' `next` lacks the workspace prefix). */
  private async walk<T>(path: string, query: Record<string, string>): Promise<T[]> {
    const all: T[] = [];
    let offset: string | undefined;
    do {
      const page = (await this.client.request<KongPage<T>>('GET', path, { query: { ...query, size: 1000, offset } })).body;
      all.push(...page.data);
      offset = page.next ? (page.offset ?? new URL(page.next, 'http://kong.invalid').searchParams.get('offset') ?? undefined) : undefined;
    } while (offset);
    return all;
  }
}
