/**
 * A small client for the Kong Admin API: the one place that knows URLs, the RBAC header, retries,
 * TLS and how Kong answers errors. Used by sync, the provisioner, reconcile and doctor.
 */
import { Agent, fetch as undiciFetch } from 'undici';
import { backoffMs, delay, httpError, networkError, parseJson, redirectError } from './kong-http-support.ts';
import { KongError } from './kong-errors.ts';
import type { KongDeveloper, KongEventHook, KongFile, KongPage, KongPlugin, KongPluginInput, KongWorkspace } from './kong-types.ts';

export interface KongAdminClientOptions {
  adminUrl: string;
  token?: string | undefined;
  workspace: string;
  /** Extra headers on every request (`--header 'Name: value'`). */
  headers?: Record<string, string>;
  /** Accept self-signed TLS certificates (`--insecure`). */
  insecure?: boolean;
  /** Per-attempt timeout; default 10 s. */
  timeoutMs?: number;
  /** Attempts for idempotent requests on network errors and 5xx; default 3. */
  attempts?: number;
  /** Page size of the list walks (1..1000); default 1000. */
  pageSize?: number;
  /** Called once per HTTP request sent, with its path and query (benchmarks and the sync summary count them). */
  onRequest?: (method: string, path: string) => void;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const RETRYABLE_METHODS = new Set<Method>(['GET', 'PUT', 'PATCH', 'DELETE']);

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Retry on network errors and 5xx even for POST (only when the caller knows it is safe). */
  retry?: boolean;
}

interface PageOptions {
  size?: number;
  /**
   * The `offset` of a previous page. Pages are always fetched by building the URL here (workspace
   * prefix included), never by following `next`: Kong's core entities answer `next` without the
   * workspace prefix, so following it reads page 2 of the default workspace.
   */
  offset?: string;
  /** Extra query (e.g. `tags`); kept on every page. */
  query?: Record<string, string | undefined>;
}

/** Filters for a plugin list. */
interface PluginListOptions {
  /** Plugins carrying ALL these tags (Kong allows at most 5). */
  tags?: string[];
}

export class KongAdminClient {
  readonly adminUrl: string;
  readonly workspace: string;
  private readonly options: KongAdminClientOptions;
  private readonly dispatcher: Agent | undefined;
  /** The event-hook route form this gateway serves, once known. */
  private eventHookBase: string | undefined;

  constructor(options: KongAdminClientOptions) {
    this.options = options;
    this.adminUrl = options.adminUrl.replace(/\/+$/, '');
    this.workspace = options.workspace;
    this.dispatcher = options.insecure ? new Agent({ connect: { rejectUnauthorized: false } }) : undefined;
  }

  private get pageSize(): number {
    return this.options.pageSize ?? 1000;
  }

  /** KONG_ADMIN_URL is a Konnect control plane's core-entities base (no workspaces, bearer token). */
  get isKonnect(): boolean {
    return isKonnectAdminUrl(this.adminUrl);
  }

  /** `/{workspace}` prefix for workspace-scoped routes; none on Konnect, which has no workspaces. */
  get ws(): string {
    if (this.isKonnect) return '';
    return `/${encodeURIComponent(this.workspace)}`;
  }

  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<{ status: number; body: T }> {
    const url = new URL(this.adminUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers };
    // Konnect takes a personal or system access token as a bearer; Kong's RBAC its own header.
    if (this.options.token) {
      if (this.isKonnect) headers.authorization = `Bearer ${this.options.token}`;
      else headers['kong-admin-token'] = this.options.token;
    }
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const attempts = RETRYABLE_METHODS.has(method) || options.retry ? (this.options.attempts ?? 3) : 1;

    for (let attempt = 1; ; attempt++) {
      let response: { status: number; headers: { get(name: string): string | null }; text(): Promise<string> };
      try {
        this.options.onRequest?.(method, `${path}${url.search}`);
        const init = {
          method,
          headers,
          // Never follow: fetch would resend Kong-Admin-Token to wherever Location points (it strips only Authorization).
          redirect: 'manual' as const,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        };
        response = this.dispatcher ? await undiciFetch(url, { ...init, dispatcher: this.dispatcher }) : await fetch(url, init);
      } catch (error) {
        const failure = networkError(this.adminUrl, error, method, path);
        if (failure.code === 'kong_unreachable' && attempt < attempts) {
          await delay(backoffMs(attempt));
          continue;
        }
        throw failure;
      }
      if (response.status >= 300 && response.status < 400) {
        await response.text().catch(() => '');
        throw redirectError(this.adminUrl, response.status, response.headers.get('location'), method, path);
      }
      const text = await response.text();
      const body = parseJson(text);
      if (response.status >= 500 && attempt < attempts) {
        await delay(backoffMs(attempt));
        continue;
      }
      if (response.status >= 400) throw httpError(response.status, body, method, path);
      return { status: response.status, body: body as T };
    }
  }

  // ---- files -------------------------------------------------------------------------------

  /** One page of files (`size` 1..1000); pass the previous page's `offset` for the next one. */
  listFilesPage(options: PageOptions = {}): Promise<KongPage<KongFile>> {
    return this.page<KongFile>(`${this.ws}/files`, options);
  }

  /** Every file in the workspace, following `next` across pages. */
  listFiles(size = 1000): AsyncGenerator<KongFile> {
    return this.walk<KongFile>(`${this.ws}/files`, size);
  }

  /** A file by its workspace path, or undefined when there is none. */
  getFile(path: string): Promise<KongFile | undefined> {
    return this.getOrUndefined<KongFile>(`${this.ws}/files/${filePath(path)}`);
  }

  /** Create or replace (PUT upsert). */
  async putFile(path: string, contents: string): Promise<KongFile> {
    return (await this.request<KongFile>('PUT', `${this.ws}/files/${filePath(path)}`, { body: { path, contents } })).body;
  }

  async deleteFile(path: string): Promise<void> {
    await this.request('DELETE', `${this.ws}/files/${filePath(path)}`);
  }

  // ---- workspace ---------------------------------------------------------------------------

  getWorkspace(): Promise<KongWorkspace | undefined> {
    return this.getOrUndefined<KongWorkspace>(`/workspaces/${encodeURIComponent(this.workspace)}`);
  }

  async patchWorkspaceConfig(config: Record<string, unknown>): Promise<KongWorkspace> {
    return (await this.request<KongWorkspace>('PATCH', `${this.ws}/workspaces/${encodeURIComponent(this.workspace)}`, { body: { config } })).body;
  }

  // ---- developers --------------------------------------------------------------------------

  /** A developer by email or id, or undefined when Kong has none. */
  getDeveloper(emailOrId: string): Promise<KongDeveloper | undefined> {
    return this.getOrUndefined<KongDeveloper>(`${this.ws}/developers/${encodeURIComponent(emailOrId)}`);
  }

  /** Replaces the developer's meta (a JSON string, as Kong stores it); Kong answers {developer}. */
  async updateDeveloperMeta(emailOrId: string, meta: string): Promise<KongDeveloper> {
    const { body } = await this.request<{ developer: KongDeveloper }>('PATCH', `${this.ws}/developers/${encodeURIComponent(emailOrId)}`, { body: { meta } });
    return body.developer;
  }

  listDevelopersPage(options: PageOptions = {}): Promise<KongPage<KongDeveloper>> {
    return this.page<KongDeveloper>(`${this.ws}/developers`, options);
  }

  listDevelopers(size = 1000): AsyncGenerator<KongDeveloper> {
    return this.walk<KongDeveloper>(`${this.ws}/developers`, size);
  }

  // ---- event hooks (global in Kong; the route form differs by gateway) -----------------------

  /** Every event hook (all pages). */
  listEventHooks(): Promise<KongEventHook[]> {
    return this.eventHookRoute((base) => collect(this.walk<KongEventHook>(base, this.pageSize)));
  }

  createEventHook(hook: Omit<KongEventHook, 'id' | 'created_at'>): Promise<KongEventHook> {
    return this.eventHookRoute(async (base) => (await this.request<KongEventHook>('POST', base, { body: hook })).body);
  }

  deleteEventHook(id: string): Promise<void> {
    return this.eventHookRoute(async (base) => void (await this.request('DELETE', `${base}/${encodeURIComponent(id)}`)));
  }

  /**
   * Runs `call` against `/{ws}/event-hooks` first and falls back on `/event-hooks` when the
   * gateway answers 404 (the 3.4 spec lists only the global route; some gateways serve both).
   * The form that worked is remembered for the client's lifetime.
   */
  private async eventHookRoute<T>(call: (base: string) => Promise<T>): Promise<T> {
    const workspaceRoute = `${this.ws}/event-hooks`;
    if (this.eventHookBase) return call(this.eventHookBase);
    try {
      const result = await call(workspaceRoute);
      this.eventHookBase = workspaceRoute;
      return result;
    } catch (error) {
      if (!(error instanceof KongError && error.status === 404 && error.path.startsWith(workspaceRoute))) throw error;
    }
    const result = await call('/event-hooks');
    this.eventHookBase = '/event-hooks';
    return result;
  }

  // ---- plugins -----------------------------------------------------------------------------

  /** Every plugin of the workspace (all pages), optionally only those carrying all `tags`. */
  listPlugins(options: PluginListOptions = {}): Promise<KongPlugin[]> {
    return collect(this.walk<KongPlugin>(`${this.ws}/plugins`, this.pageSize, tagQuery(options.tags)));
  }

  /** The plugins scoped to a developer's consumer (all pages), optionally only those carrying all `tags`. */
  listDeveloperPlugins(emailOrId: string, options: PluginListOptions = {}): Promise<KongPlugin[]> {
    return collect(this.walk<KongPlugin>(this.developerPluginsPath(emailOrId), this.pageSize, tagQuery(options.tags)));
  }

  /** Creates a plugin scoped to the developer's consumer (409 kong_conflict when one of that name exists). */
  async createDeveloperPlugin(emailOrId: string, plugin: KongPluginInput): Promise<KongPlugin> {
    return (await this.request<KongPlugin>('POST', this.developerPluginsPath(emailOrId), { body: plugin })).body;
  }

  /** PATCHes one of the developer's plugins (Kong merges `config` key by key). */
  async updateDeveloperPlugin(emailOrId: string, pluginId: string, patch: Partial<KongPluginInput>): Promise<KongPlugin> {
    return (await this.request<KongPlugin>('PATCH', `${this.developerPluginsPath(emailOrId)}/${encodeURIComponent(pluginId)}`, { body: patch })).body;
  }

  /** Deletes one of the developer's plugins; a plugin already gone is not an error. */
  async deleteDeveloperPlugin(emailOrId: string, pluginId: string): Promise<void> {
    try {
      await this.request('DELETE', `${this.developerPluginsPath(emailOrId)}/${encodeURIComponent(pluginId)}`);
    } catch (error) {
      if (!(error instanceof KongError && error.status === 404)) throw error;
    }
  }

  private developerPluginsPath(emailOrId: string): string {
    return `${this.ws}/developers/${encodeURIComponent(emailOrId)}/plugins`;
  }

  // ---- shared shapes -----------------------------------------------------------------------

  private async page<T>(path: string, options: PageOptions): Promise<KongPage<T>> {
    return (await this.request<KongPage<T>>('GET', path, { query: { ...options.query, size: options.size ?? 1000, offset: options.offset } })).body;
  }

  /** Every item of a paginated list, paging by `offset` on OUR path (never by following `next`). */
  private async *walk<T>(path: string, size: number, query: Record<string, string | undefined> = {}): AsyncGenerator<T> {
    let page = await this.page<T>(path, { size, query });
    for (;;) {
      yield* page.data;
      const offset = nextOffset(page);
      if (!offset) return;
      page = await this.page<T>(path, { size, query, offset });
    }
  }

  /** GET that answers undefined on 404 (the entity does not exist). */
  private async getOrUndefined<T>(path: string): Promise<T | undefined> {
    try {
      return (await this.request<T>('GET', path)).body;
    } catch (error) {
      if (error instanceof KongError && error.status === 404) return undefined;
      throw error;
    }
  }
}

/** `…/v2/control-planes/{id}/core-entities`: a Konnect control plane's Admin API base. */
function isKonnectAdminUrl(adminUrl: string): boolean {
  return /\/v2\/control-planes\/[^/]+\/core-entities\/?$/.test(new URL(adminUrl).pathname);
}

/** The offset of the following page: `offset`, or (gateways that omit it) the one inside `next`. */
function nextOffset(page: KongPage<unknown>): string | undefined {
  if (!page.next) return undefined;
  if (page.offset) return page.offset;
  return new URL(page.next, 'http://kong.invalid').searchParams.get('offset') ?? undefined;
}

function tagQuery(tags: string[] | undefined): Record<string, string | undefined> {
  if (!tags || tags.length === 0) return {};
  if (tags.length > 5) throw new RangeError('Kong filters on at most 5 tags');
  return { tags: tags.join(',') };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Files are addressed by their unencoded path (slashes kept); only unsafe characters are escaped. */
function filePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
